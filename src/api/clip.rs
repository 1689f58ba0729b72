//! `LiveStreamClip`: a time range of a running LiveStream cut into video on demand — a MediaPackage
//! v2 harvest job on the stream's HLS endpoint, within its startover window, into S3.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// A clip of a LiveStream: from `start` to `end`, harvested to S3 as an HLS VOD.
// The printer columns repeat `type_`, which the lint takes for a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[kube(
    group = "media.livestream.io",
    version = "v1alpha1",
    kind = "LiveStreamClip",
    plural = "livestreamclips",
    shortname = "lvc",
    category = "media",
    namespaced,
    status = "LiveStreamClipStatus",
    doc = "A time range of a LiveStream harvested into video on demand (MediaPackage v2 harvest job into S3).",
    printcolumn(
        name = "Stream",
        type_ = "string",
        json_path = ".spec.stream",
        description = "The LiveStream clipped"
    ),
    printcolumn(
        name = "State",
        type_ = "string",
        json_path = ".status.state",
        description = "The harvest job: QUEUED, IN_PROGRESS, COMPLETED, FAILED, CANCELLED"
    ),
    printcolumn(
        name = "Playback URL",
        type_ = "string",
        json_path = ".status.playbackUrl",
        description = "The VOD's HLS playlist"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[x_kube(
    validation = Rule::new("timestamp(self.end) > timestamp(self.start)")
        .message("end must be after start")
        .field_path(".end"),
    validation = Rule::new("timestamp(self.end) - timestamp(self.start) <= duration('24h')")
        .message("a clip lasts at most 24 hours (MediaPackage's harvest limit)")
        .field_path(".end"),
    validation = Rule::new("self.stream == oldSelf.stream && self.start == oldSelf.start && self.end == oldSelf.end")
        .message("a clip's stream and range cannot change: delete it and create another")
)]
#[serde(rename_all = "camelCase")]
pub struct LiveStreamClipSpec {
    /// The LiveStream (in this namespace) to clip. It must be packaged with MediaPackage v2 and
    /// have spec.packaging.startoverWindowSeconds covering the range.
    #[schemars(length(min = 1, max = 253))]
    pub stream: String,

    /// Where the clip starts (RFC 3339), within the stream's startover window.
    pub start: Time,

    /// Where it ends; after start, at most 24 hours later.
    pub end: Time,

    /// Bucket for the VOD. Default: the stream's player-page bucket (so its distribution serves
    /// the clip), else the operator's --recording-bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))]
    pub bucket: Option<String>,

    /// Delete the harvested files with the clip. Default false: the VOD outlives the resource.
    #[serde(default)]
    pub delete_files_on_delete: bool,
}

#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LiveStreamClipStatus {
    /// The harvest job's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    /// QUEUED, IN_PROGRESS, COMPLETED, FAILED or CANCELLED, as MediaPackage reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Why the job failed, in MediaPackage's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The VOD's multivariant playlist in S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// A URL that plays it: through the stream's distribution, or the S3 object's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playback_url: Option<String>,
    /// Ready: the VOD is there; otherwise why not (the reason names the spec field at fault).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}
