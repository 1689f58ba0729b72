//! A REST-JSON request as every service reads it: method, decoded path segments and query, the
//! body whole, and who signed it.

use std::collections::HashMap;

use axum::{
    body::{Body, Bytes},
    http::Method,
};

use crate::protocol::error::ApiError;

/// A REST-JSON request, read whole (bodies are small).
pub struct ApiRequest {
    pub method: Method,
    /// Path segments, percent-decoded (an ARN in `/tags/{arn}` stays one segment).
    pub segments: Vec<String>,
    pub query: HashMap<String, Vec<String>>,
    /// The values of the labels of the routed operation's `requestUri` (set once it is routed).
    pub labels: HashMap<String, String>,
    pub body: Bytes,
    pub headers: axum::http::HeaderMap,
    /// Who signed it (set once the signature is verified).
    pub caller: Option<crate::auth::Caller>,
}

impl ApiRequest {
    pub async fn read(parts: &axum::http::request::Parts, body: Body) -> Result<Self, ApiError> {
        let body = axum::body::to_bytes(body, 16 << 20)
            .await
            .map_err(|e| ApiError::bad_request(format!("cannot read body: {e}")))?;
        let mut req = Self::new(
            parts.method.clone(),
            parts.uri.path(),
            parts.uri.query().unwrap_or(""),
            body,
        );
        req.headers = parts.headers.clone();
        Ok(req)
    }

    pub fn new(method: Method, path: &str, query: &str, body: Bytes) -> Self {
        let segments = path.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect();
        Self {
            method,
            segments,
            query: query_params(query),
            labels: HashMap::new(),
            body,
            headers: Default::default(),
            caller: None,
        }
    }

    /// A request header's value, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Why the verified caller may not hand `role` to `service` (`iam:PassRole`), in IAM's words;
    /// None when it may.
    pub fn pass_role_refusal(&self, role: &str, service: &str) -> Option<String> {
        let caller = self.caller.as_ref()?;
        if caller.may_pass_role(role, service) {
            return None;
        }
        let asked = crate::iam::actions::pass_role(&caller.scope(), role, service);
        Some(caller.refusal(&asked).unwrap_or_else(|| {
            format!(
                "User: {} is not authorized to perform: iam:PassRole on resource: {role}",
                caller.key.principal_arn
            )
        }))
    }

    /// Whether the verified caller may hand `role` to `service` (`iam:PassRole`).
    pub fn may_pass_role(&self, role: &str, service: &str) -> bool {
        self.caller.as_ref().is_some_and(|c| c.may_pass_role(role, service))
    }

    pub fn path(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }

    pub fn query_one(&self, key: &str) -> Option<&str> {
        self.query.get(key).and_then(|v| v.first()).map(String::as_str)
    }

    /// `maxResults` / `nextToken` pagination parameters.
    pub fn page(&self) -> Result<(usize, Option<String>), ApiError> {
        let max = match self.query_one("maxResults") {
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| ApiError::bad_request(format!("maxResults must be 1-1000, got {v}")))?,
            None => 1000,
        };
        Ok((max, self.query_one("nextToken").map(str::to_owned)))
    }
}

/// A query string's parameters, decoded, each name with all its values in order.
pub fn query_params(query: &str) -> HashMap<String, Vec<String>> {
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        params.entry(percent_decode(k)).or_default().push(percent_decode(v));
    }
    params
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_arns_in_paths() {
        let req = ApiRequest::new(
            Method::GET,
            "/prod/tags/arn%3Aaws%3Amedialive%3Aus-east-1%3A1%3Achannel%3A7",
            "tagKeys=a&tagKeys=b",
            Bytes::new(),
        );
        assert_eq!(req.path(), ["prod", "tags", "arn:aws:medialive:us-east-1:1:channel:7"]);
        assert_eq!(req.query["tagKeys"], ["a", "b"]);
    }
}
