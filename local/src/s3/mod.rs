//! The S3 subset: path-style buckets and objects served from a directory by s3s + s3s-fs, with
//! signatures verified, IAM policies enforced and bucket policies for anonymous (browser) reads,
//! see [`access`].

mod access;
mod grammar;
mod iam;
pub(crate) mod keys;
mod messages;
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
use s3s::service::{S3Service, S3ServiceBuilder};

use self::store::Store;
use crate::auth::Keys;
use crate::chain::Accounting;
use crate::model::{ModelSpec, ServiceModel};
use crate::services::{Answer, Service, Shared};

/// The AWS model its requests are checked against (botocore's folder and API version).
pub const MODEL: ModelSpec = ModelSpec {
    service: "s3",
    version: "2006-03-01",
    strict: false,
    amendments: &[],
};

#[derive(Clone)]
pub struct S3 {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    service: S3Service,
}

/// Who S3 serves: the region and account it stands for, the keys it accepts, and the S3 model.
pub struct Identity {
    pub region: String,
    pub account_id: String,
    pub keys: Arc<Keys>,
    pub model: Option<Arc<ServiceModel>>,
}

impl S3 {
    /// Serves buckets from `root`, creating it if missing.
    pub fn new(root: PathBuf, identity: Identity) -> anyhow::Result<Self> {
        let store = Store::new(&root, &identity.region, &identity.account_id)?;
        // No host parser: every request is path-style, whatever the Host header.
        let mut service = S3ServiceBuilder::new(store.clone());
        service.set_auth(access::KeyAuth(identity.keys.clone()));
        service.set_access(access::Access {
            store: store.clone(),
            keys: identity.keys,
            region: identity.region,
            account: identity.account_id,
            model: identity.model,
        });
        let service = service.build();
        Ok(Self {
            inner: Arc::new(Inner { store, service }),
        })
    }

    /// Handle one HTTP request (signed or anonymous) and produce the response.
    pub async fn handle(&self, req: Request) -> Response {
        let signed = is_signed(&req);
        if !signed && req.method() == Method::OPTIONS {
            return preflight(&req);
        }
        let mut resp = call(&self.inner.service, req.map(s3s::Body::http_body_unsync)).await;
        if !signed {
            // The player page and its HLS may be served from another origin.
            resp.headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
        if resp.status().is_client_error() || resp.status().is_server_error() {
            return in_aws_words(resp).await;
        }
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
                .any(|p| matches!(p.split('=').next().unwrap_or_default(), "X-Amz-Signature" | "Signature"))
        })
}

/// The header naming a bucket's region in S3's answers.
pub(crate) const BUCKET_REGION: &str = "x-amz-bucket-region";

/// s3s's own wording where AWS words a refusal otherwise: every error with a Message (s3s leaves
/// it out where none was given, see [`messages`]), a wrong-region refusal with the bucket's
/// `<Region>`.
async fn in_aws_words(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return error_response(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "internal error");
    };
    let text = String::from_utf8_lossy(&bytes);
    if text.contains("<Code>RequestTimeTooSkewed</Code>") {
        return error_response(
            StatusCode::FORBIDDEN,
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
        );
    }
    let mut text = text.into_owned();
    if let Some(code) = between(&text, "<Code>", "</Code>") {
        let code = code.to_owned();
        if !text.contains("<Message>")
            && let Some(at) = text.find("</Code>")
        {
            let message = messages::default_message(&code, parts.status);
            text.insert_str(at + "</Code>".len(), &format!("<Message>{message}</Message>"));
        }
        if matches!(
            code.as_str(),
            "AuthorizationHeaderMalformed" | "AuthorizationQueryParametersError"
        ) && !text.contains("<Region>")
            && let Some(region) = parts.headers.get(BUCKET_REGION).and_then(|v| v.to_str().ok())
            && let Some(at) = text.find("</Message>")
        {
            text.insert_str(at + "</Message>".len(), &format!("<Region>{region}</Region>"));
        }
    }
    // AWS writes apostrophes as they are (s3s escapes them; both are the same XML).
    let text = text.replace("&apos;", "'");
    parts.headers.remove(header::CONTENT_LENGTH);
    if !text.is_empty() && !parts.headers.contains_key(header::CONTENT_TYPE) {
        parts
            .headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    }
    Response::from_parts(parts, Body::from(text))
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
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

/// An S3-style XML error, for failures before s3s sees the request.
fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// S3: signed `s3`, and every unsigned request no one else serves (public objects); s3s checks
/// the signature and the policies ([`access`]).
impl Service for S3 {
    fn signing_name(&self) -> &'static str {
        "s3"
    }

    fn call<'a>(&'a self, shared: &'a Shared, req: Request) -> Answer<'a> {
        let operation = operation(req.method());
        Box::pin(async move {
            let call = async { Ok(self.handle(req).await) };
            crate::chain::accounted(shared, "s3", operation, &ACCOUNTING, call)
                .await
                .unwrap_or_else(IntoResponse::into_response)
        })
    }

    fn unsigned<'a>(&'a self, shared: &'a Shared, req: Request) -> Result<Answer<'a>, Box<Request>> {
        Ok(self.call(shared, req))
    }

    fn reset(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            if let Err(e) = S3::reset(self).await {
                tracing::warn!(error = %e, "S3 reset failed");
            }
        })
    }
}

/// S3's object traffic is neither held nor counted as mutations, and answers its errors itself.
const ACCOUNTING: Accounting = Accounting {
    held: false,
    shape: std::convert::identity,
    outcome: |response| if response.status().is_success() { "ok" } else { "error" },
};

/// The name S3 calls are throttled and counted under: by method (s3s routes the rest).
fn operation(method: &Method) -> &'static str {
    match *method {
        Method::GET => "S3Get",
        Method::HEAD => "S3Head",
        Method::PUT => "S3Put",
        Method::POST => "S3Post",
        Method::DELETE => "S3Delete",
        _ => "S3Other",
    }
}
