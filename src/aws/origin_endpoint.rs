//! MediaPackage v2 origin endpoints: one per manifest kind the spec enables (its role), each with
//! one manifest. Creates carry a client token derived from the stream's uid, and updates the ETag
//! read, so neither a retried create nor someone's change meanwhile is lost.

use aws_sdk_mediapackagev2::types::{
    ContainerType, CreateDashManifestConfiguration, CreateHlsManifestConfiguration,
    CreateLowLatencyHlsManifestConfiguration, DashUtcTiming, DashUtcTimingMode, FilterConfiguration, Segment,
};

use super::{AwsClients, Kind, Managed, Owner, Role, owner_name, owner_of, package_v2::client_token};
use crate::{
    api::Container,
    desired::mediapackagev2::{EndpointRequest, MANIFEST, ManifestKind},
    error::{Error, Result, found},
};

/// One origin endpoint, condensed to what the operator decides on.
#[derive(Clone, Debug, PartialEq)]
pub struct OriginEndpoint {
    /// Its channel group and channel.
    pub group: String,
    pub channel: String,
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
    /// A changed container needs a new endpoint: the update could not convert the segments.
    pub fn needs_replacing(&self, want: &EndpointRequest) -> bool {
        self.settings
            .as_ref()
            .is_some_and(|s| s.container != want.container || s.kind != want.kind)
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

async fn get_endpoint(aws: &AwsClients, group: &str, channel: &str, name: &str) -> Result<Option<OriginEndpoint>> {
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
    // The three manifest types are different SDK types with the same members.
    macro_rules! manifests {
        ($list:expr, $kind:expr) => {
            $list.iter().flatten().map(|m| {
                let f = filter(m.filter_configuration.as_ref());
                ($kind, &m.manifest_name, m.manifest_window_seconds, f, &m.url)
            })
        };
    }
    let manifests: Vec<_> = manifests!(e.hls_manifests, ManifestKind::Hls)
        .chain(manifests!(e.low_latency_hls_manifests, ManifestKind::LowLatencyHls))
        .chain(manifests!(e.dash_manifests, ManifestKind::Dash))
        .collect();
    // The operator's endpoints carry exactly one manifest, named MANIFEST; anything else is drift.
    let settings = match (manifests.as_slice(), container) {
        ([(kind, manifest, window, filter, _)], Some(container)) if *manifest == MANIFEST => Some(EndpointRequest {
            group: e.channel_group_name.clone(),
            channel: e.channel_name.clone(),
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
        group: e.channel_group_name,
        channel: e.channel_name,
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

impl Managed for OriginEndpoint {
    const KIND: Kind = Kind::OriginEndpoint;
    const ROLES: &'static [Role] = &[Role::Hls, Role::LowLatencyHls, Role::Dash];
    type Desired = EndpointRequest;

    fn id(&self) -> &str {
        &self.name
    }

    fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// Its manifest kind, which names it.
    fn role(&self) -> Role {
        ManifestKind::named(&self.name).map_or(Role::Main, ManifestKind::role)
    }

    fn differs(&self, want: &EndpointRequest) -> bool {
        self.settings.as_ref() != Some(want)
    }

    /// Read back after the create: the answer carries the URL and ETag the next plan needs.
    async fn create(aws: &AwsClients, want: &EndpointRequest, owner: &Owner<'_>) -> Result<Self> {
        let m = manifests(want)?;
        let created = aws
            .mediapackagev2
            .create_origin_endpoint()
            .channel_group_name(&want.group)
            .channel_name(&want.channel)
            .origin_endpoint_name(&want.name)
            .client_token(client_token(owner.uid, &format!("{}-{}", want.channel, want.name)))
            .container_type(container_type(want.container))
            .segment(segment(want))
            .set_startover_window_seconds(want.startover_window_seconds)
            .set_hls_manifests(m.hls)
            .set_low_latency_hls_manifests(m.low_latency)
            .set_dash_manifests(m.dash)
            .set_tags(Some(owner.tags.clone()))
            .send()
            .await
            .map_err(|e| Error::aws("CreateOriginEndpoint", e));
        match created {
            // Made by a pass that crashed before it saw the answer: adopt it.
            Err(e) if e.code() == Some("ConflictException") => {}
            other => drop(other?),
        }
        read_back(aws, want).await
    }

    /// With the ETag read, so a change someone made meanwhile is not overwritten blindly.
    async fn update(aws: &AwsClients, current: &Self, want: &EndpointRequest) -> Result<Self> {
        let m = manifests(want)?;
        let updated = aws
            .mediapackagev2
            .update_origin_endpoint()
            .channel_group_name(&want.group)
            .channel_name(&want.channel)
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
            .map_err(|e| Error::aws("UpdateOriginEndpoint", e));
        match updated {
            // Someone changed it since it was read: read it again next round.
            Err(e) if e.code() == Some("PreconditionFailedException") || e.code() == Some("ConflictException") => {
                return Err(Error::Waiting(format!(
                    "origin endpoint {} changed meanwhile: {e}",
                    want.name
                )));
            }
            other => drop(other?),
        }
        read_back(aws, want).await
    }

    async fn delete(aws: &AwsClients, current: &Self) -> Result<()> {
        let deleted = aws
            .mediapackagev2
            .delete_origin_endpoint()
            .channel_group_name(&current.group)
            .channel_name(&current.channel)
            .origin_endpoint_name(&current.name)
            .send()
            .await;
        found(deleted.map_err(|e| Error::aws("DeleteOriginEndpoint", e))).map(drop)
    }
}

async fn read_back(aws: &AwsClients, want: &EndpointRequest) -> Result<OriginEndpoint> {
    Box::pin(get_endpoint(aws, &want.group, &want.channel, &want.name))
        .await?
        .ok_or_else(|| Error::Waiting(format!("origin endpoint {} is not visible yet", want.name)))
}
