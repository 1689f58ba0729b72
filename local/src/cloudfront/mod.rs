//! Amazon CloudFront (REST-XML, API 2020-05-31): distributions and origin access controls with
//! their ETags, tags and lifecycle, as strictly as the service, and a real edge per distribution.
//!
//! - [`api`]: routing by method and path, the request pipeline (SigV4 scoped to us-east-1, IAM,
//!   the XML body read by the model and validated against it) and the XML answers.
//! - [`distributions`], [`oac`]: the operations; [`rules`]: what AWS documents beyond the model.
//! - [`policies`]: the AWS managed cache, origin request and response headers policies.
//! - [`edge`]: each distribution's own listener on 127.0.0.1 (its `DomainName` is
//!   `127.0.0.1:<port>`), routing by cache behaviour, forwarding to the origin (an S3 origin with an
//!   origin access control gets a SigV4-signed request as `cloudfront.amazonaws.com`), and
//!   [`cache`]: the cache with AWS's TTL rules and collapsed misses.
//!
//! State lives in memory, like the other services'. `Status` is `InProgress` after each create or
//! update and `Deployed` after `--cloudfront-deploy-seconds` (default 3; minutes on AWS).

mod api;
mod cache;
mod checks;
mod distributions;
mod edge;
mod errors;
mod iam;
mod oac;
mod policies;
pub mod quotas;
mod rules;
pub(crate) mod xml;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::extract::Request;
use serde_json::Value;

use crate::{
    auth::ServiceKey,
    config::Config,
    model::{Amendment, ModelSpec},
    services::{Answer, Service, Shared},
};

/// The AWS model its requests are checked against (botocore's folder and API version).
pub const MODEL: ModelSpec = ModelSpec {
    service: "cloudfront",
    version: "2020-05-31",
    strict: true,
    amendments: &[Amendment {
        shape: "OriginAccessControlSigningProtocols",
        values: &["sigv4a"],
        evidence: "hashicorp/terraform-provider-aws internal/service/cloudfront/origin_access_control_test.go \
                   @077d7ac061ecf91eb4ae36b3a4e00701c9078f3f: an acceptance test (run against AWS) creates an \
                   OAC with signing_protocol = \"sigv4a\" and reads it back",
    }],
};

/// The operations it serves, routed by the model's `requestUri`s (`/2020-05-31/distribution?WithTags`,
/// `/2020-05-31/tagging?Operation=Tag` ...).
pub const OPERATIONS: &[&str] = &[
    "CreateDistributionWithTags",
    "CreateDistribution",
    "ListDistributions",
    "GetDistribution",
    "DeleteDistribution",
    "GetDistributionConfig",
    "UpdateDistribution",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "CreateOriginAccessControl",
    "ListOriginAccessControls",
    "GetOriginAccessControl",
    "DeleteOriginAccessControl",
    "GetOriginAccessControlConfig",
    "UpdateOriginAccessControl",
];

type HttpClient =
    hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, axum::body::Body>;

#[derive(Clone)]
pub struct CloudFront {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    state: Mutex<State>,
    /// The key the edge signs S3 origin requests with, as the CloudFront service principal.
    service_key: Arc<ServiceKey>,
    client: HttpClient,
}

#[derive(Default)]
struct State {
    distributions: BTreeMap<String, Distribution>,
    oacs: BTreeMap<String, Oac>,
}

pub(crate) struct Distribution {
    id: String,
    /// The DistributionConfig as CloudFront keeps it (defaults filled in).
    config: Arc<Value>,
    /// The configuration it was created with, to recognise a retried create (CallerReference).
    created_with: Value,
    etag: String,
    last_modified: jiff::Timestamp,
    /// When the current version is deployed (Status InProgress before, Deployed after).
    deployed_at: Instant,
    tags: Vec<(String, String)>,
    /// The edge's port on 127.0.0.1, and the sender that stops it.
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    stats: Arc<edge::Stats>,
    cache: Arc<cache::Cache>,
}

struct Oac {
    id: String,
    config: Value,
    etag: String,
}

impl Distribution {
    fn status(&self) -> &'static str {
        if Instant::now() >= self.deployed_at {
            "Deployed"
        } else {
            "InProgress"
        }
    }
}

impl Drop for Distribution {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An id as CloudFront makes them: `E` and 13 uppercase letters and digits.
pub(crate) fn new_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let tail: String = (0..13)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("E{tail}")
}

impl CloudFront {
    pub fn new(config: Config, service_key: Arc<ServiceKey>) -> Self {
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build_http();
        Self {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State::default()),
                service_key,
                client,
            }),
        }
    }

    /// Forgets every distribution (closing their edges) and origin access control.
    pub fn reset(&self) {
        let old = std::mem::take(&mut *self.inner.state.lock().unwrap());
        drop(old);
    }

    fn account(&self) -> &str {
        &self.inner.config.account_id
    }

    fn deploy_delay(&self) -> Duration {
        Duration::from_secs_f64(self.inner.config.cloudfront_deploy_seconds.max(0.0))
    }

    pub(crate) fn distribution_arn(&self, id: &str) -> String {
        format!("arn:aws:cloudfront::{}:distribution/{id}", self.account())
    }

    /// Prometheus text: per distribution, viewer requests, hits, misses and origin requests (by path).
    pub fn metrics_text(&self) -> String {
        let state = self.inner.state.lock().unwrap();
        let mut out = String::new();
        let families = [
            ("requests", "Viewer requests to a distribution's edge."),
            ("hits", "Viewer requests answered from the edge's cache."),
            (
                "misses",
                "Viewer requests the edge sent on to the origin (collapsed misses count once each).",
            ),
            ("origin_requests", "Requests the edge made to an origin."),
        ];
        for (name, help) in families {
            out.push_str(&format!(
                "# HELP livestream_local_cloudfront_{name}_total {help}\n# TYPE livestream_local_cloudfront_{name}_total counter\n"
            ));
            for d in state.distributions.values() {
                out.push_str(&format!(
                    "livestream_local_cloudfront_{name}_total{{distribution=\"{}\"}} {}\n",
                    d.id,
                    d.stats.counter(name)
                ));
            }
        }
        out.push_str(
            "# HELP livestream_local_cloudfront_origin_requests_by_path_total Origin requests by distribution and path.\n\
             # TYPE livestream_local_cloudfront_origin_requests_by_path_total counter\n",
        );
        for d in state.distributions.values() {
            for (path, n) in d.stats.by_path() {
                let path = path.replace('\\', "\\\\").replace('"', "\\\"");
                out.push_str(&format!(
                    "livestream_local_cloudfront_origin_requests_by_path_total{{distribution=\"{}\",path=\"{path}\"}} {n}\n",
                    d.id
                ));
            }
        }
        out
    }
}

/// Tags as `Tags.Items[{Key, Value}]`.
fn tags_json(tags: &[(String, String)]) -> Value {
    let items: Vec<Value> = tags
        .iter()
        .map(|(k, v)| serde_json::json!({"Key": k, "Value": v}))
        .collect();
    serde_json::json!({ "Items": items })
}

/// `Tags.Items[{Key, Value}]` as pairs, later keys replacing earlier ones.
fn tags_from(tags: &Value) -> Vec<(String, String)> {
    let mut out: HashMap<String, String> = HashMap::new();
    let mut order = Vec::new();
    for tag in tags["Items"].as_array().into_iter().flatten() {
        let key = tag["Key"].as_str().unwrap_or_default().to_owned();
        if !out.contains_key(&key) {
            order.push(key.clone());
        }
        out.insert(key, tag["Value"].as_str().unwrap_or_default().to_owned());
    }
    order
        .into_iter()
        .map(|k| {
            let v = out.remove(&k).unwrap_or_default();
            (k, v)
        })
        .collect()
}

#[cfg(test)]
mod tests;

/// CloudFront: REST-XML, signed `cloudfront`, with its own chain ([`api`]); its edges listen on
/// ports of their own.
impl Service for CloudFront {
    fn signing_name(&self) -> &'static str {
        "cloudfront"
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn call<'a>(&'a self, shared: &'a Shared, req: Request) -> Answer<'a> {
        Box::pin(api::handle(self, shared, req))
    }

    fn reset(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        CloudFront::reset(self);
        Box::pin(std::future::ready(()))
    }

    fn metrics_text(&self) -> String {
        CloudFront::metrics_text(self)
    }
}
