//! One HTTP endpoint for everything, like the AWS endpoints behind `AWS_ENDPOINT_URL`: signed
//! requests go to the registered service whose signing name their SigV4 credential scope names;
//! unsigned ones (a browser or player fetching HLS, a public object) to the first service that
//! serves them. The admin API (`/_local/...`) is the endpoint's own, `livestream-local`: signed,
//! by a key the credentials mark administrator.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Request, State},
    http::{Method, header},
    response::{IntoResponse, Response},
    routing::any,
};
use serde_json::json;

use crate::{Cloud, faults::FaultConfig, protocol::ApiError, protocol::percent_decode};

pub fn router(cloud: Arc<Cloud>) -> Router {
    Router::new().fallback(any(dispatch)).with_state(cloud)
}

async fn dispatch(State(cloud): State<Arc<Cloud>>, req: Request) -> Response {
    match signing_service(&req).as_deref() {
        Some(ADMIN_SERVICE) => admin(&cloud, req).await,
        Some(name) => match cloud.services.signed_for(name) {
            Some(service) => service.call(&cloud.shared, req).await,
            None => ApiError::bad_request(format!("livestream-local does not serve the {name} API")).into_response(),
        },
        None => unsigned(&cloud, req).await,
    }
}

/// The endpoint's own paths, else the first service that serves the request (an origin's media,
/// a public object).
async fn unsigned(cloud: &Arc<Cloud>, mut req: Request) -> Response {
    match (req.method().clone(), req.uri().path()) {
        (Method::GET, "/healthz") => return "ok".into_response(),
        (Method::GET, "/metrics") => return metrics(cloud),
        (_, admin) if admin.starts_with("/_local/") => {
            return ApiError::access_denied(format!(
                "the admin API takes requests signed for the {ADMIN_SERVICE} service by an administrator key"
            ))
            .into_response();
        }
        _ => {}
    }
    for service in cloud.services.iter() {
        match service.unsigned(&cloud.shared, req) {
            Ok(answer) => return answer.await,
            Err(passed) => req = *passed,
        }
    }
    ApiError::not_found(format!("nothing is served at {}", req.uri().path())).into_response()
}

/// The SigV4 service name of the admin API.
const ADMIN_SERVICE: &str = "livestream-local";

/// The admin API: signed for [`ADMIN_SERVICE`] by a key the credentials mark administrator.
async fn admin(cloud: &Arc<Cloud>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return ApiError::bad_request("the body is larger than 1 MiB").into_response();
    };
    let key = match crate::chain::signed_caller(&cloud.shared, &cloud.shared.region, &parts, &body) {
        Ok(caller) => caller.key,
        Err(refused) => return refused.into_response(),
    };
    if !key.administrator {
        let message = format!("{} is not an administrator of livestream-local", key.principal_arn);
        return ApiError::access_denied(message).into_response();
    }
    match (parts.method, parts.uri.path()) {
        (Method::GET, "/_local/metrics") => metrics(cloud),
        (Method::GET, "/_local/calls") => Json(cloud.shared.faults.calls()).into_response(),
        (Method::GET, "/_local/faults") => Json(cloud.shared.faults.config()).into_response(),
        (Method::GET, "/_local/hold") => Json(cloud.shared.faults.hold_status()).into_response(),
        (Method::PUT, "/_local/faults") => match serde_json::from_slice::<FaultConfig>(&body) {
            Ok(config) => {
                cloud.shared.faults.configure(config.clone());
                Json(config).into_response()
            }
            Err(e) => ApiError::bad_request(e.to_string()).into_response(),
        },
        (Method::PUT, "/_local/credentials") => {
            let replaced = serde_json::from_slice::<crate::auth::KeyFile>(&body)
                .map_err(anyhow::Error::from)
                .and_then(|file| cloud.shared.keys.replace(file));
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
    let mut text = cloud.shared.faults.metrics_text();
    for service in cloud.services.iter() {
        text.push_str(&service.metrics_text());
    }
    let stats = serde_json::to_value(cloud.shared.media.stats()).unwrap_or_default();
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
