//! The model step of the chain: a request checked against its service's AWS model.

use crate::protocol::{
    error::{ApiError, Dialect},
    request::ApiRequest,
};

/// What `model` refuses in a request for `operation`, in `dialect`'s words: body, query string
/// and, for a strict model, path and headers.
pub fn model_refusal(
    model: &crate::model::ServiceModel,
    dialect: Dialect,
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
    let violations = model.validate_request(operation, &body, &located);
    if violations.is_empty() {
        return None;
    }
    (dialect.refusal)(&violations)
}
