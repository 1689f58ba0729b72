//! A video description's `h265Settings` as libx265 options, and the `hvc1` codecs string players
//! are told (ISO/IEC 14496-15 annex E: profile, compatibility flags, tier and level, constraint
//! flags), derived as x265 signals them.
//!
//! Rate control: CBR (and MULTIPLEX, which has no local meaning) is x265's ABR held to the
//! bitrate by its VBV; QVBR is x265's CRF under a VBV cap of `maxBitrate`, the quality level
//! mapped to a CRF (a local choice: MediaLive documents no such mapping).
//!
//! Settings without a local effect are accepted and ignored (tiles, slices, AFD, colour
//! metadata, filters, look-ahead...): the encode is x265's at the channel's preset.

use serde_json::Value;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Profile {
    #[default]
    Main,
    Main10,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateControl {
    /// Bits per second, held by the VBV.
    Cbr { bitrate: u64 },
    /// Quality level 1-10 under a `max_bitrate` cap.
    Qvbr { quality: u8, max_bitrate: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct H265 {
    pub profile: Profile,
    /// `level_idc` (30 × the level: 93 for 3.1); None is H265_LEVEL_AUTO, x265 picks.
    pub level: Option<u8>,
    /// H265Tier HIGH: x265 may use the high tier where the level needs it (it never does
    /// otherwise, whatever is asked: the tier is signalled as x265 decides).
    pub high_tier: bool,
    pub rate: RateControl,
    /// The VBV buffer in bits (`bufSize`); None: twice the (peak) bitrate.
    pub buf_size: Option<u64>,
}

/// MediaLive's H.265 bitrate when none is given (its own default is not documented).
const DEFAULT_BITRATE: u64 = 3_000_000;
/// The quality level of a QVBR rendition without `qvbrQualityLevel` (MediaLive picks one by
/// resolution; 7 is a local choice).
const DEFAULT_QUALITY: u8 = 7;

impl H265 {
    /// From a video description's `h265Settings`.
    pub fn from_settings(h265: &Value) -> Self {
        let level = h265["level"].as_str().and_then(|l| {
            let digits = l.strip_prefix("H265_LEVEL_")?;
            let (major, minor) = digits.split_once('_').unwrap_or((digits, "0"));
            Some((major.parse::<u8>().ok()? * 10 + minor.parse::<u8>().ok()?) * 3)
        });
        let bitrate = h265["bitrate"].as_u64().unwrap_or(DEFAULT_BITRATE);
        let rate = match h265["rateControlMode"].as_str() {
            Some("QVBR") => RateControl::Qvbr {
                quality: (h265["qvbrQualityLevel"].as_u64()).map_or(DEFAULT_QUALITY, |q| q.clamp(1, 10) as u8),
                max_bitrate: h265["maxBitrate"].as_u64().unwrap_or(bitrate),
            },
            _ => RateControl::Cbr { bitrate },
        };
        Self {
            profile: match h265["profile"].as_str() {
                Some("MAIN_10BIT") => Profile::Main10,
                _ => Profile::Main,
            },
            level,
            high_tier: h265["tier"].as_str() == Some("HIGH"),
            rate,
            buf_size: h265["bufSize"].as_u64(),
        }
    }

    /// The bitrate players are told (BANDWIDTH): the CBR rate or the QVBR cap.
    pub fn peak_bitrate(&self) -> u64 {
        match self.rate {
            RateControl::Cbr { bitrate } => bitrate,
            RateControl::Qvbr { max_bitrate, .. } => max_bitrate,
        }
    }

    fn buffer(&self) -> u64 {
        self.buf_size.unwrap_or(self.peak_bitrate() * 2)
    }

    pub fn pix_fmt(&self) -> &'static str {
        match self.profile {
            Profile::Main => "yuv420p",
            Profile::Main10 => "yuv420p10le",
        }
    }

    /// The encoder options of output video stream `i` with a GOP of `frames` (libx265 instead of
    /// the ladder's libx264; the preset and tune are the ladder's). Forced key frames are IDR and
    /// GOPs closed, so every segment starts decodable, as the H.264 renditions' do.
    pub fn x265_args(&self, i: usize, frames: u64) -> String {
        let rate = match self.rate {
            RateControl::Cbr { bitrate } => format!("-b:v:{i} {bitrate} -maxrate:v:{i} {bitrate}"),
            RateControl::Qvbr { quality, max_bitrate } => {
                // Quality 10 → CRF 18 (near transparent) ... 1 → CRF 36.
                let crf = 38 - 2 * u32::from(quality);
                format!("-crf:v:{i} {crf} -maxrate:v:{i} {max_bitrate}")
            }
        };
        let profile = match self.profile {
            Profile::Main => "main",
            Profile::Main10 => "main10",
        };
        let mut params = format!(
            "log-level=error:scenecut=0:open-gop=0:high-tier={}",
            u8::from(self.high_tier)
        );
        if let Some(level) = self.level {
            params += &format!(":level-idc={}", f64::from(level) / 30.0);
        }
        format!(
            "-c:v:{i} libx265 -forced-idr:v:{i} 1 {rate} -bufsize:v:{i} {} -g:v:{i} {frames} -profile:v:{i} {profile} \
             -tag:v:{i} hvc1 -x265-params:v:{i} {params}",
            self.buffer()
        )
    }

    /// The `hvc1` codecs string of a rendition, as x265 signals it: its level unless one is set.
    pub fn codecs(&self, width: u32, height: u32, fps: f64) -> String {
        let (profile, compatibility) = match self.profile {
            Profile::Main => (1, 6),
            Profile::Main10 => (2, 4),
        };
        let (kbps, cpb) = (self.peak_bitrate().div_ceil(1000), self.buffer().div_ceil(1000));
        let (level, high) = match self.level {
            Some(level) => (level, self.high_tier && tier_at(level, kbps, cpb) == Some(true)),
            None => auto_level(width, height, fps, kbps, cpb, self.high_tier),
        };
        let tier = if high { 'H' } else { 'L' };
        // x265 writes progressive_source and frame_only_constraint, nothing else: 0x90.
        format!("hvc1.{profile}.{compatibility}.{tier}{level}.90")
    }
}

/// x265's level table (level.cpp): level_idc, max luma picture size, max luma sample rate, and
/// the main and high tier max bitrate and CPB size in kbit (high: None where there is no high
/// tier).
const LEVELS: &[(u8, u64, u64, u64, Option<u64>)] = &[
    (30, 36_864, 552_960, 128, None),
    (60, 122_880, 3_686_400, 1_500, None),
    (63, 245_760, 7_372_800, 3_000, None),
    (90, 552_960, 16_588_800, 6_000, None),
    (93, 983_040, 33_177_600, 10_000, None),
    (120, 2_228_224, 66_846_720, 12_000, Some(30_000)),
    (123, 2_228_224, 133_693_440, 20_000, Some(50_000)),
    (150, 8_912_896, 267_386_880, 25_000, Some(100_000)),
    (153, 8_912_896, 534_773_760, 40_000, Some(160_000)),
    (156, 8_912_896, 1_069_547_520, 60_000, Some(240_000)),
    (180, 35_651_584, 1_069_547_520, 60_000, Some(240_000)),
    (183, 35_651_584, 2_139_095_040, 120_000, Some(480_000)),
    (186, 35_651_584, 4_278_190_080, 240_000, Some(800_000)),
];

/// Whether level `level_idc` needs its high tier for this bitrate and buffer (x265's
/// CHECK_RANGE: above the main tier's limit, within the high tier's); None: it cannot hold them.
fn tier_at(level_idc: u8, kbps: u64, cpb: u64) -> Option<bool> {
    let &(_, _, _, main, high) = LEVELS.iter().find(|l| l.0 == level_idc)?;
    match high {
        None if kbps > main => None,
        None => Some(false),
        Some(high) if kbps > high => None,
        Some(high) => Some((kbps > main && kbps <= high) || (cpb > main && cpb <= high)),
    }
}

/// x265's automatic level (determineLevel): the lowest whose picture size, sample rate, bitrate
/// and dimensions fit, and whether it takes the high tier; a level that would need the high tier
/// is passed over when the high tier is not allowed.
fn auto_level(width: u32, height: u32, fps: f64, kbps: u64, cpb: u64, allow_high: bool) -> (u8, bool) {
    let samples = u64::from(width) * u64::from(height);
    let rate = (samples as f64 * fps) as u64;
    LEVELS
        .iter()
        .find_map(|&(idc, max_samples, max_rate, _, _)| {
            let side = (max_samples as f64 * 8.0).sqrt();
            let fits =
                samples <= max_samples && rate <= max_rate && f64::from(width) <= side && f64::from(height) <= side;
            match fits.then(|| tier_at(idc, kbps, cpb)).flatten() {
                Some(true) if !allow_high => None,
                other => other.map(|high| (idc, high)),
            }
        })
        .unwrap_or((186, allow_high))
}

#[cfg(test)]
#[path = "h265_tests.rs"]
mod tests;
