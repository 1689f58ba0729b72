//! Listings: pages sorted by name, with opaque `NextToken`s.

use base64::Engine;
use serde_json::{Value, json};

use super::errors::validation;
use crate::protocol::{ApiRequest, ApiResult};

/// One page of a listing (sorted by name) after `nextToken`, at most `maxResults` (1–100 by the
/// model; 100 when absent), with the opaque token of the next page.
pub(super) fn page(items: Vec<(String, Value)>, req: &ApiRequest) -> ApiResult<Value> {
    let max = req.query_one("maxResults").and_then(|m| m.parse().ok()).unwrap_or(100);
    let after = match req.query_one("nextToken") {
        None => None,
        Some(token) => Some(decode_token(token).ok_or_else(|| {
            validation(
                "INVALID_PAGINATION_TOKEN",
                "The pagination token isn't valid: use the NextToken of the previous page",
            )
        })?),
    };
    let (items, next) = crate::protocol::paginate(items, max, after.as_deref());
    Ok(json!({ "Items": items, "NextToken": next.map(|n| encode_token(&n)) }))
}

const TOKEN_PREFIX: &str = "livestream-local:";

fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{TOKEN_PREFIX}{last}"))
}

fn decode_token(token: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix(TOKEN_PREFIX)
        .map(str::to_owned)
}
