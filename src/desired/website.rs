//! The player page published to S3: the built assets (embedded in the binary, so a release needs
//! no extra files), a per-stream `config.json`, the key prefix, and the bucket-policy statement
//! that makes exactly that prefix publicly readable.

use std::hash::{DefaultHasher, Hash, Hasher};

use kube::ResourceExt;
use serde_json::{Value, json};

use crate::api::LiveStream;

/// One object to upload under the stream's prefix.
pub struct Object {
    pub name: &'static str,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub cache_control: &'static str,
}

/// `livestreams/<namespace>/<name>/`: one prefix per LiveStream.
pub fn prefix(stream: &LiveStream) -> String {
    format!(
        "livestreams/{}/{}/",
        stream.namespace().unwrap_or_default(),
        stream.name_any()
    )
}

/// The statement id that marks this stream's public-read grant in a shared bucket policy.
pub fn statement_id(stream: &LiveStream) -> String {
    let id: String = format!(
        "livestream-{}-{}",
        stream.namespace().unwrap_or_default(),
        stream.name_any()
    )
    .chars()
    .filter(char::is_ascii_alphanumeric)
    .collect();
    format!("LiveStreamPlayer{id}")
}

/// The page, its script and style, and the stream's config. The page is public: nothing of the
/// ingest side (the stream name is the publishing key) goes into it.
pub fn objects(stream: &LiveStream, playback_url: &str) -> Vec<Object> {
    let config = json!({
        "title": stream.name_any(),
        "playbackUrl": playback_url,
    });
    vec![
        asset(
            "index.html",
            include_bytes!("../../website/src/index.html"),
            "text/html; charset=utf-8",
        ),
        asset(
            "player.js",
            include_bytes!("../../website/dist/player.js"),
            "text/javascript; charset=utf-8",
        ),
        asset(
            "player.css",
            include_bytes!("../../website/src/player.css"),
            "text/css; charset=utf-8",
        ),
        Object {
            name: "config.json",
            body: serde_json::to_vec_pretty(&config).expect("JSON"),
            content_type: "application/json",
            // The playback URL can change; players must not cache it.
            cache_control: "no-cache",
        },
    ]
}

fn asset(name: &'static str, body: &[u8], content_type: &'static str) -> Object {
    Object {
        name,
        body: body.to_vec(),
        content_type,
        cache_control: "max-age=300",
    }
}

/// A digest of everything published: a new page build or a new playback URL changes it.
pub fn digest(objects: &[Object]) -> String {
    let mut hasher = DefaultHasher::new();
    for object in objects {
        (object.name, &object.body, object.content_type, object.cache_control).hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

/// The bucket policy with this stream's public-read statement added or replaced.
pub fn policy_with(existing: Option<&str>, bucket: &str, prefix: &str, sid: &str) -> String {
    let mut policy = parse(existing);
    let statement = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{bucket}/{prefix}*"),
    });
    let statements = statements(&mut policy);
    statements.retain(|s| s["Sid"] != sid);
    statements.push(statement);
    policy.to_string()
}

/// The bucket policy without this stream's statement; None when nothing would be left.
pub fn policy_without(existing: Option<&str>, sid: &str) -> Option<String> {
    let mut policy = parse(existing);
    let statements = statements(&mut policy);
    statements.retain(|s| s["Sid"] != sid);
    (!statements.is_empty()).then(|| policy.to_string())
}

fn parse(existing: Option<&str>) -> Value {
    existing
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({"Version": "2012-10-17", "Statement": []}))
}

fn statements(policy: &mut Value) -> &mut Vec<Value> {
    if !policy["Statement"].is_array() {
        let single = policy["Statement"].take();
        policy["Statement"] = if single.is_null() { json!([]) } else { json!([single]) };
    }
    policy["Statement"].as_array_mut().expect("an array")
}

/// The page's URL: path style on a custom endpoint (livestream-local), virtual-hosted on AWS.
pub fn url(endpoint: Option<&str>, region: &str, bucket: &str, prefix: &str) -> String {
    match endpoint {
        Some(endpoint) => format!("{}/{bucket}/{prefix}index.html", endpoint.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/{prefix}index.html"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream() -> LiveStream {
        let mut s = LiveStream::new("launch-event", serde_json::from_value(json!({})).unwrap());
        s.metadata.namespace = Some("events".into());
        s
    }

    #[test]
    fn one_prefix_and_statement_per_stream() {
        assert_eq!(prefix(&stream()), "livestreams/events/launch-event/");
        assert_eq!(statement_id(&stream()), "LiveStreamPlayerlivestreameventslaunchevent");
    }

    #[test]
    fn config_carries_the_playback_url_and_changes_the_digest() {
        let a = objects(&stream(), "http://x/out/v1/a/index.m3u8");
        let b = objects(&stream(), "http://x/out/v1/b/index.m3u8");
        let config: Value = serde_json::from_slice(&a[3].body).unwrap();
        assert_eq!(config["playbackUrl"], "http://x/out/v1/a/index.m3u8");
        assert_eq!(
            config.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["playbackUrl", "title"],
            "no ingest detail on a public page"
        );
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(digest(&a), digest(&objects(&stream(), "http://x/out/v1/a/index.m3u8")));
    }

    #[test]
    fn policy_statements_are_added_replaced_and_removed_by_sid() {
        let other = r#"{"Version":"2012-10-17","Statement":{"Sid":"Other","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/x/*"}}"#;
        let with = policy_with(Some(other), "b", "livestreams/ns/a/", "A");
        let again = policy_with(Some(&with), "b", "livestreams/ns/a/", "A");
        let parsed: Value = serde_json::from_str(&again).unwrap();
        assert_eq!(
            parsed["Statement"].as_array().unwrap().len(),
            2,
            "replaced, not duplicated"
        );
        assert_eq!(parsed["Statement"][1]["Resource"], "arn:aws:s3:::b/livestreams/ns/a/*");
        let without = policy_without(Some(&again), "A").unwrap();
        assert!(!without.contains("\"A\""));
        assert_eq!(policy_without(Some(&policy_with(None, "b", "p/", "A")), "A"), None);
    }

    #[test]
    fn urls_for_local_and_aws() {
        assert_eq!(
            url(Some("http://127.0.0.1:4580/"), "us-east-1", "b", "p/"),
            "http://127.0.0.1:4580/b/p/index.html"
        );
        assert_eq!(
            url(None, "eu-west-1", "b", "p/"),
            "https://b.s3.eu-west-1.amazonaws.com/p/index.html"
        );
    }
}
