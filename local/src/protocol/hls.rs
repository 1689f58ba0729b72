//! HLS over HTTP as MediaPackage's origins (v1 and v2) answer it: CORS for players on other
//! origins, and the cache lifetimes MediaPackage tells CDNs.

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

/// Players on other origins (the S3-hosted page) must be able to read every answer, 404s included.
pub fn with_cors(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    response
}

/// How long MediaPackage lets a CDN keep a segment (TS, CMAF, init): 14 days (AWS's "CDN
/// caching" guidance for MediaPackage origins).
pub const SEGMENT_CACHE_CONTROL: &str = "max-age=1209600";

/// An MPEG-TS segment: immutable once written, cached long.
pub fn ts_segment(bytes: bytes::Bytes) -> Response {
    let headers = [
        (header::CONTENT_TYPE, "video/mp2t"),
        (header::CACHE_CONTROL, SEGMENT_CACHE_CONTROL),
    ];
    (headers, bytes).into_response()
}

/// A live HLS playlist (multivariant or media) of segments of `segment_seconds`: cached half a
/// segment (at least a second), as MediaPackage tells CDNs.
pub fn playlist_for(text: String, segment_seconds: f64) -> Response {
    let max_age = ((segment_seconds / 2.0).floor() as u64).max(1);
    (
        [
            (header::CONTENT_TYPE, "application/vnd.apple.mpegurl".to_owned()),
            (header::CACHE_CONTROL, format!("max-age={max_age}")),
        ],
        text,
    )
        .into_response()
}

/// A live playlist cached a second (a low-latency HLS media playlist, as MediaPackage tells CDNs).
pub fn playlist(text: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/vnd.apple.mpegurl"),
            (header::CACHE_CONTROL, "max-age=1"),
        ],
        text,
    )
        .into_response()
}
