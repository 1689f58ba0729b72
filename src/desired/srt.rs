//! The SRT input as the spec and its Secret resolve it: the passphrase (wrapped so that no Debug
//! or Display can print it), the settings MediaLive's SRT input takes, and the request for the
//! Secrets Manager secret that holds the passphrase where MediaLive reads it.

use std::fmt;

use aws_sdk_medialive::types::{
    Algorithm, SrtCallerDecryptionRequest, SrtCallerSourceRequest, SrtListenerDecryptionRequest,
    SrtListenerSettingsRequest, SrtSettingsRequest,
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::api::{SrtCallerSpec, SrtEncryption, SrtMode, SrtSpec};

/// An SRT passphrase read from a Secret. Debug prints a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Passphrase(String);

impl Passphrase {
    /// Checks a Secret value: a trailing newline (from `echo`) is dropped, spaces are kept (they
    /// are allowed); the rest must be 10–79 characters, the bounds MediaLive gives
    /// (https://docs.aws.amazon.com/medialive/latest/ug/input-listener-srt-prereqs.html) and
    /// libsrt's own. The error never quotes the value.
    pub fn parse(raw: &[u8]) -> Result<Self, &'static str> {
        let text = std::str::from_utf8(raw).map_err(|_| "is not UTF-8 text")?;
        let text = text.trim_end_matches(['\n', '\r']);
        match text.chars().count() {
            0..=9 => Err("is shorter than 10 characters"),
            10..=79 => Ok(Self(text.to_owned())),
            _ => Err("is longer than 79 characters"),
        }
    }

    /// The value, for the one request that sends it (CreateSecret / PutSecretValue).
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// The SRT input the spec asks for, with its passphrase.
#[derive(Clone, PartialEq)]
pub struct SrtTarget {
    pub mode: SrtMode,
    pub encryption: SrtEncryption,
    pub latency_msec: i32,
    pub stream_id: Option<String>,
    pub caller: Option<SrtCallerSpec>,
    pub recovery_window_days: Option<i32>,
    pub passphrase: Passphrase,
    /// The Secret it came from (for messages), and that Secret's uid (keys the version token).
    pub secret: String,
    pub secret_uid: String,
}

impl SrtTarget {
    pub fn of(spec: &SrtSpec, passphrase: Passphrase, secret_uid: String) -> Self {
        Self {
            mode: spec.mode,
            encryption: spec.encryption,
            latency_msec: spec.minimum_latency_msec,
            stream_id: spec.stream_id.clone(),
            caller: spec.caller.clone(),
            recovery_window_days: spec.recovery_window_days,
            passphrase,
            secret: spec.passphrase_secret_ref.name.clone(),
            secret_uid,
        }
    }

    /// The Secrets Manager version of this passphrase (`ClientRequestToken`, which becomes the
    /// VersionId): the same passphrase always gives the same token, so a retried put makes no
    /// second version and a rotated one is seen by comparing tokens — without the operator ever
    /// reading the value back. An HMAC keyed by the Secret's uid, so the token reveals nothing
    /// guessable to someone who may describe the AWS secret but not read the Kubernetes one.
    pub fn version_token(&self) -> String {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(self.secret_uid.as_bytes()).expect("HMAC takes any key");
        mac.update(self.passphrase.0.as_bytes());
        let digest = mac.finalize().into_bytes();
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// MediaLive's `SrtSettings` for the input, decrypting with the secret `secret_arn`.
    pub fn settings(&self, secret_arn: &str) -> SrtSettingsRequest {
        let algorithm = Algorithm::from(self.encryption.as_str());
        match (self.mode, &self.caller) {
            (SrtMode::Caller, Some(caller)) => SrtSettingsRequest::builder()
                .srt_caller_sources(
                    SrtCallerSourceRequest::builder()
                        .srt_listener_address(&caller.address)
                        .srt_listener_port(caller.port.to_string())
                        .minimum_latency(self.latency_msec)
                        .set_stream_id(self.stream_id.clone())
                        .decryption(
                            SrtCallerDecryptionRequest::builder()
                                .algorithm(algorithm)
                                .passphrase_secret_arn(secret_arn)
                                .build(),
                        )
                        .build(),
                )
                .build(),
            _ => SrtSettingsRequest::builder()
                .srt_listener_settings(
                    SrtListenerSettingsRequest::builder()
                        .minimum_latency(self.latency_msec)
                        .set_stream_id(self.stream_id.clone())
                        .decryption(
                            SrtListenerDecryptionRequest::builder()
                                .algorithm(algorithm)
                                .passphrase_secret_arn(secret_arn)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        }
    }

    /// The URL for status: MediaLive's destination URL with the stream id encoders send, or, in
    /// caller mode, the encoder's listener MediaLive calls. Never the passphrase.
    pub fn status_url(&self, destination: &str) -> String {
        match (self.mode, &self.caller) {
            (SrtMode::Caller, Some(c)) => format!("srt://{}:{}", c.address, c.port),
            _ => match &self.stream_id {
                Some(id) => format!("{destination}?streamid={id}"),
                None => destination.to_owned(),
            },
        }
    }

    /// For events and conditions.
    pub fn describe(&self) -> String {
        match (self.mode, &self.caller) {
            (SrtMode::Caller, Some(c)) => format!("SRT caller to {}:{}", c.address, c.port),
            _ => format!("SRT listener, passphrase from Secret {}", self.secret),
        }
    }

    /// Text from AWS or a log that may quote the passphrase, with it replaced.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.passphrase.0, "<redacted>")
    }
}

impl fmt::Debug for SrtTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The Secrets Manager secret the passphrase is kept in.
#[derive(Clone, Debug)]
pub struct SecretRequest {
    pub name: String,
    pub passphrase: Passphrase,
    pub version: String,
    pub recovery_window_days: Option<i32>,
}

impl SecretRequest {
    pub fn of(name: &str, target: &SrtTarget) -> Self {
        Self {
            name: name.to_owned(),
            passphrase: target.passphrase.clone(),
            version: target.version_token(),
            recovery_window_days: target.recovery_window_days,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PassphraseSecretRef;

    const SECRET: &str = "correct horse battery";

    fn target(passphrase: &str) -> SrtTarget {
        let spec = SrtSpec {
            mode: SrtMode::Listener,
            passphrase_secret_ref: PassphraseSecretRef {
                name: "srt".into(),
                key: "passphrase".into(),
            },
            encryption: SrtEncryption::Aes256,
            minimum_latency_msec: 1000,
            stream_id: Some("cam-1".into()),
            caller: None,
            recovery_window_days: None,
        };
        SrtTarget::of(&spec, Passphrase::parse(passphrase.as_bytes()).unwrap(), "uid-1".into())
    }

    #[test]
    fn passphrases_keep_spaces_lose_the_trailing_newline_and_keep_to_10_to_79_characters() {
        assert_eq!(
            Passphrase::parse(format!("{SECRET}\n").as_bytes()).unwrap().reveal(),
            SECRET
        );
        assert_eq!(Passphrase::parse(b"short"), Err("is shorter than 10 characters"));
        assert_eq!(Passphrase::parse(&[b'p'; 80]), Err("is longer than 79 characters"));
        assert!(Passphrase::parse(&[b'p'; 79]).is_ok());
        assert!(
            Passphrase::parse("é".repeat(10).as_bytes()).is_ok(),
            "characters, not bytes"
        );
        assert_eq!(Passphrase::parse(&[0xff; 12]), Err("is not UTF-8 text"));
    }

    #[test]
    fn the_passphrase_never_shows_and_its_version_changes_only_with_it() {
        let t = target(SECRET);
        for shown in [format!("{t:?}"), t.describe(), format!("{:?}", t.passphrase)] {
            assert!(!shown.contains(SECRET), "{shown}");
        }
        assert_eq!(t.redact(&format!("bad {SECRET}")), "bad <redacted>");
        assert_eq!(t.version_token(), target(SECRET).version_token());
        assert_ne!(t.version_token(), target("another passphrase").version_token());
        assert_eq!(t.version_token().len(), 32, "Secrets Manager takes 32–64 characters");
        assert!(!t.version_token().contains(SECRET));
    }

    #[test]
    fn a_listener_input_decrypts_with_the_secret_and_shows_the_stream_id() {
        let t = target(SECRET);
        let settings = t.settings("arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf");
        let listener = settings.srt_listener_settings().unwrap();
        assert_eq!(listener.minimum_latency(), Some(1000));
        let decryption = listener.decryption().unwrap();
        assert_eq!(decryption.algorithm().map(|a| a.as_str()), Some("AES256"));
        assert_eq!(
            decryption.passphrase_secret_arn(),
            Some("arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf")
        );
        assert_eq!(t.status_url("srt://1.2.3.4:5000"), "srt://1.2.3.4:5000?streamid=cam-1");
    }
}
