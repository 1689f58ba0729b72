//! One HTTP endpoint for everything, like the AWS endpoints behind `AWS_ENDPOINT_URL`: signed
//! requests go to the service named in their SigV4 credential scope; unsigned ones are a browser or
//! player fetching HLS (`/out/v1/...`) or a public S3 object. The admin API (`/_local/...`) is a
//! service of its own, `livestream-local`: signed, by a key the credentials mark administrator.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Request, State},
    http::{Method, header},
    response::{IntoResponse, Response},
    routing::any,
};
use serde_json::{Value, json};

use crate::{
    Cloud,
    faults::FaultConfig,
    protocol::{ApiError, ApiRequest, Dialect, model_check::model_refusal, percent_decode},
};

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
        Err(e) => (dialect_of(service).shape)(e).into_response(),
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
        let e = (dialect_of(service).shape)(e);
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
            let e = (dialect_of(service).shape)(e);
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
    model_refusal(cloud.models.service(service)?, dialect_of(service), operation, req)
}

fn dialect_of(service: &str) -> Dialect {
    match service {
        "medialive" => crate::medialive::DIALECT,
        "mediapackagev2" => crate::mediapackagev2::DIALECT,
        _ => crate::mediapackage::DIALECT,
    }
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
