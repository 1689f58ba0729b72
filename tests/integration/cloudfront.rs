//! Viewers through CloudFront as a user meets it: a LiveStream gets a distribution in front of its
//! MediaPackage endpoint and of its player bucket, which stays private (Block Public Access on;
//! only the account's distributions read it, through an origin access control). The page plays in
//! Chromium through the edge, an anonymous read of the bucket is refused, a spec change updates
//! the distribution, and delete disables it, deletes it and its origin access control — checked
//! through the AWS CLI. A MediaPackage v2 stream beside it gets low-latency HLS (blocking reloads
//! included) and DASH through its own distribution. The operator runs under the shipped IAM policy.

use std::time::Duration;

use serde_json::Value;

use crate::{
    support::cloud::{LocalCloud, eventually, http_get, shipped_policy},
    support::cluster::{kubectl_apply, kubectl_ok, namespace},
    support::operator::{Operator, go_live, kubectl_wait, patch, status},
    support::tools::Cli,
    support::tools::probe_streams,
    website::{BUCKET, check_player},
};

fn stream(ns: &str, name: &str, version: &str) -> String {
    format!(
        "apiVersion: media.livestream.io/v1alpha1\nkind: LiveStream\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  input:\n    streamName: live/{name}\n  packaging:\n    version: {version}\n    hls:\n      segmentDurationSeconds: 2\n      playlistWindowSeconds: 30\n"
    )
}

/// livestream-local's counter `name` for one distribution, from its /metrics.
async fn edge_counter(cloud: &LocalCloud, name: &str, distribution: &str) -> u64 {
    let (_, metrics) = cloud.get("/metrics").await;
    let prefix = format!("livestream_local_cloudfront_{name}_total{{distribution=\"{distribution}\"}} ");
    (metrics.lines())
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[tokio::test]
async fn a_stream_is_watched_through_cloudfront_while_its_bucket_stays_private() {
    let cloud = LocalCloud::start_with_policy(&["--cloudfront-deploy-seconds", "2"], &shipped_policy()).await;
    let cli = Cli { cloud: &cloud };
    let ns = namespace("cloudfront");
    let operator = Operator::start_with(&cloud, &ns, &["--delivery", "CloudFront", "--website-bucket", BUCKET]).await;

    // Apply: Ready only once CloudFront has deployed the distribution, every URL through it.
    kubectl_apply(&format!(
        "{}---\n{}",
        stream(&ns, "show", "v1"),
        stream(&ns, "keynote", "v2")
    ));
    for name in ["show", "keynote"] {
        kubectl_wait(&ns, "condition=Ready", name, Duration::from_secs(90));
    }
    let s = status(&ns, "show");
    assert_eq!(s["delivery"], "CloudFront", "{s}");
    let cf = &s["cloudFront"];
    assert_eq!(
        (&cf["status"], &cf["enabled"]),
        (&Value::from("Deployed"), &Value::from(true)),
        "{s}"
    );
    let (id, domain) = (
        cf["distributionId"].as_str().unwrap(),
        cf["domainName"].as_str().unwrap(),
    );
    let playback = s["playbackUrl"].as_str().unwrap().to_owned();
    assert_eq!(playback, format!("http://{domain}/out/v1/show-hls/index.m3u8"));
    let website = s["websiteUrl"].as_str().unwrap().to_owned();
    assert_eq!(website, format!("http://{domain}/livestreams/{ns}/show/index.html"));
    let wide = kubectl_ok(&["get", "lvs", "-n", &ns, "-o", "wide"]);
    assert!(wide.contains("Deployed") && wide.contains(&playback), "{wide}");

    // What the AWS CLI sees: MediaPackage and the bucket behind one distribution, signed reads of
    // the bucket, LL-HLS's query strings in the cache key, the uid in the caller reference.
    let got = cli.ok(&["cloudfront", "get-distribution", "--id", id]).await;
    let config = &got["Distribution"]["DistributionConfig"];
    let uid = kubectl_ok(&["get", "lvs", "show", "-n", &ns, "-o", "jsonpath={.metadata.uid}"]);
    assert_eq!(config["CallerReference"], format!("livestream-{uid}"));
    let origins = config["Origins"]["Items"].as_array().unwrap();
    assert_eq!(origins.len(), 2, "{config}");
    let bucket_origin = origins.iter().find(|o| o["S3OriginConfig"].is_object()).unwrap();
    assert_eq!(
        bucket_origin["DomainName"],
        format!("{BUCKET}.s3.us-east-1.amazonaws.com")
    );
    let oac = bucket_origin["OriginAccessControlId"].as_str().unwrap();
    let signing = cli.ok(&["cloudfront", "get-origin-access-control", "--id", oac]).await;
    let signing = &signing["OriginAccessControl"]["OriginAccessControlConfig"];
    assert_eq!(
        (&signing["SigningProtocol"], &signing["SigningBehavior"]),
        (&Value::from("sigv4"), &Value::from("always"))
    );
    let keys = &config["DefaultCacheBehavior"]["ForwardedValues"]["QueryStringCacheKeys"]["Items"];
    assert!(keys.as_array().unwrap().iter().any(|k| k == "_HLS_msn"), "{config}");
    assert_eq!(
        config["DefaultCacheBehavior"]["ViewerProtocolPolicy"],
        "redirect-to-https"
    );
    let tags = cli
        .ok(&[
            "cloudfront",
            "list-tags-for-resource",
            "--resource",
            got["Distribution"]["ARN"].as_str().unwrap(),
        ])
        .await;
    assert!(tags.to_string().contains(&uid), "owner tags: {tags}");

    // The bucket stays private: no public statement, and an anonymous read is refused.
    let policy = cli.ok(&["s3api", "get-bucket-policy", "--bucket", BUCKET]).await;
    let policy: Value = serde_json::from_str(policy["Policy"].as_str().unwrap()).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert!(statements.iter().all(|s| s["Principal"] != "*"), "{policy}");
    assert_eq!(statements[0]["Principal"]["Service"], "cloudfront.amazonaws.com");
    let direct = format!("{}/{BUCKET}/livestreams/{ns}/show/index.html", cloud.endpoint);
    assert_eq!(http_get(&direct).await.0, 403, "anonymous read of the bucket");
    assert_eq!(http_get(&website).await.0, 200, "the same page through the edge");

    // Start, push: the stream plays through the edge, in ffprobe and in the page in Chromium.
    let mut publisher = go_live(&ns, "show", 90);
    eventually("the edge to serve both renditions", Duration::from_secs(40), || async {
        let (code, body) = http_get(&playback).await;
        (code == 200 && body.matches("#EXT-X-STREAM-INF").count() == 2).then_some(())
    })
    .await;
    assert_eq!(
        probe_streams(&playback).await,
        ["aac nullxnull", "h264 1280x720", "h264 1920x1080"]
    );
    let playing = check_player(&website, "playing", &[]).await;
    assert_eq!(playing["protocol"], "hls", "{playing}");
    // The player and ffprobe read segments the edge had already fetched once.
    assert!(
        edge_counter(&cloud, "hits", id).await > 0,
        "the edge served from its cache"
    );
    let misses = edge_counter(&cloud, "misses", id).await;
    let origin = edge_counter(&cloud, "origin_requests", id).await;
    assert!(
        origin <= misses,
        "one origin request per miss at most: {origin} > {misses}"
    );

    // A spec change becomes an update of the distribution under its ETag.
    patch(&ns, "show", r#"{"delivery":{"priceClass":"PriceClass_All"}}"#);
    eventually(
        "the distribution to take the new price class",
        Duration::from_secs(30),
        || async {
            let got = cli.ok(&["cloudfront", "get-distribution-config", "--id", id]).await;
            (got["DistributionConfig"]["PriceClass"] == "PriceClass_All").then_some(())
        },
    )
    .await;
    patch(&ns, "show", r#"{"running":false}"#);
    kubectl_wait(&ns, "jsonpath={.status.state}=IDLE", "show", Duration::from_secs(30));
    let _ = publisher.kill().await;

    // MediaPackage v2 behind its own distribution: low-latency HLS through the edge, blocking
    // playlist reloads (`_HLS_msn`/`_HLS_part`) keyed and forwarded, and DASH.
    let v2 = status(&ns, "keynote");
    let v2_domain = v2["cloudFront"]["domainName"].as_str().unwrap().to_owned();
    let low_latency = v2["lowLatencyPlaybackUrl"].as_str().unwrap().to_owned();
    assert!(low_latency.starts_with(&format!("http://{v2_domain}/out/v1/")), "{v2}");
    let dash = v2["dashPlaybackUrl"].as_str().unwrap().to_owned();
    assert!(dash.starts_with(&format!("http://{v2_domain}/")), "{v2}");
    let mut publisher = go_live(&ns, "keynote", 60);
    let variant = eventually("low-latency HLS through the edge", Duration::from_secs(40), || async {
        let variant = crate::packaging_v2::first_variant(&low_latency).await;
        let (code, body) = http_get(&variant).await;
        (code == 200 && body.contains("#EXT-X-PART:")).then_some((variant, body))
    })
    .await;
    let (variant, playlist) = variant;
    let msn: u64 = (playlist.lines())
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    let segments = playlist.lines().filter(|l| l.starts_with("#EXTINF")).count() as u64;
    let next = msn + segments;
    let (code, blocked) = http_get(&format!("{variant}?_HLS_msn={next}&_HLS_part=0")).await;
    assert_eq!(code, 200, "{blocked}");
    assert!(blocked.contains("#EXT-X-PART:"), "{blocked}");
    let (code, mpd) = http_get(&dash).await;
    assert!(code == 200 && mpd.contains(r#"type="dynamic""#), "{code} {mpd}");
    patch(&ns, "keynote", r#"{"running":false}"#);
    kubectl_wait(&ns, "jsonpath={.status.state}=IDLE", "keynote", Duration::from_secs(30));
    let _ = publisher.kill().await;
    crate::deploy::assert_policy_grants(&operator.metrics().await);

    // Delete: disabled, deleted once deployed, its origin access control and bucket grant gone.
    kubectl_ok(&[
        "delete",
        "lvs",
        "show",
        "keynote",
        "-n",
        &ns,
        "--wait=true",
        "--timeout=90s",
    ]);
    let listed = cli.ok(&["cloudfront", "list-distributions"]).await;
    let items = |v: &Value| v["Items"].as_array().map_or(0, Vec::len);
    assert_eq!(items(&listed["DistributionList"]), 0, "{listed}");
    let oacs = cli.ok(&["cloudfront", "list-origin-access-controls"]).await;
    assert_eq!(items(&oacs["OriginAccessControlList"]), 0, "{oacs}");
    let gone = cli.fails(&["cloudfront", "get-distribution", "--id", id]).await;
    assert!(gone.contains("NoSuchDistribution"), "{gone}");
    let policy = cli.fails(&["s3api", "get-bucket-policy", "--bucket", BUCKET]).await;
    assert!(policy.contains("NoSuchBucketPolicy"), "{policy}");
    let events = kubectl_ok(&["get", "events", "-n", &ns, "-o", "jsonpath={.items[*].reason}"]);
    for reason in [
        "CreatedDistribution",
        "UpdatedDistribution",
        "DisablingDistribution",
        "DeletedDistribution",
    ] {
        assert!(events.contains(reason), "{reason} in {events}");
    }
}
