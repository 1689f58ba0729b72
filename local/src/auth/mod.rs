//! Who is calling. Every API request must be signed with AWS Signature Version 4 by a key this
//! server holds: `--credentials FILE` (JSON, see [`KeyFile`]), or without it the single key
//! `local` / `local`, an administrator of the account (no policy: every action allowed) and of
//! livestream-local itself (the admin API takes only keys marked `"administrator": true`).
//!
//! A key may carry a session token and its expiration (temporary credentials, as STS hands
//! out) and an identity policy (IAM's grammar, see [`crate::iam`]) that every action it signs is
//! checked against.

pub mod sigv4;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use anyhow::Context;
use serde::Deserialize;

use crate::iam::{
    Policy,
    actions::{self, Asked, Scope},
};

/// The credentials file: `{"keys": [{"accessKeyId": ..., "secretAccessKey": ..., ...}]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    pub keys: Vec<KeyEntry>,
    /// The identity policies of IAM roles services act with (a MediaLive channel's `roleArn`).
    #[serde(default)]
    pub roles: Vec<RoleEntry>,
}

/// A role and its identity policy: `{"name": "MediaLiveAccessRole", "policy": {...}}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleEntry {
    pub name: String,
    pub policy: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyEntry {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Temporary credentials: requests must carry this `X-Amz-Security-Token`.
    pub session_token: Option<String>,
    /// When the session token stops working (RFC 3339).
    pub expiration: Option<jiff::Timestamp>,
    /// The IAM user the key belongs to (its ARN names it in AccessDenied messages).
    pub user: Option<String>,
    /// An identity policy document, inline.
    pub policy: Option<serde_json::Value>,
    /// Or a file holding one, relative to the credentials file.
    pub policy_file: Option<PathBuf>,
    /// May use livestream-local's admin API (`/_local/*`: credentials, faults, reset).
    #[serde(default)]
    pub administrator: bool,
}

impl KeyFile {
    /// The one key of a server started without a credentials file: an administrator.
    fn default_key() -> Self {
        let (id, secret) = DEFAULT_KEY;
        Self {
            keys: vec![KeyEntry {
                access_key_id: id.into(),
                secret_access_key: secret.into(),
                session_token: None,
                expiration: None,
                user: Some("local".into()),
                policy: None,
                policy_file: None,
                administrator: true,
            }],
            roles: Vec::new(),
        }
    }
}

/// What is wrong with a request's session token, if anything; each service words it its way.
#[derive(Debug, PartialEq)]
pub enum Session {
    /// Missing, unexpected, or not this key's.
    Invalid,
    Expired,
}

/// One access key and what it may do.
#[derive(Debug)]
pub struct Key {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub expiration: Option<jiff::Timestamp>,
    /// `arn:aws:iam::ACCOUNT:user/NAME`.
    pub principal_arn: String,
    /// None: every action is allowed (the account's administrator).
    pub policy: Option<Policy>,
    /// May use the admin API.
    pub administrator: bool,
}

/// The access keys this server accepts, by access key id (replaceable through the admin API,
/// `PUT /_local/credentials`, as an administrator edits IAM).
pub struct Keys {
    keys: RwLock<HashMap<String, Arc<Key>>>,
    /// Declared roles' policies, by role ARN.
    roles: RwLock<HashMap<String, Arc<Policy>>>,
    account_id: String,
    service_principal: Arc<ServiceKey>,
}

/// The key a service principal signs its requests to S3 with (CloudFront's edge, through an
/// origin access control): made at startup, known only inside the process, accepted only by S3 and
/// only as that service principal (never by the API services, never replaced with the keys).
#[derive(Debug)]
pub struct ServiceKey {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl ServiceKey {
    fn generate(prefix: &str) -> Self {
        let random = |n: usize| hex::encode_upper((0..n).map(|_| rand::random::<u8>()).collect::<Vec<_>>());
        Self {
            access_key_id: format!("{prefix}{}", random(8)),
            secret_access_key: random(20),
        }
    }
}

/// The key livestream-local accepts when no credentials file is given.
pub const DEFAULT_KEY: (&str, &str) = ("local", "local");

impl Keys {
    pub fn load(path: Option<&Path>, account_id: &str) -> anyhow::Result<Self> {
        let (file, dir) = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                let file: KeyFile =
                    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
                (file, path.parent().unwrap_or(Path::new(".")))
            }
            None => (KeyFile::default_key(), Path::new(".")),
        };
        let roles = read_roles(&file.roles, account_id)?;
        let keys = read_keys(file, dir, account_id)?;
        anyhow::ensure!(!keys.is_empty(), "the credentials hold no keys");
        Ok(Self {
            keys: RwLock::new(keys),
            roles: RwLock::new(roles),
            account_id: account_id.to_owned(),
            service_principal: Arc::new(ServiceKey::generate("ASIASERVICE")),
        })
    }

    /// The key a service principal signs with (see [`ServiceKey`]).
    pub fn service_principal(&self) -> Arc<ServiceKey> {
        self.service_principal.clone()
    }

    /// Replaces every key (policy files relative to the working directory).
    pub fn replace(&self, file: KeyFile) -> anyhow::Result<()> {
        let roles = read_roles(&file.roles, &self.account_id)?;
        let keys = read_keys(file, Path::new("."), &self.account_id)?;
        anyhow::ensure!(!keys.is_empty(), "no keys");
        *self.keys.write().unwrap() = keys;
        *self.roles.write().unwrap() = roles;
        Ok(())
    }

    /// Whether a service acting with `role` (an ARN of this account) may do `action` on
    /// `resource`. A role the credentials declare is held to its policy; an undeclared role of the
    /// account is unrestricted, as every role was before roles could be declared (MediaLive's
    /// writes to S3 and MediaPackage are not checked against any role policy).
    pub fn role_allows(&self, role: &str, action: &str, resource: &str) -> bool {
        let prefix = format!("arn:aws:iam::{}:role/", self.account_id);
        if role.strip_prefix(&prefix).is_none_or(|name| name.is_empty()) {
            return false;
        }
        let Some(policy) = self.roles.read().unwrap().get(role).cloned() else {
            return true;
        };
        let context = HashMap::from([("aws:principalarn".to_owned(), vec![role.to_owned()])]);
        let request = crate::iam::Request {
            action,
            resource,
            context: &context,
        };
        policy.evaluate(&request) == crate::iam::Decision::Allow
    }

    pub fn get(&self, access_key_id: &str) -> Option<Arc<Key>> {
        self.keys.read().unwrap().get(access_key_id).cloned()
    }
}

fn read_roles(roles: &[RoleEntry], account_id: &str) -> anyhow::Result<HashMap<String, Arc<Policy>>> {
    (roles.iter())
        .map(|role| {
            let policy = Policy::parse(&role.policy).with_context(|| format!("the policy of role {}", role.name))?;
            Ok((
                format!("arn:aws:iam::{account_id}:role/{}", role.name),
                Arc::new(policy),
            ))
        })
        .collect()
}

fn read_keys(file: KeyFile, dir: &Path, account_id: &str) -> anyhow::Result<HashMap<String, Arc<Key>>> {
    let mut keys = HashMap::new();
    for entry in file.keys {
        let document = match (&entry.policy, &entry.policy_file) {
            (Some(policy), _) => Some(policy.clone()),
            (None, Some(file)) => {
                let file = dir.join(file);
                let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
                Some(serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?)
            }
            (None, None) => None,
        };
        let policy = document
            .map(|d| Policy::parse(&d))
            .transpose()
            .with_context(|| format!("the policy of key {}", entry.access_key_id))?;
        let user = entry.user.as_deref().unwrap_or(&entry.access_key_id);
        let key = Key {
            principal_arn: format!("arn:aws:iam::{account_id}:user/{user}"),
            access_key_id: entry.access_key_id.clone(),
            secret_access_key: entry.secret_access_key,
            session_token: entry.session_token,
            expiration: entry.expiration,
            policy,
            administrator: entry.administrator,
        };
        keys.insert(entry.access_key_id, Arc::new(key));
    }
    Ok(keys)
}

impl Key {
    /// Temporary credentials need their token, and only until they expire.
    pub fn check_session(&self, token: Option<&str>, now: jiff::Timestamp) -> Result<(), Session> {
        match (&self.session_token, token) {
            (None, None) => Ok(()),
            (Some(expected), Some(sent)) if expected == sent => match self.expiration {
                Some(expiry) if expiry <= now => Err(Session::Expired),
                _ => Ok(()),
            },
            _ => Err(Session::Invalid),
        }
    }
}

/// A verified caller of one request, and where its resources live.
#[derive(Clone, Debug)]
pub struct Caller {
    pub key: Arc<Key>,
    pub region: String,
    pub account: String,
}

impl Caller {
    pub fn scope(&self) -> Scope<'_> {
        Scope {
            region: &self.region,
            account: &self.account,
            principal_arn: &self.key.principal_arn,
        }
    }

    /// None when the caller's policy allows `asked`; else AWS's words for the refusal.
    pub fn refusal(&self, asked: &Asked) -> Option<String> {
        actions::refusal(self.key.policy.as_ref(), &self.key.principal_arn, asked)
    }

    /// The refusal of `asked` before its body is read: when no statement of the caller's
    /// policy allows the action on any resource, nothing in the body can change that.
    pub fn refusal_before_body(&self, asked: &Asked) -> Option<String> {
        let policy = self.key.policy.as_ref()?;
        if policy.may_allow(&asked.action) {
            return None;
        }
        self.refusal(asked)
    }

    /// `iam:PassRole` of a role of this account to `service`.
    pub fn may_pass_role(&self, role: &str, service: &str) -> bool {
        let prefix = format!("arn:aws:iam::{}:role/", self.account);
        let in_account = role.strip_prefix(&prefix).is_some_and(|name| !name.is_empty());
        in_account
            && self
                .refusal(&actions::pass_role(&self.scope(), role, service))
                .is_none()
    }
}
