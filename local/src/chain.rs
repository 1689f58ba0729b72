//! The middleware chain of a call: accounting and fault injection ([`accounted`], every
//! protocol's first stage: REST-JSON, CloudFront's REST-XML, S3), the SigV4 signature and IAM
//! ([`signed_caller`], [`iam_refusal`]: REST-JSON's and CloudFront's; S3's IAM stage is
//! [`iam_refusal`] too, its signature s3s's verifier, which checks streamed aws-chunked bodies), the
//! service model, then the operation. [`rest_json`] is the whole chain for the REST-JSON
//! services, which join it by implementing [`RestJson`].

use std::pin::Pin;

use axum::{
    extract::Request,
    http::request::Parts,
    response::{IntoResponse, Response},
};
use serde_json::Value;

use crate::{
    auth::Caller,
    iam::actions::Asked,
    iam::naming::RestJsonIam,
    protocol::{ApiError, ApiRequest, Dialect, model_check::model_refusal},
    services::{Service, Shared},
};

/// An operation's answer on its way.
pub type Handled<'a> = Pin<Box<dyn Future<Output = Result<Response, ApiError>> + Send + 'a>>;

/// What a call routed to none of a service's operations is named in the accounting and IAM.
pub const UNKNOWN: &str = "Unknown";

/// The operation of `service` that `req` reaches by its model's routes ([`UNKNOWN`] when none),
/// its labels kept in `req`.
pub fn routed(shared: &Shared, service: &str, req: &mut ApiRequest) -> &'static str {
    match shared.routing.route(service, req) {
        Some(routed) => {
            req.labels = routed.labels;
            routed.operation
        }
        None => UNKNOWN,
    }
}

/// A REST-JSON service as the chain runs it; its signing name is IAM's action prefix, its model's
/// name and its calls' label in the accounting. Its calls are routed by the operations it
/// registers ([`Service::operations`]).
pub trait RestJson: Service {
    /// How it words the errors every service answers.
    fn dialect(&self) -> Dialect;
    /// Runs `operation` (one it registered, or [`UNKNOWN`]); called once the chain has let the
    /// request through.
    fn handle(&self, operation: &'static str, req: ApiRequest) -> Handled<'_>;
    /// How it names the IAM resources of its requests.
    fn iam(&self) -> RestJsonIam;
}

/// How a protocol's calls are accounted for by [`accounted`].
pub struct Accounting {
    /// Whether a call waits while the admin API holds mutations, and counts as a mutation once
    /// it succeeds (S3's object traffic does neither).
    pub held: bool,
    /// The error in the service's words, as it is recorded and answered.
    pub shape: fn(ApiError) -> ApiError,
    /// What a successful response counts as (S3 answers its errors as responses).
    pub outcome: fn(&Response) -> &'static str,
}

impl Accounting {
    /// Held, counted as mutations, every response `ok`: the API protocols.
    pub const API: Self = Self {
        held: true,
        shape: std::convert::identity,
        outcome: |_| "ok",
    };
}

/// The first stage of every protocol's chain: the admin hold, fault injection (throttling, errors,
/// latency), then the rest of the chain (`call`); the outcome counted per service and operation.
pub async fn accounted(
    shared: &Shared,
    service: &str,
    operation: &'static str,
    accounting: &Accounting,
    call: impl Future<Output = Result<Response, ApiError>>,
) -> Result<Response, ApiError> {
    if accounting.held {
        shared.faults.wait_while_held().await;
    }
    if let Err(e) = shared.faults.before(operation).await {
        let e = (accounting.shape)(e);
        shared.faults.record(service, operation, e.kind);
        return Err(e);
    }
    let result = call.await.map_err(accounting.shape);
    if result.is_ok() && accounting.held {
        shared.faults.after_mutation(operation).await;
    }
    let outcome = match &result {
        Ok(response) => (accounting.outcome)(response),
        Err(e) => e.kind,
    };
    shared.faults.record(service, operation, outcome);
    result
}

/// Runs one call of `service`: fault injection, signature and IAM, the model, the operation; and
/// accounts for it.
pub async fn rest_json(shared: &Shared, service: &dyn RestJson, req: Request) -> Response {
    match call(shared, service, req).await {
        Ok(response) => response,
        Err(e) => (service.dialect().shape)(e).into_response(),
    }
}

async fn call(shared: &Shared, rest_json: &dyn RestJson, req: Request) -> Result<Response, ApiError> {
    let service = rest_json.signing_name();
    let (parts, body) = req.into_parts();
    // An unreadable request is refused before it counts as a call.
    let mut req = ApiRequest::read(&parts, body).await?;
    let operation = routed(shared, service, &mut req);
    let accounting = Accounting {
        shape: rest_json.dialect().shape,
        ..Accounting::API
    };
    accounted(shared, service, operation, &accounting, async {
        match authorized(shared, &rest_json.iam(), operation, &parts, &req) {
            Ok(caller) => req.caller = Some(caller),
            Err(refused) => {
                tracing::info!(service, operation, error = refused.kind, message = %refused.message, "refused");
                return Err(refused);
            }
        }
        if let Some(refused) = checked_against_model(shared, rest_json, operation, &req) {
            tracing::info!(service, operation, error = refused.kind, message = %refused.message, "refused by the model");
            return Err(refused);
        }
        rest_json.handle(operation, req).await.map_err(|e| {
            let e = (accounting.shape)(e);
            tracing::info!(service, operation, error = e.kind, message = %e.message, "refused");
            e
        })
    })
    .await
}

/// Who signed the request (SigV4), and whether their policy allows the action.
fn authorized(
    shared: &Shared,
    iam: &RestJsonIam,
    operation: &str,
    parts: &Parts,
    req: &ApiRequest,
) -> Result<Caller, ApiError> {
    let caller = signed_caller(shared, &shared.region, parts, &req.body)?;
    // Authorized by what the URL asks before the body is parsed, as AWS does.
    let by_url = crate::iam::actions::rest_json(&caller.scope(), iam, operation, &req.path(), &Value::Null);
    if let Some(message) = caller.refusal_before_body(&by_url) {
        return Err(ApiError::access_denied(message));
    }
    let body = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let asked = crate::iam::actions::rest_json(&caller.scope(), iam, operation, &req.path(), &body);
    let tagging = crate::iam::actions::tag_on_create(iam, operation, &asked);
    match iam_refusal(&caller, &asked, tagging.as_ref()) {
        Some(message) => Err(ApiError::access_denied(message)),
        None => Ok(caller),
    }
}

/// The signature stage, shared by every protocol whose calls livestream-local verifies itself:
/// the key that signed the request with SigV4 for `region`, as a caller in the cloud's account.
pub fn signed_caller(shared: &Shared, region: &str, parts: &Parts, body: &[u8]) -> Result<Caller, ApiError> {
    let arrived = crate::auth::sigv4::Arrived {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body,
    };
    let key = crate::auth::sigv4::verify(&shared.keys, region, &arrived, jiff::Timestamp::now())?;
    Ok(Caller {
        key,
        region: region.to_owned(),
        account: shared.account_id.clone(),
    })
}

/// The IAM stage once the body is read, shared likewise: why the caller may not do `asked`, or
/// the action a create's tags also need (`dependent`, in IAM's terms); None when it may do both.
pub fn iam_refusal(caller: &Caller, asked: &Asked, dependent: Option<&Asked>) -> Option<String> {
    std::iter::once(asked)
        .chain(dependent)
        .find_map(|asked| caller.refusal(asked))
}

/// The request against the service model; malformed JSON is left to the operation (which
/// refuses it with the service's own words).
fn checked_against_model(
    shared: &Shared,
    service: &dyn RestJson,
    operation: &str,
    req: &ApiRequest,
) -> Option<ApiError> {
    model_refusal(
        shared.models.service(service.signing_name())?,
        service.dialect(),
        operation,
        req,
    )
}
