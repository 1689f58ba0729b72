//! `spec.recording`: the stream archived to S3 while the channel runs — MediaLive's Archive output
//! group, one MPEG-TS file of the top rendition (with the AAC track) per rollover interval, each
//! run under its own date-time prefix.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RecordingSpec {
    /// Record while the channel runs. Default false (S3 storage is billed).
    #[serde(default)]
    pub enabled: bool,

    /// S3 bucket for the recordings. Defaults to the operator's --recording-bucket. The operator
    /// creates it if missing; MediaLive's role must be allowed to write to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))]
    pub bucket: Option<String>,

    /// Key prefix, ending in '/'. Default `recordings/<namespace>/<name>/`. Each run of the channel
    /// records under `<prefix><start date-time>/` (MediaLive's `$dt$`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]{0,200}/$"))]
    pub prefix: Option<String>,

    /// Length of each file, in seconds (10–86400; MediaLive's rollover interval). Default 300.
    #[serde(default = "default_rollover")]
    #[schemars(range(min = 10, max = 86400))]
    pub rollover_seconds: i32,
}

fn default_rollover() -> i32 {
    300
}

impl Default for RecordingSpec {
    fn default() -> Self {
        Self {
            enabled: false,
            bucket: None,
            prefix: None,
            rollover_seconds: default_rollover(),
        }
    }
}
