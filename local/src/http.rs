//! One HTTP endpoint for everything, like the AWS endpoints behind `AWS_ENDPOINT_URL`: signed
//! requests go to the service named in their SigV4 credential scope; unsigned ones are a browser or
//! player fetching HLS (`/out/v1/...`) or a public S3 object. The admin API (`/_local/...`) is a
//! service of its own, `livestream-local`: signed, by a key the credentials mark administrator.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use serde_json::{Value, json};

use crate::{Cloud, error::ApiError, faults::FaultConfig};

pub fn router(cloud: Arc<Cloud>) -> Router {
    Router::new().fallback(any(dispatch)).with_state(cloud)
}

async fn dispatch(State(cloud): State<Arc<Cloud>>, req: Request) -> Response {
    match signing_service(&req).as_deref() {
        Some("medialive") => api(&cloud, "medialive", req, |c, r| Box::pin(c.medialive.handle(r))).await,
        Some("mediapackage") => api(&cloud, "mediapackage", req, |c, r| Box::pin(c.mediapackage.handle(r))).await,
        Some("mediapackagev2") => {
            api(&cloud, "mediapackagev2", req, |c, r| {
                Box::pin(c.mediapackagev2.handle(r))
            })
            .await
        }
        Some("s3") => s3(&cloud, req).await,
        Some("cloudfront") => crate::cloudfront::handle(&cloud, req).await,
        Some(ADMIN_SERVICE) => admin(&cloud, req).await,
        Some(other) => {
            ApiError::bad_request(format!("livestream-local does not serve the {other} API")).into_response()
        }
        None => unsigned(&cloud, req).await,
    }
}

type Handled<'a> = std::pin::Pin<Box<dyn Future<Output = (&'static str, Result<Response, ApiError>)> + Send + 'a>>;

/// Runs one MediaLive or MediaPackage call through fault injection and call accounting.
async fn api(
    cloud: &Arc<Cloud>,
    service: &str,
    req: Request,
    handle: impl for<'a> Fn(&'a Cloud, ApiRequest) -> Handled<'a>,
) -> Response {
    let response = api_call(cloud, service, req, handle).await;
    match response {
        Ok(response) => response,
        Err(e) => e.in_dialect_of(service).into_response(),
    }
}

async fn api_call(
    cloud: &Arc<Cloud>,
    service: &str,
    req: Request,
    handle: impl for<'a> Fn(&'a Cloud, ApiRequest) -> Handled<'a>,
) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let mut req = ApiRequest::read(&parts, body).await?;
    let operation = match service {
        "medialive" => crate::medialive::operation_name(&req),
        "mediapackagev2" => crate::mediapackagev2::operation_name(&req),
        _ => crate::mediapackage::operation_name(&req),
    };
    cloud.faults.wait_while_held().await;
    if let Err(e) = cloud.faults.before(operation).await {
        let e = e.in_dialect_of(service);
        cloud.faults.record(service, operation, e.kind);
        return Err(e);
    }
    match authorized(cloud, service, operation, &parts, &req) {
        Ok(caller) => req.caller = Some(caller),
        Err(refused) => {
            tracing::info!(service, operation, error = refused.kind, message = %refused.message, "refused");
            cloud.faults.record(service, operation, refused.kind);
            return Err(refused);
        }
    }
    if let Some(refused) = checked_against_model(cloud, service, operation, &req) {
        tracing::info!(service, operation, error = refused.kind, message = %refused.message, "refused by the model");
        cloud.faults.record(service, operation, refused.kind);
        return Err(refused);
    }
    let (operation, result) = handle(cloud, req).await;
    if result.is_ok() {
        cloud.faults.after_mutation(operation).await;
    }
    match result {
        Ok(response) => {
            cloud.faults.record(service, operation, "ok");
            Ok(response)
        }
        Err(e) => {
            let e = e.in_dialect_of(service);
            tracing::info!(service, operation, error = e.kind, message = %e.message, "refused");
            cloud.faults.record(service, operation, e.kind);
            Err(e)
        }
    }
}

/// Who signed the request (SigV4), and whether their policy allows the action.
fn authorized(
    cloud: &Cloud,
    service: &str,
    operation: &str,
    parts: &axum::http::request::Parts,
    req: &ApiRequest,
) -> Result<crate::auth::Caller, ApiError> {
    let arrived = crate::auth::sigv4::Arrived {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body: &req.body,
    };
    let key = crate::auth::sigv4::verify(&cloud.keys, &cloud.region, &arrived, jiff::Timestamp::now())?;
    let caller = crate::auth::Caller {
        key,
        region: cloud.region.clone(),
        account: cloud.account_id.clone(),
    };
    // Authorized by what the URL asks before the body is parsed, as AWS does.
    let by_url = crate::iam::actions::rest_json(&caller.scope(), service, operation, &req.path(), &Value::Null);
    if let Some(message) = caller.refusal_before_body(&by_url) {
        return Err(ApiError::access_denied(message));
    }
    let body = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let asked = crate::iam::actions::rest_json(&caller.scope(), service, operation, &req.path(), &body);
    // Tags given at creation need the tagging action too (a dependent action in IAM's terms).
    let tagging = crate::iam::actions::tag_on_create(service, operation, &asked);
    for asked in std::iter::once(&asked).chain(tagging.as_ref()) {
        if let Some(message) = caller.refusal(asked) {
            return Err(ApiError::access_denied(message));
        }
    }
    Ok(caller)
}

/// The request against the service model; malformed JSON is left to the operation (which
/// refuses it with the service's own words).
fn checked_against_model(cloud: &Cloud, service: &str, operation: &str, req: &ApiRequest) -> Option<ApiError> {
    model_refusal(cloud.models.service(service)?, service, operation, req)
}

/// What `model` refuses in a request for `operation` of `service`: body, query string and, for a
/// strict model, path and headers.
pub(crate) fn model_refusal(
    model: &crate::model::ServiceModel,
    service: &str,
    operation: &str,
    req: &ApiRequest,
) -> Option<ApiError> {
    if !model.has_operation(operation) {
        return None;
    }
    let body = if req.body.is_empty() {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_slice(&req.body).ok()?
    };
    let labels = model.labels(operation, &req.path());
    let header = |name: &str| req.header(name).map(str::to_owned);
    let located = crate::model::Located {
        query: &req.query,
        labels: &labels,
        header: &header,
    };
    ApiError::from_violations(service, &model.validate_request(operation, &body, &located))
}

async fn s3(cloud: &Arc<Cloud>, req: Request) -> Response {
    let operation = s3_operation(req.method());
    if let Err(e) = cloud.faults.before(operation).await {
        cloud.faults.record("s3", operation, e.kind);
        return e.into_response();
    }
    let response = cloud.s3.handle(req).await;
    let outcome = if response.status().is_success() { "ok" } else { "error" };
    cloud.faults.record("s3", operation, outcome);
    response
}

fn s3_operation(method: &Method) -> &'static str {
    match *method {
        Method::GET => "S3Get",
        Method::HEAD => "S3Head",
        Method::PUT => "S3Put",
        Method::POST => "S3Post",
        Method::DELETE => "S3Delete",
        _ => "S3Other",
    }
}

async fn unsigned(cloud: &Arc<Cloud>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/out/v1/") {
        // MediaPackage v2's `/out/v1/{group}/{channel}/{endpoint}/...` of an endpoint it has,
        // otherwise v1's `/out/v1/{endpoint}/...`.
        if let Some(response) = crate::mediapackagev2::serve_origin(cloud, rest, req.uri().query()).await {
            return response;
        }
        return crate::mediapackage::serve_origin(cloud, rest).await;
    }
    match (req.method().clone(), path.as_str()) {
        (Method::GET, "/healthz") => "ok".into_response(),
        (Method::GET, "/metrics") => metrics(cloud),
        (_, admin) if admin.starts_with("/_local/") => ApiError::access_denied(format!(
            "the admin API takes requests signed for the {ADMIN_SERVICE} service by an administrator key"
        ))
        .into_response(),
        _ => s3(cloud, req).await,
    }
}

/// The SigV4 service name of the admin API.
const ADMIN_SERVICE: &str = "livestream-local";

/// The admin API: signed for [`ADMIN_SERVICE`] by a key the credentials mark administrator.
async fn admin(cloud: &Arc<Cloud>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return ApiError::bad_request("the body is larger than 1 MiB").into_response();
    };
    let arrived = crate::auth::sigv4::Arrived {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body: &body,
    };
    let key = match crate::auth::sigv4::verify(&cloud.keys, &cloud.region, &arrived, jiff::Timestamp::now()) {
        Ok(key) => key,
        Err(refused) => return refused.into_response(),
    };
    if !key.administrator {
        let message = format!("{} is not an administrator of livestream-local", key.principal_arn);
        return ApiError::access_denied(message).into_response();
    }
    match (parts.method, parts.uri.path()) {
        (Method::GET, "/_local/metrics") => metrics(cloud),
        (Method::GET, "/_local/calls") => Json(cloud.faults.calls()).into_response(),
        (Method::GET, "/_local/faults") => Json(cloud.faults.config()).into_response(),
        (Method::GET, "/_local/hold") => Json(cloud.faults.hold_status()).into_response(),
        (Method::PUT, "/_local/faults") => match serde_json::from_slice::<FaultConfig>(&body) {
            Ok(config) => {
                cloud.faults.configure(config.clone());
                Json(config).into_response()
            }
            Err(e) => ApiError::bad_request(e.to_string()).into_response(),
        },
        (Method::PUT, "/_local/credentials") => {
            let replaced = serde_json::from_slice::<crate::auth::KeyFile>(&body)
                .map_err(anyhow::Error::from)
                .and_then(|file| cloud.keys.replace(file));
            match replaced {
                Ok(()) => Json(json!({"replaced": true})).into_response(),
                Err(e) => ApiError::bad_request(format!("{e:#}")).into_response(),
            }
        }
        (Method::POST, "/_local/reset") => {
            cloud.reset().await;
            Json(json!({"reset": true})).into_response()
        }
        (method, path) => ApiError::not_found(format!("the admin API has no {method} {path}")).into_response(),
    }
}

fn metrics(cloud: &Cloud) -> Response {
    let mut text = cloud.faults.metrics_text();
    text.push_str(&cloud.cloudfront.metrics_text());
    let stats = serde_json::to_value(cloud.media.stats()).unwrap_or_default();
    if let Some(stats) = stats.as_object() {
        for (name, value) in stats {
            text.push_str(&format!(
                "# TYPE livestream_local_media_{name} counter\nlivestream_local_media_{name} {value}\n"
            ));
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The service named in a SigV4 `Authorization` header or presigned query (`.../region/SERVICE/aws4_request`).
fn signing_service(req: &Request) -> Option<String> {
    let scope = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("Credential=").nth(1))
        .map(str::to_owned)
        .or_else(|| {
            req.uri().query()?.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                (k == "X-Amz-Credential").then(|| percent_decode(v))
            })
        })?;
    scope.split(['/', ',']).nth(3).map(str::to_owned)
}

/// A REST-JSON request, read whole (bodies are small).
pub struct ApiRequest {
    pub method: Method,
    /// Path segments, percent-decoded (an ARN in `/tags/{arn}` stays one segment).
    pub segments: Vec<String>,
    pub query: HashMap<String, Vec<String>>,
    pub body: Bytes,
    pub headers: axum::http::HeaderMap,
    /// Who signed it (set once the signature is verified).
    pub caller: Option<crate::auth::Caller>,
}

impl ApiRequest {
    async fn read(parts: &axum::http::request::Parts, body: Body) -> Result<Self, ApiError> {
        let body = axum::body::to_bytes(body, 16 << 20)
            .await
            .map_err(|e| ApiError::bad_request(format!("cannot read body: {e}")))?;
        let mut req = Self::new(
            parts.method.clone(),
            parts.uri.path(),
            parts.uri.query().unwrap_or(""),
            body,
        );
        req.headers = parts.headers.clone();
        Ok(req)
    }

    pub fn new(method: Method, path: &str, query: &str, body: Bytes) -> Self {
        let segments = path.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect();
        Self {
            method,
            segments,
            query: query_params(query),
            body,
            headers: Default::default(),
            caller: None,
        }
    }

    /// A request header's value, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Why the verified caller may not hand `role` to `service` (`iam:PassRole`), in IAM's words;
    /// None when it may.
    pub fn pass_role_refusal(&self, role: &str, service: &str) -> Option<String> {
        let caller = self.caller.as_ref()?;
        if caller.may_pass_role(role, service) {
            return None;
        }
        let asked = crate::iam::actions::pass_role(&caller.scope(), role, service);
        Some(caller.refusal(&asked).unwrap_or_else(|| {
            format!(
                "User: {} is not authorized to perform: iam:PassRole on resource: {role}",
                caller.key.principal_arn
            )
        }))
    }

    /// Whether the verified caller may hand `role` to `service` (`iam:PassRole`).
    pub fn may_pass_role(&self, role: &str, service: &str) -> bool {
        self.caller.as_ref().is_some_and(|c| c.may_pass_role(role, service))
    }

    pub fn path(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }

    pub fn query_one(&self, key: &str) -> Option<&str> {
        self.query.get(key).and_then(|v| v.first()).map(String::as_str)
    }

    /// `maxResults` / `nextToken` pagination parameters.
    pub fn page(&self) -> Result<(usize, Option<String>), ApiError> {
        let max = match self.query_one("maxResults") {
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| ApiError::bad_request(format!("maxResults must be 1-1000, got {v}")))?,
            None => 1000,
        };
        Ok((max, self.query_one("nextToken").map(str::to_owned)))
    }
}

/// One page of `items` (sorted by key) after `token`, and the token of the next page.
pub(crate) fn paginate<T>(items: Vec<(String, T)>, max: usize, token: Option<&str>) -> (Vec<T>, Option<String>) {
    let mut rest: Vec<_> = items
        .into_iter()
        .filter(|(key, _)| token.is_none_or(|t| key.as_str() > t))
        .collect();
    let more = rest.len() > max;
    rest.truncate(max);
    let next = if more {
        rest.last().map(|(key, _)| key.clone())
    } else {
        None
    };
    (rest.into_iter().map(|(_, item)| item).collect(), next)
}

/// A 200 list answer: one page of `items` under `field`, with the next page's token.
pub fn page_response(
    field: &str,
    items: Vec<(String, serde_json::Value)>,
    max: usize,
    token: Option<&str>,
) -> Response {
    let (page, next) = paginate(items, max, token);
    json_response(StatusCode::OK, json!({ field: page, "nextToken": next }))
}

/// A query string's parameters, decoded, each name with all its values in order.
pub fn query_params(query: &str) -> HashMap<String, Vec<String>> {
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        params.entry(percent_decode(k)).or_default().push(percent_decode(v));
    }
    params
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON response with a status code.
pub fn json_response(status: StatusCode, value: serde_json::Value) -> Response {
    (status, Json(value)).into_response()
}

pub fn empty_response(status: StatusCode) -> Response {
    (status, Body::empty()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_arns_in_paths() {
        let req = ApiRequest::new(
            Method::GET,
            "/prod/tags/arn%3Aaws%3Amedialive%3Aus-east-1%3A1%3Achannel%3A7",
            "tagKeys=a&tagKeys=b",
            Bytes::new(),
        );
        assert_eq!(req.path(), ["prod", "tags", "arn:aws:medialive:us-east-1:1:channel:7"]);
        assert_eq!(req.query["tagKeys"], ["a", "b"]);
    }

    #[test]
    fn paginates_after_the_token() {
        let items: Vec<_> = (1..=5).map(|i| (format!("{i}"), i)).collect();
        let (page, next) = paginate(items.clone(), 2, None);
        assert_eq!((page, next.as_deref()), (vec![1, 2], Some("2")));
        let (page, next) = paginate(items, 2, Some("4"));
        assert_eq!((page, next), (vec![5], None));
    }
}
