//! The service's own errors, each with a `Message` and its typed member:
//! `ValidationException` (400, `ValidationExceptionType`), `ConflictException` (409,
//! `ConflictExceptionType`), `ResourceNotFoundException` (404, `ResourceTypeNotFound`),
//! `ServiceQuotaExceededException` (402).

use axum::http::StatusCode;

use crate::{
    model::{Kind, Violation},
    protocol::{ApiError, Dialect},
};

/// A 400 `ValidationException` of `kind` (a `ValidationExceptionType`).
pub(super) fn validation(kind: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::shaped(
        StatusCode::BAD_REQUEST,
        "ValidationException",
        message,
        &[("ValidationExceptionType", kind)],
    )
}

pub(super) fn not_found(kind: &'static str) -> ApiError {
    let what = match kind {
        "CHANNEL_GROUP" => "channel group. Verify your channel group name or add a channel group",
        "CHANNEL" => "channel. Verify your channel name or add a channel",
        _ => "origin endpoint. Verify your origin endpoint name or add an origin endpoint",
    };
    ApiError::shaped(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        format!("MediaPackage can't process your request because we can't find your {what} and then try again"),
        &[("ResourceTypeNotFound", kind)],
    )
}

pub(super) fn conflict(kind: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::shaped(
        StatusCode::CONFLICT,
        "ConflictException",
        message,
        &[("ConflictExceptionType", kind)],
    )
}

pub(super) fn quota_exceeded(message: String) -> ApiError {
    ApiError::shaped(
        StatusCode::PAYMENT_REQUIRED,
        "ServiceQuotaExceededException",
        message,
        &[],
    )
}

/// MediaPackage v2's words for the errors every service answers: `ThrottlingException`,
/// `InternalServerException`, `ValidationException` (typed) for what the model refuses, and
/// `Message` for the message of its modeled errors.
pub const DIALECT: Dialect = Dialect {
    shape: in_dialect,
    refusal: model_refusal,
};

/// The 400 `ValidationException` for the first value the model refuses, typed with the
/// `ValidationExceptionType` of the constraint (`maxResults` has its own type).
fn model_refusal(violations: &[Violation]) -> Option<ApiError> {
    let first = violations.first()?;
    let kind = match first.kind {
        Kind::MinValue | Kind::MaxValue if first.path == "maxResults" => "INVALID_PAGINATION_MAX_RESULTS",
        Kind::Missing => "MEMBER_MISSING",
        Kind::WrongType => "MEMBER_INVALID",
        Kind::MinValue => "MEMBER_MIN_VALUE",
        Kind::MaxValue => "MEMBER_MAX_VALUE",
        Kind::MinLength => "MEMBER_MIN_LENGTH",
        Kind::MaxLength => "MEMBER_MAX_LENGTH",
        Kind::Enum => "MEMBER_INVALID_ENUM_VALUE",
        Kind::Pattern => "MEMBER_DOES_NOT_MATCH_PATTERN",
    };
    Some(validation(kind, first.text()))
}

/// A shared error as MediaPackage v2 names and shapes it.
fn in_dialect(mut error: ApiError) -> ApiError {
    error.kind = match error.kind {
        "TooManyRequestsException" => "ThrottlingException",
        "InternalServerErrorException" | "ServiceUnavailableException" => "InternalServerException",
        "BadRequestException" => "ValidationException",
        other => other,
    };
    if error.kind == "InternalServerException" {
        error.status = StatusCode::INTERNAL_SERVER_ERROR;
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
    if modeled.contains(&error.kind) {
        error.message_key = "Message";
    }
    error
}
