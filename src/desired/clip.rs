//! A clip as MediaPackage v2 harvest job terms: its job name, where its VOD goes, what is wrong
//! with it before anything is sent (each problem naming the spec field), and its URLs.

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use crate::api::{LiveStream, LiveStreamClip, PackagingVersion};

/// `clip-<name>-<uid prefix>`: deterministic (a retried create finds the first job), within
/// MediaPackage's `[a-zA-Z0-9_-]{1,256}`.
pub fn job_name(clip: &LiveStreamClip) -> String {
    let name: String = (clip.name_any().chars())
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(200)
        .collect();
    let uid: String = clip.uid().unwrap_or_default().chars().take(8).collect();
    format!("clip-{name}-{uid}")
}

/// `livestreams/<namespace>/<stream>-clips/<clip>`: beside the stream's player page (so the
/// distribution and the page grant that serve the page serve the clip), not under it (so
/// deleting the stream's page keeps its clips).
pub fn destination_path(clip: &LiveStreamClip) -> String {
    format!(
        "livestreams/{}/{}-clips/{}",
        clip.namespace().unwrap_or_default(),
        clip.spec.stream,
        clip.name_any()
    )
}

/// The manifest the harvest writes: the endpoint's manifest name.
pub const MANIFEST: &str = "index.m3u8";

/// What the clip cannot be, given its stream; None when a harvest job can be asked for.
pub fn problem(clip: &LiveStreamClip, stream: &LiveStream, now: Timestamp) -> Option<String> {
    let name = &clip.spec.stream;
    let status = stream.status.clone().unwrap_or_default();
    if status.packaging_version != Some(PackagingVersion::V2) {
        return Some(format!(
            "spec.stream: LiveStream {name} is not packaged with MediaPackage v2, which clips need (set its spec.packaging.version: v2)"
        ));
    }
    let Some(window) = stream.spec.packaging.startover_window_seconds else {
        return Some(format!(
            "spec.stream: LiveStream {name} keeps no startover window to clip from (set its spec.packaging.startoverWindowSeconds)"
        ));
    };
    let oldest = now.as_second() - i64::from(window);
    if clip.spec.start.0.as_second() < oldest {
        return Some(format!(
            "spec.start: {} is older than LiveStream {name}'s startover window of {window} s",
            clip.spec.start.0
        ));
    }
    if clip.spec.start.0 > now {
        return Some(format!(
            "spec.start: {} is in the future: a clip starts in the past",
            clip.spec.start.0
        ));
    }
    None
}

/// The account of a MediaPackage v2 ARN (`arn:aws:mediapackagev2:<region>:<account>:…`).
pub fn account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use serde_json::json;

    use super::*;
    use crate::api::{AwsResources, LiveStreamClipSpec, LiveStreamStatus};

    fn clip(start: i64, end: i64) -> LiveStreamClip {
        let spec = LiveStreamClipSpec {
            stream: "keynote".into(),
            start: Time(Timestamp::from_second(start).unwrap()),
            end: Time(Timestamp::from_second(end).unwrap()),
            bucket: None,
            delete_files_on_delete: false,
        };
        let mut c = LiveStreamClip::new("the.goal", spec);
        c.metadata.namespace = Some("events".into());
        c.metadata.uid = Some("0a1b2c3d-4e5f".into());
        c
    }

    fn stream(version: PackagingVersion, window: Option<i32>) -> LiveStream {
        let mut s = LiveStream::new("keynote", serde_json::from_value(json!({})).unwrap());
        s.spec.packaging.startover_window_seconds = window;
        s.status = Some(LiveStreamStatus {
            packaging_version: Some(version),
            aws: Some(AwsResources::default()),
            ..LiveStreamStatus::default()
        });
        s
    }

    #[test]
    fn a_clip_names_its_job_and_lands_beside_the_page() {
        let c = clip(1_000, 1_020);
        assert_eq!(job_name(&c), "clip-the-goal-0a1b2c3d");
        assert_eq!(destination_path(&c), "livestreams/events/keynote-clips/the.goal");
        assert_eq!(
            account("arn:aws:mediapackagev2:us-east-1:123456789012:channelGroup/g"),
            Some("123456789012")
        );
    }

    #[test]
    fn what_a_stream_must_have_for_a_clip_is_named_by_field() {
        let now = Timestamp::from_second(2_000).unwrap();
        let c = clip(1_900, 1_920);
        let v1 = problem(&c, &stream(PackagingVersion::V1, Some(300)), now).unwrap();
        assert!(v1.starts_with("spec.stream:") && v1.contains("v2"), "{v1}");
        let no_window = problem(&c, &stream(PackagingVersion::V2, None), now).unwrap();
        assert!(no_window.contains("startoverWindowSeconds"), "{no_window}");
        let old = problem(&c, &stream(PackagingVersion::V2, Some(60)), now).unwrap();
        assert!(old.starts_with("spec.start:"), "{old}");
        assert_eq!(problem(&c, &stream(PackagingVersion::V2, Some(300)), now), None);
        let ahead = problem(&clip(2_100, 2_120), &stream(PackagingVersion::V2, Some(300)), now).unwrap();
        assert!(ahead.contains("future"), "{ahead}");
    }
}
