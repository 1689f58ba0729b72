//! Origin endpoints of a channel: create and update (the documented rules of [`rules`], the
//! SPEKE role the caller must be allowed to pass, an immutable container type, ETags, quotas),
//! delete, and how GetOriginEndpoint describes one: its settings as sent, the model's defaults
//! filled in and each manifest's URL.

use serde_json::{Map, Value, json};

use super::{
    ManifestKind, MediaPackageV2, State,
    channels::{channel, channel_mut},
    client_tokens::{remember, replayed},
    errors::{conflict, not_found, quota_exceeded, validation},
    member_str,
    meta::{Meta, meta_json, new_meta, next_etag, updated},
    present, rules,
    tags::tags_of,
};
use crate::{
    protocol::ApiRequest,
    protocol::{ApiError, ApiResult},
};

pub(super) struct Endpoint {
    pub(super) name: String,
    pub(super) meta: Meta,
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

impl MediaPackageV2 {
    pub(super) fn create_endpoint(&self, req: &ApiRequest, body: &Value, g: &str, c: &str) -> ApiResult<Value> {
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

    pub(super) fn update_endpoint(
        &self,
        req: &ApiRequest,
        body: &Value,
        g: &str,
        c: &str,
        e: &str,
    ) -> ApiResult<Value> {
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
            return Err(validation(
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

    pub(super) fn delete_endpoint(&self, g: &str, c: &str, e: &str) -> ApiResult<Value> {
        let mut state = self.inner.state.lock().unwrap();
        if let Ok(channel) = channel_mut(&mut state, g, c) {
            channel.endpoints.remove(e);
        }
        Ok(json!({}))
    }

    pub(super) fn endpoint_json(&self, g: &str, c: &str, e: &Endpoint) -> Value {
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
}

pub(super) fn endpoint<'a>(state: &'a State, g: &str, c: &str, e: &str) -> ApiResult<&'a Endpoint> {
    channel(state, g, c)?
        .endpoints
        .get(e)
        .ok_or_else(|| not_found("ORIGIN_ENDPOINT"))
}

pub(super) fn endpoint_of<'a>(state: &'a State, g: &str, c: &str, e: &str) -> Option<&'a Endpoint> {
    endpoint(state, g, c, e).ok()
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
