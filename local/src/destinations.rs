//! What MediaLive asks of the MediaPackage services its channels write to, as narrow traits each
//! of them implements (as `media::InputGate` is what the RTMP front door asks of MediaLive): no
//! service imports another, and `main` hands MediaLive the two it registered.

/// MediaPackage (v1) as a channel's destination.
pub trait PackageV1: Send + Sync {
    /// Whether MediaLive sees channel `id`: it exists and its consistency delay has passed.
    fn channel_visible(&self, id: &str) -> bool;
}

/// MediaPackage v2 as a channel's destination.
pub trait PackageV2: Send + Sync {
    fn channel_exists(&self, group: &str, channel: &str) -> bool;

    /// The longest startover window of the channel's origin endpoints, in seconds (how long its
    /// segments must be kept for harvest jobs); None without one.
    fn longest_startover_window(&self, group: &str, channel: &str) -> Option<f64>;
}

/// Secrets Manager as a running channel reads it: an SRT input's passphrase, fetched with the
/// channel's role (`secretsmanager:GetSecretValue` on the secret), as MediaLive does at run time
/// (MediaLive user guide, "Requirements for Secrets Manager secrets":
/// https://docs.aws.amazon.com/medialive/latest/ug/requirements-for-secrets.html).
pub trait SecretsRead: Send + Sync {
    /// The current `SecretString` of `secret_arn`, as `role` reads it; Err says why not (never
    /// the value).
    fn secret_string_as(&self, role: Option<&str>, secret_arn: &str) -> Result<String, SecretRefusal>;
}

/// Why a role could not read a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRefusal {
    /// The role (or no role at all) is not allowed `secretsmanager:GetSecretValue` on it.
    AccessDenied(String),
    /// No such secret, or it is scheduled for deletion, or it has no string value.
    Unreadable(String),
}
