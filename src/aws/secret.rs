//! The AWS Secrets Manager secret that holds an SRT input's passphrase, where MediaLive reads it
//! (the channel's role needs `secretsmanager:GetSecretValue` on it). The operator writes it and
//! never reads the value back: each passphrase has a deterministic version token
//! (`ClientRequestToken`, which becomes the VersionId), so a retried create or put makes no second
//! version, and a rotation shows as a current version that is not the spec's.

use aws_sdk_secretsmanager::{operation::describe_secret::DescribeSecretOutput, types::Tag};

use super::{AwsClients, Kind, Managed, Owner, owner_of};
use crate::{
    desired::srt::SecretRequest,
    error::{Error, Result, found},
};

/// The tag that keeps the recovery window the spec asked for, read when the secret is deleted
/// (teardown has no spec to ask).
const RECOVERY_WINDOW_TAG: &str = "livestream.io/recovery-window-days";

#[derive(Clone, Debug, PartialEq)]
pub struct Secret {
    pub arn: String,
    pub name: String,
    pub owner: Option<String>,
    /// The VersionId labelled AWSCURRENT.
    pub version: Option<String>,
    /// Days of recovery on deletion; `None`: deleted without recovery.
    pub recovery_window_days: Option<i64>,
}

impl From<DescribeSecretOutput> for Secret {
    fn from(d: DescribeSecretOutput) -> Self {
        let tags: std::collections::HashMap<String, String> = (d.tags.unwrap_or_default().into_iter())
            .filter_map(|t| Some((t.key?, t.value?)))
            .collect();
        let version = (d.version_ids_to_stages.unwrap_or_default().into_iter())
            .find(|(_, stages)| stages.iter().any(|s| s == "AWSCURRENT"))
            .map(|(id, _)| id);
        Self {
            arn: d.arn.unwrap_or_default(),
            name: d.name.unwrap_or_default(),
            owner: owner_of(Some(&tags)),
            version,
            recovery_window_days: tags.get(RECOVERY_WINDOW_TAG).and_then(|d| d.parse().ok()),
        }
    }
}

/// The secret named `name`, unless there is none or it is scheduled for deletion (which, for the
/// stream, is gone: its name holds the stream's uid, so nothing asks for it again).
pub async fn find(aws: &AwsClients, name: &str) -> Result<Option<Secret>> {
    let described = aws.secretsmanager.describe_secret().secret_id(name).send().await;
    let described = found(described.map_err(|e| Error::aws("DescribeSecret", e)))?;
    Ok(described.filter(|d| d.deleted_date.is_none()).map(Secret::from))
}

impl Managed for Secret {
    const KIND: Kind = Kind::Secret;
    type Desired = SecretRequest;

    fn id(&self) -> &str {
        &self.name
    }

    fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// The passphrase was rotated: the current version is not this passphrase's token.
    fn differs(&self, desired: &SecretRequest) -> bool {
        self.version.as_deref() != Some(desired.version.as_str())
    }

    async fn create(aws: &AwsClients, desired: &SecretRequest, owner: &Owner<'_>) -> Result<Self> {
        let mut tags: Vec<Tag> = (owner.tags_with_role().into_iter())
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        if let Some(days) = desired.recovery_window_days {
            tags.push(Tag::builder().key(RECOVERY_WINDOW_TAG).value(days.to_string()).build());
        }
        let created = aws
            .secretsmanager
            .create_secret()
            .name(&desired.name)
            .description("SRT passphrase of a LiveStream, copied from its Kubernetes Secret by livestream-operator")
            .secret_string(desired.passphrase.reveal())
            .client_request_token(&desired.version)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| Error::aws("CreateSecret", e))?;
        Ok(Self {
            arn: created.arn.unwrap_or_default(),
            name: created.name.unwrap_or_else(|| desired.name.clone()),
            owner: Some(owner.uid.to_owned()),
            version: created.version_id,
            recovery_window_days: desired.recovery_window_days.map(i64::from),
        })
    }

    /// A new version, made current: MediaLive reads it the next time it fetches the passphrase.
    async fn update(aws: &AwsClients, current: &Self, desired: &SecretRequest) -> Result<Self> {
        let put = aws
            .secretsmanager
            .put_secret_value()
            .secret_id(&current.arn)
            .secret_string(desired.passphrase.reveal())
            .client_request_token(&desired.version)
            .send()
            .await
            .map_err(|e| Error::aws("PutSecretValue", e))?;
        Ok(Self {
            version: put.version_id,
            ..current.clone()
        })
    }

    /// At once, unless the spec asked for a recovery window: the Kubernetes Secret is the
    /// original, so a recoverable AWS copy would only keep the passphrase longer.
    async fn delete(aws: &AwsClients, current: &Self) -> Result<()> {
        let delete = aws.secretsmanager.delete_secret().secret_id(&current.arn);
        let delete = match current.recovery_window_days {
            Some(days) => delete.recovery_window_in_days(days),
            None => delete.force_delete_without_recovery(true),
        };
        let deleted = delete.send().await;
        found(deleted.map_err(|e| Error::aws("DeleteSecret", e))).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::tag;

    #[test]
    fn the_current_version_owner_and_window_are_read_from_the_description() {
        let described = DescribeSecretOutput::builder()
            .arn("arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf")
            .name("s")
            .version_ids_to_stages("old", vec!["AWSPREVIOUS".into()])
            .version_ids_to_stages("new", vec!["AWSCURRENT".into()])
            .tags(Tag::builder().key(tag::UID).value("u").build())
            .tags(Tag::builder().key(RECOVERY_WINDOW_TAG).value("7").build())
            .build();
        let secret = Secret::from(described);
        assert_eq!(secret.version.as_deref(), Some("new"));
        assert_eq!(secret.owner.as_deref(), Some("u"));
        assert_eq!(secret.recovery_window_days, Some(7));
    }
}
