//! `LiveStream.status`: what the operator observed in AWS, for people (`kubectl get lvs`) and tools.
//!
//! AWS ids and ARNs here are a cache for speed; the tags on the AWS resources are the source of truth.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// Condition types, following the Kubernetes API conventions (positive polarity except Degraded).
pub mod condition_type {
    /// Every AWS resource exists with the spec's settings; the URLs in status are usable.
    pub const READY: &str = "Ready";
    /// The operator is creating, updating, starting, stopping or deleting something.
    pub const PROGRESSING: &str = "Progressing";
    /// Something failed that needs attention; the message says what and what to do.
    pub const DEGRADED: &str = "Degraded";
    /// The channel is not running (it is not billed for encoding).
    pub const STOPPED: &str = "Stopped";
    /// An encoder is pushing to the running channel's input.
    pub const INPUT_CONNECTED: &str = "InputConnected";
    /// MediaLive reports active alerts on the channel (listed in `status.alerts`).
    pub const ALERTING: &str = "Alerting";
    /// With redundancy Standard or a backup input: every pipeline ingests, from the primary
    /// input. False while the stream runs on one leg (PipelineDown) or on the backup input
    /// (OnBackupInput): degraded, still on air.
    pub const REDUNDANT: &str = "Redundant";
    /// kstatus (Flux, `kubectl wait`-style tools): the operator is still converging the spec.
    pub const RECONCILING: &str = "Reconciling";
    /// kstatus: the operator cannot make progress without the user.
    pub const STALLED: &str = "Stalled";
    /// The channel's engine version expires within four weeks (or has expired).
    pub const ENGINE_EXPIRING: &str = "EngineExpiring";
}

/// Observed state of a LiveStream.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LiveStreamStatus {
    /// The metadata.generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// The MediaLive channel's state: CREATING, IDLE, STARTING, RUNNING, STOPPING, UPDATING, DELETING,
    /// or a *_FAILED state; Pending before the channel exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,

    /// RTMP URL to publish to, in OBS terms Server + Stream Key
    /// (rtmp://host:1935/app/instance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingest_url: Option<String>,

    /// Every URL encoders push to: each input (primary, backup) on each pipeline, and which one
    /// the running channel ingests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingest: Vec<crate::api::IngestPoint>,

    /// The running channel's pipelines: the input each ingests, and whether it has input.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pipelines: Vec<crate::api::PipelineStatus>,

    /// HLS master playlist URL: the CloudFront distribution's, or the MediaPackage origin
    /// endpoint's with delivery Direct.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playback_url: Option<String>,

    /// MediaPackage v2: the low-latency HLS master playlist URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_latency_playback_url: Option<String>,

    /// MediaPackage v2: the DASH manifest (MPD) URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dash_playback_url: Option<String>,

    /// The MediaPackage version whose resources this stream owns (v1 or v2): with
    /// spec.packaging.version unset, the stream keeps it when the operator's default changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packaging_version: Option<crate::api::PackagingVersion>,

    /// URL of the published player page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,

    /// How viewers reach the stream (CloudFront or Direct): with spec.delivery.mode unset, the
    /// stream keeps it when the operator's default changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<crate::api::DeliveryMode>,

    /// Where the recordings of the channel's runs are (`s3://bucket/prefix/<start>/`), oldest
    /// first; they stay when the LiveStream is deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recordings: Vec<String>,

    /// The stream's CloudFront distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_front: Option<CloudFrontStatus>,

    /// Seconds the channel ran in its earlier runs, as the operator observed them (the current
    /// run adds the time since `runningSince`): what MediaLive bills, give or take a reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billed_seconds: Option<i64>,

    /// When the channel last entered RUNNING; absent while it is not running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_since: Option<Time>,

    /// Set when a cost guard (maxRunDuration, stopAfterInputLoss) stopped the channel. It stays
    /// stopped until the spec changes (e.g. set running to false and back to true) or, with a
    /// schedule, until the next window opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_stop: Option<GuardStop>,

    /// Deprecated: what operators before `guardStop` wrote when maxRunDuration stopped the channel
    /// (the generation it stopped at). Read once into `guardStop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_run_duration_stopped_generation: Option<i64>,

    /// Since when the running channel has had no input (MediaLive's input alerts); absent while
    /// an encoder pushes or the channel is not running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_lost_since: Option<Time>,

    /// The channel's active MediaLive alerts (ListAlerts, state SET), while it runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<ChannelAlert>,

    /// What the schedule does next, and a manual override of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleStatus>,

    /// Digest of the player page and config last published to S3; a change republishes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_digest: Option<String>,

    /// The bucket the player page was last published to: when `spec.website.bucket` changes, the
    /// page and its grant are removed from this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_bucket: Option<String>,

    /// The MediaLive channel as AWS describes it: its engine version and what it encodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelStatus>,

    /// Ids and ARNs of the AWS resources that belong to this LiveStream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsResources>,

    /// Ready, Progressing, Degraded, Stopped, InputConnected, Alerting and kstatus's Reconciling
    /// and Stalled, each with the generation it was computed for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
}

/// The MediaLive channel as AWS describes it.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChannelStatus {
    /// The channel engine version it runs (see spec.engineVersion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,

    /// When that version expires: MediaLive then moves the channel to a newer one. The
    /// EngineExpiring condition turns True four weeks before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_expires_at: Option<Time>,

    /// Each video description it encodes, `name: CODEC WIDTHxHEIGHT`, the overrides' included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub video: Vec<String>,
}

/// A cost guard's stop: why, at which generation, when.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GuardStop {
    /// MaxRunDurationExceeded or InputLoss.
    pub reason: String,
    /// The metadata.generation the channel was stopped at.
    pub generation: i64,
    /// When it was stopped.
    pub at: Time,
}

/// One active MediaLive alert.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChannelAlert {
    /// MediaLive's alert type, e.g. "RTMP Has No Audio/Video".
    #[serde(rename = "type")]
    pub type_: String,
    /// MediaLive's message.
    #[serde(default)]
    pub message: String,
    /// The pipeline it is raised on ("0" or "1").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// When MediaLive raised it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Time>,
}

/// The schedule as of the last reconcile.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleStatus {
    /// When the schedule next starts the channel (a window's start minus the lead time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_start: Option<Time>,
    /// When the schedule next stops the channel (the end of the current or next window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_stop: Option<Time>,
    /// `spec.running` as last seen: a change is a manual override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_seen: Option<bool>,
    /// A manual `spec.running` change is in force: `running` decides, not the schedule.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manual: bool,
    /// The boundary the manual override lasts until; absent: no window lies ahead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_until: Option<Time>,
}

/// The stream's CloudFront distribution, as CloudFront last described it.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CloudFrontStatus {
    /// Distribution id (E…).
    pub distribution_id: String,
    /// Distribution ARN.
    pub arn: String,
    /// The domain viewers use (d….cloudfront.net).
    pub domain_name: String,
    /// InProgress while CloudFront deploys a change to its edge locations (minutes), then Deployed.
    pub status: String,
    /// False once teardown (or a move to delivery Direct) disabled it.
    pub enabled: bool,
}

/// Ids and ARNs of the AWS resources behind a LiveStream.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AwsResources {
    /// MediaLive input security group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_security_group_id: Option<String>,
    /// MediaLive input id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_id: Option<String>,
    /// The AWS Secrets Manager secret that holds the SRT passphrase (its ARN; never its value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srt_passphrase_secret_arn: Option<String>,
    /// MediaLive channel id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// MediaLive channel ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_arn: Option<String>,
    /// MediaPackage channel id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_package_channel_id: Option<String>,
    /// MediaPackage HLS origin endpoint id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_endpoint_id: Option<String>,
    /// MediaPackage v2 channel group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_group: Option<String>,
    /// MediaPackage v2 channel ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_package_v2_channel_arn: Option<String>,
    /// MediaPackage v2 origin endpoint ARNs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origin_endpoint_arns: Vec<String>,
}

/// Puts `new` into `conditions`, replacing the condition of the same type. The transition time is
/// kept when the status did not change, so it tells when the condition last flipped.
pub fn set_condition(conditions: &mut Vec<Condition>, new: Condition) {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => {
            let last_transition_time = if existing.status == new.status {
                existing.last_transition_time.clone()
            } else {
                new.last_transition_time.clone()
            };
            *existing = Condition {
                last_transition_time,
                ..new
            };
        }
        None => conditions.push(new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    fn condition(status: &str, at: i64, generation: i64) -> Condition {
        Condition {
            type_: condition_type::READY.into(),
            status: status.into(),
            reason: "Test".into(),
            message: String::new(),
            observed_generation: Some(generation),
            last_transition_time: Time(Timestamp::from_second(at).unwrap()),
        }
    }

    #[test]
    fn same_status_keeps_transition_time_but_updates_generation() {
        let mut conditions = vec![condition("True", 100, 1)];
        set_condition(&mut conditions, condition("True", 200, 2));
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].last_transition_time.0.as_second(), 100);
        assert_eq!(conditions[0].observed_generation, Some(2));
    }

    #[test]
    fn changed_status_moves_transition_time() {
        let mut conditions = vec![condition("True", 100, 1)];
        set_condition(&mut conditions, condition("False", 200, 1));
        assert_eq!(conditions[0].status, "False");
        assert_eq!(conditions[0].last_transition_time.0.as_second(), 200);
    }

    #[test]
    fn new_type_is_appended() {
        let mut conditions = vec![condition("True", 100, 1)];
        let mut stopped = condition("True", 100, 1);
        stopped.type_ = condition_type::STOPPED.into();
        set_condition(&mut conditions, stopped);
        assert_eq!(conditions.len(), 2);
    }
}
