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
//! layouts; [`origin`] and [`cmaf`] serve the media there, [`MediaPackageV2::manifest`] is their lookup.
//!
//! Here: the service, its state, the routing of requests to operations and their dispatch. The
//! resources are in [`channel_groups`], [`channels`] and [`origin_endpoints`], what each has in
//! [`meta`] (ETags included), their [`tags`], the [`manifests`] endpoints serve; then the
//! [`client_tokens`], [`pagination`], [`quotas`] and the service's [`errors`].

mod channel_groups;
mod channels;
mod client_tokens;
mod cmaf;
mod errors;
mod harvest_cut;
mod harvest_jobs;
mod harvest_rules;
pub mod iam;
mod manifests;
mod meta;
mod origin;
mod origin_endpoints;
mod pagination;
pub mod quotas;
mod rules;
mod tags;
#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeMap, HashMap},
    pin::Pin,
    sync::{Arc, Mutex},
};

use axum::{extract::Request, http::StatusCode, response::Response};
use serde_json::Value;

pub use errors::DIALECT;
pub use harvest_jobs::HarvestSink;
pub use manifests::ManifestKind;
pub use quotas::Quotas;

use crate::{
    chain::{self, Handled, RestJson},
    config::Config,
    iam::naming::RestJsonIam,
    model::{ModelSpec, ServiceModel},
    protocol::{ApiError, ApiRequest, ApiResult, json_response, parse_body},
    services::{Answer, Service, Shared},
};

use channel_groups::{Group, group};
use channels::channel;
use origin_endpoints::endpoint;
use pagination::page;

/// The AWS model its requests are checked against (botocore's folder and API version).
pub const MODEL: ModelSpec = ModelSpec {
    service: "mediapackagev2",
    version: "2022-12-25",
    strict: true,
    amendments: &[],
};

type Tags = BTreeMap<String, String>;

#[derive(Clone)]
pub struct MediaPackageV2 {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    model: Arc<ServiceModel>,
    state: Mutex<State>,
    /// The media and S3 harvest jobs use (set once at startup).
    sink: std::sync::OnceLock<HarvestSink>,
}

#[derive(Default)]
struct State {
    groups: BTreeMap<String, Group>,
    /// The creates made with each client token (`x-amzn-client-token`): (operation, token) → the
    /// request it came with.
    tokens: HashMap<(&'static str, String), Value>,
    /// How many ETags were handed out (each one is new).
    etags: u64,
    /// Harvest jobs by (group, channel, name); kept after their endpoint is deleted, as AWS keeps
    /// a record of each job.
    harvest_jobs: BTreeMap<harvest_jobs::JobKey, harvest_jobs::Job>,
}

impl MediaPackageV2 {
    pub fn new(config: Config, model: Arc<ServiceModel>) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                model,
                state: Mutex::new(State::default()),
                sink: std::sync::OnceLock::new(),
            }),
        }
    }

    pub fn reset(&self) {
        let mut state = self.inner.state.lock().unwrap();
        // Running jobs see theirs gone and stop.
        *state = State::default();
    }

    fn quotas(&self) -> Quotas {
        self.inner.config.mediapackagev2_quotas
    }

    /// Runs `operation` (one of [`OPERATIONS`]; any other is unknown).
    pub async fn handle(&self, operation: &str, req: ApiRequest) -> ApiResult<Response> {
        if operation == "CreateHarvestJob" {
            return self
                .create_harvest_job(&req)
                .await
                .map(|value| json_response(StatusCode::OK, self.inner.model.output(operation, &value)));
        }
        self.call(operation, &req)
    }

    fn call(&self, operation: &str, req: &ApiRequest) -> ApiResult<Response> {
        let body: Value = parse_body(&req.body)?;
        // The labels of the operation's requestUri, as routing found them.
        let label = |name: &str| req.labels.get(name).map_or("", String::as_str);
        let (g, c, e, n) = (
            label("ChannelGroupName"),
            label("ChannelName"),
            label("OriginEndpointName"),
            label("HarvestJobName"),
        );
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
            "GetHarvestJob" => self.get_harvest_job(g, c, e, n)?,
            "ListHarvestJobs" => self.list_harvest_jobs(req, g)?,
            "CancelHarvestJob" => self.cancel_harvest_job(req, g, c, e, n)?,
            "TagResource" | "UntagResource" | "ListTagsForResource" => {
                return self.tags(operation, req, &body, label("ResourceArn"));
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

    fn arn(&self, resource: &str) -> String {
        let config = &self.inner.config;
        format!(
            "arn:aws:mediapackagev2:{}:{}:{resource}",
            config.region, config.account_id
        )
    }
}

fn member_str(body: &Value, member: &str) -> String {
    body[member].as_str().unwrap_or_default().to_owned()
}

fn present(body: &Value, member: &str) -> Option<Value> {
    body.get(member).filter(|v| !v.is_null()).cloned()
}

/// The operations it serves, routed by the model's `requestUri`s
/// (`/channelGroup/{ChannelGroupName}/channel/{ChannelName}/` ...).
pub const OPERATIONS: &[&str] = &[
    "CreateChannelGroup",
    "ListChannelGroups",
    "GetChannelGroup",
    "UpdateChannelGroup",
    "DeleteChannelGroup",
    "CreateChannel",
    "ListChannels",
    "GetChannel",
    "UpdateChannel",
    "DeleteChannel",
    "CreateOriginEndpoint",
    "ListOriginEndpoints",
    "GetOriginEndpoint",
    "UpdateOriginEndpoint",
    "DeleteOriginEndpoint",
    "CreateHarvestJob",
    "GetHarvestJob",
    "CancelHarvestJob",
    "ListHarvestJobs",
    "ListTagsForResource",
    "TagResource",
    "UntagResource",
];

/// MediaPackage v2: REST-JSON, signed `mediapackagev2`; its origin endpoints' `/out/v1/{group}/{channel}/{endpoint}/...` unsigned.
impl Service for MediaPackageV2 {
    fn signing_name(&self) -> &'static str {
        "mediapackagev2"
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn call<'a>(&'a self, shared: &'a Shared, req: Request) -> Answer<'a> {
        Box::pin(chain::rest_json(shared, self, req))
    }

    fn unsigned<'a>(&'a self, shared: &'a Shared, req: Request) -> Result<Answer<'a>, Box<Request>> {
        let Some(rest) = req.uri().path().strip_prefix("/out/v1/") else {
            return Err(Box::new(req));
        };
        let Some(((g, c, e), file)) = manifests::origin_file(self, rest) else {
            return Err(Box::new(req));
        };
        let query = req.uri().query().map(str::to_owned);
        Ok(Box::pin(async move {
            let file: Vec<&str> = file.iter().map(String::as_str).collect();
            origin::serve(self, &shared.media, (&g, &c, &e), &file, query.as_deref()).await
        }))
    }

    fn reset(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        MediaPackageV2::reset(self);
        Box::pin(std::future::ready(()))
    }
}

impl RestJson for MediaPackageV2 {
    fn dialect(&self) -> crate::protocol::Dialect {
        DIALECT
    }

    fn handle(&self, operation: &'static str, req: ApiRequest) -> Handled<'_> {
        Box::pin(MediaPackageV2::handle(self, operation, req))
    }

    fn iam(&self) -> RestJsonIam {
        iam::IAM
    }
}

impl crate::destinations::PackageV2 for MediaPackageV2 {
    fn channel_exists(&self, group: &str, channel: &str) -> bool {
        MediaPackageV2::channel_exists(self, group, channel)
    }

    fn longest_startover_window(&self, group: &str, channel: &str) -> Option<f64> {
        MediaPackageV2::longest_startover_window(self, group, channel)
    }
}
