//! MediaPackage v2: the shared channel group and the stream's channel in it (its origin endpoints
//! are `origin_endpoint`). Names are deterministic (group from the spec or the operator, channel =
//! channel id) and creates carry a client token derived from the stream's uid, so a retried
//! create finds the first one instead of making a second.

use aws_sdk_mediapackagev2::{primitives::DateTime, types::InputType};

use super::{AwsClients, Ensured, Kind, Managed, Owner, Shared, owner_name, owner_of};
use crate::{
    desired::{mediapackagev2::ChannelRequest, tag},
    error::{Error, Result, found},
};

/// The stream's v2 channel, as GetChannel describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelV2 {
    pub group: String,
    pub name: String,
    pub arn: String,
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    /// When MediaPackage last changed it: a listing showing the same time shows it unchanged.
    pub modified_at: Option<DateTime>,
}

/// A channel as ListChannels names it.
#[derive(Clone, Debug)]
pub struct ListedChannel {
    pub name: String,
    pub modified_at: DateTime,
}

/// Every channel in `group` (pages of 100, v2's largest).
pub async fn list_channels(aws: &AwsClients, group: &str) -> Result<Vec<ListedChannel>> {
    let mut all = Vec::new();
    let listing = aws
        .mediapackagev2
        .list_channels()
        .channel_group_name(group)
        .max_results(100);
    let mut pages = listing.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match found(page.map_err(|e| Error::aws("ListChannels", e)))? {
            Some(page) => page,
            // No group: no channel.
            None => return Ok(Vec::new()),
        };
        all.extend(page.items.into_iter().flatten().map(|c| ListedChannel {
            name: c.channel_name,
            modified_at: c.modified_at,
        }));
    }
    Ok(all)
}

/// A client token: the same create retried is the same request to MediaPackage.
pub(super) fn client_token(uid: &str, what: &str) -> String {
    let mut token = format!("{uid}-{what}");
    token.truncate(256);
    token
}

/// A MediaPackage v2 channel group: the streams' channels share it.
pub struct ChannelGroup;

impl Shared for ChannelGroup {
    /// Tagged as the operator's, not a stream's.
    async fn ensure(aws: &AwsClients, group: &str) -> Result<Ensured> {
        let created = ensure_group(aws, group).await?;
        Ok(Ensured {
            id: group.to_owned(),
            created,
        })
    }

    /// Once no channel is left in it, if the operator made it.
    async fn retire(aws: &AwsClients, group: &str) -> Result<bool> {
        retire_group(aws, group).await
    }
}

async fn ensure_group(aws: &AwsClients, group: &str) -> Result<bool> {
    let got = aws
        .mediapackagev2
        .get_channel_group()
        .channel_group_name(group)
        .send()
        .await;
    if found(got.map_err(|e| Error::aws("GetChannelGroup", e)))?.is_some() {
        return Ok(false);
    }
    let created = aws
        .mediapackagev2
        .create_channel_group()
        .channel_group_name(group)
        .client_token(client_token("livestream-operator", group))
        .description("Channel group of the livestream-operator's streams")
        .tags(tag::MANAGED_BY, tag::OPERATOR)
        .send()
        .await;
    match created.map_err(|e| Error::aws("CreateChannelGroup", e)) {
        // Another stream created it a moment ago.
        Err(e) if e.code() == Some("ConflictException") => Ok(false),
        other => other.map(|_| true),
    }
}

/// A channel that joins meanwhile makes MediaPackage refuse (ConflictException), which leaves it.
async fn retire_group(aws: &AwsClients, group: &str) -> Result<bool> {
    let got = aws
        .mediapackagev2
        .get_channel_group()
        .channel_group_name(group)
        .send()
        .await;
    let Some(described) = found(got.map_err(|e| Error::aws("GetChannelGroup", e)))? else {
        return Ok(true);
    };
    let ours = described
        .tags
        .as_ref()
        .and_then(|t| t.get(tag::MANAGED_BY))
        .is_some_and(|v| v == tag::OPERATOR);
    if !ours {
        return Ok(false);
    }
    let listed = aws
        .mediapackagev2
        .list_channels()
        .channel_group_name(group)
        .max_results(1)
        .send()
        .await
        .map_err(|e| Error::aws("ListChannels", e))?;
    if !listed.items.unwrap_or_default().is_empty() {
        return Ok(false);
    }
    let deleted = aws
        .mediapackagev2
        .delete_channel_group()
        .channel_group_name(group)
        .send()
        .await;
    match found(deleted.map_err(|e| Error::aws("DeleteChannelGroup", e))) {
        Err(e) if e.code() == Some("ConflictException") => Ok(false),
        other => other.map(|_| true),
    }
}

pub async fn get_channel(aws: &AwsClients, group: &str, name: &str) -> Result<Option<ChannelV2>> {
    let got = aws
        .mediapackagev2
        .get_channel()
        .channel_group_name(group)
        .channel_name(name)
        .send()
        .await;
    Ok(found(got.map_err(|e| Error::aws("GetChannel", e)))?.map(|c| ChannelV2 {
        group: c.channel_group_name,
        name: c.channel_name,
        arn: c.arn,
        owner: owner_of(c.tags.as_ref()),
        owner_name: owner_name(c.tags.as_ref()),
        modified_at: Some(c.modified_at),
    }))
}

impl Managed for ChannelV2 {
    const KIND: Kind = Kind::ChannelV2;
    type Desired = ChannelRequest;

    fn id(&self) -> &str {
        &self.name
    }

    fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// Nothing of it is managed after creation.
    fn differs(&self, _: &ChannelRequest) -> bool {
        false
    }

    /// A CMAF-ingest channel: MediaLive's MediaPackage output group sends CMAF to v2. One a pass
    /// made before it crashed (the same client token, or the name taken) is adopted.
    async fn create(aws: &AwsClients, want: &ChannelRequest, owner: &Owner<'_>) -> Result<Self> {
        let created = aws
            .mediapackagev2
            .create_channel()
            .channel_group_name(&want.group)
            .channel_name(&want.name)
            .client_token(client_token(owner.uid, &want.name))
            .input_type(InputType::Cmaf)
            .description(&want.description)
            .set_tags(Some(owner.tags.clone()))
            .send()
            .await
            .map_err(|e| Error::aws("CreateChannel", e));
        match created {
            Ok(created) => Ok(Self {
                group: created.channel_group_name,
                name: created.channel_name,
                arn: created.arn,
                owner: owner_of(created.tags.as_ref()).or_else(|| Some(owner.uid.to_owned())),
                owner_name: owner_name(created.tags.as_ref()),
                modified_at: Some(created.modified_at),
            }),
            Err(e) if e.code() == Some("ConflictException") => get_channel(aws, &want.group, &want.name)
                .await?
                .ok_or_else(|| Error::Waiting(format!("MediaPackage v2 channel {}: {e}", want.name))),
            Err(e) => Err(e),
        }
    }

    async fn update(_: &AwsClients, current: &Self, _: &ChannelRequest) -> Result<Self> {
        Ok(current.clone())
    }

    /// Endpoints still in it are waited for.
    async fn delete(aws: &AwsClients, current: &Self) -> Result<()> {
        let (group, name) = (&current.group, &current.name);
        let deleted = aws
            .mediapackagev2
            .delete_channel()
            .channel_group_name(group)
            .channel_name(name)
            .send()
            .await;
        match found(deleted.map_err(|e| Error::aws("DeleteChannel", e))) {
            Err(e) if e.code() == Some("ConflictException") => {
                Err(Error::Waiting(format!("MediaPackage v2 channel {group}/{name}: {e}")))
            }
            other => other.map(drop),
        }
    }
}
