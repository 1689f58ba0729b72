//! CloudFront's errors: the modeled codes with their HTTP status, in the service's XML error shape
//! (`<ErrorResponse xmlns=…><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>
//! <RequestId>…</RequestId></ErrorResponse>`), which botocore and the AWS SDKs parse into typed
//! exceptions. Messages are AWS's where public answers quote them, ours otherwise.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::protocol::ApiError;

pub fn error(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::with_status(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        code,
        message,
    )
}

pub fn invalid_argument(message: impl Into<String>) -> ApiError {
    error(400, "InvalidArgument", message)
}

pub fn no_such_distribution() -> ApiError {
    error(404, "NoSuchDistribution", "The specified distribution does not exist.")
}

pub fn no_such_oac() -> ApiError {
    error(
        404,
        "NoSuchOriginAccessControl",
        "The specified origin access control does not exist.",
    )
}

pub fn no_such_resource() -> ApiError {
    error(404, "NoSuchResource", "The specified resource does not exist.")
}

/// `If-Match` checked against the resource's current ETag.
pub fn check_if_match(current: &str, given: Option<&str>) -> Result<(), ApiError> {
    match given.map(str::trim) {
        None | Some("") => Err(error(
            400,
            "InvalidIfMatchVersion",
            "The If-Match version is missing or not valid for the resource.",
        )),
        Some(given) if given != current => Err(error(
            412,
            "PreconditionFailed",
            "The precondition given in one or more of the request-header fields evaluated to false.",
        )),
        Some(_) => Ok(()),
    }
}

/// What the shared pipeline (signatures, throttling, faults) calls an error, as CloudFront's codes.
fn code(kind: &'static str) -> &'static str {
    match kind {
        "InvalidSignatureException" => "SignatureDoesNotMatch",
        "UnrecognizedClientException" => "InvalidClientTokenId",
        "IncompleteSignatureException" => "IncompleteSignature",
        "MissingAuthenticationTokenException" => "MissingAuthenticationToken",
        "ExpiredTokenException" => "ExpiredToken",
        "AccessDeniedException" => "AccessDenied",
        "TooManyRequestsException" => "Throttling",
        "InternalServerErrorException" | "ServiceUnavailableException" => "ServiceUnavailable",
        "BadRequestException" => "InvalidArgument",
        other => other,
    }
}

/// The error as CloudFront writes it.
pub fn response(e: &ApiError) -> Response {
    let code = code(e.kind);
    let status = match code {
        "Throttling" => StatusCode::BAD_REQUEST,
        "ServiceUnavailable" => StatusCode::SERVICE_UNAVAILABLE,
        _ => e.status,
    };
    let kind = if status.is_server_error() { "Receiver" } else { "Sender" };
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = format!(
        "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"{}\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        super::xml::NAMESPACE,
        quick_xml::escape::escape(&e.message),
    );
    let mut response = (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response();
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", id);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_rules() {
        assert_eq!(check_if_match("E1", None).unwrap_err().kind, "InvalidIfMatchVersion");
        assert_eq!(
            check_if_match("E1", Some("")).unwrap_err().kind,
            "InvalidIfMatchVersion"
        );
        let stale = check_if_match("E1", Some("E0")).unwrap_err();
        assert_eq!((stale.kind, stale.status.as_u16()), ("PreconditionFailed", 412));
        assert!(check_if_match("E1", Some("E1")).is_ok());
    }

    #[test]
    fn pipeline_errors_in_cloudfront_codes() {
        let denied = ApiError::access_denied("no");
        assert_eq!(code(denied.kind), "AccessDenied");
        let throttled = response(&ApiError::too_many_requests("slow down"));
        assert_eq!(throttled.status(), StatusCode::BAD_REQUEST);
    }
}
