//! The model stage of the chain: a request checked against its service's AWS model.

use serde_json::Value;

use crate::model::{Located, ServiceModel, Violation};
use crate::protocol::{
    error::{ApiError, Dialect},
    request::ApiRequest,
};

/// What `model` refuses in a request for `operation`, in `dialect`'s words: body, query string
/// and, for a strict model, path and headers.
pub fn model_refusal(model: &ServiceModel, dialect: Dialect, operation: &str, req: &ApiRequest) -> Option<ApiError> {
    if !model.has_operation(operation) {
        return None;
    }
    let body = if req.body.is_empty() {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_slice(&req.body).ok()?
    };
    let violations = violations(model, operation, &body, req);
    if violations.is_empty() {
        return None;
    }
    (dialect.refusal)(&violations)
}

/// What `model` finds wrong in a request for `operation`: `body` (its payload as JSON), and the
/// query string, path labels and headers of `req` (the last two for a strict model). The model
/// stage of every protocol that checks its requests itself (REST-JSON and REST-XML).
pub fn violations(model: &ServiceModel, operation: &str, body: &Value, req: &ApiRequest) -> Vec<Violation> {
    let labels = model.labels(operation, &req.path());
    let header = |name: &str| req.header(name).map(str::to_owned);
    let located = Located {
        query: &req.query,
        labels: &labels,
        header: &header,
    };
    model.validate_request(operation, body, &located)
}
