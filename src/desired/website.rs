//! The player page published to S3: the built assets (embedded in the binary, so a release needs
//! no extra files), a per-stream `config.json`, the key prefix, and the one bucket-policy statement
//! that makes the pages' prefix publicly readable.

use kube::ResourceExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::api::LiveStream;

/// One object to upload under the stream's prefix.
#[derive(Clone, Debug)]
pub struct Object {
    pub name: &'static str,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub cache_control: &'static str,
}

/// Where the stream's page goes, settled once a pass (`None` there: the page is disabled or no
/// bucket is configured).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub bucket: String,
    /// The stream's prefix (`prefix`).
    pub prefix: String,
    /// The page's title: the stream's name.
    pub title: String,
    /// The page's URL straight from the bucket (delivery Direct).
    pub direct_url: String,
}

impl Site {
    pub fn of(stream: &LiveStream, bucket: String, endpoint: Option<&str>, region: &str) -> Self {
        let prefix = prefix(stream);
        Self {
            direct_url: url(endpoint, region, &bucket, &prefix),
            title: stream.name_any(),
            bucket,
            prefix,
        }
    }
}

/// The player page as the spec asks for it this round: what goes under the prefix, who may read
/// it, and where viewers find it.
#[derive(Clone, Debug)]
pub struct PageRequest {
    pub bucket: String,
    pub prefix: String,
    pub objects: Vec<Object>,
    /// `digest(objects)`: what a published page is compared by.
    pub digest: String,
    pub grant: Grant,
    /// The page's URL for viewers (through the distribution with delivery CloudFront).
    pub url: Option<String>,
}

/// Where every player page of a bucket lives.
pub const PAGES: &str = "livestreams/";

/// `livestreams/<namespace>/<name>/`: one prefix per LiveStream.
pub fn prefix(stream: &LiveStream) -> String {
    format!(
        "{PAGES}{}/{}/",
        stream.namespace().unwrap_or_default(),
        stream.name_any()
    )
}

/// One statement every player page in a bucket shares, whatever the number of streams, so the
/// policy stays far below S3's 20 KB cap at 1,000 streams: public read of `livestreams/*` (delivery
/// Direct; only the operator writes pages, public by design), or read by the account's CloudFront
/// distributions only (delivery CloudFront; the bucket keeps Block Public Access on). The second is
/// scoped by `AWS:SourceAccount`, not by each distribution's `AWS:SourceArn`: 1,000 ARNs (about
/// 60 bytes each) would not fit in 20 KB, and a page served by one distribution is public anyway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub resource: String,
    pub grantee: Grantee,
}

/// Who a bucket-policy statement lets in, and to do what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grantee {
    /// Anyone may read (delivery Direct).
    Anyone,
    /// The CloudFront distributions of this account may read (delivery CloudFront).
    CloudFront { account: String },
    /// MediaPackage v2 of this account may write (harvested clips: its harvest jobs have no role).
    Harvest { account: String },
}

/// The shared statements' ids.
pub const SID: &str = "LiveStreamPlayerPages";
pub const CLOUDFRONT_SID: &str = "LiveStreamPlayerPagesViaCloudFront";
pub const HARVEST_SID: &str = "LiveStreamClipsFromMediaPackage";

impl Grant {
    /// Public read (delivery Direct).
    pub fn new(bucket: &str) -> Self {
        Self::to(bucket, Grantee::Anyone)
    }

    /// Read by the CloudFront distributions of `account` (delivery CloudFront).
    pub fn cloudfront(bucket: &str, account: &str) -> Self {
        let account = account.to_owned();
        Self::to(bucket, Grantee::CloudFront { account })
    }

    /// MediaPackage v2 of `account` may write harvested clips under `livestreams/`.
    pub fn harvest(bucket: &str, account: &str) -> Self {
        let account = account.to_owned();
        Self::to(bucket, Grantee::Harvest { account })
    }

    fn to(bucket: &str, grantee: Grantee) -> Self {
        Grant {
            resource: format!("arn:aws:s3:::{bucket}/{PAGES}*"),
            grantee,
        }
    }

    /// Every kind of grant on `bucket`'s pages (their ids: the account does not matter).
    pub fn all(bucket: &str) -> [Self; 3] {
        [
            Self::new(bucket),
            Self::cloudfront(bucket, ""),
            Self::harvest(bucket, ""),
        ]
    }

    pub fn is_public(&self) -> bool {
        self.grantee == Grantee::Anyone
    }

    fn sid(&self) -> &'static str {
        match self.grantee {
            Grantee::Anyone => SID,
            Grantee::CloudFront { .. } => CLOUDFRONT_SID,
            Grantee::Harvest { .. } => HARVEST_SID,
        }
    }

    fn statement(&self) -> Value {
        let (principal, action, account) = match &self.grantee {
            Grantee::Anyone => (json!("*"), "s3:GetObject", None),
            Grantee::CloudFront { account } => (
                json!({"Service": "cloudfront.amazonaws.com"}),
                "s3:GetObject",
                Some(account),
            ),
            Grantee::Harvest { account } => (
                json!({"Service": "mediapackagev2.amazonaws.com"}),
                "s3:PutObject",
                Some(account),
            ),
        };
        let mut statement = json!({
            "Sid": self.sid(),
            "Effect": "Allow",
            "Principal": principal,
            "Action": action,
            "Resource": self.resource,
        });
        if let Some(account) = account {
            statement["Condition"] = json!({"StringEquals": {"AWS:SourceAccount": account}});
        }
        statement
    }

    /// The shared statement, or (public read) one an earlier release wrote per stream (Sid
    /// `LiveStreamPlayer…`, a prefix under `livestreams/`): the shared one covers and replaces those.
    fn owns(&self, statement: &Value) -> bool {
        let sid = statement["Sid"].as_str().unwrap_or_default();
        let pages = self.resource.trim_end_matches('*');
        sid == self.sid()
            || (self.is_public()
                && sid.starts_with("LiveStreamPlayer")
                && sid != CLOUDFRONT_SID
                && statement["Resource"].as_str().is_some_and(|r| r.starts_with(pages)))
    }
}

/// The page, its script and style, and the stream's config. The page is public: nothing of the
/// ingest side (the stream name is the publishing key) goes into it.
pub fn objects(title: &str, playback_url: &str, low_latency_url: Option<&str>) -> Vec<Object> {
    let mut config = json!({
        "title": title,
        "playbackUrl": playback_url,
    });
    // MediaPackage v2's low-latency HLS: the page plays it with hls.js's low-latency mode.
    if let Some(url) = low_latency_url {
        config["lowLatencyUrl"] = url.into();
    }
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

/// The bucket policy with the pages' statement added or replaced.
pub fn policy_with(existing: Option<&str>, grant: &Grant) -> String {
    let mut policy = parse(existing);
    let statement = grant.statement();
    let statements = statements(&mut policy);
    statements.retain(|s| !grant.owns(s));
    statements.push(statement);
    policy.to_string()
}

/// The bucket policy without the pages' statement; None when nothing would be left.
pub fn policy_without(existing: Option<&str>, grant: &Grant) -> Option<String> {
    let mut policy = parse(existing);
    let statements = statements(&mut policy);
    statements.retain(|s| !grant.owns(s));
    (!statements.is_empty()).then(|| policy.to_string())
}

/// Whether the bucket policy has the pages' statement.
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
    fn one_prefix_per_stream_and_one_statement_for_all() {
        assert_eq!(prefix(&stream()), "livestreams/events/launch-event/");
        assert_eq!(Grant::new("b").resource, "arn:aws:s3:::b/livestreams/*");
        // The policy does not grow with the fleet: 1,000 streams share the one statement.
        let mut policy = None;
        for _ in 0..1000 {
            policy = Some(policy_with(policy.as_deref(), &Grant::new("pages")));
        }
        let policy = policy.unwrap();
        assert!(policy.len() < 300, "{} bytes", policy.len());
    }

    #[test]
    fn statements_of_an_earlier_release_are_replaced_and_others_kept() {
        let legacy = |sid: &str, prefix: &str| {
            json!({"Sid": sid, "Effect": "Allow", "Principal": "*",
                   "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::pages/{prefix}*")})
        };
        let old = json!({"Version": "2012-10-17", "Statement": [
            legacy("LiveStreamPlayerlivestreamteamax", "livestreams/team-a/x/"),
            legacy("LiveStreamPlayer6c1a3f0e", "livestreams/teama/x/"),
            legacy("SomeoneElse", "downloads/"),
        ]});
        let upgraded: Value = serde_json::from_str(&policy_with(Some(&old.to_string()), &Grant::new("pages"))).unwrap();
        let sids: Vec<&str> = upgraded["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(sids, ["SomeoneElse", SID]);
    }

    #[test]
    fn the_digest_is_sha256_stable_across_releases() {
        let objects = objects("launch-event", "http://x/out/v1/a/index.m3u8", None);
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
        let a = objects("launch-event", "http://x/out/v1/a/index.m3u8", None);
        let b = objects("launch-event", "http://x/out/v1/b/index.m3u8", None);
        let config: Value = serde_json::from_slice(&a[3].body).unwrap();
        assert_eq!(config["playbackUrl"], "http://x/out/v1/a/index.m3u8");
        assert_eq!(
            config.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["playbackUrl", "title"],
            "no ingest detail on a public page"
        );
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(
            digest(&a),
            digest(&objects("launch-event", "http://x/out/v1/a/index.m3u8", None))
        );
        let low = objects(
            "launch-event",
            "http://x/hls/index.m3u8",
            Some("http://x/llhls/index.m3u8"),
        );
        let config: Value = serde_json::from_slice(&low[3].body).unwrap();
        assert_eq!(config["lowLatencyUrl"], "http://x/llhls/index.m3u8");
    }

    #[test]
    fn the_pages_statement_is_added_once_and_removed_leaving_the_rest() {
        let other = r#"{"Version":"2012-10-17","Statement":{"Sid":"Other","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/x/*"}}"#;
        let grant = Grant::new("b");
        let with = policy_with(Some(other), &grant);
        let again = policy_with(Some(&with), &grant);
        let parsed: Value = serde_json::from_str(&again).unwrap();
        assert_eq!(
            parsed["Statement"].as_array().unwrap().len(),
            2,
            "replaced, not duplicated"
        );
        assert_eq!(parsed["Statement"][1]["Resource"], "arn:aws:s3:::b/livestreams/*");
        let without = policy_without(Some(&again), &grant).unwrap();
        assert!(!has_grant(Some(&without), &grant) && without.contains("Other"));
        assert_eq!(policy_without(Some(&policy_with(None, &grant)), &grant), None);
    }

    #[test]
    fn the_cloudfront_statement_lives_beside_the_public_one_and_goes_alone() {
        let public = policy_with(None, &Grant::new("b"));
        let both = policy_with(Some(&public), &Grant::cloudfront("b", "123456789012"));
        let parsed: Value = serde_json::from_str(&both).unwrap();
        let cf = &parsed["Statement"][1];
        assert_eq!(cf["Principal"]["Service"], "cloudfront.amazonaws.com");
        assert_eq!(cf["Condition"]["StringEquals"]["AWS:SourceAccount"], "123456789012");
        let left = policy_without(Some(&both), &Grant::cloudfront("b", "123456789012")).unwrap();
        assert!(has_grant(Some(&left), &Grant::new("b")));
        assert!(!has_grant(Some(&left), &Grant::cloudfront("b", "1")));
        let mut fleet = None;
        for _ in 0..1000 {
            fleet = Some(policy_with(
                fleet.as_deref(),
                &Grant::cloudfront("pages", "123456789012"),
            ));
        }
        assert!(fleet.unwrap().len() < 400, "one statement for the fleet");
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
