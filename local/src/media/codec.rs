//! A rendition's video codec, as its video description's `codecSettings` names it: H.265 with
//! `h265Settings` (libx265), otherwise H.264 (libx264, `h264Settings` or MediaLive's defaults).

use serde_json::Value;

use super::{h264::H264, h265::H265};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VideoCodec {
    H264(H264),
    H265(H265),
}

impl Default for VideoCodec {
    fn default() -> Self {
        Self::H264(H264::default())
    }
}

impl VideoCodec {
    /// From a video description's `codecSettings`.
    pub fn from_settings(codec_settings: &Value) -> Self {
        match codec_settings.get("h265Settings").filter(|s| s.is_object()) {
            Some(h265) => Self::H265(H265::from_settings(h265)),
            None => Self::H264(H264::from_settings(&codec_settings["h264Settings"])),
        }
    }

    /// The pixel format the encoder gets.
    pub fn pix_fmt(&self) -> &'static str {
        match self {
            Self::H264(h264) => h264.profile.pix_fmt(),
            Self::H265(h265) => h265.pix_fmt(),
        }
    }

    /// The encoder options of output video stream `i` at `bitrate` with a GOP of `frames`.
    pub fn encoder_args(&self, i: usize, bitrate: u64, frames: u64) -> String {
        match self {
            Self::H264(h264) => format!(
                "-b:v:{i} {bitrate} -maxrate:v:{i} {bitrate} -bufsize:v:{i} {} -g:v:{i} {frames} {}",
                bitrate * 2,
                h264.x264_args(i)
            ),
            Self::H265(h265) => h265.x265_args(i, frames),
        }
    }

    /// The video entry of the rendition's codecs string (`avc1.…`, `hvc1.…`).
    pub fn codecs(&self, width: u32, height: u32, fps: f64, bitrate: u64) -> String {
        match self {
            Self::H264(h264) => h264.codecs(width, height, fps, bitrate),
            Self::H265(h265) => h265.codecs(width, height, fps),
        }
    }
}
