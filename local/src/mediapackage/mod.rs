//! AWS Elemental MediaPackage v1 (REST-JSON): channels, origin endpoints and tags, plus the
//! origin itself: an HLS endpoint's `url` serves real HLS, repackaged from what the MediaLive
//! channel writes (segment duration, playlist window, bitrate filter and stream order per
//! endpoint). CMAF, DASH and Microsoft Smooth endpoints keep and describe every member as sent and
//! get AWS's URLs, but serve no media (their URLs answer 404).

pub mod iam;
pub mod quotas;

use std::{
    collections::BTreeMap,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    extract::Request,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::{
    chain::{self, Handled, RestJson},
    config::Config,
    faults::Faults,
    iam::naming::RestJsonIam,
    media::{Media, origin::Packaging, origin::StreamOrder},
    model::ModelSpec,
    protocol::hls::{playlist_for, ts_segment, with_cors},
    protocol::{ApiError, ApiRequest, ApiResult, Dialect, empty_response, json_response, page_response, parse_body},
    services::{Answer, Service, Shared},
};

/// The AWS model its requests are checked against (botocore's folder and API version).
pub const MODEL: ModelSpec = ModelSpec {
    service: "mediapackage",
    version: "2017-10-12",
    strict: false,
    amendments: &[],
};

/// MediaPackage (v1) answers in plain REST-JSON.
pub const DIALECT: Dialect = Dialect::REST_JSON;

type Tags = BTreeMap<String, String>;

#[derive(Clone)]
pub struct MediaPackage {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    faults: Arc<Faults>,
    media: Media,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    channels: BTreeMap<String, Channel>,
    endpoints: BTreeMap<String, Endpoint>,
}

struct Channel {
    id: String,
    arn: String,
    description: String,
    created: Instant,
    created_at: String,
    tags: Tags,
}

struct Endpoint {
    id: String,
    arn: String,
    channel_id: String,
    /// Everything CreateOriginEndpoint / UpdateOriginEndpoint set, described back as sent.
    settings: serde_json::Map<String, Value>,
    created_at: String,
    tags: Tags,
}

const ENDPOINT_SETTINGS: &[&str] = &[
    "authorization",
    "cmafPackage",
    "dashPackage",
    "description",
    "hlsPackage",
    "mssPackage",
    "manifestName",
    "origination",
    "startoverWindowSeconds",
    "timeDelaySeconds",
    "whitelist",
];

impl MediaPackage {
    pub fn new(config: Config, faults: Arc<Faults>, media: Media) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                faults,
                media,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Whether MediaLive can see the channel yet (new channels are invisible for the configured
    /// consistency delay, as right after creation on AWS).
    pub fn channel_visible(&self, id: &str) -> bool {
        let delay = self.inner.faults.consistency_delay();
        self.inner
            .state
            .lock()
            .unwrap()
            .channels
            .get(id)
            .is_some_and(|c| c.created.elapsed() >= delay)
    }

    /// `GET /out/v1/{endpoint}/{manifest}.m3u8`, `/out/v1/{endpoint}/{rendition}/index.m3u8` and
    /// `/out/v1/{endpoint}/{rendition}/{sequence}.ts`: what players fetch, unsigned.
    async fn serve_origin(&self, rest: &str) -> Response {
        let parts: Vec<&str> = rest.split('/').collect();
        let Some((channel, manifest, packaging)) = self.packaging(parts[0]) else {
            return with_cors((StatusCode::NOT_FOUND, "no such origin endpoint").into_response());
        };
        let media = &self.inner.media;
        let result = match parts.as_slice() {
            [_, file] if *file == format!("{manifest}.m3u8") => media
                .master_playlist(&channel, &packaging)
                .map(|text| playlist_for(text, f64::from(packaging.segment_duration_seconds))),
            [_, rendition, "index.m3u8"] => media
                .media_playlist(&channel, rendition, &packaging)
                .map(|text| playlist_for(text, f64::from(packaging.segment_duration_seconds))),
            [_, rendition, segment] => match segment.strip_suffix(".ts").and_then(|s| s.parse::<u64>().ok()) {
                Some(sequence) => media.segment(&channel, rendition, sequence, &packaging).map(ts_segment),
                None => return with_cors((StatusCode::NOT_FOUND, "not a segment").into_response()),
            },
            _ => return with_cors((StatusCode::NOT_FOUND, "not found").into_response()),
        };
        with_cors(result.unwrap_or_else(|e| (StatusCode::NOT_FOUND, e.to_string()).into_response()))
    }

    pub fn reset(&self) {
        let state = std::mem::take(&mut *self.inner.state.lock().unwrap());
        for id in state.channels.keys() {
            self.inner.media.remove_package_channel(id);
        }
    }

    /// Runs `operation` (one of [`OPERATIONS`]; any other is not found).
    pub async fn handle(&self, operation: &str, req: ApiRequest) -> ApiResult<Response> {
        let id = req.segments.get(1).cloned().unwrap_or_default();
        match operation {
            "CreateChannel" => self.create_channel(&req),
            "ListChannels" => self.list_channels(&req),
            "DescribeChannel" => self.with_channel(&id, |c, _| Ok(json_response(StatusCode::OK, self.channel_json(c)))),
            "UpdateChannel" => self.update_channel(&req, &id),
            "DeleteChannel" => self.delete_channel(&id),
            "CreateOriginEndpoint" => self.create_endpoint(&req),
            "ListOriginEndpoints" => self.list_endpoints(&req),
            "DescribeOriginEndpoint" => self.describe_endpoint(&id),
            "UpdateOriginEndpoint" => self.update_endpoint(&req, &id),
            "DeleteOriginEndpoint" => self.delete_endpoint(&id),
            "ListTagsForResource" | "TagResource" | "UntagResource" => self.tags(&req, operation),
            _ => Err(ApiError::not_found(format!(
                "no MediaPackage operation at {} /{}",
                req.method,
                req.segments.join("/")
            ))),
        }
    }

    fn channel_json(&self, c: &Channel) -> Value {
        let base = self.inner.config.public_url();
        let ingest = |n: u32| {
            json!({"id": format!("{}{n}", c.id), "username": format!("ingest{n}"), "password": "local",
                   "url": format!("{base}/in/v2/{}/{n}/channel", c.id)})
        };
        json!({
            "arn": c.arn, "id": c.id, "description": c.description, "createdAt": c.created_at,
            "hlsIngest": {"ingestEndpoints": [ingest(1), ingest(2)]}, "tags": c.tags,
        })
    }

    fn with_channel<T>(&self, id: &str, f: impl FnOnce(&mut Channel, &mut State) -> ApiResult<T>) -> ApiResult<T> {
        let mut state = self.inner.state.lock().unwrap();
        let mut channel = state
            .channels
            .remove(id)
            .ok_or_else(|| ApiError::not_found(format!("Channel {id} not found")))?;
        let result = f(&mut channel, &mut state);
        state.channels.insert(id.to_owned(), channel);
        result
    }

    fn create_channel(&self, req: &ApiRequest) -> ApiResult<Response> {
        let body: Value = parse_body(&req.body)?;
        let id = body["id"].as_str().unwrap_or_default().to_owned();
        // "Supported characters are letters, numbers, underscores (_), and dashes (-)"
        // (https://docs.aws.amazon.com/mediapackage/latest/ug/create-channel.html); AWS's
        // UnprocessableEntityException in https://github.com/aws/aws-sdk-java/issues/3162. (A
        // 256-character cap had no source: removed, audited 2026-12.)
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(ApiError::unprocessable(format!(
                "Invalid channel id {id:?}: letters, digits, '-' and '_' only"
            )));
        }
        let tags: Tags = serde_json::from_value(body["tags"].clone()).unwrap_or_default();
        let mut state = self.inner.state.lock().unwrap();
        // The model: "The ID must be unique within the region".
        if state.channels.contains_key(&id) {
            return Err(ApiError::unprocessable(format!("Channel {id} already exists")));
        }
        let quota = self.inner.config.mediapackage_quotas.channels;
        if state.channels.len() >= quota {
            return Err(quotas::exceeded("channels per account", quota));
        }
        let channel = Channel {
            arn: self.inner.config.arn("mediapackage", "channels", &id),
            id: id.clone(),
            description: body["description"].as_str().unwrap_or_default().to_owned(),
            created: Instant::now(),
            created_at: now_iso(),
            tags,
        };
        let value = self.channel_json(&channel);
        state.channels.insert(id, channel);
        Ok(json_response(StatusCode::OK, value))
    }

    fn list_channels(&self, req: &ApiRequest) -> ApiResult<Response> {
        let (max, token) = req.page()?;
        let state = self.inner.state.lock().unwrap();
        let all = state
            .channels
            .values()
            .map(|c| (c.id.clone(), self.channel_json(c)))
            .collect();
        Ok(page_response("channels", all, max, token.as_deref()))
    }

    fn update_channel(&self, req: &ApiRequest, id: &str) -> ApiResult<Response> {
        let body: Value = parse_body(&req.body)?;
        self.with_channel(id, |c, _| {
            if let Some(description) = body["description"].as_str() {
                c.description = description.to_owned();
            }
            Ok(json_response(StatusCode::OK, self.channel_json(c)))
        })
    }

    fn delete_channel(&self, id: &str) -> ApiResult<Response> {
        let mut state = self.inner.state.lock().unwrap();
        if !state.channels.contains_key(id) {
            return Err(ApiError::not_found(format!("Channel {id} not found")));
        }
        let endpoints: Vec<&str> = state
            .endpoints
            .values()
            .filter(|e| e.channel_id == id)
            .map(|e| e.id.as_str())
            .collect();
        // "You must delete the channel's endpoints … before you can delete the channel"
        // (https://docs.aws.amazon.com/mediapackage/latest/ug/channels-delete.html).
        if !endpoints.is_empty() {
            return Err(ApiError::unprocessable(format!(
                "Channel {id} still has origin endpoints ({}); delete them first",
                endpoints.join(", ")
            )));
        }
        state.channels.remove(id);
        drop(state);
        self.inner.media.remove_package_channel(id);
        Ok(empty_response(StatusCode::ACCEPTED))
    }

    fn endpoint_json(&self, e: &Endpoint) -> Value {
        let mut value = Value::Object(e.settings.clone());
        let manifest = e
            .settings
            .get("manifestName")
            .and_then(Value::as_str)
            .unwrap_or("index");
        value["arn"] = json!(e.arn);
        value["id"] = json!(e.id);
        value["channelId"] = json!(e.channel_id);
        value["createdAt"] = json!(e.created_at);
        value["tags"] = json!(e.tags);
        let base = format!("{}/out/v1/{}", self.inner.config.public_url(), e.id);
        // AWS's URL shapes: `<manifest>.m3u8` (HLS and CMAF), `<manifest>.mpd` (DASH),
        // `<manifest>.ism/Manifest` (Microsoft Smooth).
        value["url"] = json!(match package(&e.settings) {
            "dashPackage" => format!("{base}/{manifest}.mpd"),
            "mssPackage" => format!("{base}/{manifest}.ism/Manifest"),
            _ => format!("{base}/{manifest}.m3u8"),
        });
        if let Some(manifests) = value["cmafPackage"]["hlsManifests"].as_array_mut() {
            for m in manifests {
                let name = m["manifestName"].as_str().unwrap_or(manifest).to_owned();
                m["url"] = json!(format!("{base}/{name}.m3u8"));
            }
        }
        value
            .as_object_mut()
            .unwrap()
            .entry("manifestName")
            .or_insert(json!("index"));
        value
            .as_object_mut()
            .unwrap()
            .entry("origination")
            .or_insert(json!("ALLOW"));
        value
    }

    fn create_endpoint(&self, req: &ApiRequest) -> ApiResult<Response> {
        let body: Value = parse_body(&req.body)?;
        let id = body["id"].as_str().unwrap_or_default().to_owned();
        let channel_id = body["channelId"].as_str().unwrap_or_default().to_owned();
        // No public source found for this rule (audited 2026-12): kept because the id is a path
        // segment of the endpoint's URL (`/out/v1/{id}/…`); an empty one or one with `/` has none.
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(ApiError::unprocessable(format!("Invalid origin endpoint id {id:?}")));
        }
        let settings = endpoint_settings(&body)?;
        let mut state = self.inner.state.lock().unwrap();
        if !state.channels.contains_key(&channel_id) {
            return Err(ApiError::not_found(format!("Channel {channel_id} not found")));
        }
        // The model: "The ID must be unique within the region".
        if state.endpoints.contains_key(&id) {
            return Err(ApiError::unprocessable(format!("Origin endpoint {id} already exists")));
        }
        let quota = self.inner.config.mediapackage_quotas.origin_endpoints;
        if state.endpoints.values().filter(|e| e.channel_id == channel_id).count() >= quota {
            return Err(quotas::exceeded("origin endpoints per channel", quota));
        }
        let endpoint = Endpoint {
            arn: self.inner.config.arn("mediapackage", "origin_endpoints", &id),
            id: id.clone(),
            channel_id,
            settings,
            created_at: now_iso(),
            tags: serde_json::from_value(body["tags"].clone()).unwrap_or_default(),
        };
        let value = self.endpoint_json(&endpoint);
        state.endpoints.insert(id, endpoint);
        Ok(json_response(StatusCode::OK, value))
    }

    fn list_endpoints(&self, req: &ApiRequest) -> ApiResult<Response> {
        let (max, token) = req.page()?;
        let channel = req.query_one("channelId");
        let state = self.inner.state.lock().unwrap();
        let all = state
            .endpoints
            .values()
            .filter(|e| channel.is_none_or(|c| c == e.channel_id))
            .map(|e| (e.id.clone(), self.endpoint_json(e)))
            .collect();
        Ok(page_response("originEndpoints", all, max, token.as_deref()))
    }

    fn describe_endpoint(&self, id: &str) -> ApiResult<Response> {
        let state = self.inner.state.lock().unwrap();
        let endpoint = state.endpoints.get(id).ok_or_else(|| endpoint_not_found(id))?;
        Ok(json_response(StatusCode::OK, self.endpoint_json(endpoint)))
    }

    fn update_endpoint(&self, req: &ApiRequest, id: &str) -> ApiResult<Response> {
        let body: Value = parse_body(&req.body)?;
        let update = endpoint_settings(&body)?;
        let mut state = self.inner.state.lock().unwrap();
        let endpoint = state.endpoints.get_mut(id).ok_or_else(|| endpoint_not_found(id))?;
        endpoint.settings.extend(update);
        Ok(json_response(StatusCode::OK, self.endpoint_json(endpoint)))
    }

    fn delete_endpoint(&self, id: &str) -> ApiResult<Response> {
        let mut state = self.inner.state.lock().unwrap();
        state.endpoints.remove(id).ok_or_else(|| endpoint_not_found(id))?;
        Ok(empty_response(StatusCode::ACCEPTED))
    }

    fn tags(&self, req: &ApiRequest, operation: &str) -> ApiResult<Response> {
        let arn = req.segments.get(1).cloned().unwrap_or_default();
        let body: Value = if operation == "TagResource" {
            parse_body(&req.body)?
        } else {
            Value::Null
        };
        let mut state = self.inner.state.lock().unwrap();
        let State { channels, endpoints } = &mut *state;
        let tags = channels
            .values_mut()
            .map(|c| (&c.arn, &mut c.tags))
            .chain(endpoints.values_mut().map(|e| (&e.arn, &mut e.tags)))
            .find(|(a, _)| **a == arn)
            .map(|(_, t)| t)
            .ok_or_else(|| ApiError::not_found(format!("Resource {arn} not found")))?;
        match operation {
            "TagResource" => {
                let new: Tags = serde_json::from_value(body["tags"].clone())
                    .map_err(|e| ApiError::unprocessable(format!("tags: {e}")))?;
                tags.extend(new);
                Ok(empty_response(StatusCode::NO_CONTENT))
            }
            "UntagResource" => {
                for key in req.query.get("tagKeys").into_iter().flatten() {
                    tags.remove(key);
                }
                Ok(empty_response(StatusCode::NO_CONTENT))
            }
            _ => Ok(json_response(StatusCode::OK, json!({ "tags": tags }))),
        }
    }

    /// The packaging an endpoint asks for, and the channel it packages.
    fn packaging(&self, endpoint_id: &str) -> Option<(String, String, Packaging)> {
        let state = self.inner.state.lock().unwrap();
        let e = state.endpoints.get(endpoint_id)?;
        let manifest = e
            .settings
            .get("manifestName")
            .and_then(Value::as_str)
            .unwrap_or("index")
            .to_owned();
        if package(&e.settings) != "hlsPackage" {
            return None;
        }
        let hls = e.settings.get("hlsPackage").cloned().unwrap_or_default();
        let selection = &hls["streamSelection"];
        let packaging = Packaging {
            segment_duration_seconds: hls["segmentDurationSeconds"].as_u64().unwrap_or(6) as u32,
            playlist_window_seconds: hls["playlistWindowSeconds"].as_u64().unwrap_or(60) as u32,
            min_video_bits_per_second: selection["minVideoBitsPerSecond"].as_u64().unwrap_or(0),
            max_video_bits_per_second: selection["maxVideoBitsPerSecond"].as_u64().unwrap_or(i32::MAX as u64),
            stream_order: match selection["streamOrder"].as_str() {
                Some("VIDEO_BITRATE_ASCENDING") => StreamOrder::VideoBitrateAscending,
                Some("VIDEO_BITRATE_DESCENDING") => StreamOrder::VideoBitrateDescending,
                _ => StreamOrder::Original,
            },
        };
        Some((e.channel_id.clone(), manifest, packaging))
    }
}

/// The HLS-relevant members of an endpoint request, checked as MediaPackage checks them.
fn endpoint_settings(body: &Value) -> ApiResult<serde_json::Map<String, Value>> {
    let hls = &body["hlsPackage"];
    if !hls.is_null() {
        let segment = hls["segmentDurationSeconds"].as_i64().unwrap_or(6);
        let window = hls["playlistWindowSeconds"].as_i64().unwrap_or(60);
        // No public source found for these three rules (audited 2026-12; the v1 model gives no
        // bounds, so the former 30 s cap is removed): kept because a segment of no time, a window
        // that holds no segment and a bitrate range that selects nothing package nothing.
        if segment < 1 {
            return Err(ApiError::unprocessable(format!(
                "hlsPackage.segmentDurationSeconds must be at least 1, got {segment}"
            )));
        }
        if window < segment {
            return Err(ApiError::unprocessable(
                "hlsPackage.playlistWindowSeconds must be at least the segment duration",
            ));
        }
        let selection = &hls["streamSelection"];
        if let (Some(min), Some(max)) = (
            selection["minVideoBitsPerSecond"].as_i64(),
            selection["maxVideoBitsPerSecond"].as_i64(),
        ) && min > max
        {
            return Err(ApiError::unprocessable(
                "streamSelection.minVideoBitsPerSecond exceeds maxVideoBitsPerSecond",
            ));
        }
    }
    Ok(ENDPOINT_SETTINGS
        .iter()
        .filter_map(|k| {
            body.get(*k)
                .filter(|v| !v.is_null())
                .map(|v| ((*k).to_owned(), v.clone()))
        })
        .collect())
}

/// The package an endpoint serves (one of them; an endpoint without any is HLS, as before).
fn package(settings: &serde_json::Map<String, Value>) -> &'static str {
    ["cmafPackage", "dashPackage", "mssPackage"]
        .into_iter()
        .find(|p| settings.contains_key(*p) && !settings.contains_key("hlsPackage"))
        .unwrap_or("hlsPackage")
}

fn endpoint_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Origin endpoint {id} not found"))
}

fn now_iso() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The operations it serves, routed by the model's `requestUri`s (`/origin_endpoints/{id}` ...).
pub const OPERATIONS: &[&str] = &[
    "CreateChannel",
    "ListChannels",
    "DescribeChannel",
    "UpdateChannel",
    "DeleteChannel",
    "CreateOriginEndpoint",
    "ListOriginEndpoints",
    "DescribeOriginEndpoint",
    "UpdateOriginEndpoint",
    "DeleteOriginEndpoint",
    "ListTagsForResource",
    "TagResource",
    "UntagResource",
];

/// MediaPackage (v1): REST-JSON, signed `mediapackage`; every other `/out/v1/{endpoint}/...` unsigned.
impl Service for MediaPackage {
    fn signing_name(&self) -> &'static str {
        "mediapackage"
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn call<'a>(&'a self, shared: &'a Shared, req: Request) -> Answer<'a> {
        Box::pin(chain::rest_json(shared, self, req))
    }

    fn unsigned<'a>(&'a self, _shared: &'a Shared, req: Request) -> Result<Answer<'a>, Box<Request>> {
        let Some(rest) = req.uri().path().strip_prefix("/out/v1/") else {
            return Err(Box::new(req));
        };
        let rest = rest.to_owned();
        Ok(Box::pin(async move { self.serve_origin(&rest).await }))
    }

    fn reset(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        MediaPackage::reset(self);
        Box::pin(std::future::ready(()))
    }
}

impl RestJson for MediaPackage {
    fn dialect(&self) -> Dialect {
        DIALECT
    }

    fn handle(&self, operation: &'static str, req: ApiRequest) -> Handled<'_> {
        Box::pin(MediaPackage::handle(self, operation, req))
    }

    fn iam(&self) -> RestJsonIam {
        iam::IAM
    }
}

impl crate::destinations::PackageV1 for MediaPackage {
    fn channel_visible(&self, id: &str) -> bool {
        MediaPackage::channel_visible(self, id)
    }
}

#[cfg(test)]
mod tests;
