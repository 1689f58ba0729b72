//! Channel engine versions: what `ListVersions` (`GET /prod/versions`) serves, what
//! `channelEngineVersion: {version}` in CreateChannel / UpdateChannel may name, and what a channel
//! describes back (`channelEngineVersion: {version, expirationDate}`). A leaf config reads (plain
//! data, `--medialive-engine-versions`).
//!
//! The model documents the shapes only: `version` is "the build identifier of the engine version",
//! `'DEFAULT'` "resets to the default version", `expirationDate` is "the UTC time when the version
//! expires". No public example of a real build identifier or of the refusal of an unknown one was
//! found, so these are choices, each said where it is made:
//! - the identifiers served by default (`2.4.0`, `2.5.0`) are ours, configurable;
//! - a channel that names no version (or `DEFAULT`) runs the newest one: the one that expires
//!   last;
//! - a version past its expiration date is no longer listed and no longer accepted;
//! - an unknown or expired version is a 422 validation error at `channelEngineVersion.version`,
//!   in our words.

use serde_json::{Value, json};

/// Two versions, the older one expiring two weeks after the server starts: an operator that warns
/// about expiring versions has something to warn about.
pub const DEFAULT: &str = "2.4.0=+14d,2.5.0=+194d";

/// The value that resets a channel to the default version (the model's documentation).
const RESET: &str = "DEFAULT";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineVersion {
    pub version: String,
    pub expires: jiff::Timestamp,
}

impl EngineVersion {
    /// As the model's `ChannelEngineVersionResponse` puts it on the wire.
    pub fn to_json(&self) -> Value {
        json!({ "version": self.version, "expirationDate": self.expires.to_string() })
    }
}

/// The versions this account may run, as configured (oldest first by convention).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineVersions {
    versions: Vec<EngineVersion>,
}

impl EngineVersions {
    /// `VERSION=EXPIRY[,VERSION=EXPIRY...]`; EXPIRY is an RFC 3339 time (`2026-09-01T00:00:00Z`)
    /// or `+Nd`, midnight UTC N days after the server starts.
    pub fn parse(text: &str) -> Result<Self, String> {
        let now = jiff::Timestamp::now();
        let mut versions: Vec<EngineVersion> = Vec::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (version, expiry) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?}: expected VERSION=EXPIRY"))?;
            let version = version.trim();
            if version.is_empty() || version == RESET || versions.iter().any(|v| v.version == version) {
                return Err(format!("{version:?}: a version is named once, and not {RESET}"));
            }
            versions.push(EngineVersion {
                version: version.to_owned(),
                expires: expiry_of(expiry.trim(), now)?,
            });
        }
        if versions.is_empty() {
            return Err("at least one engine version is needed".into());
        }
        Ok(Self { versions })
    }

    /// The versions not expired at `now`, as ListVersions lists them.
    pub fn available(&self, now: jiff::Timestamp) -> Vec<&EngineVersion> {
        self.versions.iter().filter(|v| v.expires > now).collect()
    }

    /// What a channel asking for `requested` (its `channelEngineVersion` member as sent) runs:
    /// the version it names, or the newest available one when it names none or `DEFAULT`.
    /// Err: the named version is not available (the 422's message).
    pub fn resolve(&self, requested: Option<&Value>, now: jiff::Timestamp) -> Result<Option<EngineVersion>, String> {
        let available = self.available(now);
        match requested.and_then(|r| r["version"].as_str()) {
            None | Some(RESET) => Ok(available.into_iter().max_by_key(|v| v.expires).cloned()),
            Some(name) => match available.iter().find(|v| v.version == name) {
                Some(found) => Ok(Some((*found).clone())),
                None => {
                    let names: Vec<&str> = available.iter().map(|v| v.version.as_str()).collect();
                    Err(format!(
                        "Channel engine version {name} is not available; available versions: {}",
                        names.join(", ")
                    ))
                }
            },
        }
    }
}

fn expiry_of(text: &str, now: jiff::Timestamp) -> Result<jiff::Timestamp, String> {
    if let Some(days) = text.strip_prefix('+').and_then(|d| d.strip_suffix('d')) {
        let days: i64 = days.parse().map_err(|_| format!("{text:?}: expected +Nd"))?;
        let day = now.as_second().div_euclid(86_400) + days;
        return jiff::Timestamp::from_second(day * 86_400).map_err(|e| e.to_string());
    }
    text.parse()
        .map_err(|e| format!("{text:?}: neither +Nd nor an RFC 3339 time: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn parses_absolute_and_relative_expiries() {
        let v = EngineVersions::parse("a=2026-01-01T00:00:00Z, b=+10d").unwrap();
        assert_eq!(v.versions[0].expires, at("2026-01-01T00:00:00Z"));
        let b = v.versions[1].expires;
        assert_eq!(b.as_second() % 86_400, 0, "midnight UTC");
        let days = (b.as_second() - jiff::Timestamp::now().as_second()) as f64 / 86_400.0;
        assert!((9.0..=10.0).contains(&days), "{days}");
        assert!(EngineVersions::parse("").is_err());
        assert!(EngineVersions::parse("a=+1d,a=+2d").is_err());
        assert!(EngineVersions::parse("DEFAULT=+1d").is_err());
        assert!(EngineVersions::parse("a=tomorrow").is_err());
        assert_eq!(EngineVersions::parse(DEFAULT).unwrap().versions.len(), 2);
    }

    #[test]
    fn a_channel_runs_the_version_it_names_or_the_newest() {
        let v = EngineVersions::parse("old=2026-02-01T00:00:00Z,new=2026-08-01T00:00:00Z").unwrap();
        let now = at("2026-01-15T00:00:00Z");
        let named = |name: &str| v.resolve(Some(&json!({ "version": name })), now);
        assert_eq!(named("old").unwrap().unwrap().version, "old");
        assert_eq!(named("DEFAULT").unwrap().unwrap().version, "new");
        assert_eq!(v.resolve(None, now).unwrap().unwrap().version, "new");
        assert!(named("nope").unwrap_err().contains("available versions: old, new"));
        assert_eq!(
            named("old").unwrap().unwrap().to_json(),
            json!({"version": "old", "expirationDate": "2026-02-01T00:00:00Z"})
        );
        // Once expired, a version is neither listed nor accepted.
        let later = at("2026-03-01T00:00:00Z");
        assert_eq!(v.available(later).len(), 1);
        assert!(v.resolve(Some(&json!({"version": "old"})), later).is_err());
        let gone = at("2027-01-01T00:00:00Z");
        assert_eq!(v.resolve(None, gone), Ok(None));
    }
}
