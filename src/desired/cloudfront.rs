//! The stream's CloudFront distribution as the spec wants it, in the operator's own terms (the SDK
//! types are built from it in `aws::cloudfront`): an origin for the MediaPackage endpoint(s), one
//! for the private player bucket read through an Origin Access Control, and cache behaviours as AWS
//! recommends for MediaPackage — TTLs from MediaPackage's own Cache-Control (manifests half a
//! segment, LL-HLS playlists 1 s, segments 14 days), and the query strings MediaPackage and
//! low-latency HLS read forwarded and in the cache key.

use kube::ResourceExt;

use super::website;
use crate::api::{LiveStream, PriceClass};

/// Origin ids within the distribution.
pub const PACKAGING_ORIGIN: &str = "mediapackage";
pub const PLAYER_ORIGIN: &str = "player-bucket";

/// Query strings a MediaPackage origin reads (manifest filters, time-shifted windows, LL-HLS
/// blocking reload and delta updates): forwarded and part of the cache key; every other query
/// string is dropped, so a viewer's cache-busting parameter cannot bypass the cache.
pub const PACKAGING_QUERY_STRINGS: [&str; 7] = [
    "_HLS_msn",
    "_HLS_part",
    "_HLS_skip",
    "aws.manifestfilter",
    "end",
    "m",
    "start",
];

/// The part of a distribution's config the operator owns; what else AWS defaults is not drift.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    pub comment: String,
    pub enabled: bool,
    pub price_class: String,
    /// Sorted by id.
    pub origins: Vec<Origin>,
    pub default_behavior: Behavior,
    /// In the order CloudFront matches them.
    pub behaviors: Vec<Behavior>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub id: String,
    /// A host name, without port (CloudFront refuses one).
    pub domain: String,
    pub access: OriginAccess,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OriginAccess {
    /// An HTTP origin (MediaPackage): the port and whether CloudFront reaches it over HTTPS.
    Custom { port: u16, https: bool },
    /// An S3 bucket; `signed`: read through an origin access control (the bucket stays private).
    S3 { signed: bool },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Behavior {
    /// None for the default behaviour.
    pub path_pattern: Option<String>,
    pub origin: String,
    /// Query strings forwarded and in the cache key (sorted); empty: none forwarded.
    pub query_strings: Vec<String>,
    pub min_ttl: i64,
    pub default_ttl: i64,
    pub max_ttl: i64,
}

/// What the operator sends for one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistributionRequest {
    /// Derived from the uid: a create retried after a crash cannot make a second distribution.
    pub caller_reference: String,
    pub shape: Shape,
}

/// The player bucket, when the stream publishes a page.
pub struct PlayerBucket<'a> {
    pub bucket: &'a str,
    pub region: &'a str,
}

/// The shared origin access control a stream's distribution signs its bucket requests with. One
/// per account would do, but CloudFront lets an origin access control serve at most 100
/// distributions: the streams are spread over 16 by their uid (1,000 streams, about 63 each).
pub fn oac_name(uid: &str) -> String {
    use sha2::{Digest, Sha256};
    let shard = Sha256::digest(uid.as_bytes())[0] >> 4;
    format!("livestream-player-pages-{shard:x}")
}

/// `livestream-<uid>`.
pub fn caller_reference(uid: &str) -> String {
    format!("livestream-{uid}")
}

/// `LiveStream <namespace>/<name> (<uid>)`, within CloudFront's 128 characters: how a stream finds
/// its distribution in a listing (ListDistributions has no tags), and what a user sees in the console.
pub fn comment(stream: &LiveStream) -> String {
    let uid = stream.uid().unwrap_or_default();
    let owner = format!("{}/{}", stream.namespace().unwrap_or_default(), stream.name_any());
    let room = 128 - "LiveStream  ()".len() - uid.len();
    let owner: String = owner.chars().take(room).collect();
    format!("LiveStream {owner} ({uid})")
}

/// Whether a distribution's comment names this stream's uid.
pub fn owned_by(comment: &str, uid: &str) -> bool {
    !uid.is_empty() && comment.ends_with(&format!("({uid})"))
}

/// A URL's scheme, host, port and the rest (path and query).
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedUrl<'a> {
    pub https: bool,
    pub host: &'a str,
    pub port: u16,
    pub rest: &'a str,
}

pub fn parse_url(url: &str) -> Option<ParsedUrl<'_>> {
    let (scheme, after) = url.split_once("://")?;
    let https = match scheme {
        "https" => true,
        "http" => false,
        _ => return None,
    };
    let (authority, rest) = after.find('/').map_or((after, "/"), |i| after.split_at(i));
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (authority, if https { 443 } else { 80 }),
    };
    (!host.is_empty()).then_some(ParsedUrl {
        https,
        host,
        port,
        rest,
    })
}

/// The distribution for `stream`, whose packaging origin serves `origin_url` (the HLS URL of its
/// MediaPackage endpoint; every endpoint of a stream shares its host). None until that URL exists.
pub fn distribution(
    stream: &LiveStream,
    origin_url: Option<&str>,
    player: Option<PlayerBucket>,
    price_class: PriceClass,
) -> Option<DistributionRequest> {
    let origin = parse_url(origin_url?)?;
    let mut origins = vec![Origin {
        id: PACKAGING_ORIGIN.into(),
        domain: origin.host.into(),
        access: OriginAccess::Custom {
            port: origin.port,
            https: origin.https,
        },
    }];
    let mut behaviors = Vec::new();
    if let Some(player) = player {
        origins.push(Origin {
            id: PLAYER_ORIGIN.into(),
            domain: format!("{}.s3.{}.amazonaws.com", player.bucket, player.region),
            access: OriginAccess::S3 { signed: true },
        });
        // The page and its config; the operator sets their Cache-Control (config.json no-cache).
        behaviors.push(Behavior {
            path_pattern: Some(format!("/{}*", website::PAGES)),
            origin: PLAYER_ORIGIN.into(),
            query_strings: Vec::new(),
            min_ttl: 0,
            default_ttl: 60,
            max_ttl: 3600,
        });
    }
    origins.sort_by(|a, b| a.id.cmp(&b.id));
    Some(DistributionRequest {
        caller_reference: caller_reference(&stream.uid().unwrap_or_default()),
        shape: Shape {
            comment: comment(stream),
            enabled: true,
            price_class: price_class.as_str().into(),
            origins,
            // Everything else is MediaPackage's: its Cache-Control decides (MinTTL 0), the
            // defaults only apply to an answer without one.
            default_behavior: Behavior {
                path_pattern: None,
                origin: PACKAGING_ORIGIN.into(),
                query_strings: PACKAGING_QUERY_STRINGS.map(str::to_owned).to_vec(),
                min_ttl: 0,
                default_ttl: 86400,
                max_ttl: 31_536_000,
            },
            behaviors,
        },
    })
}

/// The viewer URL of an origin URL through the distribution at `domain` (same path and query; the
/// scheme of the origin, which is HTTPS on AWS).
pub fn viewer_url(origin_url: &str, domain: &str) -> Option<String> {
    let origin = parse_url(origin_url)?;
    let scheme = if origin.https { "https" } else { "http" };
    Some(format!("{scheme}://{domain}{}", origin.rest))
}

/// The player page through the distribution.
pub fn website_url(origin_url: &str, domain: &str, prefix: &str) -> Option<String> {
    let https = parse_url(origin_url)?.https;
    let scheme = if https { "https" } else { "http" };
    Some(format!("{scheme}://{domain}/{prefix}index.html"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stream() -> LiveStream {
        let mut s = LiveStream::new("launch", serde_json::from_value(json!({})).unwrap());
        s.metadata.namespace = Some("events".into());
        s.metadata.uid = Some("6c1a3f0e-0000-4000-8000-00000000abcd".into());
        s
    }

    const V1: &str = "https://abc123.mediapackage.us-east-1.amazonaws.com/out/v1/9f2e/index.m3u8";

    #[test]
    fn the_distribution_fronts_mediapackage_and_the_private_player_bucket() {
        let bucket = PlayerBucket {
            bucket: "pages",
            region: "eu-west-1",
        };
        let d = distribution(&stream(), Some(V1), Some(bucket), PriceClass::PriceClass_100).unwrap();
        assert_eq!(d.caller_reference, "livestream-6c1a3f0e-0000-4000-8000-00000000abcd");
        let shape = &d.shape;
        assert_eq!(
            shape.comment,
            "LiveStream events/launch (6c1a3f0e-0000-4000-8000-00000000abcd)"
        );
        assert!(owned_by(&shape.comment, "6c1a3f0e-0000-4000-8000-00000000abcd"));
        assert!(!owned_by(&shape.comment, "6c1a3f0e"));
        assert_eq!(
            shape.origins,
            [
                Origin {
                    id: "mediapackage".into(),
                    domain: "abc123.mediapackage.us-east-1.amazonaws.com".into(),
                    access: OriginAccess::Custom { port: 443, https: true },
                },
                Origin {
                    id: "player-bucket".into(),
                    domain: "pages.s3.eu-west-1.amazonaws.com".into(),
                    access: OriginAccess::S3 { signed: true },
                },
            ]
        );
        assert_eq!(shape.behaviors[0].path_pattern.as_deref(), Some("/livestreams/*"));
        let default = &shape.default_behavior;
        assert_eq!((default.min_ttl, default.max_ttl), (0, 31_536_000));
        for key in ["_HLS_msn", "_HLS_part", "aws.manifestfilter"] {
            assert!(default.query_strings.iter().any(|q| q == key), "{key}");
        }
        assert!(default.query_strings.is_sorted());
        assert_eq!(shape.price_class, "PriceClass_100");
    }

    #[test]
    fn without_a_page_there_is_no_bucket_origin_and_without_an_endpoint_no_distribution() {
        let d = distribution(&stream(), Some(V1), None, PriceClass::PriceClass_All).unwrap();
        assert_eq!(d.shape.origins.len(), 1);
        assert!(d.shape.behaviors.is_empty());
        assert!(distribution(&stream(), None, None, PriceClass::PriceClass_All).is_none());
    }

    #[test]
    fn a_local_origin_keeps_its_port_and_plain_http() {
        let local = "http://127.0.0.1:4580/out/v1/livestream/launch/hls/index.m3u8";
        let d = distribution(&stream(), Some(local), None, PriceClass::PriceClass_100).unwrap();
        assert_eq!(d.shape.origins[0].domain, "127.0.0.1");
        assert_eq!(
            d.shape.origins[0].access,
            OriginAccess::Custom {
                port: 4580,
                https: false
            }
        );
        assert_eq!(
            viewer_url(local, "127.0.0.1:39001").as_deref(),
            Some("http://127.0.0.1:39001/out/v1/livestream/launch/hls/index.m3u8")
        );
        assert_eq!(
            viewer_url(V1, "d111111abcdef8.cloudfront.net").as_deref(),
            Some("https://d111111abcdef8.cloudfront.net/out/v1/9f2e/index.m3u8")
        );
        assert_eq!(
            website_url(V1, "d1.cloudfront.net", &website::prefix(&stream())).as_deref(),
            Some("https://d1.cloudfront.net/livestreams/events/launch/index.html")
        );
    }

    #[test]
    fn a_long_name_still_fits_the_comment() {
        let mut s = stream();
        s.metadata.name = Some("n".repeat(253));
        let c = comment(&s);
        assert!(c.len() <= 128, "{}", c.len());
        assert!(owned_by(&c, "6c1a3f0e-0000-4000-8000-00000000abcd"));
    }
}
