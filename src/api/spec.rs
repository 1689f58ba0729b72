//! `LiveStream.spec`: every parameter of the channel, with the defaults of the original pattern.
//!
//! Validation lives next to each field so that the API server refuses a bad manifest at admission,
//! naming the field: OpenAPI bounds and patterns through schemars, cross-field rules through CEL
//! (`x-kubernetes-validations`). The bounds are the ones MediaLive and MediaPackage accept.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::delivery::*;
pub use super::packaging::*;
pub use super::recording::*;
use super::status::LiveStreamStatus;

/// Pattern shared by `spec.channelId` and a `metadata.name` that stands in for it: the id names the
/// MediaPackage channel and prefixes every MediaLive resource, so it keeps to the characters both accept.
pub const CHANNEL_ID_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$";

/// A live video channel: RTMP ingest → MediaLive ladder → MediaPackage HLS → web player.
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[kube(
    group = "media.livestream.io",
    version = "v1alpha1",
    kind = "LiveStream",
    plural = "livestreams",
    shortname = "lvs",
    category = "media",
    namespaced,
    status = "LiveStreamStatus",
    doc = "A live video channel on AWS Elemental MediaLive + MediaPackage: RTMP ingest, an H.264 ladder, HLS playback and a web player.",
    validation = Rule::new("has(self.spec.channelId) || self.metadata.name.matches('^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$')")
        .message("metadata.name is not a valid channel id (letters, digits, '-' and '_', at most 50): set spec.channelId")
        .field_path(".spec.channelId"),
    printcolumn(name = "Running", type_ = "boolean", json_path = ".spec.running", description = "Whether the channel should be running"),
    printcolumn(name = "State", type_ = "string", json_path = ".status.state", description = "The MediaLive channel's state"),
    printcolumn(name = "Input", type_ = "string", json_path = ".status.conditions[?(@.type==\"InputConnected\")].status", description = "Whether an encoder is pushing to the running channel"),
    printcolumn(name = "Playback URL", type_ = "string", json_path = ".status.playbackUrl", description = "HLS master playlist"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Ingest URL", type_ = "string", json_path = ".status.ingestUrl", priority = 1, description = "RTMP URL to publish to"),
    printcolumn(name = "Website URL", type_ = "string", json_path = ".status.websiteUrl", priority = 1, description = "Player page"),
    printcolumn(name = "LL-HLS URL", type_ = "string", json_path = ".status.lowLatencyPlaybackUrl", priority = 1, description = "Low-latency HLS master playlist (MediaPackage v2)"),
    printcolumn(name = "DASH URL", type_ = "string", json_path = ".status.dashPlaybackUrl", priority = 1, description = "DASH manifest (MediaPackage v2)"),
    printcolumn(name = "CDN", type_ = "string", json_path = ".status.cloudFront.status", priority = 1, description = "The CloudFront distribution's deployment (InProgress, Deployed)"),
    printcolumn(name = "Next Start", type_ = "string", json_path = ".status.schedule.nextStart", priority = 1, description = "When the schedule next starts the channel")
)]
#[x_kube(
    validation = Rule::new("!has(self.input.srt) || self.input.srt.mode != 'Caller' || self.redundancy != 'Standard'")
        .message("redundancy Standard needs one SRT source per pipeline; an SRT input in mode Caller pulls from one: use redundancy Single")
        .field_path(".redundancy"),
    validation = Rule::new("has(self.channelId) == has(oldSelf.channelId)")
        .message("spec.channelId cannot be added or removed after creation: it names the AWS resources")
        .field_path(".channelId")
)]
#[serde(rename_all = "camelCase")]
pub struct LiveStreamSpec {
    /// Whether the MediaLive channel should be running. A running channel is billed by the second, so
    /// the default is false: create everything, then start it by setting this to true.
    #[serde(default)]
    pub running: bool,

    /// Id of the MediaPackage channel and prefix of the MediaLive resource names. Defaults to
    /// metadata.name. Letters, digits, '-' and '_', at most 50 characters. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.channelId is immutable: it names the AWS resources"))]
    pub channel_id: Option<String>,

    /// The RTMP input that the encoder (OBS, ffmpeg) pushes to.
    #[serde(default)]
    pub input: InputSpec,

    /// How MediaPackage packages the stream for playback.
    #[serde(default)]
    pub packaging: PackagingSpec,

    /// The MediaLive encoding ladder.
    #[serde(default)]
    pub encoding: EncodingSpec,

    /// Single (default): one encoding pipeline. Standard: two pipelines in two availability zones,
    /// each fed by its own push (status.ingest lists both URLs); the stream stays on air when one
    /// encoder, its uplink or a pipeline fails. Standard bills both pipelines. A change applies to
    /// a stopped channel (see updatePolicy).
    #[serde(default)]
    pub redundancy: super::Redundancy,

    /// The player web page published to S3.
    #[serde(default)]
    pub website: WebsiteSpec,

    /// How viewers reach the stream: CloudFront (default for new streams) or the origin directly.
    #[serde(default)]
    pub delivery: DeliverySpec,

    /// The stream recorded to S3 while the channel runs.
    #[serde(default)]
    pub recording: RecordingSpec,

    /// What to do when a change needs a channel update while the channel is running (AWS cannot
    /// update a running channel): Manual (default) reports it and waits for you to stop the channel;
    /// Restart stops the channel, updates it and starts it again (a short outage).
    #[serde(default)]
    pub update_policy: UpdatePolicy,

    /// Cost guard: stop the channel once it has been running this long (e.g. "4h", "90m"). To run
    /// again, set running to false and back to true. Unset: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub max_run_duration: Option<kube::core::Duration>,

    /// Cost guard: stop the channel once it has had no input for this long (e.g. "15m"): an
    /// encoder that crashed or was forgotten no longer keeps a channel billing. It starts again
    /// when the spec changes or the next scheduled window begins. Unset: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub stop_after_input_loss: Option<kube::core::Duration>,

    /// Start and stop the channel by the clock. With a schedule, `running` is a manual override
    /// that lasts until the next window boundary (a window's start, lead time included, or its
    /// end); from then on the schedule decides again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleSpec>,

    /// IAM role that MediaLive assumes to write to MediaPackage. Defaults to the operator's
    /// --medialive-role-arn flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$"))]
    pub role_arn: Option<String>,

    /// The MediaLive channel engine version to run (`ChannelEngineVersion`), as `aws medialive
    /// list-versions` lists them. Unset: MediaLive's default. status.channel shows the version the
    /// channel runs and when it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub engine_version: Option<String>,
}

/// When the channel runs: one-off windows and recurring ones, in one time zone.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleSpec {
    /// IANA time zone that window times and cron expressions are read in, e.g. Europe/Paris.
    /// Daylight saving time is honoured. Default UTC.
    #[serde(default = "default_time_zone")]
    #[schemars(
        length(min = 1, max = 64),
        regex(pattern = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$")
    )]
    pub time_zone: String,

    /// How long before each window the channel is started: a MediaLive channel takes minutes to
    /// start. Default 10m.
    #[serde(default = "default_lead_time")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub lead_time: kube::core::Duration,

    /// The windows in which the channel runs (1–20). Overlapping windows merge.
    #[schemars(length(min = 1, max = 20))]
    pub windows: Vec<ScheduleWindow>,
}

/// One window: `start` and `end` once, or `cron` and `duration` for every occurrence.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[x_kube(
    validation = Rule::new("has(self.cron) ? (has(self.duration) && !has(self.start) && !has(self.end)) : (has(self.start) && has(self.end) && !has(self.duration))")
        .message("a window has either start and end (once) or cron and duration (recurring)")
)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleWindow {
    /// Once: when the window opens, e.g. "2026-12-24T18:00" (in timeZone) or with an offset,
    /// "2026-12-24T18:00:00+01:00".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DATE_TIME_PATTERN))]
    pub start: Option<String>,

    /// Once: when the window closes (after start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DATE_TIME_PATTERN))]
    pub end: Option<String>,

    /// Recurring: when each window opens, as a cron expression in timeZone (minute hour
    /// day-of-month month day-of-week), e.g. "0 19 * * FRI" for Fridays at 19:00.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 9, max = 128))]
    pub cron: Option<String>,

    /// Recurring: how long each window lasts, e.g. "2h".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub duration: Option<kube::core::Duration>,
}

/// A civil date-time, with an optional offset.
const DATE_TIME_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?$";

/// How changes that need a channel update are applied to a running channel.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UpdatePolicy {
    /// Report the pending change (condition + event) and apply it when the channel is stopped.
    #[default]
    Manual,
    /// Stop the channel, apply the change, start it again.
    Restart,
}

/// The input the encoder publishes to (RTMP push, or SRT) and who may publish to it.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[x_kube(
    validation = Rule::new("self.protocol == 'SRT' ? has(self.srt) : !has(self.srt)")
        .message("spec.input.srt is required with protocol SRT, and only then")
        .field_path(".srt"),
    validation = Rule::new("self.protocol != 'SRT' || !has(self.streamKeySecretRef)")
        .message("spec.input.streamKeySecretRef is for RTMP: an SRT input is secured by spec.input.srt.passphraseSecretRef")
        .field_path(".streamKeySecretRef"),
    validation = Rule::new("!has(self.srt) || self.srt.mode != 'Caller' || !has(self.backup)")
        .message("spec.input.backup needs push inputs (MediaLive fails over between push inputs only): an SRT input in mode Caller cannot have one")
        .field_path(".backup"),
    validation = Rule::new("self.protocol == oldSelf.protocol")
        .message("spec.input.protocol is immutable: another protocol is another MediaLive input type; create a new LiveStream")
        .field_path(".protocol"),
    validation = Rule::new("!has(self.srt) || !has(oldSelf.srt) || self.srt.mode == oldSelf.srt.mode")
        .message("spec.input.srt.mode is immutable: Listener and Caller are different MediaLive input types; create a new LiveStream")
        .field_path(".srt.mode")
)]
#[serde(rename_all = "camelCase")]
pub struct InputSpec {
    /// RTMP (default): an RTMP push input. SRT: an encrypted SRT input, set up in spec.input.srt.
    /// Immutable.
    #[serde(default)]
    pub protocol: super::IngestProtocol,

    /// The SRT input, with protocol SRT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srt: Option<super::SrtSpec>,

    /// CIDR blocks (IPv4 or IPv6) allowed to push to the input; they form the MediaLive input
    /// security group. Defaults to everyone, 0.0.0.0/0.
    #[serde(default = "default_allowed_cidrs")]
    #[schemars(schema_with = "cidr_list_schema")]
    pub allowed_cidrs: Vec<String>,

    /// RTMP application and instance, in MediaLive's `app/instance` form; the publisher's stream
    /// key is the instance part. Default `test/channel`.
    #[serde(default = "default_stream_name")]
    #[schemars(regex(pattern = "^[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_-]{1,64}$"))]
    pub stream_name: String,

    /// Take the stream key from a Secret in this namespace instead: the input becomes
    /// `<app of streamName>/<key>`, and status.ingestUrl shows only the server part
    /// (`rtmp://host:1935/app`). The operator reads just this Secret, by name, when the namespace
    /// grants it (a Role with `resourceNames`; the condition message gives the commands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_key_secret_ref: Option<SecretKeyRef>,

    /// A second input for a backup encoder, with automatic input failover: MediaLive switches to
    /// it when the primary goes silent. Same stream name and allowed CIDRs; its URLs are in
    /// status.ingest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<super::BackupInputSpec>,
}

/// One key of one Secret in the LiveStream's namespace.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253), regex(pattern = "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"))]
    pub name: String,

    /// Key within the Secret's data whose value is the stream key (1–64 letters, digits, '-' or
    /// '_'; surrounding whitespace is ignored). Default `streamKey`.
    #[serde(default = "default_secret_key")]
    #[schemars(length(min = 1, max = 253), regex(pattern = "^[-._a-zA-Z0-9]+$"))]
    pub key: String,
}

/// The MediaPackage HLS origin endpoint.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[x_kube(
    validation = Rule::new("self.playlistWindowSeconds >= self.segmentDurationSeconds")
        .message("playlistWindowSeconds must be at least segmentDurationSeconds")
        .field_path(".playlistWindowSeconds"),
    validation = Rule::new("self.minVideoBitsPerSecond <= self.maxVideoBitsPerSecond")
        .message("minVideoBitsPerSecond must not exceed maxVideoBitsPerSecond")
        .field_path(".minVideoBitsPerSecond")
)]
#[serde(rename_all = "camelCase")]
pub struct HlsSpec {
    /// Duration of each HLS segment, in seconds (1–30). Default 5.
    #[serde(default = "default_segment_duration")]
    #[schemars(range(min = 1, max = 30))]
    pub segment_duration_seconds: i32,

    /// Time window held by each live playlist, in seconds (up to 86400, and at least one segment).
    /// Default 60.
    #[serde(default = "default_playlist_window")]
    #[schemars(range(min = 1, max = 86400))]
    pub playlist_window_seconds: i32,

    /// Renditions below this video bitrate are left out of the playlist. Default 0.
    #[serde(default)]
    #[schemars(range(min = 0, max = 2147483647))]
    pub min_video_bits_per_second: i32,

    /// Renditions above this video bitrate are left out of the playlist. Default 2147483647.
    #[serde(default = "default_max_video_bits")]
    #[schemars(range(min = 0, max = 2147483647))]
    pub max_video_bits_per_second: i32,

    /// Order of the renditions in the master playlist. Default ORIGINAL (the ladder's order).
    #[serde(default)]
    pub stream_order: StreamOrder,
}

/// Order of the renditions in the HLS master playlist (MediaPackage's StreamOrder).
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamOrder {
    /// The order of the encoding ladder.
    #[default]
    Original,
    /// Lowest video bitrate first.
    VideoBitrateAscending,
    /// Highest video bitrate first.
    VideoBitrateDescending,
}

/// The MediaLive encoding ladder: one H.264 video rendition each, sharing one AAC audio track.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EncodingSpec {
    /// Video renditions, each an HLS variant. At least one, names unique. Default: 1080p30 at
    /// 5 Mb/s and 720p30 at 3 Mb/s.
    #[serde(default = "default_renditions")]
    #[schemars(length(min = 1, max = 8))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub renditions: Vec<Rendition>,

    /// The audio track added to every rendition.
    #[serde(default)]
    pub audio: AudioSpec,

    /// The rest of the MediaLive channel, in AWS's own member names, patched onto the request the
    /// fields above render (H.265 or QVBR renditions, captions, more audio, SCTE-35, input-loss
    /// slates…). Where both speak, the overrides win. AWS validates the result (a dry run) before
    /// it is applied, and before a running channel is stopped to apply it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<super::ChannelOverrides>,
}

/// One H.264 video rendition of the ladder.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[x_kube(
    validation = Rule::new("self.width % 2 == 0 && self.height % 2 == 0")
        .message("width and height must be even numbers (4:2:0 chroma)")
        .field_path(".width")
)]
#[serde(rename_all = "camelCase")]
pub struct Rendition {
    /// Name of the rendition, unique in the ladder; used in MediaLive output names.
    /// Lowercase letters, digits and '-', at most 32 characters.
    #[schemars(regex(pattern = "^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$"))]
    pub name: String,

    /// Frame width in pixels (32–3840, even).
    #[schemars(range(min = 32, max = 3840))]
    pub width: i32,

    /// Frame height in pixels (32–2160, even).
    #[schemars(range(min = 32, max = 2160))]
    pub height: i32,

    /// Frames per second (1–60). Default 30.
    #[serde(default = "default_fps")]
    #[schemars(range(min = 1, max = 60))]
    pub frames_per_second: i32,

    /// Average video bitrate in bits per second (MediaLive H.264 accepts 1000–80000000).
    #[schemars(range(min = 1000, max = 80000000))]
    pub bits_per_second: i32,
}

impl Rendition {
    fn new(name: &str, width: i32, height: i32, bits_per_second: i32) -> Self {
        Self {
            name: name.to_owned(),
            width,
            height,
            frames_per_second: default_fps(),
            bits_per_second,
        }
    }
}

/// The AAC audio track.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AudioSpec {
    /// Audio bitrate in bits per second (16000–320000). Default 192000.
    #[serde(default = "default_audio_bits")]
    #[schemars(range(min = 16000, max = 320000))]
    pub bits_per_second: i32,

    /// Sample rate in Hz: 32000, 44100 or 48000. Default 48000.
    #[serde(default = "default_sample_rate")]
    #[x_kube(validation = Rule::new("self in [32000, 44100, 48000]").message("sampleRate must be 32000, 44100 or 48000"))]
    pub sample_rate: i32,
}

/// The player page published to S3.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WebsiteSpec {
    /// Publish the player page for this stream. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,

    /// S3 bucket to publish to. Defaults to the operator's --website-bucket flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))]
    pub bucket: Option<String>,
}

/// `allowedCidrs`: a set of 1–10 CIDR blocks, each checked on its own so the error names the entry.
fn cidr_list_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "minItems": 1,
        "maxItems": 10,
        "x-kubernetes-list-type": "set",
        "items": {
            "type": "string",
            "maxLength": 64,
            "x-kubernetes-validations": [
                {
                    "rule": "isCIDR(self)",
                    "messageExpression": "self + ' is not a CIDR block (expected e.g. 203.0.113.0/24 or 2001:db8::/32)'"
                },
                {
                    "rule": "!isCIDR(self) || cidr(self) == cidr(self).masked()",
                    "messageExpression": "self + ' has host bits set: write the network address, e.g. 10.0.0.0/8 rather than 10.1.2.3/8'"
                }
            ]
        }
    })
}

fn default_allowed_cidrs() -> Vec<String> {
    vec!["0.0.0.0/0".to_owned()]
}
fn default_stream_name() -> String {
    "test/channel".to_owned()
}
fn default_secret_key() -> String {
    "streamKey".to_owned()
}
fn default_segment_duration() -> i32 {
    5
}
fn default_playlist_window() -> i32 {
    60
}
pub(super) fn default_max_video_bits() -> i32 {
    i32::MAX
}
fn default_renditions() -> Vec<Rendition> {
    vec![
        Rendition::new("1080p", 1920, 1080, 5_000_000),
        Rendition::new("720p", 1280, 720, 3_000_000),
    ]
}
fn default_fps() -> i32 {
    30
}
fn default_audio_bits() -> i32 {
    192_000
}
fn default_sample_rate() -> i32 {
    48_000
}
fn default_time_zone() -> String {
    "UTC".to_owned()
}
fn default_lead_time() -> kube::core::Duration {
    std::time::Duration::from_secs(600).into()
}
pub(super) fn default_true() -> bool {
    true
}

impl Default for InputSpec {
    fn default() -> Self {
        Self {
            allowed_cidrs: default_allowed_cidrs(),
            stream_name: default_stream_name(),
            stream_key_secret_ref: None,
            backup: None,
            protocol: super::IngestProtocol::default(),
            srt: None,
        }
    }
}

impl Default for HlsSpec {
    fn default() -> Self {
        Self {
            segment_duration_seconds: default_segment_duration(),
            playlist_window_seconds: default_playlist_window(),
            min_video_bits_per_second: 0,
            max_video_bits_per_second: default_max_video_bits(),
            stream_order: StreamOrder::default(),
        }
    }
}

impl Default for EncodingSpec {
    fn default() -> Self {
        Self {
            renditions: default_renditions(),
            audio: AudioSpec::default(),
            overrides: None,
        }
    }
}

impl Default for AudioSpec {
    fn default() -> Self {
        Self {
            bits_per_second: default_audio_bits(),
            sample_rate: default_sample_rate(),
        }
    }
}

impl Default for WebsiteSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            bucket: None,
        }
    }
}
