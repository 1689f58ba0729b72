//! The player page published to S3: the built assets (embedded in the binary, so a release needs
//! no extra files), a per-stream `config.json`, the key prefix, and the bucket-policy statement
//! that makes exactly that prefix publicly readable.

use kube::ResourceExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

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

/// This stream's public-read statement in a shared bucket policy.
pub struct Grant {
    /// From the uid: unique per stream (a Sid is alphanumeric; names are not).
    pub sid: String,
    /// The id earlier releases derived from namespace and name, which two streams could share
    /// (`team-a/x`, `teama/x`): a statement with it is this stream's only if its resource is.
    legacy_sid: String,
    pub resource: String,
}

impl Grant {
    pub fn new(stream: &LiveStream, bucket: &str) -> Self {
        let alphanumeric = |s: String| s.chars().filter(char::is_ascii_alphanumeric).collect::<String>();
        let legacy = alphanumeric(format!(
            "livestream-{}-{}",
            stream.namespace().unwrap_or_default(),
            stream.name_any()
        ));
        Grant {
            sid: format!("LiveStreamPlayer{}", alphanumeric(stream.uid().unwrap_or_default())),
            legacy_sid: format!("LiveStreamPlayer{legacy}"),
            resource: format!("arn:aws:s3:::{bucket}/{}*", prefix(stream)),
        }
    }

    fn owns(&self, statement: &Value) -> bool {
        statement["Sid"] == self.sid.as_str()
            || (statement["Sid"] == self.legacy_sid.as_str() && statement["Resource"] == self.resource.as_str())
    }
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

/// A SHA-256 of everything published: a new page build or a new playback URL changes it, and it
/// is the same from one operator release to the next (no republishing on upgrade).
pub fn digest(objects: &[Object]) -> String {
    let mut hasher = Sha256::new();
    for object in objects {
        for field in [
            object.name.as_bytes(),
            &object.body,
            object.content_type.as_bytes(),
            object.cache_control.as_bytes(),
        ] {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field);
        }
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The bucket policy with this stream's public-read statement added or replaced.
pub fn policy_with(existing: Option<&str>, grant: &Grant) -> String {
    let mut policy = parse(existing);
    let statement = json!({
        "Sid": grant.sid,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": grant.resource,
    });
    let statements = statements(&mut policy);
    statements.retain(|s| !grant.owns(s));
    statements.push(statement);
    policy.to_string()
}

/// The bucket policy without this stream's statement; None when nothing would be left.
pub fn policy_without(existing: Option<&str>, grant: &Grant) -> Option<String> {
    let mut policy = parse(existing);
    let statements = statements(&mut policy);
    statements.retain(|s| !grant.owns(s));
    (!statements.is_empty()).then(|| policy.to_string())
}

/// Whether the bucket policy has this stream's statement.
pub fn has_grant(existing: Option<&str>, grant: &Grant) -> bool {
    let mut policy = parse(existing);
    statements(&mut policy).iter().any(|s| grant.owns(s))
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

    fn named(namespace: &str, name: &str, uid: &str) -> LiveStream {
        let mut s = LiveStream::new(name, serde_json::from_value(json!({})).unwrap());
        s.metadata.namespace = Some(namespace.into());
        s.metadata.uid = Some(uid.into());
        s
    }

    fn stream() -> LiveStream {
        named("events", "launch-event", "6c1a3f0e-0000-4000-8000-00000000abcd")
    }

    #[test]
    fn one_prefix_and_statement_per_stream() {
        assert_eq!(prefix(&stream()), "livestreams/events/launch-event/");
        assert_eq!(
            Grant::new(&stream(), "b").sid,
            "LiveStreamPlayer6c1a3f0e00004000800000000000abcd"
        );
    }

    #[test]
    fn streams_whose_names_differ_only_in_punctuation_keep_their_own_grants() {
        // team-a/x and teama/x: names that lose the same characters.
        let (a, b) = (named("team-a", "x", "uid-a"), named("teama", "x", "uid-b"));
        let (grant_a, grant_b) = (Grant::new(&a, "pages"), Grant::new(&b, "pages"));
        assert_ne!(grant_a.sid, grant_b.sid);
        let both = policy_with(Some(&policy_with(None, &grant_a)), &grant_b);
        let left = policy_without(Some(&both), &grant_a).expect("b's grant stays");
        assert!(
            has_grant(Some(&left), &grant_b) && !has_grant(Some(&left), &grant_a),
            "{left}"
        );
    }

    #[test]
    fn a_statement_of_an_earlier_release_is_replaced_only_for_its_own_prefix() {
        let (a, b) = (named("team-a", "x", "uid-a"), named("teama", "x", "uid-b"));
        let (grant_a, grant_b) = (Grant::new(&a, "pages"), Grant::new(&b, "pages"));
        let legacy = |prefix: &str| {
            json!({"Sid": "LiveStreamPlayerlivestreamteamax", "Effect": "Allow", "Principal": "*",
                   "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::pages/{prefix}*")})
        };
        let old = json!({"Version": "2012-10-17", "Statement": [legacy("livestreams/team-a/x/"), legacy("livestreams/teama/x/")]});
        let upgraded = policy_with(Some(&old.to_string()), &grant_a);
        let statements: Value = serde_json::from_str(&upgraded).unwrap();
        let resources: Vec<&str> = statements["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Resource"].as_str().unwrap())
            .collect();
        assert_eq!(
            resources,
            [
                "arn:aws:s3:::pages/livestreams/teama/x/*",
                "arn:aws:s3:::pages/livestreams/team-a/x/*"
            ]
        );
        assert!(
            has_grant(Some(&upgraded), &grant_b),
            "b's legacy statement is still b's"
        );
    }

    #[test]
    fn the_digest_is_sha256_stable_across_releases() {
        let objects = objects(&stream(), "http://x/out/v1/a/index.m3u8");
        let config = &objects[3];
        let one = [Object {
            name: config.name,
            body: config.body.clone(),
            content_type: config.content_type,
            cache_control: config.cache_control,
        }];
        // Pinned: a change here republishes every page on upgrade.
        assert_eq!(digest(&one).len(), 64);
        assert_eq!(digest(&one), digest(&one));
        assert_eq!(
            digest(&[Object {
                name: "a",
                body: b"b".to_vec(),
                content_type: "c",
                cache_control: "d"
            }]),
            "d576b8b53d6d1c38b59c0423b12c72bedf55396feef884636d6dfb373f09a757"
        );
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
        let grant = Grant::new(&named("ns", "a", "uid-1"), "b");
        let with = policy_with(Some(other), &grant);
        let again = policy_with(Some(&with), &grant);
        let parsed: Value = serde_json::from_str(&again).unwrap();
        assert_eq!(
            parsed["Statement"].as_array().unwrap().len(),
            2,
            "replaced, not duplicated"
        );
        assert_eq!(parsed["Statement"][1]["Resource"], "arn:aws:s3:::b/livestreams/ns/a/*");
        let without = policy_without(Some(&again), &grant).unwrap();
        assert!(!has_grant(Some(&without), &grant) && without.contains("Other"));
        assert_eq!(policy_without(Some(&policy_with(None, &grant)), &grant), None);
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
