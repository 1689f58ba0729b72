//! MediaPackage v2: the shared channel group, the stream's channel in it, and its origin
//! endpoints. Names are deterministic (group from the spec or the operator, channel = channel id,
//! endpoints by manifest kind) and creates carry a client token derived from the stream's uid, so
//! a retried create finds the first one instead of making a second.

use std::collections::HashMap;

use aws_sdk_mediapackagev2::types::{
    ContainerType, CreateDashManifestConfiguration, CreateHlsManifestConfiguration,
    CreateLowLatencyHlsManifestConfiguration, DashUtcTiming, DashUtcTimingMode, FilterConfiguration, InputType,
    Segment,
};

use aws_sdk_mediapackagev2::primitives::DateTime;

use super::{AwsClients, owner_name, owner_of};
use crate::{
    api::Container,
    desired::{
        mediapackagev2::{ChannelRequest, EndpointRequest, MANIFEST, ManifestKind},
        tag,
    },
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

/// One origin endpoint, condensed to what the operator decides on.
#[derive(Clone, Debug, PartialEq)]
pub struct OriginEndpoint {
    pub name: String,
    pub arn: String,
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    pub e_tag: Option<String>,
    /// What the endpoint holds, in the spec's terms (kind from its one manifest).
    pub settings: Option<EndpointRequest>,
    /// The manifest's playback URL.
    pub url: Option<String>,
}

impl OriginEndpoint {
    /// It differs from the spec in something the operator owns.
    pub fn differs(&self, want: &EndpointRequest) -> bool {
        self.settings.as_ref() != Some(want)
    }

    /// A changed container needs a new endpoint: the update could not convert the segments.
    pub fn needs_replacing(&self, want: &EndpointRequest) -> bool {
        self.settings
            .as_ref()
            .is_some_and(|s| s.container != want.container || s.kind != want.kind)
    }
}

/// A client token: the same create retried is the same request to MediaPackage.
fn client_token(uid: &str, what: &str) -> String {
    let mut token = format!("{uid}-{what}");
    token.truncate(256);
    token
}

/// Whether the group exists; creates it (tagged as the operator's, not a stream's: it is shared)
/// when it does not.
pub async fn ensure_group(aws: &AwsClients, group: &str) -> Result<bool> {
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

/// Deletes the group when the operator created it and no channel is left in it; a channel that
/// joins meanwhile makes MediaPackage refuse (ConflictException), which leaves it. Ok(true): gone.
pub async fn retire_group(aws: &AwsClients, group: &str) -> Result<bool> {
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

/// A CMAF-ingest channel: MediaLive's MediaPackage output group sends CMAF to v2.
pub async fn create_channel(
    aws: &AwsClients,
    want: &ChannelRequest,
    uid: &str,
    tags: &HashMap<String, String>,
) -> Result<ChannelV2> {
    let created = aws
        .mediapackagev2
        .create_channel()
        .channel_group_name(&want.group)
        .channel_name(&want.name)
        .client_token(client_token(uid, &want.name))
        .input_type(InputType::Cmaf)
        .description(&want.description)
        .set_tags(Some(tags.clone()))
        .send()
        .await
        .map_err(|e| Error::aws("CreateChannel", e))?;
    Ok(ChannelV2 {
        group: created.channel_group_name,
        name: created.channel_name,
        arn: created.arn,
        owner: owner_of(created.tags.as_ref()).or_else(|| Some(uid.to_owned())),
        owner_name: owner_name(created.tags.as_ref()),
        modified_at: Some(created.modified_at),
    })
}

/// "Already gone" is success; endpoints still in it are waited for.
pub async fn delete_channel(aws: &AwsClients, group: &str, name: &str) -> Result<()> {
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

/// The endpoints of the stream's channel the operator names (one per manifest kind).
pub async fn get_endpoints(aws: &AwsClients, group: &str, channel: &str) -> Result<Vec<OriginEndpoint>> {
    let reads = ManifestKind::ALL.map(|kind| get_endpoint(aws, group, channel, kind.endpoint_name()));
    Ok(futures::future::try_join_all(reads)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

pub async fn get_endpoint(aws: &AwsClients, group: &str, channel: &str, name: &str) -> Result<Option<OriginEndpoint>> {
    let got = aws
        .mediapackagev2
        .get_origin_endpoint()
        .channel_group_name(group)
        .channel_name(channel)
        .origin_endpoint_name(name)
        .send()
        .await;
    let Some(e) = found(got.map_err(|e| Error::aws("GetOriginEndpoint", e)))? else {
        return Ok(None);
    };
    let container = match e.container_type {
        ContainerType::Ts => Some(Container::Ts),
        ContainerType::Cmaf => Some(Container::Cmaf),
        _ => None,
    };
    let filter = |f: Option<&FilterConfiguration>| f.and_then(|f| f.manifest_filter.clone());
    let hls = e.hls_manifests.iter().flatten().map(|m| {
        (
            ManifestKind::Hls,
            &m.manifest_name,
            m.manifest_window_seconds,
            filter(m.filter_configuration.as_ref()),
            &m.url,
        )
    });
    let low = e.low_latency_hls_manifests.iter().flatten().map(|m| {
        let f = filter(m.filter_configuration.as_ref());
        (
            ManifestKind::LowLatencyHls,
            &m.manifest_name,
            m.manifest_window_seconds,
            f,
            &m.url,
        )
    });
    let dash = e.dash_manifests.iter().flatten().map(|m| {
        (
            ManifestKind::Dash,
            &m.manifest_name,
            m.manifest_window_seconds,
            filter(m.filter_configuration.as_ref()),
            &m.url,
        )
    });
    let manifests: Vec<_> = hls.chain(low).chain(dash).collect();
    // The operator's endpoints carry exactly one manifest, named MANIFEST; anything else is drift.
    let settings = match (manifests.as_slice(), container) {
        ([(kind, manifest, window, filter, _)], Some(container)) if *manifest == MANIFEST => Some(EndpointRequest {
            name: e.origin_endpoint_name.clone(),
            kind: *kind,
            container,
            segment_duration_seconds: e.segment.as_ref().and_then(|s| s.segment_duration_seconds).unwrap_or(6),
            startover_window_seconds: e.startover_window_seconds,
            manifest_window_seconds: window.unwrap_or(60),
            manifest_filter: filter.clone(),
        }),
        _ => None,
    };
    Ok(Some(OriginEndpoint {
        url: manifests.first().map(|m| m.4.clone()),
        name: e.origin_endpoint_name,
        arn: e.arn,
        owner: owner_of(e.tags.as_ref()),
        owner_name: owner_name(e.tags.as_ref()),
        e_tag: e.e_tag,
        settings,
    }))
}

fn container_type(c: Container) -> ContainerType {
    match c {
        Container::Ts => ContainerType::Ts,
        Container::Cmaf => ContainerType::Cmaf,
    }
}

fn filter_of(want: &EndpointRequest) -> Option<FilterConfiguration> {
    (want.manifest_filter.as_ref()).map(|f| FilterConfiguration::builder().manifest_filter(f).build())
}

/// The endpoint's one manifest, as Create and UpdateOriginEndpoint take it.
struct Manifests {
    hls: Option<Vec<CreateHlsManifestConfiguration>>,
    low_latency: Option<Vec<CreateLowLatencyHlsManifestConfiguration>>,
    dash: Option<Vec<CreateDashManifestConfiguration>>,
}

fn manifests(want: &EndpointRequest) -> Result<Manifests> {
    let built = |e: aws_sdk_mediapackagev2::error::BuildError| Error::Invalid(format!("manifest: {e}"));
    let window = want.manifest_window_seconds;
    let mut m = Manifests {
        hls: None,
        low_latency: None,
        dash: None,
    };
    match want.kind {
        ManifestKind::Hls => {
            let hls = CreateHlsManifestConfiguration::builder()
                .manifest_name(MANIFEST)
                .manifest_window_seconds(window)
                .set_filter_configuration(filter_of(want))
                .build()
                .map_err(built)?;
            m.hls = Some(vec![hls]);
        }
        ManifestKind::LowLatencyHls => {
            let low = CreateLowLatencyHlsManifestConfiguration::builder()
                .manifest_name(MANIFEST)
                .manifest_window_seconds(window)
                // A date-time on every segment: players place parts on the wall clock.
                .program_date_time_interval_seconds(want.segment_duration_seconds)
                .set_filter_configuration(filter_of(want))
                .build()
                .map_err(built)?;
            m.low_latency = Some(vec![low]);
        }
        ManifestKind::Dash => {
            let timing = DashUtcTiming::builder()
                .timing_mode(DashUtcTimingMode::UtcDirect)
                .build();
            let dash = CreateDashManifestConfiguration::builder()
                .manifest_name(MANIFEST)
                .manifest_window_seconds(window)
                .utc_timing(timing)
                .set_filter_configuration(filter_of(want))
                .build()
                .map_err(built)?;
            m.dash = Some(vec![dash]);
        }
    }
    Ok(m)
}

fn segment(want: &EndpointRequest) -> Segment {
    Segment::builder()
        .segment_duration_seconds(want.segment_duration_seconds)
        .segment_name("segment")
        .build()
}

pub async fn create_endpoint(
    aws: &AwsClients,
    channel: &ChannelV2,
    want: &EndpointRequest,
    uid: &str,
    tags: &HashMap<String, String>,
) -> Result<()> {
    let m = manifests(want)?;
    aws.mediapackagev2
        .create_origin_endpoint()
        .channel_group_name(&channel.group)
        .channel_name(&channel.name)
        .origin_endpoint_name(&want.name)
        .client_token(client_token(uid, &format!("{}-{}", channel.name, want.name)))
        .container_type(container_type(want.container))
        .segment(segment(want))
        .set_startover_window_seconds(want.startover_window_seconds)
        .set_hls_manifests(m.hls)
        .set_low_latency_hls_manifests(m.low_latency)
        .set_dash_manifests(m.dash)
        .set_tags(Some(tags.clone()))
        .send()
        .await
        .map_err(|e| Error::aws("CreateOriginEndpoint", e))?;
    Ok(())
}

/// With the ETag read, so a change someone made meanwhile is not overwritten blindly.
pub async fn update_endpoint(
    aws: &AwsClients,
    channel: &ChannelV2,
    current: &OriginEndpoint,
    want: &EndpointRequest,
) -> Result<()> {
    let m = manifests(want)?;
    aws.mediapackagev2
        .update_origin_endpoint()
        .channel_group_name(&channel.group)
        .channel_name(&channel.name)
        .origin_endpoint_name(&want.name)
        .container_type(container_type(want.container))
        .segment(segment(want))
        .set_startover_window_seconds(want.startover_window_seconds)
        .set_hls_manifests(m.hls)
        .set_low_latency_hls_manifests(m.low_latency)
        .set_dash_manifests(m.dash)
        .set_e_tag(current.e_tag.clone())
        .send()
        .await
        .map_err(|e| Error::aws("UpdateOriginEndpoint", e))?;
    Ok(())
}

pub async fn delete_endpoint(aws: &AwsClients, group: &str, channel: &str, name: &str) -> Result<()> {
    let deleted = aws
        .mediapackagev2
        .delete_origin_endpoint()
        .channel_group_name(group)
        .channel_name(channel)
        .origin_endpoint_name(name)
        .send()
        .await;
    found(deleted.map_err(|e| Error::aws("DeleteOriginEndpoint", e))).map(drop)
}
