//! The player page: published by the operator to S3 under the stream's prefix, readable by anyone
//! there and nowhere else, removed on delete — and played in a real headless Chromium.

use std::{path::PathBuf, time::Duration};

use serde_json::Value;
use tokio::process::Command;

use crate::{
    support::cloud::{LocalCloud, eventually, http_get},
    support::cluster::{kubectl_ok, namespace, repo_root},
    support::operator::{Operator, go_live, kubectl_wait, patch, status},
};

/// The bucket deploy/iam-policy.json grants, as shipped.
pub const BUCKET: &str = "example-livestream-player-pages";
const MOVED: &str = "player-pages-moved";

/// `curl -sI`-style check of a URL's status code and content type.
async fn head(url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code} %{content_type}", url])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (code, content_type) = text.split_once(' ').unwrap_or(("0", ""));
    (code.parse().unwrap_or(0), content_type.to_owned())
}

/// What a user does, as the operator's condition tells them, so that a bucket may serve public
/// player pages: a new bucket blocks public policies (S3 Block Public Access, since April 2023).
pub async fn allow_public_pages(s3: &aws_sdk_s3::Client, bucket: &str) {
    if s3.head_bucket().bucket(bucket).send().await.is_err() {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    let relaxed = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(false)
        .restrict_public_buckets(false)
        .build();
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(relaxed)
        .send()
        .await
        .unwrap();
}

/// How many player-page objects (under `livestreams/`) a bucket holds.
async fn pages_in(s3: &aws_sdk_s3::Client, bucket: &str) -> usize {
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix("livestreams/")
        .send()
        .await
        .unwrap();
    listed.contents().len()
}

#[tokio::test]
async fn the_player_page_is_public_under_its_prefix_only_and_removed_on_delete() {
    // A team that moves its pages to a second bucket grants the operator that one too.
    let mut policy = crate::support::cloud::shipped_policy();
    for statement in policy["Statement"].as_array_mut().unwrap() {
        if let Some(resource) = statement["Resource"].as_str().map(str::to_owned)
            && let Some(rest) = resource.strip_prefix(&format!("arn:aws:s3:::{BUCKET}"))
        {
            let moved = format!("arn:aws:s3:::{MOVED}{rest}");
            statement["Resource"] = serde_json::json!([resource, moved]);
        }
    }
    let cloud = LocalCloud::start_with_policy(&[], &policy).await;
    let ns = namespace("website");
    let _operator = Operator::start_with(&cloud, &ns, &["--website-bucket", BUCKET]).await;
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/livestream.yaml"]);

    // The bucket the operator creates blocks public policies, as every new bucket on AWS does:
    // the stream is built, the page stays private, and the condition says what to run.
    let degraded = eventually("the private page to be reported", Duration::from_secs(60), || async {
        let conditions = status(&ns, "launch-event")["conditions"].clone();
        conditions
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Degraded" && c["reason"] == "WebsiteNotPublic")
            .cloned()
    })
    .await;
    let message = degraded["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("aws s3api put-public-access-block --bucket {BUCKET}"))
            && message.contains("BlockPublicPolicy=false"),
        "{message}"
    );
    eventually("the stream itself to be built", Duration::from_secs(30), || async {
        status(&ns, "launch-event")["aws"]["channelId"]
            .as_str()
            .map(str::to_owned)
    })
    .await;
    let private = format!("{}/{BUCKET}/livestreams/{ns}/launch-event/index.html", cloud.endpoint);
    assert_eq!(head(&private).await.0, 403, "the page is uploaded but private");
    let s3 = &cloud.aws.s3;
    allow_public_pages(s3, BUCKET).await;
    kubectl_wait(&ns, "condition=Ready", "launch-event", Duration::from_secs(60));
    let s = status(&ns, "launch-event");
    let page = s["websiteUrl"].as_str().expect("websiteUrl in status").to_owned();
    assert_eq!(
        page,
        format!("{}/{BUCKET}/livestreams/{ns}/launch-event/index.html", cloud.endpoint)
    );
    assert!(kubectl_ok(&["get", "lvs", "-n", &ns, "-o", "wide"]).contains(&page));

    let base = page.trim_end_matches("index.html");
    assert_eq!(head(&page).await, (200, "text/html; charset=utf-8".to_owned()));
    assert_eq!(
        head(&format!("{base}player.js")).await,
        (200, "text/javascript; charset=utf-8".to_owned())
    );
    let (code, config) = http_get(&format!("{base}config.json")).await;
    assert_eq!(code, 200);
    let config: Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["playbackUrl"], s["playbackUrl"]);
    assert!(
        !config.to_string().contains("live/launch-event") && config.get("streamName").is_none(),
        "the publishing key stays off the public page: {config}"
    );

    // Only the pages' prefix is public.
    s3.put_object()
        .bucket(BUCKET)
        .key("private/notes.txt")
        .body(b"secret".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(
        head(&format!("{}/{BUCKET}/private/notes.txt", cloud.endpoint)).await.0,
        403
    );

    // Moving the page to another bucket publishes it there and removes it, and its grant, here.
    allow_public_pages(s3, MOVED).await;
    patch(&ns, "launch-event", &format!(r#"{{"website":{{"bucket":"{MOVED}"}}}}"#));
    let moved = eventually("the page in the new bucket", Duration::from_secs(30), || async {
        let url = status(&ns, "launch-event")["websiteUrl"].as_str()?.to_owned();
        url.contains(MOVED).then_some(url)
    })
    .await;
    assert_eq!(head(&moved).await.0, 200, "{moved}");
    assert_eq!(status(&ns, "launch-event")["websiteBucket"], MOVED);
    let old = pages_in(s3, BUCKET).await;
    assert_eq!(old, 0, "nothing left under the old bucket's prefix");
    let grant = format!("livestreams/{ns}/launch-event/");
    let policy = s3
        .get_bucket_policy()
        .bucket(BUCKET)
        .send()
        .await
        .ok()
        .and_then(|p| p.policy);
    assert!(
        !policy.as_deref().unwrap_or("").contains(&grant),
        "and no grant for it: {policy:?}"
    );

    kubectl_ok(&["delete", "lvs", "launch-event", "-n", &ns, "--timeout", "60s"]);
    let left_moved = pages_in(s3, MOVED).await;
    assert_eq!(left_moved, 0, "deleting removes the page from the bucket it moved to");
    assert_eq!(head(&moved).await.0, 403);
    let left = pages_in(s3, BUCKET).await;
    assert_eq!(left, 0, "the page's objects are deleted");
    assert_eq!(head(&page).await.0, 403, "and its public grant is gone");
    let others = s3.list_objects_v2().bucket(BUCKET).send().await.unwrap();
    assert_eq!(others.contents().len(), 1, "other objects in the shared bucket stay");
}

/// Runs website/test/check-player.mjs (playwright-core driving Debian's Chromium).
pub async fn check_player(url: &str, expect: &str, extra: &[&str]) -> Value {
    let out = Command::new("node")
        .arg(repo_root().join("website/test/check-player.mjs"))
        .args(["--url", url, "--expect", expect, "--timeout-ms", "60000"])
        .args(extra)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON report: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert!(
        out.status.success(),
        "player check failed: {report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    report
}

#[tokio::test]
async fn the_player_plays_switches_renditions_and_says_when_the_stream_is_off() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("browser");
    let _operator = Operator::start_with(&cloud, &ns, &["--website-bucket", BUCKET]).await;
    allow_public_pages(&cloud.aws.s3, BUCKET).await;
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/livestream.yaml"]);
    patch(
        &ns,
        "launch-event",
        r#"{"packaging":{"hls":{"segmentDurationSeconds":2,"playlistWindowSeconds":12}}}"#,
    );
    kubectl_wait(&ns, "condition=Ready", "launch-event", Duration::from_secs(60));
    let page = status(&ns, "launch-event")["websiteUrl"].as_str().unwrap().to_owned();
    let artifacts = repo_root().join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();

    // Not running: the page says so (and keeps retrying).
    let offline = check_player(&page, "offline", &[]).await;
    assert!(
        offline["statusText"].as_str().unwrap().contains("not live"),
        "{offline}"
    );

    let mut publisher = go_live(&ns, "launch-event", 120);
    let playback = status(&ns, "launch-event")["playbackUrl"].as_str().unwrap().to_owned();
    eventually("HLS on the origin", Duration::from_secs(40), || async {
        (http_get(&playback).await.0 == 200).then_some(())
    })
    .await;

    let screenshot: PathBuf = artifacts.join("player.png");
    let playing = check_player(
        &page,
        "playing",
        &["--switch-rendition", "--screenshot", screenshot.to_str().unwrap()],
    )
    .await;
    let width = playing["videoWidth"].as_u64().unwrap();
    assert!(
        [1920, 1280].contains(&width),
        "plays a rendition of the ladder: {playing}"
    );
    assert!(playing["currentTimeAdvanced"].as_f64().unwrap() > 0.5, "{playing}");
    let switched = playing["switchedTo"]["width"].as_u64().unwrap();
    assert!([1920, 1280].contains(&switched), "{playing}");
    assert!(
        std::fs::metadata(&screenshot).unwrap().len() > 10_000,
        "a screenshot was saved"
    );
    let _ = publisher.kill().await;
    kubectl_ok(&["delete", "lvs", "launch-event", "-n", &ns, "--timeout", "60s"]);
}
