//! The MediaPackage channel MediaLive writes into. Its id is deterministic (the spec's channelId),
//! so a retried create finds the first one.

use aws_sdk_mediapackage::operation::describe_channel::DescribeChannelOutput;

use super::{AwsClients, Kind, Listed, Managed, Owner, PAGE, owner_name, owner_of};
use crate::error::{Error, Result, found};

#[derive(Clone, Debug, PartialEq)]
pub struct PackageChannel {
    pub id: String,
    pub owner: Option<String>,
    /// `namespace/name` of the LiveStream that owns it, if any.
    pub owner_name: Option<String>,
}

pub struct PackageChannelRequest {
    pub id: String,
    pub description: String,
}

/// The List item and the Describe answer carry the same fields.
macro_rules! package_channel_from {
    ($($answer:ty),+) => {$(
        impl From<$answer> for PackageChannel {
            fn from(c: $answer) -> Self {
                Self {
                    id: c.id.unwrap_or_default(),
                    owner: owner_of(c.tags.as_ref()),
                    owner_name: owner_name(c.tags.as_ref()),
                }
            }
        }
    )+};
}
package_channel_from!(aws_sdk_mediapackage::types::Channel, DescribeChannelOutput);

impl Managed for PackageChannel {
    const KIND: Kind = Kind::PackageChannel;
    type Desired = PackageChannelRequest;

    fn id(&self) -> &str {
        &self.id
    }

    fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// Nothing of it is managed after creation (the description is informational).
    fn differs(&self, _: &PackageChannelRequest) -> bool {
        false
    }

    async fn create(aws: &AwsClients, desired: &PackageChannelRequest, owner: &Owner<'_>) -> Result<Self> {
        let created = aws
            .mediapackage
            .create_channel()
            .id(&desired.id)
            .description(&desired.description)
            .set_tags(Some(owner.tags.clone()))
            .send()
            .await
            .map_err(|e| Error::aws("CreateChannel", e))?;
        Ok(Self {
            id: created.id.unwrap_or_else(|| desired.id.clone()),
            owner: owner_of(created.tags.as_ref()).or_else(|| Some(owner.uid.to_owned())),
            owner_name: owner_name(created.tags.as_ref()),
        })
    }

    async fn update(_: &AwsClients, current: &Self, _: &PackageChannelRequest) -> Result<Self> {
        Ok(current.clone())
    }

    async fn delete(aws: &AwsClients, current: &Self) -> Result<()> {
        let deleted = aws.mediapackage.delete_channel().id(&current.id).send().await;
        match found(deleted.map_err(|e| Error::aws("DeleteChannel", e))) {
            // Its endpoint is still being deleted.
            Err(e) if e.code() == Some("UnprocessableEntityException") => {
                Err(Error::Waiting(format!("MediaPackage channel {}: {e}", current.id)))
            }
            other => other.map(drop),
        }
    }
}

impl Listed for PackageChannel {
    async fn describe(aws: &AwsClients, id: &str) -> Result<Option<Self>> {
        let described = aws.mediapackage.describe_channel().id(id).send().await;
        Ok(found(described.map_err(|e| Error::aws("DescribeChannel", e)))?.map(Self::from))
    }

    async fn list(aws: &AwsClients) -> Result<Vec<Self>> {
        let mut all = Vec::new();
        let mut pages = aws
            .mediapackage
            .list_channels()
            .max_results(PAGE)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("ListChannels", e))?;
            all.extend(page.channels.unwrap_or_default().into_iter().map(Self::from));
        }
        Ok(all)
    }
}
