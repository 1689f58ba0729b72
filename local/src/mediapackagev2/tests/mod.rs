//! Every rule of the service, through the same path a request takes (routing by the model, the
//! model check of the chain, then the handler), with AWS's error types on the wire.
//!
//! The harness is here (a service on 127.0.0.1:4580 with botocore's model, a call through the
//! model check and the handler, the answer as a client sees it); the tests are by concern:
//! [`answers`], [`model_checks`], [`documented_rules`], [`lifecycle`], [`tags`].

mod answers;
mod documented_rules;
mod lifecycle;
mod model_checks;
mod tags;

use std::sync::LazyLock;

use axum::{
    body::Bytes,
    http::{HeaderValue, Method, StatusCode},
    response::IntoResponse,
};
use clap::Parser;
use serde_json::{Value, json};

use super::*;
use crate::model::Models;

static MODELS: LazyLock<Models> =
    LazyLock::new(|| Models::load(None, &[super::MODEL]).expect("botocore's models (hack/setup.sh installs them)"));

static ROUTES: LazyLock<crate::protocol::Routes> =
    LazyLock::new(|| crate::protocol::Routes::new(MODELS.service("mediapackagev2").unwrap(), super::OPERATIONS));

const BASE: &str = "http://127.0.0.1:4580";
const ARN: &str = "arn:aws:mediapackagev2:us-east-1:123456789012";

fn service_with(quotas: &str) -> MediaPackageV2 {
    let config = Config::try_parse_from([
        "livestream-local",
        "--listen",
        "127.0.0.1:4580",
        "--mediapackagev2-quotas",
        quotas,
    ])
    .unwrap();
    MediaPackageV2::new(config, MODELS.shared("mediapackagev2").unwrap())
}

fn service() -> MediaPackageV2 {
    service_with("")
}

/// One answer as a client sees it.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    error_type: Option<String>,
    body: Value,
}

impl Answer {
    /// The error's type and its `ValidationExceptionType` / `ConflictExceptionType` /
    /// `ResourceTypeNotFound`.
    fn refused(&self) -> (u16, &str, &str) {
        let typed = [
            "ValidationExceptionType",
            "ConflictExceptionType",
            "ResourceTypeNotFound",
        ]
        .iter()
        .find_map(|k| self.body[*k].as_str())
        .unwrap_or_default();
        (
            self.status.as_u16(),
            self.error_type.as_deref().unwrap_or_default(),
            typed,
        )
    }

    fn message(&self) -> &str {
        self.body["Message"].as_str().unwrap_or_default()
    }
}

fn call(mp: &MediaPackageV2, method: Method, target: &str, headers: &[(&str, &str)], body: Value) -> Answer {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let bytes = if body.is_null() {
        Bytes::new()
    } else {
        Bytes::from(body.to_string())
    };
    let mut req = ApiRequest::new(method, path, query, bytes);
    for (name, value) in headers {
        let name = axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        req.headers.insert(name, HeaderValue::from_str(value).unwrap());
    }
    let model = MODELS.service("mediapackagev2").unwrap();
    let routed = ROUTES.route(&req);
    let operation = routed.as_ref().map_or(crate::chain::UNKNOWN, |r| r.operation);
    req.labels = routed.map(|r| r.labels).unwrap_or_default();
    let result = match crate::protocol::model_check::model_refusal(model, super::DIALECT, operation, &req) {
        Some(refused) => Err(refused),
        None => mp.call(operation, &req),
    };
    let response = match result {
        Ok(response) => response,
        Err(e) => (super::DIALECT.shape)(e).into_response(),
    };
    let status = response.status();
    let error_type = response
        .headers()
        .get("x-amzn-ErrorType")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = futures::executor::block_on(axum::body::to_bytes(response.into_body(), 1 << 20)).unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    Answer {
        status,
        error_type,
        body,
    }
}

fn post(mp: &MediaPackageV2, path: &str, body: Value) -> Answer {
    call(mp, Method::POST, path, &[], body)
}

fn get(mp: &MediaPackageV2, path: &str) -> Answer {
    call(mp, Method::GET, path, &[], Value::Null)
}

fn ok(answer: Answer) -> Value {
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    answer.body
}

/// A group `live` with an HLS channel `c1`.
fn with_channel() -> MediaPackageV2 {
    let mp = service();
    ok(post(&mp, "/channelGroup", json!({"ChannelGroupName": "live"})));
    ok(post(&mp, "/channelGroup/live/channel", json!({"ChannelName": "c1"})));
    mp
}

const ENDPOINTS: &str = "/channelGroup/live/channel/c1/originEndpoint";

fn create_endpoint(mp: &MediaPackageV2, body: Value) -> Answer {
    post(mp, ENDPOINTS, body)
}

fn ts(manifests: Value) -> Value {
    let mut body = json!({"OriginEndpointName": "e", "ContainerType": "TS"});
    body.as_object_mut()
        .unwrap()
        .extend(manifests.as_object().unwrap().clone());
    body
}

fn cmaf(manifests: Value) -> Value {
    let mut body = ts(manifests);
    body["ContainerType"] = json!("CMAF");
    body
}
