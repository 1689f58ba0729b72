//! The service's own errors, each with a `Message` and its typed member:
//! `ValidationException` (400, `ValidationExceptionType`), `ConflictException` (409,
//! `ConflictExceptionType`), `ResourceNotFoundException` (404, `ResourceTypeNotFound`),
//! `ServiceQuotaExceededException` (402).

use axum::http::StatusCode;

use crate::error::ApiError;

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
