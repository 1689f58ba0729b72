//! A distribution's edge: its own listener on livestream-local's address (a free port, bound at
//! create, closed at delete; the distribution's `DomainName` is `127.0.0.1:<port>`), serving
//! plain HTTP as CloudFront serves a viewer:
//!
//! - the cache behaviour is the first whose `PathPattern` matches the path (CloudFront's globs: `*`
//!   any run of characters, `?` one, case-sensitive, a missing leading `/` implied), else the
//!   default behaviour; `/` is the `DefaultRootObject` when there is one;
//! - GET and HEAD are served through the [`Cache`](super::cache) (HEAD from a GET of the origin),
//!   OPTIONS when `AllowedMethods` has it (not cached), the other methods only when all seven are
//!   allowed (not cached); anything else is CloudFront's 403;
//! - the origin request goes to the behaviour's target origin with its `OriginPath`, the query
//!   strings the behaviour forwards ([`policies`](super::policies)), `User-Agent: Amazon CloudFront`,
//!   `Via` and `X-Amz-Cf-Id`; an S3 origin (`<bucket>.s3[.<region>].amazonaws.com`) is
//!   livestream-local's own S3, path-style, and with an origin access control (signing `always`
//!   or `no-override`) the request is SigV4-signed for S3 as the `cloudfront.amazonaws.com`
//!   service principal with the distribution's ARN and account as `aws:SourceArn` /
//!   `aws:SourceAccount`, which the bucket policy must grant;
//! - answers carry `X-Cache` (`Hit` / `Miss` / `Error from cloudfront`), `Via`, `X-Amz-Cf-Pop`,
//!   `X-Amz-Cf-Id` and, from the cache, `Age`;
//! - a disabled distribution answers 403.
//!
//! Not like CloudFront: plain HTTP only (no TLS, so `ViewerProtocolPolicy` does not redirect), and
//! an origin request the edge cannot make (an `https-only` origin, a connection refused, a
//! timeout) is a 502/504 that is not cached.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use serde_json::Value;

use super::{
    CloudFront,
    cache::{self, Cache, Stored},
    policies,
    rules::{self, Origin},
};
use crate::config::Config;

/// At most this many distinct paths are counted per distribution.
const MAX_PATHS: usize = 2_000;

#[derive(Default)]
pub struct Stats {
    requests: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    origin_requests: AtomicU64,
    by_path: Mutex<HashMap<String, u64>>,
}

impl Stats {
    pub fn counter(&self, name: &str) -> u64 {
        let counter = match name {
            "requests" => &self.requests,
            "hits" => &self.hits,
            "misses" => &self.misses,
            _ => &self.origin_requests,
        };
        counter.load(Ordering::Relaxed)
    }

    pub fn by_path(&self) -> Vec<(String, u64)> {
        let mut paths: Vec<_> = self
            .by_path
            .lock()
            .unwrap()
            .iter()
            .map(|(p, n)| (p.clone(), *n))
            .collect();
        paths.sort();
        paths
    }

    fn origin_request(&self, path: &str) {
        self.origin_requests.fetch_add(1, Ordering::Relaxed);
        let mut paths = self.by_path.lock().unwrap();
        if paths.len() < MAX_PATHS || paths.contains_key(path) {
            *paths.entry(path.to_owned()).or_default() += 1;
        }
    }
}

/// A free port on livestream-local's address, bound now (so the distribution's domain is known
/// when its create answers).
pub fn bind(config: &Config) -> std::io::Result<(std::net::TcpListener, u16)> {
    let listener = std::net::TcpListener::bind((config.listen.ip(), 0))?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    Ok((listener, port))
}

struct Edge {
    cloudfront: CloudFront,
    id: String,
}

/// Serves the distribution `id` on `listener` until `stopped` fires (its delete).
pub fn serve(
    cloudfront: CloudFront,
    id: String,
    listener: std::net::TcpListener,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    tokio::spawn(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(e) => return tracing::error!(error = %e, "the edge's listener"),
        };
        let app = Router::new()
            .fallback(any(viewer))
            .with_state(Arc::new(Edge { cloudfront, id }));
        crate::serve::serve(listener, app, async {
            let _ = stopped.await;
        })
        .await;
    });
}

/// What one viewer request needs of its distribution, read under the lock.
struct Route {
    enabled: bool,
    behavior: Value,
    origin: Value,
    /// The origin access control's config, if the origin has one.
    oac: Option<Value>,
    arn: String,
    default_root_object: String,
    stats: Arc<Stats>,
    cache: Arc<Cache>,
}

/// Whether a cache behaviour's `PathPattern` matches `path`.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = if pattern.starts_with('/') || pattern.starts_with('*') {
        pattern.to_owned()
    } else {
        format!("/{pattern}")
    };
    crate::iam::wildcard(&pattern, path)
}

/// The behaviour for `path`: the first listed whose pattern matches, else the default.
pub fn behavior_for<'a>(config: &'a Value, path: &str) -> &'a Value {
    (config["CacheBehaviors"]["Items"].as_array().into_iter().flatten())
        .find(|b| path_matches(b["PathPattern"].as_str().unwrap_or_default(), path))
        .unwrap_or(&config["DefaultCacheBehavior"])
}

impl CloudFront {
    fn route(&self, id: &str, path: &str) -> Option<Route> {
        let state = self.inner.state.lock().unwrap();
        let d = state.distributions.get(id)?;
        let behavior = behavior_for(&d.config, path).clone();
        let mut target = behavior["TargetOriginId"].as_str().unwrap_or_default();
        // An origin group: its primary (first) member serves (no failover to the second).
        if let Some(group) =
            (d.config["OriginGroups"]["Items"].as_array().into_iter().flatten()).find(|g| g["Id"] == target)
        {
            target = group["Members"]["Items"][0]["OriginId"].as_str().unwrap_or_default();
        }
        let origin = (d.config["Origins"]["Items"].as_array().into_iter().flatten())
            .find(|o| o["Id"] == target)?
            .clone();
        let oac = origin["OriginAccessControlId"]
            .as_str()
            .and_then(|oac| state.oacs.get(oac))
            .map(|oac| oac.config.clone());
        Some(Route {
            enabled: d.config["Enabled"] == true,
            behavior,
            origin,
            oac,
            arn: self.distribution_arn(id),
            default_root_object: d.config["DefaultRootObject"].as_str().unwrap_or_default().to_owned(),
            stats: d.stats.clone(),
            cache: d.cache.clone(),
        })
    }
}

fn cloudfront_error(status: StatusCode, why: &str) -> Response {
    let body = format!(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\">\n<HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY>\n<H1>{} ERROR</H1>\n<H2>The request could not be satisfied.</H2>\n<HR noshade size=\"1px\">\n{why}\n</BODY></HTML>",
        status.as_u16()
    );
    let mut response = (status, [(header::CONTENT_TYPE, "text/html")], body).into_response();
    decorate(response.headers_mut(), "Error from cloudfront", None);
    response
}

fn random_text(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..len)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// CloudFront's headers on an answer to a viewer.
fn decorate(headers: &mut HeaderMap, x_cache: &'static str, age: Option<u64>) {
    headers.insert("x-cache", HeaderValue::from_static(x_cache));
    let via = format!(
        "1.1 {}.cloudfront.net (CloudFront)",
        hex::encode(rand::random::<[u8; 16]>())
    );
    if let Ok(via) = HeaderValue::from_str(&via) {
        headers.insert(header::VIA, via);
    }
    headers.insert("x-amz-cf-pop", HeaderValue::from_static("LCL1-P1"));
    if let Ok(id) = HeaderValue::from_str(&format!("{}==", random_text(54))) {
        headers.insert("x-amz-cf-id", id);
    }
    if let Some(age) = age {
        headers.insert(header::AGE, HeaderValue::from(age));
    }
}

async fn viewer(State(edge): State<Arc<Edge>>, req: Request) -> Response {
    let mut path = req.uri().path().to_owned();
    let Some(mut route) = edge.cloudfront.route(&edge.id, &path) else {
        return cloudfront_error(StatusCode::FORBIDDEN, "Bad request.");
    };
    route.stats.requests.fetch_add(1, Ordering::Relaxed);
    if !route.enabled {
        return cloudfront_error(StatusCode::FORBIDDEN, "Bad request.");
    }
    if path == "/" && !route.default_root_object.is_empty() {
        path = format!("/{}", route.default_root_object);
        route = edge.cloudfront.route(&edge.id, &path).unwrap_or(route);
    }
    let method = req.method().clone();
    let allowed: Vec<&str> = (route.behavior["AllowedMethods"]["Items"]
        .as_array()
        .into_iter()
        .flatten())
    .filter_map(Value::as_str)
    .collect();
    let cacheable = method == Method::GET || method == Method::HEAD;
    if !cacheable && !allowed.contains(&method.as_str()) {
        return cloudfront_error(
            StatusCode::FORBIDDEN,
            "This distribution is not configured to allow the HTTP request method that was used for this request. The distribution supports only cachable requests.",
        );
    }
    let caching = policies::caching(&route.behavior);
    let query = req.uri().query().unwrap_or("").to_owned();
    let forwarded = caching.forward.select(&query);
    let edge_ref = &edge;
    if !cacheable {
        route.stats.misses.fetch_add(1, Ordering::Relaxed);
        let headers = req.headers().clone();
        let body = axum::body::to_bytes(req.into_body(), 64 << 20)
            .await
            .unwrap_or_default();
        let answer = forward(edge_ref, &route, &method, &path, &forwarded, &headers, body).await;
        return respond(&answer.0, false, false, caching.cors);
    }
    let key = format!("{path}?{}", caching.key.select(&query));
    let headers = req.headers().clone();
    let (answer, hit) = route
        .cache
        .get_or_fetch(&key, || async {
            let fetched = forward(
                edge_ref,
                &route,
                &Method::GET,
                &path,
                &forwarded,
                &headers,
                Bytes::new(),
            )
            .await;
            let ttl = match fetched.1 {
                true => cache::ttl(
                    fetched.0.status,
                    &fetched.0.headers,
                    caching.min_ttl,
                    caching.default_ttl,
                    caching.max_ttl,
                    SystemTime::now(),
                ),
                false => 0,
            };
            Arc::new(Stored {
                ttl: Duration::from_secs(ttl),
                ..fetched.0
            })
        })
        .await;
    let counter = if hit { &route.stats.hits } else { &route.stats.misses };
    counter.fetch_add(1, Ordering::Relaxed);
    respond(&answer, hit, method == Method::HEAD, caching.cors)
}

fn respond(answer: &Stored, hit: bool, head: bool, cors: bool) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let body = if head {
        Body::empty()
    } else {
        Body::from(answer.body.clone())
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    for (name, value) in &answer.headers {
        if !matches!(
            name.as_str(),
            "connection" | "keep-alive" | "transfer-encoding" | "content-length" | "date"
        ) {
            headers.append(name, value.clone());
        }
    }
    if head {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(answer.body.len()));
    }
    if cors {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    let x_cache = match (answer.status >= 400, hit) {
        (true, _) => "Error from cloudfront",
        (false, true) => "Hit from cloudfront",
        (false, false) => "Miss from cloudfront",
    };
    let age = hit.then(|| answer.stored_at.elapsed().as_secs());
    decorate(headers, x_cache, age);
    response
}

/// One origin request; the answer and whether it came from the origin (false: the edge's own error).
async fn forward(
    edge: &Edge,
    route: &Route,
    method: &Method,
    path: &str,
    query: &str,
    viewer_headers: &HeaderMap,
    body: Bytes,
) -> (Stored, bool) {
    let inner = &edge.cloudfront.inner;
    let origin_path = route.origin["OriginPath"].as_str().unwrap_or_default();
    let suffix = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    let (authority, target) = match rules::origin(&route.origin) {
        Origin::S3 { bucket } => (inner.config.listen.to_string(), format!("/{bucket}{origin_path}{path}")),
        Origin::Custom { https_only: true, .. } => {
            return (
                edge_error(502, "livestream-local's edge cannot reach https-only origins"),
                false,
            );
        }
        Origin::Custom { host, port, .. } => (format!("{host}:{port}"), format!("{origin_path}{path}")),
    };
    let uri = format!("http://{authority}{target}{suffix}");
    let mut request = axum::http::Request::builder().method(method.clone()).uri(&uri);
    for (name, value) in [
        ("host", authority.clone()),
        ("user-agent", "Amazon CloudFront".to_owned()),
        ("via", "1.1 local.cloudfront.net (CloudFront)".to_owned()),
        ("x-amz-cf-id", format!("{}==", random_text(54))),
    ] {
        request = request.header(name, value);
    }
    if !matches!(*method, Method::GET | Method::HEAD) {
        for name in [header::CONTENT_TYPE, header::ORIGIN] {
            if let Some(value) = viewer_headers.get(&name) {
                request = request.header(name, value.clone());
            }
        }
    }
    let Ok(mut request) = request.body(body.to_vec()) else {
        return (edge_error(502, "the origin request could not be built"), false);
    };
    let signs = route.oac.as_ref().is_some_and(|oac| {
        oac["SigningBehavior"] != "never" && matches!(rules::origin(&route.origin), Origin::S3 { .. })
    });
    if signs {
        request = sign_as_cloudfront(request, &inner.service_key, &inner.config, &route.arn);
    }
    route.stats.origin_request(path);
    let read_timeout = route.origin["CustomOriginConfig"]["OriginReadTimeout"]
        .as_u64()
        .unwrap_or(30);
    let sent = inner.client.request(request.map(Body::from));
    let answer = match tokio::time::timeout(Duration::from_secs(read_timeout.max(1)), sent).await {
        Err(_) => return (edge_error(504, "the origin did not answer in time"), false),
        Ok(Err(e)) => {
            tracing::info!(uri, error = %e, "CloudFront edge: origin request failed");
            return (edge_error(502, "the origin could not be reached"), false);
        }
        Ok(Ok(answer)) => answer,
    };
    let (parts, body) = answer.into_parts();
    let Ok(body) = axum::body::to_bytes(Body::new(body), 512 << 20).await else {
        return (edge_error(502, "the origin's answer broke off"), false);
    };
    let stored = Stored {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
        stored_at: Instant::now(),
        ttl: Duration::ZERO,
    };
    (stored, true)
}

fn edge_error(status: u16, why: &str) -> Stored {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Stored {
        status,
        headers,
        body: Bytes::from(why.to_owned()),
        stored_at: Instant::now(),
        ttl: Duration::ZERO,
    }
}

/// `request` signed with SigV4 for S3 by the CloudFront service principal's key, naming the
/// distribution (`x-amz-source-arn`, `x-amz-source-account`, both signed).
fn sign_as_cloudfront(
    mut request: axum::http::Request<Vec<u8>>,
    key: &crate::auth::ServiceKey,
    config: &Config,
    arn: &str,
) -> axum::http::Request<Vec<u8>> {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
        UriPathNormalizationMode,
    };
    let headers = request.headers_mut();
    for (name, value) in [("x-amz-source-arn", arn), ("x-amz-source-account", &config.account_id)] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    let identity =
        aws_credential_types::Credentials::new(&key.access_key_id, &key.secret_access_key, None, None, "cloudfront")
            .into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let Ok(params) = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(&config.region)
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
    else {
        return request;
    };
    let params = params.into();
    let uri = request.uri().to_string();
    let pairs: Vec<(String, String)> = (request.headers().iter())
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let signable = SignableRequest::new(
        request.method().as_str(),
        &uri,
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(request.body()),
    );
    let Ok(signable) = signable else { return request };
    match aws_sigv4::http_request::sign(signable, &params) {
        Ok(signed) => {
            let (instructions, _) = signed.into_parts();
            instructions.apply_to_request_http1x(&mut request);
        }
        Err(e) => tracing::warn!(error = %e, "CloudFront edge: signing the S3 origin request"),
    }
    request
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn path_patterns_are_cloudfronts_globs() {
        assert!(path_matches("*.m3u8", "/out/v1/x/index.m3u8"));
        assert!(path_matches("/out/v1/*", "/out/v1/x/1.ts"));
        assert!(path_matches("out/v1/*", "/out/v1/x/1.ts"), "leading slash implied");
        assert!(path_matches("/images/?.jpg", "/images/a.jpg"));
        assert!(!path_matches("/images/?.jpg", "/images/ab.jpg"));
        assert!(!path_matches("*.M3U8", "/index.m3u8"), "case-sensitive");
        assert!(!path_matches("/out/v1/*", "/other/x"));
    }

    #[test]
    fn behaviours_in_order_then_the_default() {
        let config = json!({
            "DefaultCacheBehavior": {"TargetOriginId": "default"},
            "CacheBehaviors": {"Quantity": 2, "Items": [
                {"PathPattern": "*.m3u8", "TargetOriginId": "manifests"},
                {"PathPattern": "/out/*", "TargetOriginId": "media"}]}});
        let target = |path| {
            behavior_for(&config, path)["TargetOriginId"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(target("/out/v1/index.m3u8"), "manifests", "the first match wins");
        assert_eq!(target("/out/v1/1.ts"), "media");
        assert_eq!(target("/index.html"), "default");
    }
}
