//! The H.264 profile and level a channel's `H264Settings` ask for, as x264 options and as the
//! `avc1` codecs string players are told.
//!
//! x264 signals the lowest profile its tools need, whatever `-profile` says (a ceiling): at the
//! `ultrafast` preset (no CABAC, no 8x8 transform) it writes Constrained Baseline. So Main and the
//! High profiles also turn on the tools that define them (CABAC; the 8x8 transform), which is what
//! makes x264 signal them at any preset.

use serde::{Deserialize, Serialize};

/// MediaLive's `H264Profile` (its default is MAIN).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Profile {
    Baseline,
    #[default]
    Main,
    High,
    High10,
    High422,
    High422_10,
}

/// A rendition's profile and level (`level_idc`, e.g. 41 for 4.1; None: H264_LEVEL_AUTO, x264 picks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct H264 {
    pub profile: Profile,
    pub level: Option<u8>,
}

impl Profile {
    /// From MediaLive's enum value; unknown or absent values are MediaLive's default, MAIN.
    pub fn from_medialive(value: Option<&str>) -> Self {
        match value {
            Some("BASELINE") => Self::Baseline,
            Some("HIGH") => Self::High,
            Some("HIGH_10BIT") => Self::High10,
            Some("HIGH_422") => Self::High422,
            Some("HIGH_422_10BIT") => Self::High422_10,
            _ => Self::Main,
        }
    }

    fn x264(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Main => "main",
            Self::High => "high",
            Self::High10 => "high10",
            Self::High422 | Self::High422_10 => "high422",
        }
    }

    /// The pixel format the encoder gets (10-bit and 4:2:2 profiles need theirs).
    pub fn pix_fmt(self) -> &'static str {
        match self {
            Self::Baseline | Self::Main | Self::High => "yuv420p",
            Self::High10 => "yuv420p10le",
            Self::High422 => "yuv422p",
            Self::High422_10 => "yuv422p10le",
        }
    }

    /// The tools that make x264 signal this profile at any preset.
    fn tools(self) -> Option<&'static str> {
        match self {
            Self::Baseline => None,
            Self::Main => Some("cabac=1"),
            _ => Some("cabac=1:8x8dct=1"),
        }
    }

    /// profile_idc and the constraint flags x264 writes, as the codecs string's hex.
    fn codecs_prefix(self) -> &'static str {
        match self {
            Self::Baseline => "42c0",
            Self::Main => "4d40",
            Self::High => "6400",
            Self::High10 => "6e00",
            Self::High422 | Self::High422_10 => "7a00",
        }
    }
}

impl H264 {
    /// From a video description's `h264Settings` (`profile`, `level`: `H264_LEVEL_4_1`, `H264_LEVEL_AUTO`).
    pub fn from_settings(h264: &serde_json::Value) -> Self {
        let level = h264["level"].as_str().and_then(|l| {
            let digits = l.strip_prefix("H264_LEVEL_")?;
            let (major, minor) = digits.split_once('_').unwrap_or((digits, "0"));
            Some(major.parse::<u8>().ok()? * 10 + minor.parse::<u8>().ok()?)
        });
        Self {
            profile: Profile::from_medialive(h264["profile"].as_str()),
            level,
        }
    }

    /// The encoder options of output video stream `i`.
    pub fn x264_args(&self, i: usize) -> String {
        let mut out = format!("-profile:v:{i} {}", self.profile.x264());
        if let Some(tools) = self.profile.tools() {
            out += &format!(" -x264-params:v:{i} {tools}");
        }
        if let Some(level) = self.level {
            out += &format!(" -level:v:{i} {}.{}", level / 10, level % 10);
        }
        out
    }

    /// The `avc1` codecs string of a rendition (the level x264 would pick unless one is set).
    pub fn codecs(&self, width: u32, height: u32, fps: f64, bitrate: u64) -> String {
        let level = self
            .level
            .unwrap_or_else(|| auto_level(self.profile, width, height, fps, bitrate));
        format!("avc1.{}{level:02x}", self.profile.codecs_prefix())
    }
}

/// The lowest level whose limits (Table A-1) the rendition fits.
fn auto_level(profile: Profile, width: u32, height: u32, fps: f64, bitrate: u64) -> u8 {
    // (level_idc, max macroblocks per second, max frame size in macroblocks, max kbit/s)
    const LEVELS: &[(u8, f64, u64, u64)] = &[
        (10, 1485.0, 99, 64),
        (11, 3000.0, 396, 192),
        (12, 6000.0, 396, 384),
        (13, 11880.0, 396, 768),
        (20, 11880.0, 396, 2000),
        (21, 19800.0, 792, 4000),
        (22, 20250.0, 1620, 4000),
        (30, 40500.0, 1620, 10000),
        (31, 108000.0, 3600, 14000),
        (32, 216000.0, 5120, 20000),
        (40, 245760.0, 8192, 20000),
        (41, 245760.0, 8192, 50000),
        (42, 522240.0, 8704, 50000),
        (50, 589824.0, 22080, 135000),
        (51, 983040.0, 36864, 240000),
        (52, 2073600.0, 36864, 240000),
    ];
    let frame_mbs = u64::from(width.div_ceil(16)) * u64::from(height.div_ceil(16));
    let kbps = bitrate.div_ceil(1000);
    // The High profiles allow 1.25x (High 10: 3x, 4:2:2: 4x) the Baseline/Main bitrate.
    let (num, den) = match profile {
        Profile::Baseline | Profile::Main => (1, 1),
        Profile::High => (5, 4),
        Profile::High10 => (3, 1),
        Profile::High422 | Profile::High422_10 => (4, 1),
    };
    LEVELS
        .iter()
        .find(|(_, mbps, fs, br)| frame_mbs <= *fs && frame_mbs as f64 * fps <= *mbps && kbps <= br * num / den)
        .map_or(52, |l| l.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn medialive_settings_map_to_x264_options() {
        let high = H264::from_settings(&json!({"profile": "HIGH", "level": "H264_LEVEL_4_1"}));
        assert_eq!(
            high,
            H264 {
                profile: Profile::High,
                level: Some(41)
            }
        );
        assert_eq!(
            high.x264_args(1),
            "-profile:v:1 high -x264-params:v:1 cabac=1:8x8dct=1 -level:v:1 4.1"
        );
        let auto = H264::from_settings(&json!({"level": "H264_LEVEL_AUTO"}));
        assert_eq!(auto, H264::default(), "MAIN and the automatic level by default");
        assert_eq!(auto.x264_args(0), "-profile:v:0 main -x264-params:v:0 cabac=1");
        let baseline = H264::from_settings(&json!({"profile": "BASELINE", "level": "H264_LEVEL_3"}));
        assert_eq!(baseline.x264_args(0), "-profile:v:0 baseline -level:v:0 3.0");
        assert_eq!(
            H264::from_settings(&json!({"profile": "HIGH_10BIT"})).profile.pix_fmt(),
            "yuv420p10le"
        );
    }

    #[test]
    fn codecs_strings_follow_profile_and_level() {
        let of = |profile, level| H264 { profile, level };
        assert_eq!(
            of(Profile::Baseline, None).codecs(1280, 720, 30.0, 3_000_000),
            "avc1.42c01f"
        );
        assert_eq!(
            of(Profile::Baseline, None).codecs(640, 360, 30.0, 1_000_000),
            "avc1.42c01e"
        );
        assert_eq!(
            of(Profile::Main, None).codecs(1920, 1080, 30.0, 5_000_000),
            "avc1.4d4028"
        );
        assert_eq!(
            of(Profile::High, None).codecs(1920, 1080, 60.0, 8_000_000),
            "avc1.64002a"
        );
        assert_eq!(
            of(Profile::High, Some(41)).codecs(1280, 720, 30.0, 3_000_000),
            "avc1.640029"
        );
    }

    /// What x264 writes for the options (skipped where ffmpeg is missing): the profile asked for,
    /// even at ultrafast.
    #[test]
    fn x264_signals_the_profile_asked_for_at_ultrafast() {
        let path = std::env::temp_dir().join(format!("h264-{}.mp4", uuid::Uuid::new_v4()));
        let h264 = H264 {
            profile: Profile::High,
            level: Some(40),
        };
        let args = format!(
            "-hide_banner -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=30 -t 0.5 -c:v libx264 \
             -preset ultrafast -tune zerolatency {} -pix_fmt yuv420p",
            h264.x264_args(0)
        );
        let Ok(status) = std::process::Command::new("ffmpeg")
            .args(args.split_whitespace())
            .arg(&path)
            .status()
        else {
            return eprintln!("ffmpeg is not installed: skipped");
        };
        assert!(status.success());
        let probe = std::process::Command::new("ffprobe")
            .args("-v error -select_streams v:0 -show_entries stream=profile,level -of csv=p=0".split(' '))
            .arg(&path)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "High,40");
    }
}
