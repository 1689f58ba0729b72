//! A RUNNING livestream-local channel really streams: push a test pattern with ffmpeg to the input's
//! RTMP URL, then read the MediaPackage endpoint with ffprobe as a player would. Publishers with a
//! wrong stream key or from outside the security group are refused.

use std::time::Duration;

use aws_sdk_medialive::types::{ChannelState, InputWhitelistRuleCidr};
use livestream_operator::{api::LiveStreamSpec, desired::Names};
use serde_json::json;
use tokio::process::Command;

use crate::support::cloud::{LocalCloud, eventually, http_get, publish};
use crate::support::tools::{ffprobe, probe_streams};

/// Attribute `name` of an `#EXT-X-STREAM-INF` line.
fn attribute<'a>(line: &'a str, name: &str) -> &'a str {
    let start = line
        .find(&format!("{name}="))
        .unwrap_or_else(|| panic!("{name} missing in {line}"))
        + name.len()
        + 1;
    let rest = &line[start..];
    if let Some(quoted) = rest.strip_prefix('"') {
        &quoted[..quoted.find('"').unwrap()]
    } else {
        rest.split(',').next().unwrap()
    }
}

#[tokio::test]
async fn a_pushed_test_pattern_plays_as_two_rendition_hls_and_intruders_are_refused() {
    let cloud = LocalCloud::start(&[]).await;
    let (ml, mp) = (&cloud.aws.medialive, &cloud.aws.mediapackage);
    let spec: LiveStreamSpec = serde_json::from_value(json!({
        "input": {"allowedCidrs": ["127.0.0.0/8"], "streamName": "live/media-test"},
        "packaging": {"hls": {"segmentDurationSeconds": 2, "playlistWindowSeconds": 8, "streamOrder": "VIDEO_BITRATE_ASCENDING"}}
    }))
    .unwrap();
    let names = Names {
        protocol: "rtmp",
        passphrase_secret: String::new(),
        channel: "media".into(),
        endpoint: "media-hls".into(),
    };

    let channel = cloud.test_channel(&spec, &names).await;
    let (sg_id, ingest, playback) = (&channel.security_group_id, &channel.ingest, &channel.playback);
    let channel_id = &channel.channel_id;
    let state = |want: ChannelState| cloud.channel_state(&channel, want);

    // Before the channel runs, nobody may publish.
    assert!(
        !publish(ingest, 2).wait().await.unwrap().success(),
        "an idle channel refuses publishers"
    );

    ml.start_channel().channel_id(channel_id).send().await.unwrap();
    state(ChannelState::Running).await;
    let wrong_key = ingest.replace("/live/media-test", "/live/not-the-key");
    assert!(
        !publish(&wrong_key, 2).wait().await.unwrap().success(),
        "a wrong stream key is refused"
    );

    let mut publisher = publish(ingest, 40);
    // Wait for a full window: 8 s of 2 s segments.
    let media_url = playback.replace("index.m3u8", "");
    let master = eventually(
        "a master playlist and a full window",
        Duration::from_secs(45),
        || async {
            let (status, master) = http_get(playback).await;
            if status != 200 {
                return None;
            }
            let first = master
                .lines()
                .find(|l| !l.starts_with('#') && !l.is_empty())?
                .to_owned();
            let (_, media) = http_get(&format!("{media_url}{first}")).await;
            (media.matches("#EXTINF").count() >= 4).then_some(master)
        },
    )
    .await;

    // Master: both renditions, ascending video bitrate, with resolution, bandwidth and codecs.
    let variants: Vec<(&str, &str)> = master
        .lines()
        .zip(master.lines().skip(1))
        .filter(|(info, _)| info.starts_with("#EXT-X-STREAM-INF"))
        .collect();
    assert_eq!(variants.len(), 2, "{master}");
    let resolutions: Vec<&str> = variants.iter().map(|(info, _)| attribute(info, "RESOLUTION")).collect();
    assert_eq!(resolutions, ["1280x720", "1920x1080"], "{master}");
    let bandwidths: Vec<u64> = variants
        .iter()
        .map(|(info, _)| attribute(info, "BANDWIDTH").parse().unwrap())
        .collect();
    assert_eq!(
        bandwidths,
        [(3_000_000 + 192_000) * 11 / 10, (5_000_000 + 192_000) * 11 / 10],
        "(video + audio) × 1.1"
    );
    for (info, _) in &variants {
        let codecs = attribute(info, "CODECS");
        assert!(codecs.starts_with("avc1.") && codecs.ends_with("mp4a.40.2"), "{codecs}");
    }

    // Media playlist: 2 s target, 2 s segments, an 8 s window.
    let media = http_get(&format!("{media_url}{}", variants[1].1)).await.1;
    assert!(media.contains("#EXT-X-TARGETDURATION:2"), "{media}");
    let durations: Vec<f64> = media
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .map(|d| d.trim_end_matches(',').split(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        durations.iter().all(|d| (d - 2.0).abs() < 0.1),
        "segment durations {durations:?}"
    );
    let window: f64 = durations.iter().sum();
    assert!((7.9..=8.1).contains(&window), "window holds {window} s: {media}");

    // ffprobe, a real player's demuxer, reads both renditions and the audio from the master.
    let streams = probe_streams(playback).await;
    assert_eq!(streams, ["aac nullxnull", "h264 1280x720", "h264 1920x1080"]);
    let segment = media.lines().rfind(|l| l.ends_with(".ts")).unwrap();
    let rendition_dir = variants[1].1.rsplit_once('/').map_or("", |(dir, _)| dir);
    // The segment's video spans its EXTINF: first to last frame, plus one frame.
    let packets = ffprobe(&[
        "-select_streams",
        "v:0",
        "-show_entries",
        "packet=pts_time",
        &format!("{media_url}{rendition_dir}/{segment}"),
    ])
    .await;
    let times: Vec<f64> = packets["packets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["pts_time"].as_str()?.parse().ok())
        .collect();
    let (first, last) = times
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), t| (lo.min(*t), hi.max(*t)));
    let duration = last - first + 1.0 / 30.0;
    assert!((duration - 2.0).abs() < 0.15, "segment lasts {duration} s");

    // A publisher outside the security group's CIDRs is refused (the running one is unaffected).
    ml.update_input_security_group()
        .input_security_group_id(sg_id)
        .whitelist_rules(InputWhitelistRuleCidr::builder().cidr("203.0.113.0/24").build())
        .send()
        .await
        .unwrap();
    assert!(
        !publish(ingest, 2).wait().await.unwrap().success(),
        "127.0.0.1 is outside 203.0.113.0/24"
    );
    let (_, metrics) = cloud.get("/metrics").await;
    assert!(metrics.contains("livestream_local_media_refused"), "{metrics}");

    // STOP ends the media processes; deleting the MediaPackage channel removes its files.
    let data_dir = cloud.data_dir.to_str().unwrap().to_owned();
    // The transcoder's command line names its output under the data directory.
    let transcoder = format!("^ffmpeg .*{data_dir}");
    let transcoders = || async {
        let out = Command::new("pgrep").args(["-f", &transcoder]).output().await.unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    assert_eq!(transcoders().await, 1, "one ffmpeg ladder runs for the channel");
    ml.stop_channel().channel_id(channel_id).send().await.unwrap();
    state(ChannelState::Idle).await;
    let _ = publisher.kill().await;
    eventually("no ffmpeg left for the channel", Duration::from_secs(10), || async {
        (transcoders().await == 0).then_some(())
    })
    .await;
    let files = cloud.data_dir.join("mediapackage").join(&names.channel);
    assert!(
        files.exists(),
        "HLS output stays until the MediaPackage channel is deleted"
    );
    mp.delete_origin_endpoint().id(&names.endpoint).send().await.unwrap();
    mp.delete_channel().id(&names.channel).send().await.unwrap();
    assert!(!files.exists(), "deleting the MediaPackage channel removes its files");
}
