//! The secrets and their versions, with AWS Secrets Manager's rules: names unique per account
//! (a name stays taken while its secret waits out its recovery window), idempotent writes keyed
//! by `ClientRequestToken`, the staging labels AWSCURRENT / AWSPREVIOUS moving with each new
//! version, deletion scheduled 7 to 30 days ahead or forced at once. Errors carry AWS's words
//! (API reference: https://docs.aws.amazon.com/secretsmanager/latest/apireference/).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};

use crate::protocol::ApiError;

pub type Tags = Vec<(String, String)>;

pub struct Version {
    pub id: String,
    pub value: String,
    pub stages: Vec<&'static str>,
    pub created: Timestamp,
}

pub struct Secret {
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    pub tags: Tags,
    /// Newest last.
    pub versions: Vec<Version>,
    pub created: Timestamp,
    pub changed: Timestamp,
    /// When a scheduled deletion happens (DescribeSecret's `DeletedDate` is when it was asked).
    pub deletion: Option<(Timestamp, Timestamp)>,
}

impl Secret {
    pub fn current(&self) -> Option<&Version> {
        self.versions.iter().find(|v| v.stages.contains(&CURRENT))
    }
}

pub const CURRENT: &str = "AWSCURRENT";
pub const PREVIOUS: &str = "AWSPREVIOUS";

/// `ResourceNotFoundException`: the words AWS answers (e.g. ibm-mas/cli pull request #937,
/// "Secrets Manager can't find the specified secret").
pub fn not_found() -> ApiError {
    error(
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret.",
    )
}

/// A secret waiting out its recovery window refuses every change and read but restore and
/// describe (external-secrets/kubernetes-external-secrets issue #114; floci-io/floci PR #2555).
pub fn marked_for_deletion() -> ApiError {
    error(
        "InvalidRequestException",
        "You can't perform this operation on the secret because it was marked for deletion.",
    )
}

pub fn invalid_parameter(message: impl Into<String>) -> ApiError {
    error("InvalidParameterException", message)
}

pub fn error(kind: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::shaped(StatusCode::BAD_REQUEST, kind, message, &[])
}

/// Every secret of the account, by name.
#[derive(Default)]
pub struct Store {
    secrets: BTreeMap<String, Secret>,
}

/// What a write asked for: the value and its idempotency token.
pub struct Write<'a> {
    pub value: &'a str,
    pub token: Option<&'a str>,
}

impl Store {
    /// Forgets secrets whose recovery window has passed.
    pub fn expire(&mut self, now: Timestamp) {
        self.secrets.retain(|_, s| s.deletion.is_none_or(|(_, at)| at > now));
    }

    /// By name or by ARN (complete, or without its 6-character suffix).
    pub fn find(&self, id: &str) -> Option<&Secret> {
        self.secrets.get(id).or_else(|| {
            (self.secrets.values()).find(|s| s.arn == id || s.arn.rsplit_once('-').is_some_and(|(p, _)| p == id))
        })
    }

    fn find_mut(&mut self, id: &str) -> Option<&mut Secret> {
        let name = self.find(id)?.name.clone();
        self.secrets.get_mut(&name)
    }

    /// The secret, unless it is scheduled for deletion.
    pub fn live(&self, id: &str) -> Result<&Secret, ApiError> {
        let secret = self.find(id).ok_or_else(not_found)?;
        match secret.deletion {
            Some(_) => Err(marked_for_deletion()),
            None => Ok(secret),
        }
    }

    fn live_mut(&mut self, id: &str) -> Result<&mut Secret, ApiError> {
        self.live(id)?;
        Ok(self.find_mut(id).expect("found above"))
    }

    pub fn all(&self) -> impl Iterator<Item = &Secret> {
        self.secrets.values()
    }

    /// CreateSecret. A retry with the same token and value answers what the first call made.
    pub fn create(
        &mut self,
        arn: String,
        name: &str,
        write: Option<Write>,
        description: Option<String>,
        tags: Tags,
        now: Timestamp,
    ) -> Result<(&Secret, Option<String>), ApiError> {
        if let Some(existing) = self.secrets.get(name) {
            if existing.deletion.is_some() {
                // Public issues quote it (aws-ia/terraform-aws-eks-blueprints #1733, aws/copilot-cli #655).
                return Err(error(
                    "InvalidRequestException",
                    "You can't create this secret because a secret with this name is already scheduled for deletion.",
                ));
            }
            let retried = write.as_ref().and_then(|w| {
                let version = existing.versions.iter().find(|v| Some(v.id.as_str()) == w.token)?;
                Some(version.value == w.value)
            });
            return match retried {
                Some(true) => {
                    let id = write.and_then(|w| w.token).map(str::to_owned);
                    Ok((&self.secrets[name], id))
                }
                Some(false) => Err(token_reused()),
                None => Err(error(
                    "ResourceExistsException",
                    format!("The operation failed because the secret {name} already exists."),
                )),
            };
        }
        let mut secret = Secret {
            arn,
            name: name.to_owned(),
            description,
            tags,
            versions: Vec::new(),
            created: now,
            changed: now,
            deletion: None,
        };
        let version = write.map(|w| add_version(&mut secret, w, now));
        self.secrets.insert(name.to_owned(), secret);
        Ok((&self.secrets[name], version))
    }

    /// PutSecretValue: the new version is AWSCURRENT, the one it replaces AWSPREVIOUS.
    pub fn put(&mut self, id: &str, write: Write, now: Timestamp) -> Result<(&Secret, String), ApiError> {
        let secret = self.live_mut(id)?;
        if let Some(token) = write.token
            && let Some(version) = secret.versions.iter().find(|v| v.id == token)
        {
            if version.value != write.value {
                return Err(token_reused());
            }
            let id = version.id.clone();
            return Ok((secret, id));
        }
        let id = add_version(secret, write, now);
        Ok((secret, id))
    }

    /// DeleteSecret: scheduled `window` days ahead, or gone at once (`window` None).
    pub fn delete(
        &mut self,
        id: &str,
        window: Option<i64>,
        now: Timestamp,
    ) -> Result<(String, String, Timestamp), ApiError> {
        let secret = self.find_mut(id).ok_or_else(not_found)?;
        let (arn, name) = (secret.arn.clone(), secret.name.clone());
        match window {
            Some(days) => {
                if secret.deletion.is_some() {
                    return Err(marked_for_deletion());
                }
                let at = now + SignedDuration::from_hours(24 * days);
                secret.deletion = Some((now, at));
                Ok((arn, name, at))
            }
            None => {
                self.secrets.remove(&name);
                Ok((arn, name, now))
            }
        }
    }

    /// RestoreSecret: cancels a scheduled deletion.
    pub fn restore(&mut self, id: &str) -> Result<&Secret, ApiError> {
        let secret = self.find_mut(id).ok_or_else(not_found)?;
        secret.deletion = None;
        Ok(secret)
    }

    pub fn tag(&mut self, id: &str, tags: Tags) -> Result<(), ApiError> {
        let secret = self.live_mut(id)?;
        for (key, value) in tags {
            match secret.tags.iter_mut().find(|(k, _)| *k == key) {
                Some(kept) => kept.1 = value,
                None => secret.tags.push((key, value)),
            }
        }
        Ok(())
    }

    pub fn untag(&mut self, id: &str, keys: &[String]) -> Result<(), ApiError> {
        let secret = self.live_mut(id)?;
        secret.tags.retain(|(k, _)| !keys.contains(k));
        Ok(())
    }
}

/// The same token with another value (API reference, CreateSecret `ClientRequestToken`: "If a
/// version with this value already exists and that version's SecretString and SecretBinary
/// values are different from those in the request, then the request fails because you cannot
/// modify an existing version").
fn token_reused() -> ApiError {
    error(
        "ResourceExistsException",
        "You can't modify an existing version, you can only create a new version.",
    )
}

fn add_version(secret: &mut Secret, write: Write, now: Timestamp) -> String {
    for version in &mut secret.versions {
        version.stages.retain(|s| *s != PREVIOUS);
        if let Some(stage) = version.stages.iter_mut().find(|s| **s == CURRENT) {
            *stage = PREVIOUS;
        }
    }
    let id = write
        .token
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    secret.versions.push(Version {
        id: id.clone(),
        value: write.value.to_owned(),
        stages: vec![CURRENT],
        created: now,
    });
    secret.versions.retain(|v| !v.stages.is_empty());
    secret.changed = now;
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write<'a>(value: &'a str, token: &'a str) -> Option<Write<'a>> {
        Some(Write {
            value,
            token: Some(token),
        })
    }

    #[test]
    fn versions_rotate_and_tokens_make_writes_idempotent() {
        let now = Timestamp::now();
        let mut store = Store::default();
        let token = "a".repeat(32);
        store
            .create("arn:x-AbCdEf".into(), "x", write("one", &token), None, vec![], now)
            .unwrap();
        let (_, again) = store
            .create("arn:x-AbCdEf".into(), "x", write("one", &token), None, vec![], now)
            .unwrap();
        assert_eq!(again.as_deref(), Some(token.as_str()));
        let other = store.create("arn:x-AbCdEf".into(), "x", write("two", &token), None, vec![], now);
        assert_eq!(other.err().unwrap().kind, "ResourceExistsException");
        let (_, second) = store
            .put(
                "arn:x",
                Write {
                    value: "two",
                    token: None,
                },
                now,
            )
            .unwrap();
        let secret = store.find("x").unwrap();
        assert_eq!(secret.current().unwrap().id, second);
        assert_eq!(secret.versions[0].stages, [PREVIOUS]);
        store
            .put(
                "x",
                Write {
                    value: "three",
                    token: None,
                },
                now,
            )
            .unwrap();
        assert_eq!(
            store.find("x").unwrap().versions.len(),
            2,
            "a version without a label goes"
        );
    }

    #[test]
    fn a_secret_scheduled_for_deletion_blocks_its_name_until_the_window_passes() {
        let now = Timestamp::now();
        let mut store = Store::default();
        store
            .create("arn:s-AbCdEf".into(), "s", None, None, vec![], now)
            .unwrap();
        store.delete("s", Some(7), now).unwrap();
        assert_eq!(store.live("s").err().unwrap().kind, "InvalidRequestException");
        let again = store.create("arn:s-XyZxYz".into(), "s", None, None, vec![], now);
        assert!(again.err().unwrap().message.contains("already scheduled for deletion"));
        store.expire(now + SignedDuration::from_hours(24 * 7 - 1));
        assert!(store.find("s").is_some());
        store.expire(now + SignedDuration::from_hours(24 * 7 + 1));
        assert!(store.find("s").is_none());
    }
}
