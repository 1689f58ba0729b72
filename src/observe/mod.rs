//! Observe: one snapshot of every AWS resource a LiveStream owns (`Observed`), read through the
//! operator-wide `ReadCache` (`read_cache`), which reads each kind through a `KindCache` (`cache`:
//! what is read how, and when an answer may be reused). Ids in status are only a cache; the owner
//! tags are the truth, which is how a restarted operator adopts what it created before a crash.

pub mod cache;
mod read_cache;
mod slot;

use std::collections::BTreeMap;

pub use cache::Freshness;
pub use read_cache::ReadCache;
pub use slot::Slot;

use crate::{
    api::{AwsResources, DeliveryMode, PackagingVersion},
    aws::{
        Channel, Endpoint, Input, PackageChannel, Role, SecurityGroup, cloudfront::Distribution,
        origin_endpoint::OriginEndpoint, package_v2::ChannelV2, page::Page,
    },
    desired::mediapackagev2::ManifestKind,
};

/// What AWS holds of one stream, as of this pass.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    pub package_channel: Option<PackageChannel>,
    pub endpoint: Option<Endpoint>,
    pub security_group: Option<SecurityGroup>,
    /// The stream's inputs by role.
    pub inputs: BTreeMap<Role, Input>,
    /// The Secrets Manager secret of an SRT input's passphrase (read by the pass, by name).
    pub secret: Option<crate::aws::secret::Secret>,
    pub channel: Option<Channel>,
    /// MediaPackage v2, when the stream uses it or used it (its group is in status).
    pub v2: Option<ObservedV2>,
    /// The CloudFront distribution, when the stream uses one or had one (read by the run, not
    /// the fleets: it is found by id or by the uid in its comment).
    pub distribution: Option<Distribution>,
    /// The player page, as status recorded it (see `aws::page`).
    pub page: Option<Page>,
}

/// The stream's MediaPackage v2 channel and endpoints, in `group`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedV2 {
    pub group: String,
    pub channel: Option<ChannelV2>,
    pub endpoints: Vec<OriginEndpoint>,
}

/// The playback URLs of the version a stream is packaged with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Playback {
    pub hls: Option<String>,
    pub low_latency_hls: Option<String>,
    pub dash: Option<String>,
}

impl Observed {
    /// The input encoders push to first (its URL is the stream's ingest URL).
    pub fn primary_input(&self) -> Option<&Input> {
        self.inputs.get(&Role::Primary)
    }

    pub fn playback(&self, version: PackagingVersion) -> Playback {
        match version {
            PackagingVersion::V1 => Playback {
                hls: self.endpoint.as_ref().and_then(|e| e.url.clone()),
                ..Playback::default()
            },
            PackagingVersion::V2 => {
                let url = |kind: ManifestKind| {
                    let endpoints = self.v2.iter().flat_map(|v2| &v2.endpoints);
                    endpoints
                        .filter(|e| e.name == kind.endpoint_name())
                        .find_map(|e| e.url.clone())
                };
                Playback {
                    hls: url(ManifestKind::Hls),
                    low_latency_hls: url(ManifestKind::LowLatencyHls),
                    dash: url(ManifestKind::Dash),
                }
            }
        }
    }

    /// The URLs viewers use: through the distribution with delivery CloudFront, once there is one.
    pub fn delivered(&self, version: PackagingVersion, mode: DeliveryMode) -> Playback {
        let origin = self.playback(version);
        let Some(d) = self.distribution.as_ref().filter(|_| mode == DeliveryMode::CloudFront) else {
            return origin;
        };
        let through = |url: Option<String>| url.and_then(|u| crate::desired::cloudfront::viewer_url(&u, &d.domain));
        Playback {
            hls: through(origin.hls),
            low_latency_hls: through(origin.low_latency_hls),
            dash: through(origin.dash),
        }
    }

    /// The ids for status.
    pub fn ids(&self) -> AwsResources {
        AwsResources {
            input_security_group_id: self.security_group.as_ref().map(|g| g.id.clone()),
            input_id: self.primary_input().map(|i| i.id.clone()),
            srt_passphrase_secret_arn: self.secret.as_ref().map(|s| s.arn.clone()),
            channel_id: self.channel.as_ref().map(|c| c.id.clone()),
            channel_arn: self.channel.as_ref().and_then(|c| c.arn.clone()),
            media_package_channel_id: self.package_channel.as_ref().map(|c| c.id.clone()),
            origin_endpoint_id: self.endpoint.as_ref().map(|e| e.id.clone()),
            channel_group: self
                .v2
                .as_ref()
                .filter(|v2| v2.channel.is_some())
                .map(|v2| v2.group.clone()),
            media_package_v2_channel_arn: self
                .v2
                .as_ref()
                .and_then(|v2| v2.channel.as_ref())
                .map(|c| c.arn.clone()),
            origin_endpoint_arns: self
                .v2
                .iter()
                .flat_map(|v2| &v2.endpoints)
                .map(|e| e.arn.clone())
                .collect(),
        }
    }
}
