//! SRT inputs: SRT_LISTENER (a push input: the publisher calls MediaLive) and SRT_CALLER (a
//! pull input: MediaLive calls the encoder). Their rules at CreateInput / UpdateInput, the
//! listener's loopback ports, and a running channel's reader (ffmpeg's libsrt, `media::srt`)
//! with the passphrase read from Secrets Manager through the channel's role before every arm.
//!
//! Sources: botocore's medialive 2017-10-14 model (`SrtSettingsRequest`, `SrtListenerSettingsRequest`
//! requires `Decryption` and `MinimumLatency`, "Range 120-15000"); the MediaLive user guide,
//! "Setting up an SRT Listener input" (https://docs.aws.amazon.com/medialive/latest/ug/input-listener-srt.html:
//! a push input, "You must use an input security group with an SRT Listener input") and "Get
//! ready" (https://docs.aws.amazon.com/medialive/latest/ug/input-listener-srt-prereqs.html:
//! encryption is required, the passphrase is a plaintext secret of 10 to 79 characters, and
//! "MediaLive accepts all connections regardless of the stream ID value").

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::alerts::{self, AUDIO_NOT_DETECTED, INITIAL_PROBE, VIDEO_NOT_DETECTED};
use super::channels::Channel;
use super::inputs::Input;
use super::{Inner, MediaLive};
use crate::destinations::{SecretRefusal, SecretsRead};
use crate::media::srt::{ArmUrl, SrtStatus};
use crate::protocol::ApiError;

/// The channel's role may not read the passphrase's secret (or it cannot be read): no listener
/// starts. NOTES.md records MediaLive's alert 6047 for a missing `secretsmanager:GetSecretValue`;
/// its name was not found in any public page searched, so this name is livestream-local's.
pub const SECRET_NOT_ACCESSIBLE: &str = "SRT Passphrase Secret Not Accessible";
/// A caller was refused by SRT's handshake for its passphrase (`SRT_REJ_BADSECRET`). No MediaLive
/// alert for it is documented publicly: this name is livestream-local's.
pub const CONNECTION_REJECTED: &str = "SRT Connection Rejected";

/// How long a refused handshake keeps its alert set.
const REJECTION_SHOWN: Duration = Duration::from_secs(15);

/// The passphrase limits SRT itself sets (libsrt's `SRTO_PASSPHRASE`: 10 to 79 characters), which
/// the user guide repeats.
const PASSPHRASE_CHARS: std::ops::RangeInclusive<usize> = 10..=79;

/// `minimumLatency` bounds (the model's documentation: "Range 120-15000").
const LATENCY_MS: std::ops::RangeInclusive<i64> = 120..=15000;

fn invalid(path: &str, message: &str) -> ApiError {
    let mut error = ApiError::unprocessable(format!("{path} {message}"));
    error.validation_errors = vec![(path.to_owned(), message.to_owned())];
    error
}

/// What AWS refuses in an SRT input's settings, in MediaLive's 422 with `validationErrors`.
pub fn refusal(input_type: &str, members: &Map<String, Value>) -> Option<ApiError> {
    let settings = members.get("srtSettings").cloned().unwrap_or(Value::Null);
    let (listener, callers) = (&settings["srtListenerSettings"], &settings["srtCallerSources"]);
    match input_type {
        "SRT_LISTENER" => {
            if listener.is_null() {
                return Some(invalid(
                    "srtSettings.srtListenerSettings",
                    "is required for SRT_LISTENER inputs",
                ));
            }
            if !callers.is_null() {
                // The model: "Provide either srtCallerSources (for SRT_CALLER type) OR
                // srtListenerSettings (for SRT_LISTENER type), not both."
                return Some(invalid(
                    "srtSettings.srtCallerSources",
                    "is not allowed for SRT_LISTENER inputs",
                ));
            }
            let decryption = &listener["decryption"];
            if decryption["passphraseSecretArn"].as_str().is_none_or(str::is_empty) || decryption["algorithm"].is_null()
            {
                return Some(invalid(
                    "srtSettings.srtListenerSettings.decryption",
                    "is required: encryption is required for SRT Listener inputs",
                ));
            }
            match listener["minimumLatency"].as_i64() {
                Some(ms) if LATENCY_MS.contains(&ms) => None,
                _ => Some(invalid(
                    "srtSettings.srtListenerSettings.minimumLatency",
                    "must be between 120 and 15000",
                )),
            }
        }
        "SRT_CALLER" => {
            let sources = callers.as_array().cloned().unwrap_or_default();
            if sources.is_empty() || sources.len() > 2 || !listener.is_null() {
                return Some(invalid(
                    "srtSettings.srtCallerSources",
                    "SRT_CALLER inputs need one or two srtCallerSources",
                ));
            }
            sources.iter().enumerate().find_map(|(n, s)| {
                let named = |k: &str| s[k].as_str().is_some_and(|v| !v.is_empty());
                (!named("srtListenerAddress") || !named("srtListenerPort")).then(|| {
                    invalid(
                        &format!("srtSettings.srtCallerSources[{n}]"),
                        "needs srtListenerAddress and srtListenerPort",
                    )
                })
            })
        }
        _ => None,
    }
}

/// A free UDP port on the loopback address for each destination of an SRT listener input.
pub fn free_ports(count: usize) -> Result<Vec<u16>, ApiError> {
    (0..count)
        .map(|_| {
            let socket = std::net::UdpSocket::bind("127.0.0.1:0")
                .map_err(|e| ApiError::internal(format!("cannot find a UDP port: {e}")))?;
            Ok(socket
                .local_addr()
                .map_err(|e| ApiError::internal(e.to_string()))?
                .port())
        })
        .collect()
}

/// `pbkeylen` of an algorithm (AES128 → 16 bytes ...).
fn key_length(algorithm: &str) -> &'static str {
    match algorithm {
        "AES192" => "24",
        "AES256" => "32",
        _ => "16",
    }
}

/// A URL query value, percent-encoded (ffmpeg's libsrt decodes `passphrase` and `streamid`).
fn encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// What a running channel's reader dials or listens with, read from the input.
struct Plan {
    /// `srt://host:port?mode=...&latency=...` without the passphrase.
    base: String,
    /// (secret ARN, pbkeylen) when the stream is encrypted.
    secret: Option<(String, &'static str)>,
}

fn plan(input: &Input) -> Option<Plan> {
    let settings = input.members.get("srtSettings")?;
    let (base, decryption) = match input.input_type.as_str() {
        "SRT_LISTENER" => {
            let listener = &settings["srtListenerSettings"];
            let port = *input.srt_ports.first()?;
            let latency = listener["minimumLatency"].as_i64().unwrap_or(120) * 1000;
            (
                format!("srt://127.0.0.1:{port}?mode=listener&latency={latency}"),
                &listener["decryption"],
            )
        }
        "SRT_CALLER" => {
            let source = &settings["srtCallerSources"][0];
            let (host, port) = (
                source["srtListenerAddress"].as_str()?,
                source["srtListenerPort"].as_str()?,
            );
            let latency = source["minimumLatency"].as_i64().unwrap_or(120) * 1000;
            let mut base = format!("srt://{host}:{port}?mode=caller&latency={latency}");
            if let Some(id) = source["streamId"].as_str().filter(|s| !s.is_empty()) {
                base.push_str(&format!("&streamid={}", encoded(id)));
            }
            (base, &source["decryption"])
        }
        _ => return None,
    };
    let secret = (decryption["passphraseSecretArn"].as_str()).map(|arn| {
        (
            arn.to_owned(),
            key_length(decryption["algorithm"].as_str().unwrap_or("AES128")),
        )
    });
    Some(Plan { base, secret })
}

/// The URL of one arm: the passphrase read now, through the role.
fn arm_url(secrets: &dyn SecretsRead, role: Option<&str>, plan: &Plan) -> Result<String, SecretRefusal> {
    let Some((arn, key_length)) = &plan.secret else {
        return Ok(plan.base.clone());
    };
    let passphrase = secrets.secret_string_as(role, arn)?;
    if !PASSPHRASE_CHARS.contains(&passphrase.chars().count()) {
        return Err(SecretRefusal::Unreadable(format!(
            "the passphrase in {arn} is not 10 to 79 characters long"
        )));
    }
    Ok(format!(
        "{}&passphrase={}&pbkeylen={key_length}",
        plan.base,
        encoded(&passphrase)
    ))
}

fn why(refusal: SecretRefusal) -> String {
    match refusal {
        SecretRefusal::AccessDenied(why) | SecretRefusal::Unreadable(why) => why,
    }
}

impl MediaLive {
    /// The alerts of a running channel with an SRT input, arming its reader once (when the
    /// passphrase can be read with the channel's role).
    pub(super) fn srt_alerts(
        inner: &Inner,
        channel: &Channel,
        input: &Input,
        running_for: Duration,
    ) -> Vec<(&'static str, String)> {
        let Some(plan) = plan(input) else {
            return vec![(INITIAL_PROBE, "The SRT input has no settings to connect with".into())];
        };
        let role = channel.settings["roleArn"].as_str().map(str::to_owned);
        let ingest = inner.media.ingest(&channel.id);
        let mut statuses = inner.srt.lock().unwrap();
        if ingest.is_none() {
            statuses.remove(&channel.id);
            if let Err(refusal) = arm_url(&*inner.secrets, role.as_deref(), &plan) {
                return vec![(SECRET_NOT_ACCESSIBLE, why(refusal))];
            }
            match Self::channel_job(inner, channel) {
                Ok(job) => {
                    let secrets = inner.secrets.clone();
                    let url: ArmUrl = Box::new(move || arm_url(&*secrets, role.as_deref(), &plan).map_err(why));
                    if let Some(status) = inner.media.start_srt(job, url) {
                        statuses.insert(channel.id.clone(), status);
                    }
                }
                Err(reason) => tracing::debug!(channel_id = channel.id, reason, "nothing to encode"),
            }
        }
        let Some(status) = statuses.get(&channel.id).cloned() else {
            return Vec::new();
        };
        drop(statuses);
        wanted(&status, ingest, running_for)
    }
}

/// The alerts an SRT reader's status calls for.
fn wanted(
    status: &Arc<SrtStatus>,
    ingest: Option<crate::media::Ingest>,
    running_for: Duration,
) -> Vec<(&'static str, String)> {
    let mut want = Vec::new();
    if let Some(why) = status.arm_error() {
        want.push((SECRET_NOT_ACCESSIBLE, why));
    }
    if status.rejected_at().is_some_and(|at| at.elapsed() < REJECTION_SHOWN) {
        want.push((
            CONNECTION_REJECTED,
            "An SRT connection was rejected: incorrect passphrase (SRT_REJ_BADSECRET)".into(),
        ));
    }
    match (status.connected(), status.sessions()) {
        (true, _) => want.extend(alerts::wanted(ingest, true, running_for, "")),
        (false, 0) if running_for >= alerts::PROBE_SLOW => {
            want.push((INITIAL_PROBE, "Waiting for an SRT connection".into()));
        }
        (false, 0) => {}
        (false, _) => {
            want.push((VIDEO_NOT_DETECTED, "Video not detected on the active input".into()));
            want.push((AUDIO_NOT_DETECTED, "Audio not detected on the active input".into()));
        }
    }
    want
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::medialive::input_kinds::as_sent;

    fn listener(settings: Value) -> Option<ApiError> {
        refusal("SRT_LISTENER", &as_sent(&json!({"srtSettings": settings})))
    }

    #[test]
    fn listener_inputs_need_decryption_and_a_latency_in_range() {
        let decryption =
            json!({"algorithm": "AES128", "passphraseSecretArn": "arn:aws:secretsmanager:us-east-1:1:secret:p-AbCdEf"});
        assert!(listener(json!({"srtListenerSettings": {"decryption": decryption, "minimumLatency": 120}})).is_none());
        let low = listener(json!({"srtListenerSettings": {"decryption": decryption, "minimumLatency": 119}})).unwrap();
        assert_eq!(low.kind, "UnprocessableEntityException");
        assert_eq!(
            low.validation_errors[0].0,
            "srtSettings.srtListenerSettings.minimumLatency"
        );
        let high = listener(json!({"srtListenerSettings": {"decryption": decryption, "minimumLatency": 15001}}));
        assert!(high.is_some());
        assert!(listener(json!({"srtListenerSettings": {"minimumLatency": 200}})).is_some());
        assert!(listener(Value::Null).is_some());
        assert!(
            refusal(
                "SRT_CALLER",
                &as_sent(&json!({"srtSettings": {"srtCallerSources": []}}))
            )
            .is_some()
        );
    }

    #[test]
    fn passphrases_are_percent_encoded_into_the_url() {
        assert_eq!(encoded("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(key_length("AES256"), "32");
    }
}
