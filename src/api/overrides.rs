//! `spec.encoding.overrides`: the rest of the MediaLive channel, as patches onto the CreateChannel
//! request the operator renders from the typed fields. The typed fields stay the simple path; what
//! they cannot say (H.265, QVBR, captions, a second audio language, SCTE-35, input-loss slates…)
//! is written in AWS's own member names, as `aws medialive create-channel --cli-input-json` and
//! `describe-channel` spell them.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where a patch may write: the encoder settings, the input specification, the log level, and
/// each input attachment's input settings and failover. The operator owns the rest (name, role,
/// inputs, destinations, tags): changing them would cut the channel off from its stream.
pub const PATCHABLE_PATHS: &str = "^/(EncoderSettings|InputSpecification|LogLevel)(/.*)?$|^/InputAttachments/[0-9]+/(InputSettings|AutomaticInputFailoverSettings)(/.*)?$";

/// Patches onto the rendered CreateChannel request, applied in this order: `merge`, then `patch`.
/// `kubectl livestream render NAME` prints the result, which is the body sent to MediaLive.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChannelOverrides {
    /// A JSON merge patch (RFC 7386) onto the request: members set here replace the rendered ones,
    /// `null` removes one, and a list is replaced whole (use `patch` to add to a list). Only the
    /// members below may be written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge: Option<ChannelMerge>,

    /// JSON patch operations (RFC 6902) onto the request, in order, after `merge`: e.g. `add` to
    /// `/EncoderSettings/VideoDescriptions/-`. Paths start with `/EncoderSettings`,
    /// `/InputSpecification`, `/LogLevel` or `/InputAttachments/N/InputSettings` (or
    /// `.../AutomaticInputFailoverSettings`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub patch: Vec<PatchOperation>,
}

/// The request members a merge patch may write, in AWS's names.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
pub struct ChannelMerge {
    /// Merged into `EncoderSettings` (e.g. `GlobalConfiguration`, `AvailConfiguration`,
    /// `CaptionDescriptions`).
    #[serde(rename = "EncoderSettings", default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_object")]
    pub encoder_settings: Option<serde_json::Value>,

    /// Merged into `InputSpecification` (`Codec`, `MaximumBitrate`, `Resolution`).
    #[serde(rename = "InputSpecification", default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_object")]
    pub input_specification: Option<serde_json::Value>,

    /// `LogLevel`: ERROR, WARNING, INFO, DEBUG or DISABLED (CloudWatch Logs).
    #[serde(rename = "LogLevel", default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^(ERROR|WARNING|INFO|DEBUG|DISABLED)$"))]
    pub log_level: Option<String>,
}

/// One RFC 6902 operation.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
// A rule on `value` cannot compile (CEL does not see a field of any type): a missing value is
// reported when the operator reads the spec.
#[x_kube(
    validation = Rule::new("self.op in ['move', 'copy'] == has(self.from)")
        .message("move and copy take a from path; the other operations do not")
        .field_path(".from")
)]
pub struct PatchOperation {
    /// add, remove, replace, move, copy or test.
    pub op: PatchOp,

    /// A JSON pointer into the request, e.g. `/EncoderSettings/VideoDescriptions/-`.
    #[schemars(regex(
        pattern = "^/(EncoderSettings|InputSpecification|LogLevel)(/.*)?$|^/InputAttachments/[0-9]+/(InputSettings|AutomaticInputFailoverSettings)(/.*)?$"
    ))]
    pub path: String,

    /// The source pointer of `move` and `copy` (the same places as `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = "^/(EncoderSettings|InputSpecification|LogLevel)(/.*)?$|^/InputAttachments/[0-9]+/(InputSettings|AutomaticInputFailoverSettings)(/.*)?$"
    ))]
    pub from: Option<String>,

    /// The value of `add`, `replace` and `test`: any JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub value: Option<serde_json::Value>,
}

#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PatchOp {
    Add,
    Remove,
    Replace,
    Move,
    Copy,
    Test,
}

fn free_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
}

fn any_value(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"x-kubernetes-preserve-unknown-fields": true})
}

#[cfg(test)]
mod tests {
    use super::PATCHABLE_PATHS;

    /// The schema's pattern is the constant the operator checks against (a schema attribute takes
    /// a literal).
    #[test]
    fn the_schema_pattern_is_the_patchable_paths() {
        let crd = serde_json::to_string(&crate::api::crd()).unwrap();
        let escaped = serde_json::to_string(PATCHABLE_PATHS).unwrap();
        assert_eq!(crd.matches(escaped.trim_matches('"')).count(), 2);
    }
}
