//! What a user sees with kubectl: `get lvs` columns, `-o wide`, `patch running`, `explain`.

use crate::{
    support::cluster::{self, kubectl_ok},
    support::operator::patch,
};

/// Splits `kubectl get` output into rows of columns (two or more spaces separate columns).
fn table(output: &str) -> Vec<Vec<String>> {
    output
        .lines()
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn get_livestreams_shows_running_state_and_urls() {
    cluster::install_crd().await;
    let ns = cluster::namespace("columns");
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/livestream.yaml"]);
    // Stand in for the operator: write the status it would write.
    let status = r#"{"status":{"state":"IDLE",
        "ingestUrl":"rtmp://127.0.0.1:1935/live/launch-event",
        "playbackUrl":"http://127.0.0.1:8080/out/v1/launch-event/index.m3u8",
        "websiteUrl":"http://127.0.0.1:8080/livestream-player/default/launch-event/index.html",
        "schedule":{"nextStart":"2026-12-24T17:50:00Z"},
        "conditions":[{"type":"InputConnected","status":"False","reason":"ChannelNotRunning",
            "message":"the channel is not running","lastTransitionTime":"2026-12-02T10:00:00Z"}]}}"#;
    kubectl_ok(&[
        "patch",
        "lvs",
        "launch-event",
        "-n",
        &ns,
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        status,
    ]);

    let narrow = table(&kubectl_ok(&["get", "livestreams", "-n", &ns]));
    assert_eq!(narrow[0], ["NAME", "RUNNING", "STATE", "INPUT", "PLAYBACK URL", "AGE"]);
    assert_eq!(
        narrow[1][..5],
        [
            "launch-event",
            "false",
            "IDLE",
            "False",
            "http://127.0.0.1:8080/out/v1/launch-event/index.m3u8"
        ]
    );

    let wide = table(&kubectl_ok(&["get", "lvs", "-n", &ns, "-o", "wide"]));
    assert_eq!(
        wide[0],
        [
            "NAME",
            "RUNNING",
            "STATE",
            "INPUT",
            "PLAYBACK URL",
            "AGE",
            "INGEST URL",
            "WEBSITE URL",
            "LL-HLS URL",
            "DASH URL",
            "CDN",
            "NEXT START"
        ]
    );
    assert_eq!(wide[1][6], "rtmp://127.0.0.1:1935/live/launch-event");
    assert_eq!(
        wide[1][7],
        "http://127.0.0.1:8080/livestream-player/default/launch-event/index.html"
    );
    // A v1 stream read directly has no low-latency HLS or DASH URL and no CDN: kubectl leaves
    // those three cells blank.
    assert_eq!(wide[1].len(), wide[0].len() - 3, "{:?}", wide[1]);
    assert_eq!(wide[1][8], "2026-12-24T17:50:00Z", "when the schedule starts it next");

    // The documented way to start a channel flips the RUNNING column.
    patch(&ns, "launch-event", r#"{"running":true}"#);
    let after = table(&kubectl_ok(&["get", "lvs", "launch-event", "-n", &ns]));
    assert_eq!(after[1][1], "true");
}

#[tokio::test]
async fn short_name_and_category_find_livestreams() {
    cluster::install_crd().await;
    let ns = cluster::namespace("names");
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    for resource in ["lvs", "livestream", "livestreams.media.livestream.io", "media"] {
        let out = kubectl_ok(&["get", resource, "-n", &ns, "-o", "name"]);
        assert_eq!(
            out.trim(),
            "livestream.media.livestream.io/minimal",
            "kubectl get {resource}"
        );
    }
}

#[tokio::test]
async fn explain_describes_the_hls_settings() {
    cluster::install_crd().await;
    // The API server publishes the CRD's OpenAPI asynchronously; retry briefly.
    let mut out = String::new();
    for _ in 0..40 {
        out = kubectl_ok(&["explain", "livestream.spec.packaging.hls"]);
        if out.contains("segmentDurationSeconds") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    for expected in [
        "KIND:       LiveStream",
        "segmentDurationSeconds\t<integer>",
        "Duration of each HLS segment, in seconds (1–30). Default 5.",
        "playlistWindowSeconds\t<integer>",
        "minVideoBitsPerSecond\t<integer>",
        "maxVideoBitsPerSecond\t<integer>",
        "enum: ORIGINAL, VIDEO_BITRATE_ASCENDING, VIDEO_BITRATE_DESCENDING",
    ] {
        assert!(out.contains(expected), "kubectl explain lacks {expected:?}:\n{out}");
    }
}
