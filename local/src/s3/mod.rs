//! The S3 subset: path-style buckets and objects served from a directory by
//! s3s + s3s-fs, with bucket policies for anonymous (browser) reads.
//!
//! Authentication: signed requests are trusted without verifying the
//! signature. A local cloud cannot know the secret behind an arbitrary access
//! key, and its callers (SDK, CLI, tests) sign with whatever credentials they
//! happen to have. So a signed request has its signature stripped and goes to
//! an s3s service with no auth, which allows everything. Unsigned requests go
//! to a second service whose access hook ([`policy::PublicRead`]) allows only
//! the `GetObject`/`HeadObject` that the bucket policy grants to everyone.

mod chunked;
mod policy;
mod recordings;
mod store;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{self, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};

use self::store::Store;

/// Query parameters that carry a presigned URL's signature (SigV4 and SigV2).
const PRESIGN_PARAMS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "AWSAccessKeyId",
    "Signature",
    "Expires",
];

#[derive(Clone)]
pub struct S3 {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    trusted: S3Service,
    anonymous: S3Service,
}

impl S3 {
    /// Serves buckets from `root`, creating it if missing.
    pub fn new(root: PathBuf, region: &str, account_id: &str) -> anyhow::Result<Self> {
        let store = Store::new(&root, region, account_id)?;
        // No host parser: every request is path-style, whatever the Host header.
        let trusted = S3ServiceBuilder::new(store.clone()).build();
        let mut anonymous = S3ServiceBuilder::new(store.clone());
        // s3s consults the access hook only when an auth provider is set; this
        // one has no keys, and unsigned requests never look one up anyway.
        anonymous.set_auth(SimpleAuth::new());
        anonymous.set_access(policy::PublicRead(store.clone()));
        let anonymous = anonymous.build();
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                trusted,
                anonymous,
            }),
        })
    }

    /// Handle one HTTP request (signed or anonymous) and produce the response.
    pub async fn handle(&self, req: Request) -> Response {
        if is_signed(&req) {
            return match unsign(req).await {
                Ok(req) => call(&self.inner.trusted, req).await,
                Err(resp) => resp,
            };
        }
        if req.method() == Method::OPTIONS {
            return preflight(&req);
        }
        let mut resp = call(&self.inner.anonymous, req.map(s3s::Body::http_body_unsync)).await;
        // The player page and its HLS may be served from another origin.
        resp.headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        resp
    }

    /// Remove all buckets and objects (used by the admin reset endpoint).
    pub async fn reset(&self) -> anyhow::Result<()> {
        self.inner.store.reset().await
    }
}

fn is_signed(req: &Request) -> bool {
    req.headers().contains_key(header::AUTHORIZATION)
        || req.uri().query().is_some_and(|q| {
            q.split('&')
                .any(|p| matches!(param_name(p), "X-Amz-Signature" | "Signature"))
        })
}

fn param_name(pair: &str) -> &str {
    pair.split('=').next().unwrap_or_default()
}

/// Turns a signed request into one that s3s without auth accepts: no
/// signature, and an `aws-chunked` body decoded (s3s decodes it only while
/// verifying a signature).
async fn unsign(req: Request) -> Result<http::Request<s3s::Body>, Response> {
    let (mut parts, body) = req.into_parts();
    parts.headers.remove(header::AUTHORIZATION);
    if let Some(query) = parts.uri.query() {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| !PRESIGN_PARAMS.contains(&param_name(p)))
            .collect();
        let path_and_query = if kept.is_empty() {
            parts.uri.path().to_owned()
        } else {
            format!("{}?{}", parts.uri.path(), kept.join("&"))
        };
        let mut uri = parts.uri.clone().into_parts();
        uri.path_and_query = Some(path_and_query.parse().map_err(|_| invalid("bad URI"))?);
        parts.uri = http::Uri::from_parts(uri).map_err(|_| invalid("bad URI"))?;
    }

    let header_str = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let chunked = header_str("x-amz-content-sha256").starts_with("STREAMING-")
        || header_str("content-encoding").contains("aws-chunked");
    if !chunked {
        return Ok(http::Request::from_parts(parts, s3s::Body::http_body_unsync(body)));
    }

    let raw = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|_| error_response(StatusCode::BAD_REQUEST, "IncompleteBody", "could not read the body"))?;
    let decoded = chunked::decode(&raw).map_err(invalid)?;

    // Otherwise s3s-fs would store `aws-chunked` as the object's Content-Encoding.
    let encodings: Vec<&str> = header_str("content-encoding")
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && *e != "aws-chunked")
        .collect();
    if encodings.is_empty() {
        parts.headers.remove(header::CONTENT_ENCODING);
    } else {
        let value = HeaderValue::from_str(&encodings.join(",")).map_err(|_| invalid("bad Content-Encoding"))?;
        parts.headers.insert(header::CONTENT_ENCODING, value);
    }
    for name in ["x-amz-content-sha256", "x-amz-decoded-content-length", "x-amz-trailer"] {
        parts.headers.remove(name);
    }
    parts.headers.remove(header::TRANSFER_ENCODING);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(decoded.data.len()));
    // Trailing checksums become headers so s3s-fs verifies and stores them
    // (it rejects a declared checksum algorithm whose value never arrives).
    for (name, value) in decoded.trailers {
        if name.starts_with("x-amz-checksum-")
            && let (Ok(name), Ok(value)) = (header::HeaderName::try_from(name), HeaderValue::try_from(value))
        {
            parts.headers.insert(name, value);
        }
    }
    Ok(http::Request::from_parts(parts, s3s::Body::from(decoded.data)))
}

/// Answers a CORS preflight for anonymous reads.
fn preflight(req: &Request) -> Response {
    let allow_headers = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("*"));
    (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
            (
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, HEAD"),
            ),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers),
            (header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400")),
        ],
    )
        .into_response()
}

async fn call(service: &S3Service, req: http::Request<s3s::Body>) -> Response {
    match service.call(req).await {
        Ok(resp) => resp.map(Body::new),
        Err(err) => {
            tracing::error!(?err, "s3 request failed");
            error_response(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "internal error")
        }
    }
}

fn invalid(message: &str) -> Response {
    error_response(StatusCode::BAD_REQUEST, "InvalidRequest", message)
}

/// An S3-style XML error, for failures before s3s sees the request.
fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}
