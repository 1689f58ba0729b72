//! What a publish asks of the media pipeline: the job (the ladder a MediaLive channel encodes) and
//! the gate MediaLive answers publishes with. A leaf the pipeline's modules and its callers share.

use crate::media::{codec::VideoCodec, layout, pipeline, recorder::S3Group};

/// Implemented by the MediaLive state; called by the RTMP front door.
pub trait InputGate: Send + Sync {
    /// On TCP accept, before the RTMP handshake. Err(reason) closes the socket immediately.
    fn admit(&self, input_id: &str, peer: std::net::IpAddr) -> Result<(), String>;
    /// On RTMP publish(app, stream name). Err(reason) refuses the publish.
    fn publish(&self, input_id: &str, app: &str, stream: &str) -> Result<TranscodeJob, String>;
    /// On RTMP publish to destination `leg` of the input: the job, and the pipeline and source
    /// (input attachment) it feeds. By default: a single pipeline's only source.
    fn route(&self, input_id: &str, leg: usize, app: &str, stream: &str) -> Result<pipeline::Route, String> {
        if leg != 0 {
            return Err(format!("input {input_id} has no destination {leg}"));
        }
        Ok(pipeline::Route {
            job: self.publish(input_id, app, stream)?,
            pipeline: 0,
            source: 0,
            redundancy: pipeline::Redundancy {
                pipelines: 1,
                sources: vec![String::new()],
                failover: None,
            },
        })
    }
}

/// What a publish turns into: the ladder a MediaLive channel encodes into a MediaPackage channel.
#[derive(Clone, Debug)]
pub struct TranscodeJob {
    /// MediaLive channel id.
    pub channel_id: String,
    /// MediaPackage channel to write HLS into, if the channel has a MediaPackage output group.
    pub package_channel_id: Option<String>,
    /// Every rendition any output group uses (one encode shared by all the outputs naming it).
    pub renditions: Vec<VideoRendition>,
    /// HLS and Archive output groups writing to S3.
    pub s3_groups: Vec<S3Group>,
    pub audio: AudioRendition,
    /// Input segment length = GOP (keyframe) interval, e.g. 1.0 or 2.0.
    pub gop_seconds: f64,
    /// `thumbnailConfiguration.state` AUTO: the input is also written as a JPEG thumbnail.
    pub thumbnails: bool,
    /// How long input segments are kept on disk ([`layout::retention_for`]: at least the longest
    /// startover window of the MediaPackage v2 endpoints, which harvest jobs cut from).
    pub retention_seconds: f64,
}

impl TranscodeJob {
    /// Checks what ffmpeg and the origin rely on; Err is a reason to refuse the publish.
    pub fn validate(&self) -> Result<(), String> {
        let job = self;
        if let Some(id) = job.package_channel_id.as_deref().filter(|id| !layout::is_safe_name(id)) {
            return Err(format!("invalid MediaPackage channel id {id:?}"));
        }
        if !layout::is_safe_name(&job.channel_id) {
            return Err(format!("invalid channel id {:?}", job.channel_id));
        }
        if job.renditions.is_empty() {
            return Err("the channel has no video renditions".into());
        }
        if !(job.gop_seconds.is_finite() && job.gop_seconds > 0.0) {
            return Err(format!("invalid GOP length {}", job.gop_seconds));
        }
        for (i, r) in job.renditions.iter().enumerate() {
            // var_stream_map and the file layout need plain names; yuv420p needs even sizes.
            if !layout::is_safe_name(&r.name) || job.renditions[..i].iter().any(|o| o.name == r.name) {
                return Err(format!("invalid or duplicate rendition name {:?}", r.name));
            }
            if r.width == 0 || r.height == 0 || r.width % 2 == 1 || r.height % 2 == 1 {
                return Err(format!(
                    "rendition {} has an odd or zero size {}x{}",
                    r.name, r.width, r.height
                ));
            }
            if r.bitrate == 0 || r.framerate_numerator == 0 || r.framerate_denominator == 0 {
                return Err(format!("rendition {} has a zero bitrate or frame rate", r.name));
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct VideoRendition {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub bitrate: u64,
    pub framerate_numerator: u32,
    pub framerate_denominator: u32,
    /// Served by the MediaPackage channel (used by its output group), not only recorded.
    pub packaged: bool,
    /// H.264 or H.265, and their settings.
    pub codec: VideoCodec,
}

#[cfg(test)]
impl VideoRendition {
    /// A 30 fps rendition, as the tests' ladders use.
    pub fn at_30fps(name: &str, width: u32, height: u32, bitrate: u64) -> Self {
        Self {
            name: name.into(),
            width,
            height,
            bitrate,
            framerate_numerator: 30,
            framerate_denominator: 1,
            packaged: true,
            codec: VideoCodec::default(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct AudioRendition {
    pub bitrate: u64,
    pub sample_rate: u32,
}
