//! AWS REST-JSON errors: the status code, an `x-amzn-ErrorType` header and a `{"message": ...}` body,
//! which is what the AWS SDKs and the AWS CLI parse into typed exceptions. Services whose error
//! shapes spell the member `Message` get it so, with the shape's other members
//! (`ValidationExceptionType` ...) beside it; each service says how through its [`Dialect`].

use axum::{
    Json,
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::model::Violation;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    /// MediaLive's `validationErrors`: `{elementPath, errorMessage}` for each problem.
    pub validation_errors: Vec<(String, String)>,
    /// The body member holding the message: `message`, or `Message` where the error shape says so.
    pub message_key: &'static str,
    /// Further members of the error shape (`ConflictExceptionType` ...).
    pub fields: Vec<(&'static str, String)>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn with_status(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            validation_errors: Vec::new(),
            message_key: "message",
            fields: Vec::new(),
        }
    }

    /// An error of a service whose shapes spell the message `Message`, with further members.
    pub fn shaped(
        status: StatusCode,
        kind: &'static str,
        message: impl Into<String>,
        fields: &[(&'static str, &str)],
    ) -> Self {
        let mut error = Self::with_status(status, kind, message);
        error.message_key = "Message";
        error.fields = fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        error
    }

    /// The request breaks the service model: a 400 when it does not have the model's shape,
    /// otherwise a 422 for the first value out of bounds, as MediaLive and MediaPackage answer.
    pub fn from_violations(violations: &[Violation]) -> Option<Self> {
        let first = violations.first()?;
        if let Some(malformed) = violations.iter().find(|v| v.malformed) {
            return Some(Self::bad_request(malformed.text()));
        }
        Some(Self::unprocessable(first.text()))
    }

    /// IAM refused the action: the message names the principal, the action and the resource.
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::with_status(StatusCode::FORBIDDEN, "AccessDeniedException", message)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::with_status(StatusCode::BAD_REQUEST, "BadRequestException", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::with_status(StatusCode::NOT_FOUND, "NotFoundException", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::with_status(StatusCode::CONFLICT, "ConflictException", message)
    }
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UnprocessableEntityException",
            message,
        )
    }
    pub fn too_many_requests(message: impl Into<String>) -> Self {
        Self::with_status(StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException", message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::with_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerErrorException",
            message,
        )
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::with_status(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailableException", message)
    }
}

/// How a service words the errors every service can answer (throttling, faults, a request its
/// model refuses): registered by the service, applied by the dispatcher, so the toolkit needs to
/// know no service.
#[derive(Clone, Copy)]
pub struct Dialect {
    /// Applied to every error the service answers (its names for the shared kinds, its message
    /// member).
    pub shape: fn(ApiError) -> ApiError,
    /// The error for a request the service model refuses (`violations` is never empty).
    pub refusal: fn(&[Violation]) -> Option<ApiError>,
}

impl Dialect {
    /// Plain REST-JSON: errors as raised, model refusals a 400 or a 422.
    pub const REST_JSON: Self = Self {
        shape: std::convert::identity,
        refusal: ApiError::from_violations,
    };
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ self.message_key: self.message });
        for (key, value) in &self.fields {
            body[*key] = json!(value);
        }
        if !self.validation_errors.is_empty() {
            let list: Vec<_> = self
                .validation_errors
                .iter()
                .map(|(path, message)| json!({ "elementPath": path, "errorMessage": message }))
                .collect();
            body["validationErrors"] = list.into();
        }
        let mut response = (self.status, Json(body)).into_response();
        response
            .headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(self.kind));
        response
    }
}

/// Parses a JSON request body, refusing malformed input as the services do.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let body = if body.is_empty() { b"{}".as_slice() } else { body };
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("Invalid request body: {e}")))
}
