//! The channel's engine version: the one it runs, when that expires (MediaLive then moves the
//! channel to a newer one, which may change its output), and a condition weeks ahead so the move
//! is made on the user's schedule: pin a newer `spec.engineVersion` and test it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::{
    apimachinery::pkg::apis::meta::v1::{Condition, Time},
    jiff::{SignedDuration, Timestamp},
};

use crate::{
    api::{ChannelStatus, condition_type},
    aws::{AwsClients, Channel, channel::engine_versions},
};

/// How long before its expiry a version is reported.
pub const WARN_BEFORE: SignedDuration = SignedDuration::from_secs(28 * 24 * 3600);
/// ListVersions changes when AWS releases a version: asked at most this often.
const LISTED_FOR: Duration = Duration::from_secs(3600);

/// The version a channel runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Engine {
    pub version: String,
    pub expires: Option<Timestamp>,
    /// The version offered that expires last, when it is not this one (named near the expiry).
    pub newer: Option<String>,
}

/// (When listed, the versions with their expiry.)
type Listed = (Instant, Vec<(String, Option<String>)>);
static LISTED: Mutex<Option<Listed>> = Mutex::new(None);

/// The engine `channel` runs: its version as described, the expiry as described or else listed
/// (ListVersions), and a newer version once it expires soon. `None` when AWS names no version.
pub async fn of(aws: &AwsClients, channel: &Channel, now: Timestamp) -> Option<Engine> {
    let (version, described) = channel.engine_version()?;
    let mut expires = described.as_deref().and_then(|d| d.parse::<Timestamp>().ok());
    // Unknown, expired, or expiring within the warning: worth naming the version to move to.
    let soon = |e: &Option<Timestamp>| e.is_none_or(|e| e.duration_since(now) < WARN_BEFORE);
    let mut newer = None;
    if soon(&expires) {
        let listed = listed(aws).await;
        if expires.is_none() {
            let own = listed.iter().find(|(v, _)| *v == version);
            expires = own.and_then(|(_, e)| e.as_deref()?.parse().ok());
        }
        // The version that lasts longest is the one to move to.
        newer = (listed.iter())
            .filter(|(v, _)| *v != version)
            .max_by_key(|(_, e)| e.clone())
            .map(|(v, _)| v.clone());
    }
    Some(Engine {
        version,
        expires,
        newer: newer.filter(|_| soon(&expires)),
    })
}

async fn listed(aws: &AwsClients) -> Vec<(String, Option<String>)> {
    if let Some((at, versions)) = LISTED.lock().ok().and_then(|l| l.clone())
        && at.elapsed() < LISTED_FOR
    {
        return versions;
    }
    // Without the list the expiry is unknown: no condition is worse than a failed pass.
    let versions = Box::pin(engine_versions(aws)).await.unwrap_or_default();
    if let Ok(mut kept) = LISTED.lock() {
        *kept = Some((Instant::now(), versions.clone()));
    }
    versions
}

/// `status.channel`: the engine and what the channel encodes.
pub fn status(channel: &Channel, engine: Option<&Engine>) -> ChannelStatus {
    let videos = (channel.settings.as_ref())
        .and_then(|s| s["EncoderSettings"]["VideoDescriptions"].as_array().cloned())
        .unwrap_or_default();
    let video = videos
        .iter()
        .map(|v| {
            let codec = (v["CodecSettings"].as_object())
                .and_then(|c| c.keys().next().cloned())
                .map_or_else(|| "?".into(), |k| k.trim_end_matches("Settings").to_uppercase());
            let size = match (v["Width"].as_i64(), v["Height"].as_i64()) {
                (Some(w), Some(h)) => format!(" {w}x{h}"),
                _ => String::new(),
            };
            format!("{}: {codec}{size}", v["Name"].as_str().unwrap_or_default())
        })
        .collect();
    ChannelStatus {
        engine_version: engine.map(|e| e.version.clone()),
        engine_expires_at: engine.and_then(|e| e.expires).map(Time),
        video,
    }
}

/// The EngineExpiring condition.
pub fn condition(engine: &Engine, now: Timestamp, generation: Option<i64>) -> Condition {
    let version = &engine.version;
    let advice = match &engine.newer {
        Some(newer) => format!("; set spec.engineVersion: {newer} and test the stream on it before then"),
        None => String::new(),
    };
    let (status, reason, message) = match engine.expires {
        Some(at) if at <= now => (
            "True",
            "EngineVersionExpired",
            format!("MediaLive channel engine {version} expired on {at}{advice}"),
        ),
        Some(at) if at.duration_since(now) < WARN_BEFORE => (
            "True",
            "EngineVersionExpiring",
            format!("MediaLive channel engine {version} expires on {at}{advice}"),
        ),
        Some(at) => ("False", "EngineVersionCurrent", format!("{version} until {at}")),
        None => ("False", "EngineVersionCurrent", format!("{version}, no expiry known")),
    };
    Condition {
        type_: condition_type::ENGINE_EXPIRING.into(),
        status: status.into(),
        reason: reason.into(),
        message,
        observed_generation: generation,
        last_transition_time: Time(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(expires: &str, newer: Option<&str>) -> Engine {
        Engine {
            version: "1.2".into(),
            expires: Some(expires.parse().unwrap()),
            newer: newer.map(str::to_owned),
        }
    }

    #[test]
    fn weeks_before_the_expiry_the_condition_names_the_version_to_move_to() {
        let now: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
        let far = condition(&engine("2027-06-01T00:00:00Z", None), now, Some(3));
        assert_eq!(
            (far.status.as_str(), far.reason.as_str()),
            ("False", "EngineVersionCurrent")
        );
        let soon = condition(&engine("2027-01-15T00:00:00Z", Some("2.0")), now, Some(3));
        assert_eq!(
            (soon.status.as_str(), soon.reason.as_str()),
            ("True", "EngineVersionExpiring")
        );
        assert!(soon.message.contains("spec.engineVersion: 2.0"), "{}", soon.message);
        let gone = condition(&engine("2026-12-01T00:00:00Z", None), now, Some(3));
        assert_eq!(gone.reason, "EngineVersionExpired");
    }
}
