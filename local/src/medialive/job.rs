//! What a running channel encodes, read from its settings: one ladder shared by every output
//! group (MediaLive encodes a video description once, however many outputs name it), served by
//! the MediaPackage output group and copied into S3 by HLS and Archive groups with S3 URLs.

use serde_json::Value;

use crate::media::recorder::{S3Group, S3GroupKind, S3Output, parse_s3_url};
use crate::media::{AudioRendition, TranscodeJob, VideoRendition, codec::VideoCodec, layout};

/// MediaLive's defaults (`hlsGroupSettings.indexNSegments`, `archiveGroupSettings.rolloverInterval`,
/// `hlsGroupSettings.segmentLength`).
const INDEX_N_SEGMENTS: u64 = 10;
const ROLLOVER_SECONDS: f64 = 300.0;
const SEGMENT_LENGTH: f64 = 10.0;

/// A MediaPackage destination's v2 channel: (`channelGroup`, `channelName`).
pub fn package_v2(settings: &Value) -> Option<(&str, &str)> {
    Some((settings["channelGroup"].as_str()?, settings["channelName"].as_str()?))
}

/// Reads the encoding job of a channel: Err when no output group is one livestream-local serves.
pub fn transcode_job(channel_id: &str, encoder: &Value, destinations: &Value) -> Result<TranscodeJob, String> {
    let groups = encoder["outputGroups"].as_array().cloned().unwrap_or_default();
    let destination_of = |settings: &Value| -> Option<Value> {
        let reference = settings["destination"]["destinationRefId"].as_str()?;
        let found = destinations
            .as_array()?
            .iter()
            .find(|d| d["id"].as_str() == Some(reference));
        found.cloned()
    };
    let mut job = TranscodeJob {
        channel_id: channel_id.to_owned(),
        package_channel_id: None,
        renditions: Vec::new(),
        s3_groups: Vec::new(),
        audio: AudioRendition {
            bitrate: 192_000,
            sample_rate: 48_000,
        },
        gop_seconds: 1.0,
        thumbnails: encoder["thumbnailConfiguration"]["state"].as_str() == Some("AUTO"),
        retention_seconds: layout::RETENTION_SECONDS,
    };
    let mut package_group = None;
    let mut recorded_groups = Vec::new();
    for group in &groups {
        let settings = &group["outputGroupSettings"];
        if let Some(mp) = settings.get("mediaPackageGroupSettings") {
            let destination = destination_of(mp).unwrap_or_default();
            let package = &destination["mediaPackageSettings"][0];
            let id = match (package["channelId"].as_str(), package_v2(package)) {
                (Some(id), _) => id.to_owned(),
                // MediaPackage v2 (CMAF ingest): its media lives under the group and channel.
                (None, Some((group, channel))) => layout::v2_channel_key(group, channel),
                (None, None) => return Err("MediaPackage destination has no channel id".into()),
            };
            job.package_channel_id = Some(id);
            package_group = Some(group);
        } else if let Some(hls) = settings.get("hlsGroupSettings") {
            let vod = hls["mode"].as_str() == Some("VOD");
            let index_segments = hls["indexNSegments"].as_u64().unwrap_or(INDEX_N_SEGMENTS) as usize;
            let acl = hls["hlsCdnSettings"]["hlsS3Settings"]["cannedAcl"].as_str();
            let segment_seconds = hls["segmentLength"].as_f64().unwrap_or(SEGMENT_LENGTH);
            let kind = S3GroupKind::Hls {
                segment_seconds,
                vod,
                index_segments,
            };
            let recorded = s3_group(group, kind, destination_of(hls), acl, "hlsOutputSettings");
            recorded_groups.extend(recorded.is_some().then_some(group));
            job.s3_groups.extend(recorded);
        } else if let Some(archive) = settings.get("archiveGroupSettings") {
            let rollover_seconds = archive["rolloverInterval"].as_f64().unwrap_or(ROLLOVER_SECONDS);
            let acl = archive["archiveCdnSettings"]["archiveS3Settings"]["cannedAcl"].as_str();
            let kind = S3GroupKind::Archive { rollover_seconds };
            let recorded = s3_group(group, kind, destination_of(archive), acl, "archiveOutputSettings");
            recorded_groups.extend(recorded.is_some().then_some(group));
            job.s3_groups.extend(recorded);
        }
    }
    let served = package_group.into_iter().map(|g| (g, true));
    let recorded = recorded_groups.into_iter().map(|g| (g, false));
    for (group, packaged) in served.chain(recorded) {
        read_outputs(&mut job, encoder, group, packaged);
    }
    if job.renditions.is_empty() {
        return Err(match job.package_channel_id {
            Some(_) => "the MediaPackage output group has no video outputs".into(),
            None => "channel has no MediaPackage output group and no HLS or Archive group writing to S3".into(),
        });
    }
    Ok(job)
}

/// An HLS or Archive group whose destination is an S3 URL (other destinations, such as HTTP
/// WebDAV servers, are not served locally).
fn s3_group(
    group: &Value,
    kind: S3GroupKind,
    destination: Option<Value>,
    acl: Option<&str>,
    settings: &str,
) -> Option<S3Group> {
    let url = destination?["settings"][0]["url"].as_str()?.to_owned();
    let (bucket, base_key) = parse_s3_url(&url)?;
    let outputs: Vec<&Value> = group["outputs"].as_array().into_iter().flatten().collect();
    let default_extension = match kind {
        S3GroupKind::Hls { .. } => "ts",
        S3GroupKind::Archive { .. } => "m2ts",
    };
    let outputs = (outputs.iter().enumerate())
        .filter_map(|(n, output)| {
            let own = &output["outputSettings"][settings];
            // Without a modifier an output's playlist would overwrite the master playlist.
            let fallback = format!("_{}", n + 1);
            Some(S3Output {
                rendition: rendition_name(output["videoDescriptionName"].as_str()?),
                name_modifier: own["nameModifier"].as_str().map_or(fallback, str::to_owned),
                extension: own["extension"].as_str().unwrap_or(default_extension).to_owned(),
            })
        })
        .collect();
    Some(S3Group {
        kind,
        bucket,
        base_key,
        acl: acl.map(str::to_owned),
        outputs,
    })
}

/// Adds the renditions and audio that `group`'s outputs name, each video description once.
fn read_outputs(job: &mut TranscodeJob, encoder: &Value, group: &Value, packaged: bool) {
    let description = |kind: &str, name: &str| {
        encoder[kind]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["name"].as_str() == Some(name))
            .cloned()
    };
    for output in group["outputs"].as_array().into_iter().flatten() {
        // One AAC track per rendition: an output's first audio description sets it. Further
        // audio descriptions (a second selector's), caption descriptions, avail and input-loss
        // settings are kept and described back but encode nothing here: an RTMP input carries one
        // audio track and no captions, and the origin serves muxed renditions.
        if let Some(audio_name) = output["audioDescriptionNames"][0].as_str()
            && let Some(aac) =
                description("audioDescriptions", audio_name).map(|a| a["codecSettings"]["aacSettings"].clone())
            && packaged
        {
            job.audio.bitrate = aac["bitrate"].as_f64().unwrap_or(192_000.0) as u64;
            job.audio.sample_rate = aac["sampleRate"].as_f64().unwrap_or(48_000.0) as u32;
        }
        let Some(video) = output["videoDescriptionName"]
            .as_str()
            .and_then(|n| description("videoDescriptions", n))
        else {
            continue;
        };
        let name = rendition_name(video["name"].as_str().unwrap_or("video"));
        if let Some(known) = job.renditions.iter_mut().find(|r| r.name == name) {
            known.packaged |= packaged;
            continue;
        }
        let codec = VideoCodec::from_settings(&video["codecSettings"]);
        // The frame rate and GOP members are named alike in h264Settings and h265Settings.
        let settings = match codec {
            VideoCodec::H265(_) => &video["codecSettings"]["h265Settings"],
            VideoCodec::H264(_) => &video["codecSettings"]["h264Settings"],
        };
        let numerator = settings["framerateNumerator"].as_u64().unwrap_or(30) as u32;
        let denominator = settings["framerateDenominator"].as_u64().unwrap_or(1).max(1) as u32;
        if let Some(size) = settings["gopSize"].as_f64()
            && (packaged || job.renditions.is_empty())
        {
            job.gop_seconds = match settings["gopSizeUnits"].as_str() {
                Some("SECONDS") => size,
                _ => size * f64::from(denominator) / f64::from(numerator.max(1)),
            };
        }
        let bitrate = match codec {
            VideoCodec::H265(h265) => h265.peak_bitrate(),
            VideoCodec::H264(_) => settings["bitrate"].as_u64().unwrap_or(3_000_000),
        };
        job.renditions.push(VideoRendition {
            name,
            width: video["width"].as_u64().unwrap_or(1280) as u32,
            height: video["height"].as_u64().unwrap_or(720) as u32,
            bitrate,
            framerate_numerator: numerator,
            framerate_denominator: denominator,
            packaged,
            codec,
        });
    }
}

/// A video description's name as a file name.
fn rendition_name(description: &str) -> String {
    (description.chars())
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn encoder() -> Value {
        json!({
            "videoDescriptions": [
                {"name": "video_1080p", "width": 1920, "height": 1080, "codecSettings": {"h264Settings": {
                    "bitrate": 5000000, "framerateNumerator": 30, "framerateDenominator": 1, "gopSize": 1, "gopSizeUnits": "SECONDS"}}},
                {"name": "video_720p", "width": 1280, "height": 720, "codecSettings": {"h264Settings": {"bitrate": 3000000}}},
                {"name": "video 360p", "width": 640, "height": 360, "codecSettings": {"h264Settings": {"bitrate": 800000}}}
            ],
            "audioDescriptions": [{"name": "audio_aac", "audioSelectorName": "default",
                "codecSettings": {"aacSettings": {"bitrate": 128000.0, "sampleRate": 44100.0}}}],
            "outputGroups": [{"outputGroupSettings": {"mediaPackageGroupSettings": {"destination": {"destinationRefId": "mp"}}},
                "outputs": [
                    {"outputName": "1080p", "videoDescriptionName": "video_1080p", "audioDescriptionNames": ["audio_aac"]},
                    {"outputName": "720p", "videoDescriptionName": "video_720p", "audioDescriptionNames": ["audio_aac"]}
                ]}]
        })
    }

    #[test]
    fn reads_the_ladder_of_the_mediapackage_output_group() {
        let destinations = json!([{"id": "mp", "mediaPackageSettings": [{"channelId": "launch"}]}]);
        let job = transcode_job("42", &encoder(), &destinations).unwrap();
        assert_eq!(job.package_channel_id.as_deref(), Some("launch"));
        assert_eq!(
            job.renditions
                .iter()
                .map(|r| (r.width, r.bitrate, r.packaged))
                .collect::<Vec<_>>(),
            [(1920, 5_000_000, true), (1280, 3_000_000, true)]
        );
        assert_eq!((job.audio.bitrate, job.audio.sample_rate), (128_000, 44_100));
        assert_eq!(job.gop_seconds, 1.0);
        assert!(job.s3_groups.is_empty());
    }

    #[test]
    fn hls_and_archive_groups_to_s3_share_the_encodes_and_add_their_own() {
        let mut encoder = encoder();
        let groups = encoder["outputGroups"].as_array_mut().unwrap();
        groups.push(json!({"outputGroupSettings": {"hlsGroupSettings": {"destination": {"destinationRefId": "hls"},
                "mode": "VOD", "hlsCdnSettings": {"hlsS3Settings": {"cannedAcl": "BUCKET_OWNER_FULL_CONTROL"}}}},
            "outputs": [
                {"videoDescriptionName": "video_720p", "audioDescriptionNames": ["audio_aac"],
                 "outputSettings": {"hlsOutputSettings": {"nameModifier": "_720p", "hlsSettings": {"standardHlsSettings": {"m3u8Settings": {}}}}}},
                {"videoDescriptionName": "video 360p", "audioDescriptionNames": ["audio_aac"],
                 "outputSettings": {"hlsOutputSettings": {"hlsSettings": {"standardHlsSettings": {"m3u8Settings": {}}}}}}
            ]}));
        groups.push(json!({"outputGroupSettings": {"archiveGroupSettings": {"destination": {"destinationRefId": "arc"}}},
            "outputs": [{"videoDescriptionName": "video_1080p", "audioDescriptionNames": ["audio_aac"],
                "outputSettings": {"archiveOutputSettings": {"nameModifier": "_1", "extension": "ts", "containerSettings": {"m2tsSettings": {}}}}}]}));
        let destinations = json!([
            {"id": "mp", "mediaPackageSettings": [{"channelId": "launch"}]},
            {"id": "hls", "settings": [{"url": "s3ssl://recordings/live/index"}]},
            {"id": "arc", "settings": [{"url": "s3://recordings/archive/event"}]}
        ]);
        let job = transcode_job("42", &encoder, &destinations).unwrap();
        let renditions: Vec<_> = job.renditions.iter().map(|r| (r.name.as_str(), r.packaged)).collect();
        assert_eq!(
            renditions,
            [("video_1080p", true), ("video_720p", true), ("video_360p", false)]
        );
        let [hls, archive] = &job.s3_groups[..] else {
            panic!("{:?}", job.s3_groups)
        };
        assert_eq!(
            hls.kind,
            S3GroupKind::Hls {
                segment_seconds: 10.0,
                vod: true,
                index_segments: 10
            }
        );
        assert_eq!(
            (hls.bucket.as_str(), hls.base_key.as_str()),
            ("recordings", "live/index")
        );
        assert_eq!(hls.acl.as_deref(), Some("BUCKET_OWNER_FULL_CONTROL"));
        let names: Vec<_> = hls
            .outputs
            .iter()
            .map(|o| (o.rendition.as_str(), o.name_modifier.as_str()))
            .collect();
        assert_eq!(names, [("video_720p", "_720p"), ("video_360p", "_2")]);
        assert_eq!(
            archive.kind,
            S3GroupKind::Archive {
                rollover_seconds: 300.0
            }
        );
        assert_eq!(archive.outputs[0].extension, "ts");
    }

    #[test]
    fn an_h265_description_is_an_hevc_rendition_beside_the_h264_ones() {
        let mut encoder = encoder();
        encoder["videoDescriptions"][1]["codecSettings"] = json!({"h265Settings": {"rateControlMode": "QVBR",
            "qvbrQualityLevel": 8, "maxBitrate": 2_000_000, "framerateNumerator": 25, "framerateDenominator": 1,
            "gopSize": 50, "gopSizeUnits": "FRAMES"}});
        let destinations = json!([{"id": "mp", "mediaPackageSettings": [{"channelId": "launch"}]}]);
        let job = transcode_job("42", &encoder, &destinations).unwrap();
        let [avc, hevc] = &job.renditions[..] else {
            panic!("{:?}", job.renditions)
        };
        assert!(matches!(hevc.codec, VideoCodec::H265(_)) && matches!(avc.codec, VideoCodec::H264(_)));
        assert_eq!(
            (hevc.bitrate, hevc.framerate_numerator),
            (2_000_000, 25),
            "the QVBR cap is its bitrate"
        );
        // Its GOP (50 frames at 25 fps), the last packaged description's, is the ladder's.
        assert_eq!(job.gop_seconds, 2.0);
        assert_eq!(avc.bitrate, 5_000_000);
    }

    #[test]
    fn a_channel_that_only_records_to_s3_is_served() {
        let mut encoder = encoder();
        encoder["outputGroups"] = json!([{"outputGroupSettings": {"archiveGroupSettings": {
                "destination": {"destinationRefId": "arc"}, "rolloverInterval": 60}},
            "outputs": [{"videoDescriptionName": "video_720p", "audioDescriptionNames": ["audio_aac"],
                "outputSettings": {"archiveOutputSettings": {"containerSettings": {"m2tsSettings": {}}}}}]}]);
        let destinations = json!([{"id": "arc", "settings": [{"url": "s3ssl://recordings/archive/event"}]}]);
        let job = transcode_job("42", &encoder, &destinations).unwrap();
        assert_eq!(job.package_channel_id, None);
        assert_eq!(job.renditions.len(), 1);
        assert_eq!(job.s3_groups[0].outputs[0].extension, "m2ts");

        let http = json!([{"id": "arc", "settings": [{"url": "https://example.com/archive"}]}]);
        assert!(
            transcode_job("42", &encoder, &http)
                .unwrap_err()
                .contains("no MediaPackage output group")
        );
    }
}
