//! Reading AWS: find the resources that belong to a LiveStream. Ids cached in status are tried
//! first (one Describe); the owner tags are the source of truth, so a missing or foreign cached id
//! falls back to listing by tag (a listing shared between streams, see `listings`). That is how the
//! operator adopts what it created before a crash.

use std::collections::HashMap;

use aws_sdk_medialive::{
    operation::{
        describe_channel::DescribeChannelOutput, describe_input::DescribeInputOutput,
        describe_input_security_group::DescribeInputSecurityGroupOutput,
    },
    types::{ChannelState, InputState},
};
use aws_sdk_mediapackage::operation::{
    describe_channel::DescribeChannelOutput as PackageChannel, describe_origin_endpoint::DescribeOriginEndpointOutput,
};

use super::listings::Listings;
use crate::{
    aws::AwsClients,
    desired::tag,
    error::{Error, Result, found},
};

pub(super) fn owned(tags: Option<&HashMap<String, String>>, uid: &str) -> bool {
    tags.and_then(|t| t.get(tag::UID)).is_some_and(|owner| owner == uid)
}

/// Who owns a resource, for messages about a name clash.
pub fn owner(tags: Option<&HashMap<String, String>>) -> String {
    let get = |k: &str| tags.and_then(|t| t.get(k)).cloned().unwrap_or_else(|| "?".into());
    match tags.and_then(|t| t.get(tag::UID)) {
        Some(_) => format!("LiveStream {}/{}", get(tag::NAMESPACE), get(tag::NAME)),
        None => "something other than livestream-operator".into(),
    }
}

pub async fn package_channel(aws: &AwsClients, id: &str) -> Result<Option<PackageChannel>> {
    found(
        aws.mediapackage
            .describe_channel()
            .id(id)
            .send()
            .await
            .map_err(|e| Error::aws("DescribeChannel", e)),
    )
}

pub async fn endpoint(aws: &AwsClients, id: &str) -> Result<Option<DescribeOriginEndpointOutput>> {
    found(
        aws.mediapackage
            .describe_origin_endpoint()
            .id(id)
            .send()
            .await
            .map_err(|e| Error::aws("DescribeOriginEndpoint", e)),
    )
}

pub async fn security_group(
    aws: &AwsClients,
    listings: &Listings,
    cached: Option<&str>,
    uid: &str,
) -> Result<Option<DescribeInputSecurityGroupOutput>> {
    let describe = |id: String| async move {
        found(
            aws.medialive
                .describe_input_security_group()
                .input_security_group_id(id)
                .send()
                .await
                .map_err(|e| Error::aws("DescribeInputSecurityGroup", e)),
        )
    };
    let listed = listings.security_group_id(aws, uid);
    cached_or_listed(cached, uid, describe, |g| g.tags.as_ref(), listed).await
}

/// The input, unless it is deleted.
pub async fn input(
    aws: &AwsClients,
    listings: &Listings,
    cached: Option<&str>,
    uid: &str,
) -> Result<Option<DescribeInputOutput>> {
    let describe = |id: String| async move {
        let input = found(
            aws.medialive
                .describe_input()
                .input_id(id)
                .send()
                .await
                .map_err(|e| Error::aws("DescribeInput", e)),
        )?;
        Ok::<_, Error>(input.filter(|i| i.state != Some(InputState::Deleted)))
    };
    let listed = listings.input_id(aws, uid);
    cached_or_listed(cached, uid, describe, |i| i.tags.as_ref(), listed).await
}

/// The channel, unless it is deleted.
pub async fn channel(
    aws: &AwsClients,
    listings: &Listings,
    cached: Option<&str>,
    uid: &str,
) -> Result<Option<DescribeChannelOutput>> {
    let describe = |id: String| async move {
        let channel = found(
            aws.medialive
                .describe_channel()
                .channel_id(id)
                .send()
                .await
                .map_err(|e| Error::aws("DescribeChannel", e)),
        )?;
        Ok::<_, Error>(channel.filter(|c| c.state != Some(ChannelState::Deleted)))
    };
    let listed = listings.channel_id(aws, uid);
    cached_or_listed(cached, uid, describe, |c| c.tags.as_ref(), listed).await
}

/// The resource under the cached id while it is still ours; otherwise the one the listing names
/// (listed only then), described afresh.
async fn cached_or_listed<T, Fut>(
    cached: Option<&str>,
    uid: &str,
    describe: impl Fn(String) -> Fut,
    tags: fn(&T) -> Option<&HashMap<String, String>>,
    listed: impl Future<Output = Result<Option<String>>>,
) -> Result<Option<T>>
where
    Fut: Future<Output = Result<Option<T>>>,
{
    if let Some(id) = cached
        && let Some(resource) = describe(id.to_owned()).await?
        && owned(tags(&resource), uid)
    {
        return Ok(Some(resource));
    }
    match listed.await? {
        Some(id) => describe(id).await,
        None => Ok(None),
    }
}

/// A MediaPackage resource with our deterministic id must carry our tags; anything else is a clash
/// the user has to resolve (we never adopt or delete what we did not create).
pub fn check_owner(kind: &str, id: &str, tags: Option<&HashMap<String, String>>, uid: &str) -> Result<()> {
    if owned(tags, uid) {
        Ok(())
    } else {
        Err(Error::Conflict(format!(
            "{kind} {id} already exists and belongs to {}; choose another spec.channelId",
            owner(tags)
        )))
    }
}
