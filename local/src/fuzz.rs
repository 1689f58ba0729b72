//! The adversarial suite's property tests: what an attacker controls — RTMP bytes, XML and JSON
//! bodies, SigV4 headers, S3 keys — fed to the readers with random and hostile input. Each target
//! runs a fixed number of cases ([`CASES`]), so `cargo test` stays bounded; none may panic,
//! overflow its stack or loop.

use bytes::BytesMut;
use proptest::prelude::*;

/// Cases per target: a few seconds in all on the 2-core machines.
const CASES: u32 = 256;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bytes biased towards what the readers care about: markup, separators, digits.
fn hostile_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(b"<>/=\"'&;:!?[]-_. ,0123456789abcXYZ\0\n".to_vec()),
    ];
    prop::collection::vec(byte, 0..max)
}

/// `depth` elements nested in each other: `<a><a>…</a></a>`.
fn nested(depth: usize) -> String {
    format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth))
}

proptest! {
    #![proptest_config(config())]

    /// The RTMP chunk reader never panics and always makes progress or asks for more bytes.
    #[test]
    fn rtmp_chunks(chunks in prop::collection::vec(hostile_bytes(600), 1..8)) {
        let mut reader = scuffle_rtmp::chunk::reader::ChunkReader::default();
        let mut buffer = BytesMut::new();
        for chunk in chunks {
            buffer.extend_from_slice(&chunk);
            for _ in 0..64 {
                match reader.read_chunk(&mut buffer) {
                    Ok(Some(_)) => continue,
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }

    /// CloudFront's XML reader: any bytes give a document or an error, never a panic.
    #[test]
    fn xml_bytes(bytes in hostile_bytes(2000)) {
        let _ = crate::cloudfront::xml::parse(&bytes);
    }

    /// Nesting past the limit is an error, at any depth an attacker picks; within it, a document.
    #[test]
    fn xml_depth(depth in 1usize..5000) {
        let parsed = crate::cloudfront::xml::parse(nested(depth).as_bytes());
        prop_assert_eq!(parsed.is_ok(), depth <= crate::cloudfront::xml::MAX_DEPTH);
    }

    /// JSON bodies: deep nesting is refused as a bad request (serde_json's recursion limit),
    /// not a stack overflow.
    #[test]
    fn json_depth(depth in 1usize..20_000, array in any::<bool>()) {
        let (open, close) = if array { ("[", "]") } else { ("{\"a\":", "}") };
        let body = format!("{}1{}", open.repeat(depth), close.repeat(depth));
        let parsed = crate::protocol::parse_body::<serde_json::Value>(body.as_bytes());
        if depth <= 100 {
            prop_assert!(parsed.is_ok());
        } else if depth > 200 {
            prop_assert_eq!(parsed.unwrap_err().status, axum::http::StatusCode::BAD_REQUEST);
        }
    }

    /// SigV4: any Authorization and date headers are refused with the service's error.
    #[test]
    fn sigv4_headers(
        authorization in "(AWS4-HMAC-SHA256 )?(Credential=[a-z0-9/]{0,40})?(, ?SignedHeaders=[a-z;-]{0,20})?(, ?Signature=[0-9a-f]{0,64})?",
        date in "[0-9TZ]{0,20}",
        body in hostile_bytes(64),
    ) {
        let keys = crate::auth::Keys::load(None, "123456789012").unwrap();
        let mut headers = axum::http::HeaderMap::new();
        if let Ok(value) = authorization.parse() {
            headers.insert("authorization", value);
        }
        if let Ok(value) = date.parse() {
            headers.insert("x-amz-date", value);
        }
        let arrived = crate::auth::sigv4::Arrived {
            method: "POST",
            path: "/prod/channels",
            query: "",
            headers: &headers,
            body: &body,
        };
        let refused = crate::auth::sigv4::verify(&keys, "us-east-1", &arrived, jiff::Timestamp::now());
        let status = refused.expect_err("nothing random is signed by a key").status;
        prop_assert!(status.is_client_error(), "{status}");
    }

    /// S3 keys: whatever a key spells, it is stored under a digest of its own; different keys
    /// never share one.
    #[test]
    fn s3_keys(a in "(\\.\\.|/|%2e|\0|[a-z]){1,40}", b in "(\\.\\.|/|%2e|\0|[a-z]){1,40}") {
        let (name_a, name_b) = (crate::s3::keys::stored_name(&a).unwrap(), crate::s3::keys::stored_name(&b).unwrap());
        prop_assert!(name_a.len() == 64 && name_a.bytes().all(|c| c.is_ascii_hexdigit()));
        prop_assert_eq!(name_a == name_b, a == b);
    }

    /// S3 listing pages, read one after another, give every key or common prefix once, in
    /// order: the same as one unpaged listing.
    #[test]
    fn s3_listing(
        keys in prop::collection::btree_set("[ab/]{1,6}", 0..40),
        delimiter in prop::option::of(Just("/")),
        max in 1usize..5,
    ) {
        let keys: Vec<String> = keys.into_iter().collect();
        let whole = crate::s3::keys::page(&keys, "", delimiter, None, usize::MAX);
        let mut paged = crate::s3::keys::Page::default();
        let mut after: Option<String> = None;
        for _ in 0..=keys.len() {
            let page = crate::s3::keys::page(&keys, "", delimiter, after.as_deref(), max);
            prop_assert!(page.keys.len() + page.common_prefixes.len() <= max);
            paged.keys.extend(page.keys);
            paged.common_prefixes.extend(page.common_prefixes);
            match page.next_marker {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        prop_assert_eq!(paged, whole);
    }
}
