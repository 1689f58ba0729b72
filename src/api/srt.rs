//! SRT contribution (`spec.input.protocol: SRT`): an encrypted SRT input the encoder pushes to
//! (MediaLive's SRT_LISTENER) or one MediaLive pulls from an encoder that listens (SRT_CALLER).
//! The passphrase comes from a Kubernetes Secret; the operator keeps a copy in AWS Secrets Manager,
//! where MediaLive reads it. The bounds are MediaLive's (model and user guide, cited per field).

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The protocol the encoder speaks to the input.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IngestProtocol {
    /// RTMP push (an RTMP_PUSH input): the stream key authenticates, nothing is encrypted.
    #[default]
    #[serde(rename = "RTMP")]
    Rtmp,
    /// SRT, AES-encrypted with the passphrase of spec.input.srt.passphraseSecretRef: recovers lost
    /// packets within minimumLatencyMsec.
    #[serde(rename = "SRT")]
    Srt,
}

/// Who opens the SRT connection.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SrtMode {
    /// The encoder calls MediaLive (an SRT_LISTENER input): status.ingestUrl is
    /// `srt://host:port?streamid=…`, one per pipeline in status.ingest.
    #[default]
    Listener,
    /// MediaLive calls an encoder that listens (an SRT_CALLER input) at spec.input.srt.caller.
    Caller,
}

/// The AES key length the stream is encrypted with.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SrtEncryption {
    #[serde(rename = "AES128")]
    Aes128,
    #[serde(rename = "AES192")]
    Aes192,
    #[default]
    #[serde(rename = "AES256")]
    Aes256,
}

impl SrtEncryption {
    /// MediaLive's `Algorithm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aes128 => "AES128",
            Self::Aes192 => "AES192",
            Self::Aes256 => "AES256",
        }
    }

    /// The key length in bytes, as encoders ask for it (`pbkeylen`).
    pub fn key_bytes(self) -> u8 {
        match self {
            Self::Aes128 => 16,
            Self::Aes192 => 24,
            Self::Aes256 => 32,
        }
    }
}

/// The SRT input.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[x_kube(
    validation = Rule::new("self.mode == 'Caller' ? has(self.caller) : !has(self.caller)")
        .message("spec.input.srt.caller is required with mode Caller and only then")
        .field_path(".caller")
)]
#[serde(rename_all = "camelCase")]
pub struct SrtSpec {
    /// Listener (default): the encoder pushes to MediaLive. Caller: MediaLive pulls from an
    /// encoder that listens. Immutable (the two are different MediaLive input types).
    #[serde(default)]
    pub mode: SrtMode,

    /// The Secret key whose value is the passphrase, 10–79 characters (MediaLive's bounds). It
    /// is copied into AWS Secrets Manager, where MediaLive reads it; change the Secret to rotate.
    /// Never shown in status, events, logs or metrics.
    pub passphrase_secret_ref: PassphraseSecretRef,

    /// AES key length: AES128, AES192 or AES256 (default). The encoder must use the same
    /// (`pbkeylen` 16, 24 or 32).
    #[serde(default)]
    pub encryption: SrtEncryption,

    /// How long SRT may take to recover a lost packet, in milliseconds: MediaLive accepts
    /// 120–15000. About four round trips to the encoder is a good start. Default 1000.
    #[serde(default = "default_latency")]
    #[schemars(range(min = 120, max = 15000))]
    pub minimum_latency_msec: i32,

    /// The SRT stream id the encoder sends (listener) or MediaLive sends (caller). MediaLive
    /// accepts any stream id on a listener input and only logs it. At most 512 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub stream_id: Option<String>,

    /// With mode Caller: the encoder's SRT listener that MediaLive connects to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<SrtCallerSpec>,

    /// When the stream is deleted, keep the AWS copy of the passphrase recoverable for this many
    /// days (7–30, Secrets Manager's bounds). Unset (default): delete it at once
    /// (ForceDeleteWithoutRecovery) — the Kubernetes Secret is the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 7, max = 30))]
    pub recovery_window_days: Option<i32>,
}

/// The Secret key that holds the SRT passphrase.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PassphraseSecretRef {
    /// Name of the Secret, in the LiveStream's namespace.
    #[schemars(length(min = 1, max = 253), regex(pattern = "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"))]
    pub name: String,

    /// Key within the Secret's data. Default `passphrase`.
    #[serde(default = "default_passphrase_key")]
    #[schemars(length(min = 1, max = 253), regex(pattern = "^[-._a-zA-Z0-9]+$"))]
    pub key: String,
}

/// An encoder's SRT listener.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SrtCallerSpec {
    /// Its IP address or host name.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$")
    )]
    pub address: String,

    /// Its UDP port (1–65535).
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
}

fn default_latency() -> i32 {
    1000
}

fn default_passphrase_key() -> String {
    "passphrase".to_owned()
}
