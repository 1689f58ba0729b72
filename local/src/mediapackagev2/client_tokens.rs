//! Client tokens (`x-amzn-client-token`) make creates idempotent: a retry with the same token
//! and request answers with what the first call made.

use serde_json::{Value, json};

use super::{State, errors::conflict};
use crate::protocol::{ApiRequest, ApiResult};

/// Whether this create repeats an earlier one with the same client token and request (true:
/// answer with what it made); the same token with another request is
/// `IDEMPOTENT_PARAMETER_MISMATCH`.
pub(super) fn replayed(state: &State, operation: &'static str, req: &ApiRequest, body: &Value) -> ApiResult<bool> {
    let Some(token) = req.header("x-amzn-client-token") else {
        return Ok(false);
    };
    match state.tokens.get(&(operation, token.to_owned())) {
        None => Ok(false),
        Some(earlier) if *earlier == fingerprint(req, body) => Ok(true),
        Some(_) => Err(conflict(
            "IDEMPOTENT_PARAMETER_MISMATCH",
            format!("The client token {token} was already used with a different {operation} request"),
        )),
    }
}

pub(super) fn remember(state: &mut State, operation: &'static str, req: &ApiRequest, body: &Value) {
    if let Some(token) = req.header("x-amzn-client-token") {
        state
            .tokens
            .insert((operation, token.to_owned()), fingerprint(req, body));
    }
}

fn fingerprint(req: &ApiRequest, body: &Value) -> Value {
    json!({ "path": req.segments, "body": body })
}
