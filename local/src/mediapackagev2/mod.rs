//! AWS Elemental MediaPackage v2 (REST-JSON, API 2022-12-25): channel groups, channels, origin
//! endpoints and their tags, as strictly as the service. Every request has already been checked
//! against botocore's model (http.rs: required members, types, enums, ranges, lengths, patterns,
//! path and header members); here come the rules AWS documents beyond the model ([`rules`]), the
//! resources' lifecycle (conflicts, ETags, client tokens, quotas), and answers shaped by the
//! model's output shapes. Errors carry the service's own types: `ValidationException` (400, with
//! `ValidationExceptionType`), `ConflictException` (409, `ConflictExceptionType`),
//! `ResourceNotFoundException` (404, `ResourceTypeNotFound`), `ServiceQuotaExceededException`
//! (402), each with a `Message`.
//!
//! URLs are livestream-local's own port: the egress domain is its public host:port, manifests
//! are `http://{host:port}/out/v1/{group}/{channel}/{endpoint}/{manifest}.m3u8` (`.mpd` for
//! DASH), ingest endpoints `http://{host:port}/in/v1/{group}/{1|2}/{channel}/index`, AWS's path
//! layouts. Serving media there is a later step; [`MediaPackageV2::manifest`] is its lookup.

mod rules;
#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use axum::{
    http::{Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine;
use serde_json::{Map, Value, json};
use sha2::Digest;

use crate::{
    Cloud,
    config::Config,
    error::{ApiError, ApiResult, parse_body},
    http::{ApiRequest, empty_response, json_response},
    model::ServiceModel,
};

type Tags = BTreeMap<String, String>;

/// MediaPackage v2's soft quotas (user guide, "Quotas in AWS Elemental MediaPackage").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    pub channel_groups: usize,
    pub channels: usize,
    pub origin_endpoints: usize,
    pub manifests: usize,
}

impl Default for Quotas {
    /// AWS's defaults: 3 channel groups per account, 10 channels per channel group, 10 origin
    /// endpoints per channel, 25 manifests per origin endpoint.
    fn default() -> Self {
        Self {
            channel_groups: 3,
            channels: 10,
            origin_endpoints: 10,
            manifests: 25,
        }
    }
}

impl Quotas {
    /// `channelGroups=N,channels=N,originEndpoints=N,manifests=N` (any subset; the rest default).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut quotas = Self::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item.split_once('=').ok_or("expected NAME=N")?;
            let value: usize = value.parse().map_err(|e| format!("{name}: {e}"))?;
            match name {
                "channelGroups" => quotas.channel_groups = value,
                "channels" => quotas.channels = value,
                "originEndpoints" => quotas.origin_endpoints = value,
                "manifests" => quotas.manifests = value,
                other => {
                    return Err(format!(
                        "unknown quota {other:?} (channelGroups, channels, originEndpoints, manifests)"
                    ));
                }
            }
        }
        Ok(quotas)
    }
}

#[derive(Clone)]
pub struct MediaPackageV2 {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    model: Arc<ServiceModel>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    groups: BTreeMap<String, Group>,
    /// The creates made with each client token (`x-amzn-client-token`): (operation, token) → the
    /// request it came with.
    tokens: HashMap<(&'static str, String), Value>,
    /// How many ETags were handed out (each one is new).
    etags: u64,
}

/// What every resource has.
struct Meta {
    arn: String,
    description: Option<String>,
    created_at: f64,
    modified_at: f64,
    etag: String,
    tags: Tags,
}

struct Group {
    name: String,
    meta: Meta,
    channels: BTreeMap<String, Channel>,
}

struct Channel {
    name: String,
    meta: Meta,
    input_type: String,
    input_switch: Option<Value>,
    output_header: Option<Value>,
    endpoints: BTreeMap<String, Endpoint>,
}

struct Endpoint {
    name: String,
    meta: Meta,
    container_type: String,
    /// The configuration members of the last create or update, as sent (model-checked).
    settings: Map<String, Value>,
}

/// The members of CreateOriginEndpoint / UpdateOriginEndpoint that configure the endpoint.
const ENDPOINT_SETTINGS: [&str; 8] = [
    "Segment",
    "StartoverWindowSeconds",
    "HlsManifests",
    "LowLatencyHlsManifests",
    "DashManifests",
    "MssManifests",
    "ForceEndpointErrorConfiguration",
    "UriSeparator",
];

/// The kinds of manifest an origin endpoint serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestKind {
    Hls,
    LowLatencyHls,
    Dash,
    Mss,
}

impl ManifestKind {
    const ALL: [ManifestKind; 4] = [Self::Hls, Self::LowLatencyHls, Self::Dash, Self::Mss];

    /// The request and response member listing manifests of this kind.
    fn member(self) -> &'static str {
        match self {
            Self::Hls => "HlsManifests",
            Self::LowLatencyHls => "LowLatencyHlsManifests",
            Self::Dash => "DashManifests",
            Self::Mss => "MssManifests",
        }
    }

    /// The last part of the manifest's URL after its name.
    fn suffix(self) -> &'static str {
        match self {
            Self::Hls | Self::LowLatencyHls => ".m3u8",
            Self::Dash => ".mpd",
            Self::Mss => ".ism/Manifest",
        }
    }
}

/// What one manifest URL of an origin endpoint serves, for the media step.
#[derive(Clone, Debug, PartialEq)]
pub struct ManifestSettings {
    pub kind: ManifestKind,
    /// The manifest's configuration as GetOriginEndpoint describes it (defaults filled, `Url`).
    pub manifest: Value,
    /// The whole origin endpoint as GetOriginEndpoint describes it (`ContainerType`, `Segment`
    /// with its defaults, `StartoverWindowSeconds` ...).
    pub endpoint: Value,
    /// The channel's `InputType` (HLS or CMAF).
    pub input_type: String,
}

impl MediaPackageV2 {
    pub fn new(config: Config, model: Arc<ServiceModel>) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                model,
                state: Mutex::new(State::default()),
            }),
        }
    }

    pub fn reset(&self) {
        *self.inner.state.lock().unwrap() = State::default();
    }

    fn quotas(&self) -> Quotas {
        self.inner.config.mediapackagev2_quotas
    }

    pub async fn handle(&self, req: ApiRequest) -> (&'static str, ApiResult<Response>) {
        let operation = operation_name(&req);
        (operation, self.call(operation, &req))
    }

    fn call(&self, operation: &'static str, req: &ApiRequest) -> ApiResult<Response> {
        let body: Value = parse_body(&req.body)?;
        let path = req.path();
        let at = |i: usize| path.get(i).copied().unwrap_or_default();
        let (g, c, e) = (at(1), at(3), at(5));
        let value = match operation {
            "CreateChannelGroup" => self.create_group(req, &body)?,
            "GetChannelGroup" => self.read(|s| Ok(self.group_json(group(s, g)?)))?,
            "ListChannelGroups" => {
                let state = self.inner.state.lock().unwrap();
                let items = state.groups.values().map(|g| (g.name.clone(), self.group_json(g)));
                page(items.collect(), req)?
            }
            "UpdateChannelGroup" => self.update_group(req, &body, g)?,
            "DeleteChannelGroup" => self.delete_group(g)?,
            "CreateChannel" => self.create_channel(req, &body, g)?,
            "GetChannel" => self.read(|s| Ok(self.channel_json(g, channel(s, g, c)?)))?,
            "ListChannels" => self.read(|s| {
                let items = group(s, g)?.channels.values();
                page(items.map(|c| (c.name.clone(), self.channel_json(g, c))).collect(), req)
            })?,
            "UpdateChannel" => self.update_channel(req, &body, g, c)?,
            "DeleteChannel" => self.delete_channel(g, c)?,
            "CreateOriginEndpoint" => self.create_endpoint(req, &body, g, c)?,
            "GetOriginEndpoint" => self.read(|s| Ok(self.endpoint_json(g, c, endpoint(s, g, c, e)?)))?,
            "ListOriginEndpoints" => self.read(|s| {
                let items = channel(s, g, c)?.endpoints.values();
                page(
                    items.map(|e| (e.name.clone(), self.endpoint_json(g, c, e))).collect(),
                    req,
                )
            })?,
            "UpdateOriginEndpoint" => self.update_endpoint(req, &body, g, c, e)?,
            "DeleteOriginEndpoint" => self.delete_endpoint(g, c, e)?,
            "TagResource" | "UntagResource" | "ListTagsForResource" => {
                return self.tags(operation, req, &body, at(1));
            }
            _ => {
                return Err(ApiError::with_status(
                    StatusCode::NOT_FOUND,
                    "UnknownOperationException",
                    format!(
                        "livestream-local does not serve the MediaPackage v2 operation at {} /{}",
                        req.method,
                        req.segments.join("/")
                    ),
                ));
            }
        };
        Ok(json_response(
            StatusCode::OK,
            self.inner.model.output(operation, &value),
        ))
    }

    fn read(&self, f: impl FnOnce(&State) -> ApiResult<Value>) -> ApiResult<Value> {
        f(&self.inner.state.lock().unwrap())
    }

    // ---- channel groups ----

    fn create_group(&self, req: &ApiRequest, body: &Value) -> ApiResult<Value> {
        let name = member_str(body, "ChannelGroupName");
        let mut state = self.inner.state.lock().unwrap();
        let retried = replayed(&state, "CreateChannelGroup", req, body)?;
        if let Some(existing) = state.groups.get(&name) {
            if retried {
                return Ok(self.group_json(existing));
            }
            return Err(conflict(
                "RESOURCE_ALREADY_EXISTS",
                format!("A channel group named {name} already exists in this account and Region"),
            ));
        }
        let quota = self.quotas().channel_groups;
        if state.groups.len() >= quota {
            return Err(quota_exceeded(format!(
                "You've reached the quota of {quota} channel groups in this account and Region"
            )));
        }
        let arn = self.arn(&format!("channelGroup/{name}"));
        let meta = new_meta(&mut state, arn, body, tags_of(body, "tags"));
        let group = Group {
            name: name.clone(),
            meta,
            channels: BTreeMap::new(),
        };
        let value = self.group_json(&group);
        state.groups.insert(name, group);
        remember(&mut state, "CreateChannelGroup", req, body);
        Ok(value)
    }

    fn update_group(&self, req: &ApiRequest, body: &Value, g: &str) -> ApiResult<Value> {
        let mut state = self.inner.state.lock().unwrap();
        let etag = next_etag(&mut state);
        let group = group_mut(&mut state, g)?;
        updated(&mut group.meta, req, body, etag)?;
        Ok(self.group_json(group))
    }

    fn delete_group(&self, g: &str) -> ApiResult<Value> {
        let mut state = self.inner.state.lock().unwrap();
        if let Some(group) = state.groups.get(g) {
            if !group.channels.is_empty() {
                return Err(conflict(
                    "RESOURCE_IN_USE",
                    "The channel group you tried to delete has channels attached to it. If you want to delete \
                     this channel group, you must first delete the channels attached to it",
                ));
            }
            state.groups.remove(g);
        }
        Ok(json!({}))
    }

    fn group_json(&self, g: &Group) -> Value {
        let mut value = meta_json(&g.meta);
        value["ChannelGroupName"] = json!(g.name);
        value["EgressDomain"] = json!(self.inner.config.public_authority());
        value
    }

    // ---- channels ----

    fn create_channel(&self, req: &ApiRequest, body: &Value, g: &str) -> ApiResult<Value> {
        let name = member_str(body, "ChannelName");
        let input_type = body["InputType"].as_str().unwrap_or("HLS").to_owned();
        rules::check_channel(&input_type, body)?;
        let mut state = self.inner.state.lock().unwrap();
        let retried = replayed(&state, "CreateChannel", req, body)?;
        let quota = self.quotas().channels;
        let group = group(&state, g)?;
        if let Some(existing) = group.channels.get(&name) {
            if retried {
                return Ok(self.channel_json(g, existing));
            }
            return Err(conflict(
                "RESOURCE_ALREADY_EXISTS",
                format!("A channel named {name} already exists in channel group {g}"),
            ));
        }
        if group.channels.len() >= quota {
            return Err(quota_exceeded(format!(
                "You've reached the quota of {quota} channels in channel group {g}"
            )));
        }
        let arn = format!("{}/channel/{name}", group.meta.arn);
        let meta = new_meta(&mut state, arn, body, tags_of(body, "tags"));
        let channel = Channel {
            name: name.clone(),
            meta,
            input_type,
            input_switch: present(body, "InputSwitchConfiguration"),
            output_header: present(body, "OutputHeaderConfiguration"),
            endpoints: BTreeMap::new(),
        };
        let value = self.channel_json(g, &channel);
        group_mut(&mut state, g)?.channels.insert(name, channel);
        remember(&mut state, "CreateChannel", req, body);
        Ok(value)
    }

    fn update_channel(&self, req: &ApiRequest, body: &Value, g: &str, c: &str) -> ApiResult<Value> {
        let mut state = self.inner.state.lock().unwrap();
        let etag = next_etag(&mut state);
        let channel = channel_mut(&mut state, g, c)?;
        rules::check_channel(&channel.input_type, body)?;
        updated(&mut channel.meta, req, body, etag)?;
        channel.input_switch = present(body, "InputSwitchConfiguration");
        channel.output_header = present(body, "OutputHeaderConfiguration");
        Ok(self.channel_json(g, channel))
    }

    fn delete_channel(&self, g: &str, c: &str) -> ApiResult<Value> {
        let mut state = self.inner.state.lock().unwrap();
        if let Some(group) = state.groups.get_mut(g)
            && let Some(channel) = group.channels.get(c)
        {
            if !channel.endpoints.is_empty() {
                return Err(conflict(
                    "RESOURCE_IN_USE",
                    "The channel you tried to delete has origin endpoints attached to it. If you want to delete \
                     this channel, you must first delete the origin endpoints attached to it",
                ));
            }
            group.channels.remove(c);
        }
        Ok(json!({}))
    }

    fn channel_json(&self, g: &str, c: &Channel) -> Value {
        let mut value = meta_json(&c.meta);
        value["ChannelGroupName"] = json!(g);
        value["ChannelName"] = json!(c.name);
        value["InputType"] = json!(c.input_type);
        value["IngestEndpoints"] =
            json!(["1", "2"].map(|id| json!({"Id": id, "Url": self.ingest_url(g, c.name.as_str(), id)})));
        value["InputSwitchConfiguration"] = c.input_switch.clone().unwrap_or(Value::Null);
        value["OutputHeaderConfiguration"] = c.output_header.clone().unwrap_or(Value::Null);
        value
    }

    /// Ingest endpoint `id` ("1" or "2") of a channel, in AWS's path layout
    /// (`/in/v1/{ChannelGroupName}/{1|2}/{ChannelName}/index`).
    pub fn ingest_url(&self, group: &str, channel: &str, id: &str) -> String {
        format!("{}/in/v1/{group}/{id}/{channel}/index", self.inner.config.public_url())
    }

    // ---- origin endpoints ----

    fn create_endpoint(&self, req: &ApiRequest, body: &Value, g: &str, c: &str) -> ApiResult<Value> {
        let name = member_str(body, "OriginEndpointName");
        let container = member_str(body, "ContainerType");
        pass_role(req, body)?;
        let mut state = self.inner.state.lock().unwrap();
        let retried = replayed(&state, "CreateOriginEndpoint", req, body)?;
        let quotas = self.quotas();
        let channel = channel(&state, g, c)?;
        rules::check_endpoint(&container, &channel.input_type, body, quotas.manifests)?;
        if let Some(existing) = channel.endpoints.get(&name) {
            if retried {
                return Ok(self.endpoint_json(g, c, existing));
            }
            return Err(conflict(
                "RESOURCE_ALREADY_EXISTS",
                format!("An origin endpoint named {name} already exists on channel {c}"),
            ));
        }
        if channel.endpoints.len() >= quotas.origin_endpoints {
            return Err(quota_exceeded(format!(
                "You've reached the quota of {} origin endpoints on channel {c}",
                quotas.origin_endpoints
            )));
        }
        let arn = format!("{}/originEndpoint/{name}", channel.meta.arn);
        let meta = new_meta(&mut state, arn, body, tags_of(body, "Tags"));
        let endpoint = Endpoint {
            name: name.clone(),
            meta,
            container_type: container,
            settings: settings_of(body, None),
        };
        let value = self.endpoint_json(g, c, &endpoint);
        channel_mut(&mut state, g, c)?.endpoints.insert(name, endpoint);
        remember(&mut state, "CreateOriginEndpoint", req, body);
        Ok(value)
    }

    fn update_endpoint(&self, req: &ApiRequest, body: &Value, g: &str, c: &str, e: &str) -> ApiResult<Value> {
        let container = member_str(body, "ContainerType");
        pass_role(req, body)?;
        let mut state = self.inner.state.lock().unwrap();
        let etag = next_etag(&mut state);
        let manifests = self.quotas().manifests;
        let channel = channel_mut(&mut state, g, c)?;
        let input_type = channel.input_type.clone();
        let endpoint = channel
            .endpoints
            .get_mut(e)
            .ok_or_else(|| not_found("ORIGIN_ENDPOINT"))?;
        if container != endpoint.container_type {
            return Err(rules::validation(
                "CONTAINER_TYPE_IMMUTABLE",
                format!(
                    "You can't change the container type of an origin endpoint ({} to {container}); create another \
                     origin endpoint instead",
                    endpoint.container_type
                ),
            ));
        }
        rules::check_endpoint(&container, &input_type, body, manifests)?;
        updated(&mut endpoint.meta, req, body, etag)?;
        endpoint.settings = settings_of(body, Some(&endpoint.settings));
        Ok(self.endpoint_json(g, c, endpoint))
    }

    fn delete_endpoint(&self, g: &str, c: &str, e: &str) -> ApiResult<Value> {
        let mut state = self.inner.state.lock().unwrap();
        if let Ok(channel) = channel_mut(&mut state, g, c) {
            channel.endpoints.remove(e);
        }
        Ok(json!({}))
    }

    fn endpoint_json(&self, g: &str, c: &str, e: &Endpoint) -> Value {
        let mut value = meta_json(&e.meta);
        let object = value.as_object_mut().unwrap();
        object.extend(e.settings.clone());
        object.insert("ChannelGroupName".into(), json!(g));
        object.insert("ChannelName".into(), json!(c));
        object.insert("OriginEndpointName".into(), json!(e.name));
        object.insert("ContainerType".into(), json!(e.container_type));
        let segment = object.entry("Segment").or_insert_with(|| json!({}));
        for (member, default) in [
            ("SegmentDurationSeconds", json!(6)),
            ("SegmentName", json!("segment")),
            ("TsUseAudioRenditionGroup", json!(false)),
            ("IncludeIframeOnlyStreams", json!(false)),
            ("TsIncludeDvbSubtitles", json!(false)),
        ] {
            segment.as_object_mut().unwrap().entry(member).or_insert(default);
        }
        object.entry("UriSeparator").or_insert(json!("UNDERSCORE"));
        for kind in ManifestKind::ALL {
            for manifest in object
                .get_mut(kind.member())
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                let name = manifest["ManifestName"].as_str().unwrap_or_default().to_owned();
                let manifest = manifest.as_object_mut().unwrap();
                manifest.entry("ManifestWindowSeconds").or_insert(json!(60));
                manifest.insert("Url".into(), json!(self.manifest_url(g, c, &e.name, kind, &name)));
            }
        }
        value
    }

    /// A manifest's playback URL on livestream-local's port, in AWS's path layout.
    pub fn manifest_url(&self, g: &str, c: &str, e: &str, kind: ManifestKind, name: &str) -> String {
        format!(
            "{}/out/v1/{g}/{c}/{e}/{name}{}",
            self.inner.config.public_url(),
            kind.suffix()
        )
    }

    /// The configuration one manifest URL serves: group, channel, endpoint and manifest name →
    /// the manifest's and the endpoint's settings (as GetOriginEndpoint describes them) and the
    /// channel's input type. None when any of them does not exist.
    pub fn manifest(&self, group: &str, channel: &str, endpoint: &str, name: &str) -> Option<ManifestSettings> {
        let state = self.inner.state.lock().unwrap();
        let c = state.groups.get(group)?.channels.get(channel)?;
        let described = self.endpoint_json(group, channel, c.endpoints.get(endpoint)?);
        ManifestKind::ALL.into_iter().find_map(|kind| {
            let manifests = described[kind.member()].as_array()?;
            let manifest = manifests.iter().find(|m| m["ManifestName"] == name)?;
            Some(ManifestSettings {
                kind,
                manifest: manifest.clone(),
                endpoint: described.clone(),
                input_type: c.input_type.clone(),
            })
        })
    }

    fn has_endpoint(&self, group: &str, channel: &str, endpoint: &str) -> bool {
        let state = self.inner.state.lock().unwrap();
        endpoint_of(&state, group, channel, endpoint).is_some()
    }

    // ---- tags ----

    fn tags(&self, operation: &str, req: &ApiRequest, body: &Value, arn: &str) -> ApiResult<Response> {
        let mut state = self.inner.state.lock().unwrap();
        let (region, account) = (&self.inner.config.region, &self.inner.config.account_id);
        let tags = tagged(&mut state, arn, region, account)?;
        match operation {
            "TagResource" => {
                tags.extend(tags_of(body, "tags"));
                Ok(empty_response(StatusCode::NO_CONTENT))
            }
            "UntagResource" => {
                for key in req.query.get("tagKeys").into_iter().flatten() {
                    tags.remove(key);
                }
                Ok(empty_response(StatusCode::NO_CONTENT))
            }
            _ => {
                let value = self.inner.model.output(operation, &json!({ "Tags": tags }));
                Ok(json_response(StatusCode::OK, value))
            }
        }
    }

    fn arn(&self, resource: &str) -> String {
        let config = &self.inner.config;
        format!(
            "arn:aws:mediapackagev2:{}:{}:{resource}",
            config.region, config.account_id
        )
    }
}

// ---- lookups ----

fn not_found(kind: &'static str) -> ApiError {
    let what = match kind {
        "CHANNEL_GROUP" => "channel group. Verify your channel group name or add a channel group",
        "CHANNEL" => "channel. Verify your channel name or add a channel",
        _ => "origin endpoint. Verify your origin endpoint name or add an origin endpoint",
    };
    ApiError::shaped(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        format!("MediaPackage can't process your request because we can't find your {what} and then try again"),
        &[("ResourceTypeNotFound", kind)],
    )
}

fn group<'a>(state: &'a State, g: &str) -> ApiResult<&'a Group> {
    state.groups.get(g).ok_or_else(|| not_found("CHANNEL_GROUP"))
}

fn group_mut<'a>(state: &'a mut State, g: &str) -> ApiResult<&'a mut Group> {
    state.groups.get_mut(g).ok_or_else(|| not_found("CHANNEL_GROUP"))
}

fn channel<'a>(state: &'a State, g: &str, c: &str) -> ApiResult<&'a Channel> {
    group(state, g)?.channels.get(c).ok_or_else(|| not_found("CHANNEL"))
}

fn channel_mut<'a>(state: &'a mut State, g: &str, c: &str) -> ApiResult<&'a mut Channel> {
    group_mut(state, g)?
        .channels
        .get_mut(c)
        .ok_or_else(|| not_found("CHANNEL"))
}

fn endpoint<'a>(state: &'a State, g: &str, c: &str, e: &str) -> ApiResult<&'a Endpoint> {
    channel(state, g, c)?
        .endpoints
        .get(e)
        .ok_or_else(|| not_found("ORIGIN_ENDPOINT"))
}

fn endpoint_of<'a>(state: &'a State, g: &str, c: &str, e: &str) -> Option<&'a Endpoint> {
    endpoint(state, g, c, e).ok()
}

/// The tags of the resource an ARN names. Tagging declares only `ValidationException`: an ARN
/// that is not a MediaPackage v2 resource's is `INVALID_ARN`, one of no resource plain.
fn tagged<'a>(state: &'a mut State, arn: &str, region: &str, account: &str) -> ApiResult<&'a mut Tags> {
    let invalid = || {
        rules::validation(
            "INVALID_ARN",
            format!("{arn} is not a valid MediaPackage v2 resource ARN"),
        )
    };
    let prefix = "arn:aws:mediapackagev2:";
    let (arn_region, rest) = arn
        .strip_prefix(prefix)
        .and_then(|r| r.split_once(':'))
        .ok_or_else(invalid)?;
    let (arn_account, resource) = rest.split_once(':').ok_or_else(invalid)?;
    let parts: Vec<&str> = resource.split('/').collect();
    let missing = || {
        ApiError::shaped(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            format!("No MediaPackage v2 resource has the ARN {arn}"),
            &[],
        )
    };
    if (arn_region, arn_account) != (region, account) {
        return Err(missing());
    }
    let meta = match parts.as_slice() {
        ["channelGroup", g] => state.groups.get_mut(*g).map(|g| &mut g.meta),
        ["channelGroup", g, "channel", c] => channel_mut(state, g, c).ok().map(|c| &mut c.meta),
        ["channelGroup", g, "channel", c, "originEndpoint", e] => channel_mut(state, g, c)
            .ok()
            .and_then(|c| c.endpoints.get_mut(*e))
            .map(|e| &mut e.meta),
        _ => return Err(invalid()),
    };
    meta.map(|m| &mut m.tags).ok_or_else(missing)
}

// ---- shared pieces ----

fn conflict(kind: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::shaped(
        StatusCode::CONFLICT,
        "ConflictException",
        message,
        &[("ConflictExceptionType", kind)],
    )
}

fn quota_exceeded(message: String) -> ApiError {
    ApiError::shaped(
        StatusCode::PAYMENT_REQUIRED,
        "ServiceQuotaExceededException",
        message,
        &[],
    )
}

fn member_str(body: &Value, member: &str) -> String {
    body[member].as_str().unwrap_or_default().to_owned()
}

fn present(body: &Value, member: &str) -> Option<Value> {
    body.get(member).filter(|v| !v.is_null()).cloned()
}

fn tags_of(body: &Value, member: &str) -> Tags {
    serde_json::from_value(body[member].clone()).unwrap_or_default()
}

fn now() -> f64 {
    jiff::Timestamp::now().as_millisecond() as f64 / 1000.0
}

/// A new entity tag: opaque, different from every earlier one.
fn next_etag(state: &mut State) -> String {
    state.etags += 1;
    let digest = sha2::Sha256::digest(format!("{}:{}", state.etags, jiff::Timestamp::now()));
    base64::engine::general_purpose::STANDARD.encode(digest)
}

fn new_meta(state: &mut State, arn: String, body: &Value, tags: Tags) -> Meta {
    let at = now();
    Meta {
        arn,
        description: body["Description"].as_str().map(str::to_owned),
        created_at: at,
        modified_at: at,
        etag: next_etag(state),
        tags,
    }
}

/// An update: refused when its `x-amzn-update-if-match` is not the resource's ETag (AWS: "If
/// the specified ETag does not match the resource's current entity tag, the update request will
/// be rejected"); otherwise the description is replaced and the resource gets `etag`.
fn updated(meta: &mut Meta, req: &ApiRequest, body: &Value, etag: String) -> ApiResult<()> {
    if let Some(expected) = req.header("x-amzn-update-if-match")
        && expected != meta.etag
    {
        return Err(conflict(
            "CONFLICTING_OPERATION",
            format!(
                "The ETag {expected} doesn't match the resource's current ETag {}: it was changed after you read \
                 it. Get it again and retry your update",
                meta.etag
            ),
        ));
    }
    meta.description = body["Description"].as_str().map(str::to_owned);
    meta.modified_at = now().max(meta.modified_at);
    meta.etag = etag;
    Ok(())
}

fn meta_json(meta: &Meta) -> Value {
    json!({
        "Arn": meta.arn, "CreatedAt": meta.created_at, "ModifiedAt": meta.modified_at, "ETag": meta.etag,
        "Description": meta.description, "Tags": meta.tags,
    })
}

/// An endpoint's configuration from a create or update: what the request sets; an update keeps
/// the current `UriSeparator` when it does not name one (as the model documents).
fn settings_of(body: &Value, current: Option<&Map<String, Value>>) -> Map<String, Value> {
    let mut settings: Map<String, Value> = ENDPOINT_SETTINGS
        .iter()
        .filter_map(|k| present(body, k).map(|v| ((*k).to_owned(), v)))
        .collect();
    if let Some(separator) = current.and_then(|c| c.get("UriSeparator"))
        && !settings.contains_key("UriSeparator")
    {
        settings.insert("UriSeparator".into(), separator.clone());
    }
    settings
}

/// Whether this create repeats an earlier one with the same client token and request (true:
/// answer with what it made); the same token with another request is
/// `IDEMPOTENT_PARAMETER_MISMATCH`.
fn replayed(state: &State, operation: &'static str, req: &ApiRequest, body: &Value) -> ApiResult<bool> {
    let Some(token) = req.header("x-amzn-client-token") else {
        return Ok(false);
    };
    match state.tokens.get(&(operation, token.to_owned())) {
        None => Ok(false),
        Some(earlier) if *earlier == fingerprint(req, body) => Ok(true),
        Some(_) => Err(conflict(
            "IDEMPOTENT_PARAMETER_MISMATCH",
            format!("The client token {token} was already used with a different {operation} request"),
        )),
    }
}

fn remember(state: &mut State, operation: &'static str, req: &ApiRequest, body: &Value) {
    if let Some(token) = req.header("x-amzn-client-token") {
        state
            .tokens
            .insert((operation, token.to_owned()), fingerprint(req, body));
    }
}

fn fingerprint(req: &ApiRequest, body: &Value) -> Value {
    json!({ "path": req.segments, "body": body })
}

/// The SPEKE key provider's role must be one the caller may pass to MediaPackage
/// (`iam:PassRole` with `iam:PassedToService` mediapackagev2.amazonaws.com, as the Service
/// Authorization Reference lists for CreateOriginEndpoint).
fn pass_role(req: &ApiRequest, body: &Value) -> ApiResult<()> {
    let role = body["Segment"]["Encryption"]["SpekeKeyProvider"]["RoleArn"].as_str();
    match role.and_then(|role| req.pass_role_refusal(role, "mediapackagev2.amazonaws.com")) {
        Some(message) => Err(ApiError::access_denied(message)),
        None => Ok(()),
    }
}

/// One page of a listing (sorted by name) after `nextToken`, at most `maxResults` (1–100 by the
/// model; 100 when absent), with the opaque token of the next page.
fn page(items: Vec<(String, Value)>, req: &ApiRequest) -> ApiResult<Value> {
    let max = req.query_one("maxResults").and_then(|m| m.parse().ok()).unwrap_or(100);
    let after = match req.query_one("nextToken") {
        None => None,
        Some(token) => Some(decode_token(token).ok_or_else(|| {
            rules::validation(
                "INVALID_PAGINATION_TOKEN",
                "The pagination token isn't valid: use the NextToken of the previous page",
            )
        })?),
    };
    let (items, next) = crate::http::paginate(items, max, after.as_deref());
    Ok(json!({ "Items": items, "NextToken": next.map(|n| encode_token(&n)) }))
}

const TOKEN_PREFIX: &str = "livestream-local:";

fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{TOKEN_PREFIX}{last}"))
}

fn decode_token(token: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix(TOKEN_PREFIX)
        .map(str::to_owned)
}

pub fn operation_name(req: &ApiRequest) -> &'static str {
    let path = req.path();
    let m = &req.method;
    match path.as_slice() {
        ["channelGroup"] if m == Method::POST => "CreateChannelGroup",
        ["channelGroup"] if m == Method::GET => "ListChannelGroups",
        ["channelGroup", _] if m == Method::GET => "GetChannelGroup",
        ["channelGroup", _] if m == Method::PUT => "UpdateChannelGroup",
        ["channelGroup", _] if m == Method::DELETE => "DeleteChannelGroup",
        ["channelGroup", _, "channel"] if m == Method::POST => "CreateChannel",
        ["channelGroup", _, "channel"] if m == Method::GET => "ListChannels",
        ["channelGroup", _, "channel", _] if m == Method::GET => "GetChannel",
        ["channelGroup", _, "channel", _] if m == Method::PUT => "UpdateChannel",
        ["channelGroup", _, "channel", _] if m == Method::DELETE => "DeleteChannel",
        ["channelGroup", _, "channel", _, "originEndpoint"] if m == Method::POST => "CreateOriginEndpoint",
        ["channelGroup", _, "channel", _, "originEndpoint"] if m == Method::GET => "ListOriginEndpoints",
        ["channelGroup", _, "channel", _, "originEndpoint", _] if m == Method::GET => "GetOriginEndpoint",
        ["channelGroup", _, "channel", _, "originEndpoint", _] if m == Method::PUT => "UpdateOriginEndpoint",
        ["channelGroup", _, "channel", _, "originEndpoint", _] if m == Method::DELETE => "DeleteOriginEndpoint",
        ["tags", _] if m == Method::GET => "ListTagsForResource",
        ["tags", _] if m == Method::POST => "TagResource",
        ["tags", _] if m == Method::DELETE => "UntagResource",
        _ => "Unknown",
    }
}

/// `GET /out/v1/{group}/{channel}/{endpoint}/...` of an origin endpoint MediaPackage v2 has
/// (None otherwise: the path may be MediaPackage v1's). Until the media step packages v2
/// endpoints, a manifest of the endpoint answers 404 saying so.
pub fn serve_origin(cloud: &Cloud, rest: &str) -> Option<Response> {
    let parts: Vec<&str> = rest.split('/').collect();
    let [g, c, e, file @ ..] = parts.as_slice() else {
        return None;
    };
    let v2 = &cloud.mediapackagev2;
    if file.is_empty() || !v2.has_endpoint(g, c, e) {
        return None;
    }
    let file = file.join("/");
    let manifest = ManifestKind::ALL.into_iter().find_map(|kind| {
        let name = file.strip_suffix(kind.suffix())?;
        v2.manifest(g, c, e, name).filter(|m| m.kind == kind)
    });
    let text = match manifest {
        Some(_) => "livestream-local does not package MediaPackage v2 endpoints yet: no media here",
        None => "not found",
    };
    let mut response = (StatusCode::NOT_FOUND, text).into_response();
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    Some(response)
}
