//! One CloudFront API request, from arrival to answer: fault injection and accounting, the SigV4
//! signature (CloudFront is global: signed for us-east-1, whatever region livestream-local stands
//! for), the XML payload read by the model, IAM, the model's validation, the operation, and the
//! answer in XML with its `ETag` / `Location` headers.

use axum::{
    extract::Request,
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::{CloudFront, errors, xml};
use crate::{
    model::Violation,
    protocol::{ApiError, ApiRequest},
    services::Shared,
};

/// CloudFront signs and authorizes in us-east-1.
const SIGNING_REGION: &str = "us-east-1";

/// What an operation answers: status, payload (written by the output shape), headers.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub payload: Option<Value>,
    pub etag: Option<String>,
    pub location: Option<String>,
}

impl Reply {
    pub fn ok(payload: Value) -> Self {
        Self {
            status: StatusCode::OK,
            payload: Some(payload),
            etag: None,
            location: None,
        }
    }

    pub fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            payload: None,
            etag: None,
            location: None,
        }
    }

    pub fn with_etag(mut self, etag: &str) -> Self {
        self.etag = Some(etag.to_owned());
        self
    }
}

pub(super) async fn handle(cloudfront: &CloudFront, shared: &Shared, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(body) => body,
        Err(e) => return errors::response(&errors::error(400, "MalformedInput", format!("cannot read body: {e}"))),
    };
    let mut req = ApiRequest::new(
        parts.method.clone(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        body,
    );
    req.headers = parts.headers.clone();
    let operation = crate::chain::routed(shared, "cloudfront", &mut req);
    let outcome = crate::chain::accounted(
        shared,
        "cloudfront",
        operation,
        &crate::chain::Accounting::API,
        run(cloudfront, shared, operation, &parts, req),
    )
    .await;
    outcome.unwrap_or_else(|e| {
        tracing::info!(service = "cloudfront", operation, error = e.kind, message = %e.message, "refused");
        errors::response(&e)
    })
}

async fn run(
    cloudfront: &CloudFront,
    shared: &Shared,
    operation: &'static str,
    parts: &axum::http::request::Parts,
    mut req: ApiRequest,
) -> Result<Response, ApiError> {
    let caller = crate::chain::signed_caller(shared, SIGNING_REGION, parts, &req.body)?;
    let model = shared
        .models
        .service("cloudfront")
        .expect("the cloudfront model is loaded");
    // Authorized by what the URL asks before the body is parsed, as AWS does.
    let by_url = super::iam::asked(
        &caller.scope(),
        operation,
        &req.path(),
        req.query_one("Resource"),
        &Value::Null,
    );
    if let Some(message) = caller.refusal_before_body(&by_url) {
        return Err(errors::error(403, "AccessDenied", message));
    }
    let body = read_payload(model, operation, &req.body);
    let asked = super::iam::asked(
        &caller.scope(),
        operation,
        &req.path(),
        req.query_one("Resource"),
        body.as_ref().unwrap_or(&Value::Null),
    );
    let tagging = super::iam::tagging(operation, &asked);
    if let Some(message) = crate::chain::iam_refusal(&caller, &asked, tagging.as_ref()) {
        return Err(errors::error(403, "AccessDenied", message));
    }
    req.caller = Some(caller);
    if operation == crate::chain::UNKNOWN {
        return Err(errors::error(
            400,
            "InvalidAction",
            format!(
                "livestream-local does not serve the CloudFront operation at {} {}",
                req.method,
                parts.uri.path()
            ),
        ));
    }
    let body = body?;
    let refused = crate::protocol::model_check::violations(model, operation, &body, &req)
        .first()
        .map(violation);
    if let Some(refused) = refused {
        return Err(refused);
    }
    let reply = cloudfront.call(operation, &req, &body)?;
    Ok(respond(model, operation, reply))
}

/// The request's XML payload as `{PayloadElement: …}` (an empty object for operations without one).
fn read_payload(model: &crate::model::ServiceModel, operation: &str, body: &[u8]) -> Result<Value, ApiError> {
    let Some((name, shape)) = xml::input_payload(model, operation) else {
        return Ok(Value::Object(Default::default()));
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(errors::error(
            400,
            "MissingBody",
            "This operation requires a body. Ensure that the body is present and the Content-Type header is set.",
        ));
    }
    let malformed = |message: String| errors::error(400, "MalformedInput", message);
    let root = xml::parse(body).map_err(malformed)?;
    if root.name != name {
        return Err(malformed(format!(
            "Unexpected root element {} (expected {name})",
            root.name
        )));
    }
    let value = xml::to_json(model, &shape, &root).map_err(malformed)?;
    Ok(serde_json::json!({ name: value }))
}

/// A model violation as CloudFront answers it: `MalformedXML` for the body (in the validation
/// framework's words: `1 validation error detected: Value null at 'distributionConfig.enabled'
/// failed to satisfy constraint: Member must not be null`), `InvalidArgument` for path, header and
/// query members.
fn violation(v: &Violation) -> ApiError {
    let in_body = v.path.contains('.');
    let path = framework_path(&v.path);
    let message = if v.kind == crate::model::Kind::Missing {
        format!(
            "1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null"
        )
    } else {
        format!(
            "1 validation error detected: Value at '{path}' failed to satisfy constraint: Member {}",
            v.message
        )
    };
    errors::error(400, if in_body { "MalformedXML" } else { "InvalidArgument" }, message)
}

/// `DistributionConfig.Origins.Items[0].DomainName` → `distributionConfig.origins.items.1.member.domainName`.
fn framework_path(path: &str) -> String {
    let camel = |s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
            .unwrap_or_default()
    };
    path.split('.')
        .map(|segment| {
            let mut parts = segment.split('[');
            let mut out = camel(parts.next().unwrap_or_default());
            for index in parts {
                let n: usize = index.trim_end_matches(']').parse().unwrap_or(0);
                out.push_str(&format!(".{}.member", n + 1));
            }
            out
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn respond(model: &crate::model::ServiceModel, operation: &str, reply: Reply) -> Response {
    let body = reply
        .payload
        .as_ref()
        .and_then(|payload| xml::document(model, operation, payload))
        .unwrap_or_default();
    let mut response = (reply.status, body).into_response();
    let headers = response.headers_mut();
    if reply.payload.is_some() {
        headers.insert("content-type", HeaderValue::from_static("text/xml"));
    }
    for (name, value) in [("etag", &reply.etag), ("location", &reply.location)] {
        if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(name, value);
        }
    }
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_in_the_validation_framework_words() {
        assert_eq!(
            framework_path("DistributionConfig.Origins.Items[0].DomainName"),
            "distributionConfig.origins.items.1.member.domainName"
        );
        assert_eq!(framework_path("Resource"), "resource");
    }
}
