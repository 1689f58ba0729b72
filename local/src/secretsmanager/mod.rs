//! AWS Secrets Manager, the subset a MediaLive SRT input needs: CreateSecret, DescribeSecret,
//! GetSecretValue, PutSecretValue, DeleteSecret, RestoreSecret, ListSecrets, TagResource and
//! UntagResource. AWS JSON 1.1: every call is `POST /` named by `X-Amz-Target:
//! secretsmanager.<Operation>`, checked against botocore's `secretsmanager/2017-10-17` model
//! (strictly: lengths, ranges, enums, patterns), signed `secretsmanager` and IAM-checked.
//! Secret values never reach the log: only errors are logged, and none carries a value.

mod api;
mod store;

use std::{
    pin::Pin,
    sync::{Arc, Mutex},
};

use axum::{
    extract::Request,
    http::{HeaderValue, StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::{
    auth::Keys,
    chain::{self, Accounting, UNKNOWN},
    config::Config,
    destinations::{SecretRefusal, SecretsRead},
    iam::actions::Asked,
    model::{ModelSpec, Violation},
    protocol::{ApiError, ApiRequest, model_check::violations},
    services::{Answer, Service, Shared},
};

/// The model its requests are checked against.
pub const MODEL: ModelSpec = ModelSpec {
    service: "secretsmanager",
    version: "2017-10-17",
    strict: true,
    amendments: &[],
};

/// The operations it serves, as `X-Amz-Target` names them after `secretsmanager.`.
pub const OPERATIONS: &[&str] = &[
    "CreateSecret",
    "DescribeSecret",
    "GetSecretValue",
    "PutSecretValue",
    "DeleteSecret",
    "RestoreSecret",
    "ListSecrets",
    "TagResource",
    "UntagResource",
];

#[derive(Clone)]
pub struct SecretsManager {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    keys: Arc<Keys>,
    store: Mutex<store::Store>,
}

impl SecretsManager {
    pub fn new(config: Config, keys: Arc<Keys>) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                keys,
                store: Mutex::default(),
            }),
        }
    }

    /// The store, secrets past their recovery window forgotten.
    fn store(&self) -> std::sync::MutexGuard<'_, store::Store> {
        let mut store = self.inner.store.lock().unwrap();
        store.expire(jiff::Timestamp::now());
        store
    }

    /// `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random alphanumerics>` (user
    /// guide, "Find secrets": https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_search-secret.html).
    fn new_arn(&self, name: &str) -> String {
        use rand::distr::{Alphanumeric, SampleString};
        let suffix = Alphanumeric.sample_string(&mut rand::rng(), 6);
        self.inner
            .config
            .arn("secretsmanager", "secret", &format!("{name}-{suffix}"))
    }

    async fn answer(&self, shared: &Shared, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        let req = match ApiRequest::read(&parts, body).await {
            Ok(req) => req,
            Err(e) => return json11_error(e),
        };
        let operation = target(&req);
        let accounting = Accounting::API;
        let result = chain::accounted(shared, "secretsmanager", operation, &accounting, async {
            let caller = chain::signed_caller(shared, &shared.region, &parts, &req.body)?;
            let body: Value = match req.body.is_empty() {
                true => json!({}),
                false => serde_json::from_slice(&req.body).map_err(|_| {
                    store::error(
                        "SerializationException",
                        "Start of structure or map found where not expected.",
                    )
                })?,
            };
            if operation == UNKNOWN {
                return Err(store::error("UnknownOperationException", ""));
            }
            let asked = Asked {
                action: format!("secretsmanager:{operation}"),
                resource: self.resource(operation, &body),
                context: caller.scope().base_context(),
            };
            // "If you include tags in the secret, you also need secretsmanager:TagResource"
            // (CreateSecret, API reference: Required permissions).
            let tagged = operation == "CreateSecret" && body["Tags"].as_array().is_some_and(|t| !t.is_empty());
            let tagging = tagged.then(|| Asked {
                action: "secretsmanager:TagResource".into(),
                ..asked.clone()
            });
            let refused = chain::iam_refusal(&caller, &asked, None)
                .or_else(|| tagging.and_then(|tagging| chain::iam_refusal(&caller, &tagging, None)));
            if let Some(message) = refused {
                tracing::info!(operation, "refused by IAM");
                return Err(ApiError::shaped(
                    StatusCode::BAD_REQUEST,
                    "AccessDeniedException",
                    message,
                    &[],
                ));
            }
            if let Some(model) = shared.models.service("secretsmanager") {
                let found = violations(model, operation, &body, &req);
                if let Some(refused) = model_refusal(&found) {
                    tracing::info!(operation, message = %refused.message, "refused by the model");
                    return Err(refused);
                }
            }
            self.handle(operation, &body)
                .inspect_err(|e| tracing::info!(operation, error = e.kind, "refused"))
        })
        .await;
        match result {
            Ok(response) => response,
            Err(e) => json11_error(e),
        }
    }

    /// The secret's ARN the call names (IAM's resource); a create or a secret not found names
    /// `secret:<id>`, a list every secret.
    fn resource(&self, operation: &str, body: &Value) -> String {
        let id = body["SecretId"].as_str().or_else(|| body["Name"].as_str());
        match (operation, id) {
            ("ListSecrets", _) | (_, None) => "*".to_owned(),
            (_, Some(id)) => match self.store().find(id) {
                Some(secret) => secret.arn.clone(),
                None if id.starts_with("arn:") => id.to_owned(),
                None => self.inner.config.arn("secretsmanager", "secret", id),
            },
        }
    }
}

/// The operation `X-Amz-Target` names (`secretsmanager.CreateSecret`), or [`UNKNOWN`].
fn target(req: &ApiRequest) -> &'static str {
    let named = req
        .header("x-amz-target")
        .and_then(|t| t.strip_prefix("secretsmanager."));
    (OPERATIONS.iter())
        .find(|op| Some(**op) == named)
        .copied()
        .unwrap_or(UNKNOWN)
}

/// A request the model refuses: AWS's common `ValidationException` ("The input fails to satisfy
/// the constraints specified by an AWS service", API reference "Common Errors":
/// https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html); a missing
/// required member or a wrong type is an `InvalidParameterException`.
fn model_refusal(found: &[Violation]) -> Option<ApiError> {
    let first = found.first()?;
    if let Some(malformed) = found.iter().find(|v| v.malformed) {
        return Some(store::invalid_parameter(malformed.text()));
    }
    let count = found.len();
    let noun = if count == 1 { "error" } else { "errors" };
    Some(store::error(
        "ValidationException",
        format!("{count} validation {noun} detected: {}", first.text()),
    ))
}

/// AWS JSON 1.1's error: the status, `__type` and `Message` in the body (what botocore and the
/// SDKs read) and `x-amzn-ErrorType`.
fn json11_error(e: ApiError) -> Response {
    let body = json!({"__type": e.kind, "Message": e.message});
    let mut response = (e.status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.1"));
    headers.insert("x-amzn-ErrorType", HeaderValue::from_static(e.kind));
    response
}

fn json11(value: Value) -> Response {
    let mut response = (StatusCode::OK, value.to_string()).into_response();
    (response.headers_mut()).insert(CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.1"));
    response
}

impl Service for SecretsManager {
    fn signing_name(&self) -> &'static str {
        "secretsmanager"
    }

    // No `operations()`: every call is `POST /`, routed by `X-Amz-Target`, not by the model's
    // `requestUri`.
    fn call<'a>(&'a self, shared: &'a Shared, req: Request) -> Answer<'a> {
        Box::pin(self.answer(shared, req))
    }

    fn reset(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        *self.inner.store.lock().unwrap() = store::Store::default();
        Box::pin(std::future::ready(()))
    }
}

impl SecretsRead for SecretsManager {
    fn secret_string_as(&self, role: Option<&str>, secret_arn: &str) -> Result<String, SecretRefusal> {
        let Some(role) = role else {
            return Err(SecretRefusal::AccessDenied("the channel has no role (roleArn)".into()));
        };
        if !(self.inner.keys).role_allows(role, "secretsmanager:GetSecretValue", secret_arn) {
            return Err(SecretRefusal::AccessDenied(format!(
                "{role} is not authorized to perform: secretsmanager:GetSecretValue on resource: {secret_arn}"
            )));
        }
        let store = self.store();
        let secret = store
            .live(secret_arn)
            .map_err(|e| SecretRefusal::Unreadable(e.message))?;
        (secret.current())
            .map(|v| v.value.clone())
            .ok_or_else(|| SecretRefusal::Unreadable(format!("{secret_arn} has no value")))
    }
}
