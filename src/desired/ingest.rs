//! Where the encoder publishes: the RTMP input's `app/instance`, either spelled out in the spec or
//! with the instance (the stream key) taken from a Secret — or an SRT input (`srt`). The key is
//! wrapped so that no Debug or Display of it can reach a log, an event or status by accident.

use std::fmt;

use aws_sdk_medialive::types::InputDestinationRequest;

use super::srt::SrtTarget;
use crate::api::{InputSpec, SecretKeyRef};

/// The input the spec asks for: RTMP push or SRT.
#[derive(Clone, PartialEq, Debug)]
pub enum IngestTarget {
    Rtmp(RtmpTarget),
    Srt(SrtTarget),
}

impl IngestTarget {
    /// The spec's `app/instance`.
    pub fn public(input: &InputSpec) -> Self {
        Self::Rtmp(RtmpTarget::public(input))
    }

    /// The spec's app with the key from `secret`.
    pub fn with_secret_key(input: &InputSpec, secret: &SecretKeyRef, key: StreamKey) -> Self {
        Self::Rtmp(RtmpTarget::with_secret_key(input, secret, key))
    }

    pub fn srt(&self) -> Option<&SrtTarget> {
        match self {
            Self::Srt(srt) => Some(srt),
            Self::Rtmp(_) => None,
        }
    }

    /// CreateInput / UpdateInput destinations, one per pipeline: RTMP's carry the stream name;
    /// an SRT listener's are empty (MediaLive assigns address and port); a caller has none.
    pub fn destinations(&self, pipelines: usize) -> Vec<InputDestinationRequest> {
        match self {
            Self::Rtmp(rtmp) => rtmp.destinations(pipelines),
            Self::Srt(srt) if srt.mode == crate::api::SrtMode::Listener => {
                vec![InputDestinationRequest::builder().build(); pipelines]
            }
            Self::Srt(_) => Vec::new(),
        }
    }

    /// Whether an input destination URL already serves this target.
    pub fn matches(&self, url: &str) -> bool {
        match self {
            Self::Rtmp(rtmp) => rtmp.matches(url),
            Self::Srt(_) => url.starts_with("srt://"),
        }
    }

    /// The URL for status (see `RtmpTarget::status_url`, `SrtTarget::status_url`).
    pub fn status_url(&self, url: &str) -> Option<String> {
        match self {
            Self::Rtmp(rtmp) => rtmp.status_url(url),
            Self::Srt(srt) => Some(srt.status_url(url)),
        }
    }

    /// Text from AWS about a request that carried a secret, with it replaced.
    pub fn redact(&self, text: &str) -> String {
        match self {
            Self::Rtmp(rtmp) => rtmp.redact(text),
            Self::Srt(srt) => srt.redact(text),
        }
    }

    /// For events and conditions.
    pub fn describe(&self) -> String {
        match self {
            Self::Rtmp(rtmp) => rtmp.describe(),
            Self::Srt(srt) => srt.describe(),
        }
    }
}

/// A stream key read from a Secret. Debug and Display print a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct StreamKey(String);

impl StreamKey {
    /// Checks a Secret value: surrounding whitespace (a trailing newline from `echo`) is dropped;
    /// the rest must be 1–64 letters, digits, '-' or '_', which MediaLive and RTMP encoders accept.
    /// The error never quotes the value.
    pub fn parse(raw: &[u8]) -> Result<Self, &'static str> {
        let text = std::str::from_utf8(raw).map_err(|_| "is not UTF-8 text")?.trim();
        if text.is_empty() {
            return Err("is empty");
        }
        if text.len() > 64 {
            return Err("is longer than 64 characters");
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("may contain only letters, digits, '-' and '_'");
        }
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Debug for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StreamKey(<redacted>)")
    }
}

/// The input's destination and how to talk about it without revealing a secret key.
#[derive(Clone, PartialEq, Eq)]
pub struct RtmpTarget {
    app: String,
    instance: Instance,
}

#[derive(Clone, PartialEq, Eq)]
enum Instance {
    /// From `spec.input.streamName`: not secret, shown in status.
    Public(String),
    /// From a Secret: never shown.
    Secret { key: StreamKey, secret: String },
}

impl RtmpTarget {
    /// The spec's `app/instance`.
    pub fn public(input: &InputSpec) -> Self {
        let (app, instance) = split(&input.stream_name);
        Self {
            app: app.to_owned(),
            instance: Instance::Public(instance.to_owned()),
        }
    }

    /// The spec's app with the key from `secret`.
    pub fn with_secret_key(input: &InputSpec, secret: &SecretKeyRef, key: StreamKey) -> Self {
        Self {
            app: split(&input.stream_name).0.to_owned(),
            instance: Instance::Secret {
                key,
                secret: secret.name.clone(),
            },
        }
    }

    /// `app/instance` as MediaLive takes it (holds the key: send it, never print it).
    fn stream_name(&self) -> String {
        match &self.instance {
            Instance::Public(instance) => format!("{}/{instance}", self.app),
            Instance::Secret { key, .. } => format!("{}/{}", self.app, key.0),
        }
    }

    /// CreateInput / UpdateInput destinations: `app/instance` once per pipeline (two make a
    /// standard-class input).
    pub fn destinations(&self, pipelines: usize) -> Vec<InputDestinationRequest> {
        let destination = InputDestinationRequest::builder()
            .stream_name(self.stream_name())
            .build();
        vec![destination; pipelines]
    }

    /// Whether an input destination URL (`rtmp://host:port/app/instance`) already publishes here.
    pub fn matches(&self, url: &str) -> bool {
        url.strip_suffix(&self.stream_name())
            .is_some_and(|server| server.ends_with('/'))
    }

    /// The URL for status: whole when the instance is public and the input has it; otherwise only
    /// the server part `rtmp://host:port/app`, so an old or secret key is never shown — and nothing
    /// when the URL has an unexpected shape.
    pub fn status_url(&self, url: &str) -> Option<String> {
        match &self.instance {
            Instance::Public(_) if self.matches(url) => Some(url.to_owned()),
            _ => server_part(url),
        }
    }

    /// Text from AWS about a request that carried the key (an error message may quote it), with
    /// the key replaced.
    pub fn redact(&self, text: &str) -> String {
        match &self.instance {
            Instance::Secret { key, .. } => text.replace(&key.0, "<redacted>"),
            Instance::Public(_) => text.to_owned(),
        }
    }

    /// For events and conditions: `live/launch-event`, or `live/<key from Secret obs-key>`.
    pub fn describe(&self) -> String {
        match &self.instance {
            Instance::Public(instance) => format!("{}/{instance}", self.app),
            Instance::Secret { secret, .. } => format!("{}/<key from Secret {secret}>", self.app),
        }
    }
}

impl fmt::Debug for RtmpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// `rtmp://host:port/app/instance` → `rtmp://host:port/app` (what OBS calls the Server); `None` for
/// any other shape, which might hold a key where this does not expect one.
pub fn server_part(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let (_, path) = rest.split_once('/')?;
    let (app, instance) = path.split_once('/')?;
    (!app.is_empty() && !instance.is_empty() && !instance.contains('/'))
        .then(|| url[..url.len() - instance.len() - 1].to_owned())
}

fn split(stream_name: &str) -> (&str, &str) {
    stream_name.split_once('/').unwrap_or((stream_name, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "Zq3-vK9_secretvalue";

    fn input() -> InputSpec {
        InputSpec {
            stream_name: "live/launch-event".into(),
            ..Default::default()
        }
    }

    fn secret_target() -> RtmpTarget {
        let secret = SecretKeyRef {
            name: "obs-key".into(),
            key: "streamKey".into(),
        };
        RtmpTarget::with_secret_key(
            &input(),
            &secret,
            StreamKey::parse(format!("{KEY}\n").as_bytes()).unwrap(),
        )
    }

    #[test]
    fn a_spec_stream_name_is_sent_and_shown_as_is() {
        let target = RtmpTarget::public(&input());
        assert_eq!(target.destinations(1)[0].stream_name(), Some("live/launch-event"));
        let url = "rtmp://10.0.0.1:1935/live/launch-event";
        assert!(target.matches(url));
        assert!(!target.matches("rtmp://10.0.0.1:1935/live/xlaunch-event"));
        assert_eq!(target.status_url(url).as_deref(), Some(url));
        assert_eq!(
            target.status_url("rtmp://10.0.0.1:1935/live/old").as_deref(),
            Some("rtmp://10.0.0.1:1935/live")
        );
    }

    #[test]
    fn a_secret_key_is_sent_but_never_shown() {
        let target = secret_target();
        assert_eq!(
            target.destinations(1)[0].stream_name().map(str::to_owned),
            Some(format!("live/{KEY}")),
            "the trailing newline is dropped"
        );
        let url = format!("rtmp://10.0.0.1:1935/live/{KEY}");
        assert!(target.matches(&url));
        assert_eq!(target.status_url(&url).as_deref(), Some("rtmp://10.0.0.1:1935/live"));
        assert_eq!(
            target.status_url(&format!("odd:{KEY}")),
            None,
            "an unexpected shape is not shown"
        );
        assert_eq!(
            target.redact(&format!("Invalid destination streamName \"live/{KEY}\"")),
            "Invalid destination streamName \"live/<redacted>\""
        );
        for shown in [
            target.describe(),
            format!("{target:?}"),
            format!("{:?}", secret_target().instance_key()),
        ] {
            assert!(!shown.contains(KEY), "{shown}");
        }
        assert_eq!(target.describe(), "live/<key from Secret obs-key>");
    }

    #[test]
    fn bad_keys_are_refused_without_quoting_them() {
        for (raw, why) in [
            (&b""[..], "is empty"),
            (b"  \n", "is empty"),
            (b"has space", "may contain only letters, digits, '-' and '_'"),
            (b"a/b", "may contain only letters, digits, '-' and '_'"),
            (&[0xff, 0xfe], "is not UTF-8 text"),
        ] {
            assert_eq!(StreamKey::parse(raw), Err(why));
        }
        assert_eq!(StreamKey::parse(&[b'k'; 65]), Err("is longer than 64 characters"));
        assert!(StreamKey::parse(&[b'k'; 64]).is_ok());
    }

    impl RtmpTarget {
        fn instance_key(&self) -> Option<&StreamKey> {
            match &self.instance {
                Instance::Secret { key, .. } => Some(key),
                Instance::Public(_) => None,
            }
        }
    }

    #[test]
    fn server_part_drops_only_the_instance() {
        assert_eq!(
            server_part("rtmp://1.2.3.4:1935/live/k").as_deref(),
            Some("rtmp://1.2.3.4:1935/live")
        );
        for odd in [
            "rtmp://1.2.3.4:1935/",
            "rtmp://1.2.3.4:1935/live",
            "rtmp://h/a/b/c",
            "not a url",
        ] {
            assert_eq!(server_part(odd), None, "{odd}");
        }
    }
}
