//! Every common encoder publishes to a running livestream-local channel, not just ffmpeg: GStreamer's
//! `rtmpsink` (librtmp, the library OBS Studio's RTMP output derives from) and `rtmp2sink` (its own
//! RTMP client), each read back from the MediaPackage endpoint with ffprobe as two-rendition HLS.
//! The refusals (a wrong stream key, a peer outside the security group) hold for them too.

use std::time::Duration;

use aws_sdk_medialive::types::{ChannelState, InputWhitelistRuleCidr};
use livestream_operator::{api::LiveStreamSpec, desired::Names};
use serde_json::json;
use tokio::process::Child;

use crate::support::cloud::{LocalCloud, eventually, http_get};
use crate::support::tools::{Encoder, probe_streams, push};

/// The number of the newest segment of the endpoint's first rendition (0 before any).
async fn newest_segment(media_playlist: &str) -> u64 {
    let (_, text) = http_get(media_playlist).await;
    let first: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:")?.parse().ok())
        .unwrap_or(0);
    first + text.matches("#EXTINF").count() as u64
}

/// A publisher is refused: it exits unsuccessfully within 20 s.
async fn refused(mut child: Child) -> bool {
    match tokio::time::timeout(Duration::from_secs(20), child.wait()).await {
        Ok(status) => !status.unwrap().success(),
        Err(_) => {
            let _ = child.kill().await;
            false
        }
    }
}

#[tokio::test]
async fn ffmpeg_librtmp_and_gstreamer_each_publish_a_stream_that_plays() {
    let cloud = LocalCloud::start(&[]).await;
    let spec: LiveStreamSpec = serde_json::from_value(json!({
        "input": {"allowedCidrs": ["127.0.0.0/8"], "streamName": "live/encoders"},
        "packaging": {"hls": {"segmentDurationSeconds": 2, "playlistWindowSeconds": 30}}
    }))
    .unwrap();
    let names = Names {
        protocol: "rtmp",
        passphrase_secret: String::new(),
        channel: "encoders".into(),
        endpoint: "encoders-hls".into(),
    };
    let channel = cloud.test_channel(&spec, &names).await;
    let ml = &cloud.aws.medialive;
    ml.start_channel().channel_id(&channel.channel_id).send().await.unwrap();
    cloud.channel_state(&channel, ChannelState::Running).await;

    let mut matrix = Vec::new();
    for encoder in [Encoder::GstLibrtmp, Encoder::GstRtmp2, Encoder::Ffmpeg] {
        let publishes = cloud.media_counter("publishes").await;
        let before = match first_media_playlist(&channel.playback).await {
            Some(media) => newest_segment(&media).await,
            None => 0,
        };
        let mut publisher = push(encoder, &channel.ingest);
        eventually(&format!("{encoder:?}'s publish"), Duration::from_secs(15), || async {
            (cloud.media_counter("publishes").await > publishes).then_some(())
        })
        .await;
        // Two new 2 s segments at the endpoint carry this encoder's media.
        let media = eventually(&format!("{encoder:?}'s segments"), Duration::from_secs(30), || async {
            let media = first_media_playlist(&channel.playback).await?;
            (newest_segment(&media).await >= before + 2).then_some(media)
        })
        .await;
        let streams = probe_streams(&channel.playback).await;
        assert_eq!(
            streams,
            ["aac nullxnull", "h264 1280x720", "h264 1920x1080"],
            "{encoder:?}"
        );
        let newest = newest_segment(&media).await;
        matrix.push(format!(
            "{encoder:?}: publish accepted, segments {} to {newest} its own, plays {streams:?}",
            before + 1
        ));
        let _ = publisher.kill().await;
    }

    // Refusals, with clients that are not ffmpeg.
    let refused_before = cloud.media_counter("refused_publishers").await;
    let wrong_key = channel.ingest.replace("/live/encoders", "/live/not-the-key");
    assert!(
        refused(push(Encoder::GstRtmp2, &wrong_key)).await,
        "rtmp2sink with a wrong key is refused"
    );
    assert!(
        refused(push(Encoder::GstLibrtmp, &wrong_key)).await,
        "rtmpsink with a wrong key is refused"
    );
    ml.update_input_security_group()
        .input_security_group_id(&channel.security_group_id)
        .whitelist_rules(InputWhitelistRuleCidr::builder().cidr("203.0.113.0/24").build())
        .send()
        .await
        .unwrap();
    assert!(
        refused(push(Encoder::GstLibrtmp, &channel.ingest)).await,
        "127.0.0.1 is outside 203.0.113.0/24"
    );
    assert!(
        refused(push(Encoder::GstRtmp2, &channel.ingest)).await,
        "127.0.0.1 is outside 203.0.113.0/24"
    );
    assert_eq!(cloud.media_counter("refused_publishers").await, refused_before + 4);
    for row in &matrix {
        println!("{row}");
    }
    ml.stop_channel().channel_id(&channel.channel_id).send().await.unwrap();
    cloud.channel_state(&channel, ChannelState::Idle).await;
}

/// The URL of the master playlist's first rendition, once the master answers 200.
async fn first_media_playlist(playback: &str) -> Option<String> {
    let (status, master) = http_get(playback).await;
    if status != 200 {
        return None;
    }
    let first = master.lines().find(|l| !l.starts_with('#') && !l.is_empty())?;
    Some(format!("{}{first}", playback.replace("index.m3u8", "")))
}
