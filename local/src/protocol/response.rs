//! REST-JSON answers: a JSON body with a status, an empty one, and one page of a list.

use axum::{
    Json,
    body::Body,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// One page of `items` (sorted by key) after `token`, and the token of the next page.
pub fn paginate<T>(items: Vec<(String, T)>, max: usize, token: Option<&str>) -> (Vec<T>, Option<String>) {
    let mut rest: Vec<_> = items
        .into_iter()
        .filter(|(key, _)| token.is_none_or(|t| key.as_str() > t))
        .collect();
    let more = rest.len() > max;
    rest.truncate(max);
    let next = if more {
        rest.last().map(|(key, _)| key.clone())
    } else {
        None
    };
    (rest.into_iter().map(|(_, item)| item).collect(), next)
}

/// A 200 list answer: one page of `items` under `field`, with the next page's token.
pub fn page_response(
    field: &str,
    items: Vec<(String, serde_json::Value)>,
    max: usize,
    token: Option<&str>,
) -> Response {
    let (page, next) = paginate(items, max, token);
    json_response(StatusCode::OK, json!({ field: page, "nextToken": next }))
}

/// A JSON response with a status code.
pub fn json_response(status: StatusCode, value: serde_json::Value) -> Response {
    (status, Json(value)).into_response()
}

pub fn empty_response(status: StatusCode) -> Response {
    (status, Body::empty()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paginates_after_the_token() {
        let items: Vec<_> = (1..=5).map(|i| (format!("{i}"), i)).collect();
        let (page, next) = paginate(items.clone(), 2, None);
        assert_eq!((page, next.as_deref()), (vec![1, 2], Some("2")));
        let (page, next) = paginate(items, 2, Some("4"));
        assert_eq!((page, next), (vec![5], None));
    }
}
