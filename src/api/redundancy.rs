//! Resilience: two encoding pipelines (`spec.redundancy: Standard`) and a backup encoder with
//! automatic input failover (`spec.input.backup`), and what status tells of them.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How many encoding pipelines the MediaLive channel runs.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Redundancy {
    /// One pipeline (a SINGLE_PIPELINE channel): if its encoder or the pipeline fails, the stream
    /// stops.
    #[default]
    Single,
    /// Two pipelines in two availability zones (a STANDARD channel), each fed by its own push to
    /// the input's two URLs (status.ingest): MediaPackage serves from whichever is healthy. Bills
    /// both pipelines: about twice a Single channel.
    Standard,
}

impl Redundancy {
    /// Encoding pipelines, and so URLs per input.
    pub fn pipelines(self) -> usize {
        match self {
            Self::Single => 1,
            Self::Standard => 2,
        }
    }
}

/// A second RTMP push input, for a backup encoder: MediaLive switches to it when the primary input
/// fails (automatic input failover) and back per `inputPreference`. Its URLs are in status.ingest.
/// With redundancy Standard that is four pushes: primary and backup, each to both pipelines.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BackupInputSpec {
    /// Which input is used once a failed one has recovered: PrimaryPreferred (default) returns to
    /// the primary after errorClearTimeMsec; Equal stays on whichever input is active.
    #[serde(default)]
    pub input_preference: InputPreference,

    /// Fail over after this long without input on the active input, in milliseconds (at least
    /// 100). Default 1000.
    #[serde(default = "default_input_loss_msec")]
    #[schemars(range(min = 100, max = 3600000))]
    pub input_loss_threshold_msec: i32,

    /// Also fail over when the active input's video is black this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_black: Option<VideoBlackSpec>,

    /// Also fail over when the active input's audio is silent (below -50 dBFS) this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_silence: Option<AudioSilenceSpec>,

    /// How long a recovered input must stay free of these conditions to count as healthy again,
    /// in milliseconds. Default 30000 (MediaLive's).
    #[serde(default = "default_error_clear_msec")]
    #[schemars(range(min = 1, max = 3600000))]
    pub error_clear_time_msec: i32,
}

/// MediaLive's InputPreference.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InputPreference {
    /// Back to the primary once it has recovered (PRIMARY_INPUT_PREFERRED).
    #[default]
    PrimaryPreferred,
    /// Stay on the input that is active (EQUAL_INPUT_PREFERENCE).
    Equal,
}

/// Black video as a failover condition.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VideoBlackSpec {
    /// How long the video must be black, in milliseconds (at least 1000).
    #[schemars(range(min = 1000, max = 3600000))]
    pub threshold_msec: i32,

    /// A pixel darker than this fraction of white is black (0.0–1.0). Default 0.1.
    #[serde(default = "default_black_level")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub black_level: f64,
}

/// Silent audio as a failover condition.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AudioSilenceSpec {
    /// How long the audio must be silent, in milliseconds (at least 1000).
    #[schemars(range(min = 1000, max = 3600000))]
    pub threshold_msec: i32,
}

fn default_input_loss_msec() -> i32 {
    1000
}
fn default_error_clear_msec() -> i32 {
    30_000
}
fn default_black_level() -> f64 {
    0.1
}

/// One URL an encoder publishes to: an input (primary or backup) on a pipeline.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IngestPoint {
    /// `primary` or `backup`.
    pub input: String,
    /// The MediaLive pipeline this URL feeds: 0, or 1 with redundancy Standard.
    pub pipeline: i32,
    /// RTMP URL, in OBS terms Server + Stream Key; only the server part when the key is a Secret's.
    pub url: String,
    /// The running pipeline ingests this input now (MediaLive's active input attachment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// One running pipeline as MediaLive describes it.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PipelineStatus {
    /// MediaLive's pipeline id: "0" or "1".
    pub pipeline: String,
    /// The input it ingests now: `primary` or `backup` (after a failover).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_input: Option<String>,
    /// MediaLive reports input loss on this pipeline (an RTMP input-loss alert).
    pub input_lost: bool,
}
