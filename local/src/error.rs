//! AWS REST-JSON errors: the status code, an `x-amzn-ErrorType` header and a `{"message": ...}` body,
//! which is what the AWS SDKs and the AWS CLI parse into typed exceptions. Services whose error
//! shapes spell the member `Message` (MediaPackage v2) get it so, with the shape's other members
//! (`ValidationExceptionType` ...) beside it.

use axum::{
    Json,
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

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
    /// otherwise a 422 listing every value out of bounds, as MediaLive and MediaPackage answer.
    pub fn from_violations(service: &str, violations: &[crate::model::Violation]) -> Option<Self> {
        let first = violations.first()?;
        let text = |v: &crate::model::Violation| format!("{} {}", v.path, v.message);
        if service == "mediapackagev2" {
            return Some(Self::validation_v2(first.kind, &first.path, text(first)));
        }
        if let Some(malformed) = violations.iter().find(|v| v.malformed) {
            return Some(Self::bad_request(text(malformed)));
        }
        let mut error = Self::unprocessable(text(first));
        if service == "medialive" {
            error.validation_errors = violations.iter().map(|v| (v.path.clone(), v.message.clone())).collect();
        }
        Some(error)
    }
    /// MediaPackage v2's 400 `ValidationException` for a value the model refuses, typed with the
    /// `ValidationExceptionType` of the constraint (`maxResults` has its own type).
    fn validation_v2(kind: crate::model::Kind, path: &str, message: String) -> Self {
        use crate::model::Kind;
        let kind = match kind {
            Kind::MinValue | Kind::MaxValue if path == "maxResults" => "INVALID_PAGINATION_MAX_RESULTS",
            Kind::Missing => "MEMBER_MISSING",
            Kind::WrongType => "MEMBER_INVALID",
            Kind::MinValue => "MEMBER_MIN_VALUE",
            Kind::MaxValue => "MEMBER_MAX_VALUE",
            Kind::MinLength => "MEMBER_MIN_LENGTH",
            Kind::MaxLength => "MEMBER_MAX_LENGTH",
            Kind::Enum => "MEMBER_INVALID_ENUM_VALUE",
            Kind::Pattern => "MEMBER_DOES_NOT_MATCH_PATTERN",
        };
        Self::shaped(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            message,
            &[("ValidationExceptionType", kind)],
        )
    }

    /// The error as `service` names and shapes it: MediaPackage v2 answers throttling with
    /// `ThrottlingException`, server faults with `InternalServerException`, an unreadable request
    /// with `ValidationException`, and spells the message of its modeled errors `Message`.
    pub fn in_dialect_of(mut self, service: &str) -> Self {
        if service != "mediapackagev2" {
            return self;
        }
        self.kind = match self.kind {
            "TooManyRequestsException" => "ThrottlingException",
            "InternalServerErrorException" | "ServiceUnavailableException" => "InternalServerException",
            "BadRequestException" => "ValidationException",
            other => other,
        };
        if self.kind == "InternalServerException" {
            self.status = StatusCode::INTERNAL_SERVER_ERROR;
        }
        let modeled = [
            "AccessDeniedException",
            "ConflictException",
            "InternalServerException",
            "ResourceNotFoundException",
            "ServiceQuotaExceededException",
            "ThrottlingException",
            "ValidationException",
        ];
        if modeled.contains(&self.kind) {
            self.message_key = "Message";
        }
        self
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
