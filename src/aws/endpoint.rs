//! The MediaPackage HLS origin endpoint (id `<channelId>-hls`): segment length, playlist window,
//! bitrate filter and stream order.

use aws_sdk_mediapackage::{operation::describe_origin_endpoint::DescribeOriginEndpointOutput, types::HlsPackage};

use super::{AwsClients, Kind, Listed, Managed, Owner, PAGE, owner_name, owner_of};
use crate::error::{Error, Result, found};

#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub id: String,
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    /// The HLS master playlist.
    pub url: Option<String>,
    pub hls: Option<HlsPackage>,
}

pub struct EndpointRequest {
    pub id: String,
    pub channel_id: String,
    pub hls: HlsPackage,
}

/// The List item and the Describe answer carry the same fields.
macro_rules! endpoint_from {
    ($($answer:ty),+) => {$(
        impl From<$answer> for Endpoint {
            fn from(e: $answer) -> Self {
                Self {
                    id: e.id.unwrap_or_default(),
                    owner: owner_of(e.tags.as_ref()),
                    owner_name: owner_name(e.tags.as_ref()),
                    url: e.url,
                    hls: e.hls_package,
                }
            }
        }
    )+};
}
endpoint_from!(
    aws_sdk_mediapackage::types::OriginEndpoint,
    DescribeOriginEndpointOutput
);

/// Segment, window, bitrate filter or order differ.
pub fn hls_differs(described: Option<&HlsPackage>, desired: &HlsPackage) -> bool {
    let Some(now) = described else { return true };
    let owned = |p: &HlsPackage| {
        let selection = p.stream_selection.as_ref().map(|s| {
            (
                s.min_video_bits_per_second,
                s.max_video_bits_per_second,
                s.stream_order.clone(),
            )
        });
        (p.segment_duration_seconds, p.playlist_window_seconds, selection)
    };
    owned(now) != owned(desired)
}

impl Managed for Endpoint {
    const KIND: Kind = Kind::Endpoint;
    type Desired = EndpointRequest;

    fn id(&self) -> &str {
        &self.id
    }

    fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    fn differs(&self, desired: &EndpointRequest) -> bool {
        hls_differs(self.hls.as_ref(), &desired.hls)
    }

    async fn create(aws: &AwsClients, desired: &EndpointRequest, owner: &Owner<'_>) -> Result<Self> {
        let created = aws
            .mediapackage
            .create_origin_endpoint()
            .id(&desired.id)
            .channel_id(&desired.channel_id)
            .manifest_name("index")
            .hls_package(desired.hls.clone())
            .set_tags(Some(owner.tags.clone()))
            .send()
            .await
            .map_err(|e| match Error::aws("CreateOriginEndpoint", e) {
                // Eventual consistency: the channel created a moment ago may not be visible yet.
                e if e.is_not_found() => Error::Waiting(format!(
                    "MediaPackage channel {} is not visible yet",
                    desired.channel_id
                )),
                e => e,
            })?;
        Ok(Self {
            id: created.id.unwrap_or_else(|| desired.id.clone()),
            owner: owner_of(created.tags.as_ref()).or_else(|| Some(owner.uid.to_owned())),
            owner_name: owner_name(created.tags.as_ref()),
            url: created.url,
            hls: created.hls_package,
        })
    }

    async fn update(aws: &AwsClients, current: &Self, desired: &EndpointRequest) -> Result<Self> {
        let updated = aws
            .mediapackage
            .update_origin_endpoint()
            .id(&current.id)
            .hls_package(desired.hls.clone())
            .send()
            .await
            .map_err(|e| Error::aws("UpdateOriginEndpoint", e))?;
        Ok(Self {
            url: updated.url.or_else(|| current.url.clone()),
            hls: updated.hls_package.or_else(|| Some(desired.hls.clone())),
            ..current.clone()
        })
    }

    async fn delete(aws: &AwsClients, current: &Self) -> Result<()> {
        let deleted = aws.mediapackage.delete_origin_endpoint().id(&current.id).send().await;
        found(deleted.map_err(|e| Error::aws("DeleteOriginEndpoint", e))).map(drop)
    }
}

impl Listed for Endpoint {
    async fn describe(aws: &AwsClients, id: &str) -> Result<Option<Self>> {
        let described = aws.mediapackage.describe_origin_endpoint().id(id).send().await;
        Ok(found(described.map_err(|e| Error::aws("DescribeOriginEndpoint", e)))?.map(Self::from))
    }

    async fn list(aws: &AwsClients) -> Result<Vec<Self>> {
        let mut all = Vec::new();
        let list = aws.mediapackage.list_origin_endpoints().max_results(PAGE);
        let mut pages = list.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("ListOriginEndpoints", e))?;
            all.extend(page.origin_endpoints.unwrap_or_default().into_iter().map(Self::from));
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{api::LiveStreamSpec, desired::mediapackage::hls_package};

    #[test]
    fn hls_window_change_is_drift() {
        let spec = |v| serde_json::from_value::<LiveStreamSpec>(v).unwrap();
        let before = hls_package(&spec(json!({})).packaging.hls);
        let after = hls_package(
            &spec(json!({"packaging": {"hls": {"playlistWindowSeconds": 120}}}))
                .packaging
                .hls,
        );
        assert!(!hls_differs(Some(&before), &before));
        assert!(hls_differs(Some(&before), &after));
        assert!(hls_differs(None, &after));
    }
}
