//! End-to-end over real HTTP: the handler behind `axum::serve` on a random port.

use super::S3;

use std::path::PathBuf;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The key these tests sign with, as an administrator: the server's default.
const KEY: (&str, &str) = crate::auth::DEFAULT_KEY;

/// How a request is signed: with AWS's signer in the Authorization header or as a presigned URL.
#[derive(Clone, Copy, PartialEq)]
enum Signing {
    Header,
    Presigned,
}

/// The request signed by aws-sigv4 for S3 (single percent-encoding, `x-amz-content-sha256`).
fn sign(
    req: axum::http::Request<Vec<u8>>,
    region: &str,
    key: (&str, &str),
    how: Signing,
) -> axum::http::Request<Vec<u8>> {
    sign_at(req, region, key, how, std::time::SystemTime::now())
}

fn sign_at(
    req: axum::http::Request<Vec<u8>>,
    region: &str,
    key: (&str, &str),
    how: Signing,
    time: std::time::SystemTime,
) -> axum::http::Request<Vec<u8>> {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
        UriPathNormalizationMode,
    };
    let identity = aws_credential_types::Credentials::new(key.0, key.1, None, None, "tests").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    if how == Signing::Presigned {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(std::time::Duration::from_secs(60));
    }
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let (mut parts, body) = req.into_parts();
    // A precomputed payload hash (a streaming body) is signed as sent.
    let precomputed = parts.headers.remove("x-amz-content-sha256");
    let signable_body = match &precomputed {
        Some(hash) => SignableBody::Precomputed(hash.to_str().unwrap().to_owned()),
        None if how == Signing::Presigned => SignableBody::UnsignedPayload,
        None => SignableBody::Bytes(&body),
    };
    let uri = parts.uri.to_string();
    let headers: Vec<(&str, &str)> = (parts.headers.iter())
        .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
        .collect();
    let signable = SignableRequest::new(parts.method.as_str(), &uri, headers.into_iter(), signable_body).unwrap();
    let (instructions, _) = aws_sigv4::http_request::sign(signable, &params).unwrap().into_parts();
    let mut req = axum::http::Request::from_parts(parts, body);
    instructions.apply_to_request_http1x(&mut req);
    req
}

pub(super) struct Server {
    base: String,
    region: String,
    pub(super) s3: S3,
    dir: PathBuf,
    client: Client<HttpConnector, Body>,
}

pub(super) struct Reply {
    pub(super) status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(super) async fn start() -> Server {
    start_in("us-east-1").await
}

async fn start_in(region: &str) -> Server {
    let dir = std::env::temp_dir().join(format!("livestream-local-s3-test-{}", uuid::Uuid::new_v4()));
    let identity = super::Identity {
        region: region.to_owned(),
        account_id: "123456789012".into(),
        keys: std::sync::Arc::new(crate::auth::Keys::load(None, "123456789012").unwrap()),
        model: None,
    };
    let s3 = S3::new(dir.join("s3"), identity).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback({
        let s3 = s3.clone();
        move |req: Request| {
            let s3 = s3.clone();
            async move { s3.handle(req).await }
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = Client::builder(TokioExecutor::new()).build_http();
    Server {
        base,
        region: region.to_owned(),
        s3,
        dir,
        client,
    }
}

impl Server {
    async fn send(&self, method: Method, path: &str, signed: bool, headers: &[(&str, &str)], body: Body) -> Reply {
        let how = signed.then_some(Signing::Header);
        self.send_as(method, path, how, KEY, headers, body).await
    }

    async fn send_as(
        &self,
        method: Method,
        path: &str,
        how: Option<Signing>,
        key: (&str, &str),
        headers: &[(&str, &str)],
        body: Body,
    ) -> Reply {
        let mut req = axum::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec();
        let mut req = req.body(body).unwrap();
        if let Some(how) = how {
            req = sign(req, &self.region, key, how);
        }
        let resp = self.client.request(req.map(Body::from)).await.unwrap();
        let (parts, body) = resp.into_parts();
        let body = axum::body::to_bytes(Body::new(body), usize::MAX).await.unwrap();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    pub(super) async fn signed(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &'static str,
    ) -> Reply {
        self.send(method, path, true, headers, Body::from(body)).await
    }

    async fn anonymous(&self, method: Method, path: &str) -> Reply {
        self.send(method, path, false, &[], Body::empty()).await
    }
}

const PUBLIC_SITE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow",
    "Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::web/site/*"]}]}"#;

/// Block Public Access relaxed for bucket policies (what a user runs for a public site).
const RELAXED: &str = "<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls>\
    <IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy>\
    <RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>";

#[tokio::test]
async fn new_buckets_have_todays_account_defaults() {
    // Outside us-east-1 the region must be named.
    let srv = start_in("eu-west-1").await;
    let unnamed = srv.signed(Method::PUT, "/site1", &[], "").await;
    assert_eq!(unnamed.status, StatusCode::BAD_REQUEST);
    assert!(
        unnamed.text().contains("IllegalLocationConstraintException")
            && unnamed
                .text()
                .contains("The unspecified location constraint is incompatible"),
        "{}",
        unnamed.text()
    );
    let config = |region: &str| {
        format!(
            "<CreateBucketConfiguration><LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
        )
    };
    let elsewhere = srv
        .send(Method::PUT, "/site1", true, &[], Body::from(config("us-west-2")))
        .await;
    assert!(
        elsewhere.text().contains("IllegalLocationConstraintException"),
        "{}",
        elsewhere.text()
    );
    assert!(
        srv.send(Method::PUT, "/site1", true, &[], Body::from(config("eu-west-1")))
            .await
            .status
            .is_success()
    );
    // ACLs are disabled (object ownership BucketOwnerEnforced).
    let acl = srv
        .signed(Method::PUT, "/site1/page.html", &[("x-amz-acl", "public-read")], "x")
        .await;
    assert_eq!(acl.status, StatusCode::BAD_REQUEST);
    assert!(acl.text().contains("AccessControlListNotSupported"), "{}", acl.text());
    assert!(
        srv.signed(
            Method::PUT,
            "/site1/page.html",
            &[("x-amz-acl", "bucket-owner-full-control")],
            "x"
        )
        .await
        .status
        .is_success()
    );
    let acl_bucket = srv
        .send(
            Method::PUT,
            "/site2",
            true,
            &[("x-amz-acl", "public-read")],
            Body::from(config("eu-west-1")),
        )
        .await;
    assert!(
        acl_bucket.text().contains("InvalidBucketAclWithObjectOwnership"),
        "{}",
        acl_bucket.text()
    );
    // RestrictPublicBuckets alone makes a public policy grant anonymous callers nothing.
    let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site1/*"}]}"#;
    let only_restrict = "<PublicAccessBlockConfiguration><BlockPublicPolicy>false</BlockPublicPolicy>\
        <RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>";
    assert!(
        srv.signed(Method::PUT, "/site1?publicAccessBlock", &[], only_restrict)
            .await
            .status
            .is_success()
    );
    assert!(
        srv.send(Method::PUT, "/site1?policy", true, &[], Body::from(public))
            .await
            .status
            .is_success()
    );
    assert_eq!(
        srv.anonymous(Method::GET, "/site1/page.html").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        srv.signed(Method::DELETE, "/site1?publicAccessBlock", &[], "")
            .await
            .status
            .is_success()
    );
    assert_eq!(
        srv.anonymous(Method::GET, "/site1/page.html").await.status,
        StatusCode::OK
    );
    let none = srv.signed(Method::GET, "/site1?publicAccessBlock", &[], "").await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert!(
        none.text().contains("NoSuchPublicAccessBlockConfiguration"),
        "{}",
        none.text()
    );
    // A bucket policy is at most 20 KB.
    let statement = r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::site1/x/*"}"#;
    let large = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        vec![statement; 200].join(",")
    );
    let too_large = srv
        .send(Method::PUT, "/site1?policy", true, &[], Body::from(large))
        .await;
    assert_eq!(too_large.status, StatusCode::BAD_REQUEST);
    assert!(too_large.text().contains("MalformedPolicy"), "{}", too_large.text());
}

#[tokio::test]
async fn anonymous_reads_follow_the_bucket_policy() {
    let srv = start().await;
    assert_eq!(srv.signed(Method::PUT, "/web", &[], "").await.status, StatusCode::OK);
    let html = [("content-type", "text/html")];
    assert!(
        srv.signed(Method::PUT, "/web/site/index.html", &html, "<h1>hi</h1>")
            .await
            .status
            .is_success()
    );
    assert!(
        srv.signed(Method::PUT, "/web/private/notes.txt", &[], "secret")
            .await
            .status
            .is_success()
    );

    // No policy: nothing is public.
    let denied = srv.anonymous(Method::GET, "/web/site/index.html").await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(denied.text().contains("AccessDenied"), "{}", denied.text());
    let missing = srv.signed(Method::GET, "/web?policy", &[], "").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text().contains("NoSuchBucketPolicy"), "{}", missing.text());

    // A new bucket blocks public policies, as on AWS since April 2023, until its owner allows them.
    let blocked = srv.signed(Method::PUT, "/web?policy", &[], PUBLIC_SITE).await;
    assert_eq!(blocked.status, StatusCode::FORBIDDEN);
    assert!(
        blocked.text().contains("AccessDenied") && blocked.text().contains("BlockPublicPolicy"),
        "{}",
        blocked.text()
    );
    let block = srv.signed(Method::GET, "/web?publicAccessBlock", &[], "").await;
    assert!(
        block.text().contains("<BlockPublicPolicy>true</BlockPublicPolicy>"),
        "{}",
        block.text()
    );
    assert!(
        srv.signed(Method::PUT, "/web?publicAccessBlock", &[], RELAXED)
            .await
            .status
            .is_success()
    );
    assert!(
        srv.signed(Method::PUT, "/web?policy", &[], PUBLIC_SITE)
            .await
            .status
            .is_success()
    );
    assert_eq!(
        srv.signed(Method::GET, "/web?policy", &[], "").await.text(),
        PUBLIC_SITE
    );

    let page = srv.anonymous(Method::GET, "/web/site/index.html").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.text(), "<h1>hi</h1>");
    assert_eq!(page.header("content-type"), Some("text/html"));
    assert_eq!(page.header("access-control-allow-origin"), Some("*"));
    let head = srv.anonymous(Method::HEAD, "/web/site/index.html").await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("access-control-allow-origin"), Some("*"));

    // Outside the granted prefix, and anything but reads, stays private.
    assert_eq!(
        srv.anonymous(Method::GET, "/web/private/notes.txt").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(srv.anonymous(Method::GET, "/web").await.status, StatusCode::FORBIDDEN);
    assert_eq!(srv.anonymous(Method::GET, "/").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        srv.anonymous(Method::GET, "/web/site/index.html?acl").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        srv.anonymous(Method::PUT, "/web/site/evil.html").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        srv.anonymous(Method::DELETE, "/web/site/index.html").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        srv.anonymous(Method::GET, "/web?policy").await.status,
        StatusCode::FORBIDDEN
    );

    let preflight = srv.anonymous(Method::OPTIONS, "/web/site/index.html").await;
    assert!(preflight.status.is_success());
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));

    assert!(
        srv.signed(Method::DELETE, "/web?policy", &[], "")
            .await
            .status
            .is_success()
    );
    assert_eq!(
        srv.anonymous(Method::GET, "/web/site/index.html").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn signed_requests_round_trip_headers() {
    let srv = start().await;
    assert_eq!(srv.signed(Method::PUT, "/media", &[], "").await.status, StatusCode::OK);
    assert_eq!(srv.signed(Method::HEAD, "/media", &[], "").await.status, StatusCode::OK);
    let headers = [
        ("content-type", "application/vnd.apple.mpegurl"),
        ("cache-control", "max-age=1"),
    ];
    let put = srv
        .signed(Method::PUT, "/media/live/index.m3u8", &headers, "#EXTM3U\n")
        .await;
    assert!(put.status.is_success(), "{}", put.text());

    for method in [Method::GET, Method::HEAD] {
        let got = srv.signed(method, "/media/live/index.m3u8", &[], "").await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.header("content-type"), Some("application/vnd.apple.mpegurl"));
        assert_eq!(got.header("cache-control"), Some("max-age=1"));
    }

    // A presigned URL carries its signature in the query, verified like a header one.
    let presigned = Some(Signing::Presigned);
    let got = (srv.send_as(
        Method::GET,
        "/media/live/index.m3u8",
        presigned,
        KEY,
        &[],
        Body::empty(),
    ))
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_eq!(got.text(), "#EXTM3U\n");
    // Signed with the wrong secret: refused as AWS refuses it.
    let forged = srv
        .send_as(
            Method::GET,
            "/media/live/index.m3u8",
            presigned,
            ("local", "wrong"),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text());
    assert!(forged.text().contains("SignatureDoesNotMatch"), "{}", forged.text());
    let unknown = srv
        .send_as(
            Method::GET,
            "/media/live/index.m3u8",
            Some(Signing::Header),
            ("nobody", "x"),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::FORBIDDEN, "{}", unknown.text());
    assert!(unknown.text().contains("InvalidAccessKeyId"), "{}", unknown.text());

    let list = srv
        .signed(Method::GET, "/media?list-type=2&prefix=live/", &[], "")
        .await;
    assert!(list.text().contains("<Key>live/index.m3u8</Key>"), "{}", list.text());
    assert!(
        srv.signed(Method::GET, "/", &[], "")
            .await
            .text()
            .contains("<Name>media</Name>")
    );

    // Like AWS (unlike plain s3s-fs), a bucket with objects cannot be deleted.
    let refused = srv.signed(Method::DELETE, "/media", &[], "").await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text());
    assert!(refused.text().contains("BucketNotEmpty"));
    let deleted = srv.signed(Method::DELETE, "/media/live/index.m3u8", &[], "").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = srv.signed(Method::GET, "/media/live/index.m3u8", &[], "").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        srv.signed(Method::DELETE, "/media", &[], "").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        srv.signed(Method::HEAD, "/media", &[], "").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn aws_chunked_upload_with_trailing_checksum() {
    let srv = start().await;
    srv.signed(Method::PUT, "/uploads", &[], "").await;
    // What the Rust SDK sends for a streaming body (flexible checksums).
    let body = "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    let headers = [
        ("content-encoding", "aws-chunked"),
        ("content-type", "text/plain"),
        ("x-amz-decoded-content-length", "11"),
        ("x-amz-sdk-checksum-algorithm", "CRC32"),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    ];
    let mut req_headers = headers.to_vec();
    req_headers.push(("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"));
    let put = srv
        .send(Method::PUT, "/uploads/hello.txt", true, &req_headers, Body::from(body))
        .await;
    assert!(put.status.is_success(), "{}", put.text());

    // The trailing checksum is really checked.
    let corrupt = body.replace("DUoRhQ==", "AAAAAA==");
    let bad = srv
        .send(Method::PUT, "/uploads/bad.txt", true, &req_headers, Body::from(corrupt))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text());

    let got = srv.signed(Method::GET, "/uploads/hello.txt", &[], "").await;
    assert_eq!(got.text(), "hello world");
    assert_eq!(got.header("content-type"), Some("text/plain"));
    assert_eq!(got.header("content-encoding"), None);
}

#[tokio::test]
async fn reset_removes_buckets_objects_and_policies() {
    let srv = start().await;
    srv.signed(Method::PUT, "/web", &[], "").await;
    srv.signed(Method::PUT, "/web/site/index.html", &[], "x").await;
    srv.signed(Method::PUT, "/web?policy", &[], PUBLIC_SITE).await;
    srv.s3.reset().await.unwrap();
    let list = srv.signed(Method::GET, "/", &[], "").await;
    assert!(!list.text().contains("<Name>web</Name>"), "{}", list.text());
    assert_eq!(
        srv.anonymous(Method::GET, "/web/site/index.html").await.status,
        StatusCode::FORBIDDEN
    );
    // Still usable afterwards, and the old policy did not survive.
    assert_eq!(srv.signed(Method::PUT, "/web", &[], "").await.status, StatusCode::OK);
    assert_eq!(
        srv.signed(Method::GET, "/web?policy", &[], "").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn s3_allows_15_minutes_of_clock_skew_and_refuses_more_in_aws_words() {
    let srv = start().await;
    let list_signed_ago = |minutes: u64| {
        let req = axum::http::Request::builder()
            .method(Method::GET)
            .uri(format!("{}/", srv.base))
            .body(Vec::new())
            .unwrap();
        let at = std::time::SystemTime::now() - std::time::Duration::from_secs(minutes * 60);
        srv.client
            .request(sign_at(req, "us-east-1", KEY, Signing::Header, at).map(Body::from))
    };
    assert_eq!(list_signed_ago(10).await.unwrap().status(), StatusCode::OK);
    let resp = list_signed_ago(20).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(Body::new(resp.into_body()), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert!(
        text.contains("<Code>RequestTimeTooSkewed</Code>")
            && text.contains("The difference between the request time and the current time is too large."),
        "{text}"
    );
}

mod ownership;
mod regions;
