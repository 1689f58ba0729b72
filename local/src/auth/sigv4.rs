//! Signature Version 4 as the REST-JSON services (MediaLive, MediaPackage) check it: the canonical
//! request is rebuilt from what arrived (path double-encoded, query sorted, the signed headers
//! trimmed), and its signature recomputed with aws-sigv4's signing key and HMAC. S3 is verified
//! by s3s's own verifier (see `crate::s3`). The answers are the services' own: status, error type
//! and message as AWS words them.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use sha2::{Digest, Sha256};

use super::{Key, Keys, Session};
use crate::protocol::ApiError;

/// How far a request's `X-Amz-Date` may be from the server's clock.
const SKEW_SECONDS: i64 = 300;
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// One request as it arrived, with its whole body.
pub struct Arrived<'a> {
    pub method: &'a str,
    /// The path as sent (percent-encoded).
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

fn forbidden(kind: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::with_status(StatusCode::FORBIDDEN, kind, message)
}

fn incomplete(message: impl Into<String>) -> ApiError {
    ApiError::with_status(StatusCode::BAD_REQUEST, "IncompleteSignatureException", message)
}

/// The key that signed `req`, or the service's refusal.
pub fn verify(keys: &Keys, region: &str, req: &Arrived, now: jiff::Timestamp) -> Result<Arc<Key>, ApiError> {
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    let Some(authorization) = header("authorization") else {
        return Err(forbidden(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let parts = Authorization::parse(authorization)?;
    let scope: Vec<&str> = parts.credential.split('/').collect();
    let [access_key, date, scope_region, service, "aws4_request"] = scope[..] else {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
            parts.credential
        )));
    };
    let Some(key) = keys.get(access_key) else {
        return Err(unrecognized());
    };
    let amz_date = header("x-amz-date").ok_or_else(|| {
        incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    })?;
    let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
        incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
        ))
    })?;
    let skew = signed_at.as_second() - now.as_second();
    let basic = |t: jiff::Timestamp| t.strftime("%Y%m%dT%H%M%SZ").to_string();
    if skew < -SKEW_SECONDS {
        let earliest = now - jiff::SignedDuration::from_secs(SKEW_SECONDS);
        return Err(forbidden(
            "InvalidSignatureException",
            format!(
                "Signature expired: {amz_date} is now earlier than {} ({} - 5 min.)",
                basic(earliest),
                basic(now)
            ),
        ));
    }
    if skew > SKEW_SECONDS {
        let latest = now + jiff::SignedDuration::from_secs(SKEW_SECONDS);
        return Err(forbidden(
            "InvalidSignatureException",
            format!(
                "Signature not yet current: {amz_date} is still later than {} ({} + 5 min.)",
                basic(latest),
                basic(now)
            ),
        ));
    }
    if scope_region != region {
        return Err(forbidden(
            "InvalidSignatureException",
            format!("Credential should be scoped to a valid region, not '{scope_region}'. "),
        ));
    }
    if date.len() != 8 || !amz_date.starts_with(date) {
        return Err(forbidden(
            "InvalidSignatureException",
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{date}' != '{}', from '{amz_date}'.",
                &amz_date[..8.min(amz_date.len())]
            ),
        ));
    }
    match key.check_session(header("x-amz-security-token"), now) {
        Ok(()) => {}
        Err(Session::Expired) => {
            return Err(forbidden(
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ));
        }
        Err(Session::Invalid) => return Err(unrecognized()),
    }

    let signed: Vec<&str> = parts.signed_headers.split(';').collect();
    // The body is what was signed: a hash header that does not match it is refused, not trusted.
    let body_hash = hex::encode(Sha256::digest(req.body));
    let payload = match header("x-amz-content-sha256") {
        Some("UNSIGNED-PAYLOAD") => "UNSIGNED-PAYLOAD".to_owned(),
        Some(hash) if hash != body_hash => {
            return Err(ApiError::with_status(
                StatusCode::BAD_REQUEST,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ));
        }
        _ => body_hash,
    };
    let canonical = canonical_request(req, &signed, &payload);
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{date}/{scope_region}/{service}/aws4_request\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let signing_key =
        aws_sigv4::sign::v4::generate_signing_key(&key.secret_access_key, signed_at.into(), scope_region, service);
    let expected = aws_sigv4::sign::v4::calculate_signature(signing_key, string_to_sign.as_bytes());
    if !constant_time_eq(expected.as_bytes(), parts.signature.as_bytes()) {
        tracing::debug!(%canonical, "signature mismatch");
        return Err(forbidden(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    Ok(key)
}

/// An unknown key, or a session token that is not the key's.
fn unrecognized() -> ApiError {
    forbidden(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
}

struct Authorization<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

impl<'a> Authorization<'a> {
    fn parse(header: &'a str) -> Result<Self, ApiError> {
        let Some(rest) = header.strip_prefix(ALGORITHM).and_then(|r| r.strip_prefix(' ')) else {
            return Err(incomplete(format!(
                "Authorization header requires '{ALGORITHM}' as its algorithm (SigV4)."
            )));
        };
        let field = |name: &str| {
            rest.split(',')
                .map(str::trim)
                .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
        };
        let missing = |name: &str| {
            incomplete(format!(
                "Authorization header requires '{name}' parameter. Authorization={header}"
            ))
        };
        Ok(Self {
            credential: field("Credential").ok_or_else(|| missing("Credential"))?,
            signed_headers: field("SignedHeaders").ok_or_else(|| missing("SignedHeaders"))?,
            signature: field("Signature").ok_or_else(|| missing("Signature"))?,
        })
    }
}

fn parse_amz_date(text: &str) -> Option<jiff::Timestamp> {
    let civil = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", text).ok()?;
    civil.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// The canonical request of SigV4 for a service other than S3.
fn canonical_request(req: &Arrived, signed: &[&str], payload: &str) -> String {
    let mut headers = String::new();
    for name in signed {
        let values: Vec<String> = (req.headers.get_all(*name).iter())
            .map(|v| collapse(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    format!(
        "{}\n{}\n{}\n{headers}\n{}\n{payload}",
        req.method,
        uri_encode(req.path, false),
        canonical_query(req.query),
        signed.join(";")
    )
}

/// Trimmed, with every run of spaces one space.
fn collapse(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Each name and value decoded and encoded again strictly, sorted by name, then value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = (query.split('&'))
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (uri_encode(decode(k), true), uri_encode(decode(v), true))
        })
        .collect();
    pairs.sort();
    let pairs: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join("&")
}

/// Percent-decoded bytes (not text: `%FF` must be encoded again as `%FF`).
fn decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// SigV4's URI encoding: unreserved characters kept, `/` kept unless `slash` is set.
fn uri_encode(text: impl AsRef<[u8]>, slash: bool) -> String {
    let text = text.as_ref();
    let mut out = String::with_capacity(text.len());
    for &b in text {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b'/' if !slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_parts_follow_sigv4() {
        assert_eq!(
            uri_encode("/prod/tags/arn%3Aaws%3Amedialive", false),
            "/prod/tags/arn%253Aaws%253Amedialive"
        );
        assert_eq!(canonical_query("maxResults=1&a=b%20c&a=a"), "a=a&a=b%20c&maxResults=1");
        assert_eq!(canonical_query("flag&x=%ff"), "flag=&x=%FF");
        assert_eq!(collapse("  a   b  "), "a b");
        assert_eq!(
            parse_amz_date("20261202T063000Z").unwrap().to_string(),
            "2026-12-02T06:30:00Z"
        );
        assert!(parse_amz_date("2026-12-02").is_none());
    }
}
