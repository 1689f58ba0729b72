//! How a cache behaviour caches and what it forwards: the AWS managed cache policies (developer
//! guide, "Use managed cache policies"), the managed origin request and response headers policies,
//! and the legacy `ForwardedValues` + `MinTTL`/`DefaultTTL`/`MaxTTL` settings. Custom policies
//! (CreateCachePolicy …) are not served, so any other id is AWS's `NoSuch…Policy`.

use serde_json::Value;

/// Which query-string parameters a cache key holds or the origin gets.
#[derive(Clone, Debug, PartialEq)]
pub enum Query {
    None,
    All,
    Only(Vec<String>),
}

impl Query {
    /// `query` (raw `a=1&b=2`) reduced to the parameters selected, in the viewer's order.
    pub fn select(&self, query: &str) -> String {
        let pairs = query.split('&').filter(|p| !p.is_empty());
        match self {
            Query::None => String::new(),
            Query::All => pairs.collect::<Vec<_>>().join("&"),
            Query::Only(names) => pairs
                .filter(|p| {
                    let name = crate::protocol::percent_decode(p.split('=').next().unwrap_or_default());
                    names.contains(&name)
                })
                .collect::<Vec<_>>()
                .join("&"),
        }
    }
}

/// A behaviour's caching: TTL bounds, the cache key's and the origin request's query strings,
/// and whether answers get `Access-Control-Allow-Origin: *` (a managed CORS response headers policy).
#[derive(Clone, Debug, PartialEq)]
pub struct Caching {
    pub min_ttl: u64,
    pub default_ttl: u64,
    pub max_ttl: u64,
    pub key: Query,
    pub forward: Query,
    pub cors: bool,
}

const YEAR: u64 = 31_536_000;

/// A managed cache policy by id: (MinTTL, DefaultTTL, MaxTTL, query strings in the cache key).
pub fn managed_cache_policy(id: &str) -> Option<(u64, u64, u64, Query)> {
    let only = |names: &[&str]| Query::Only(names.iter().map(|n| n.to_string()).collect());
    Some(match id {
        // Managed-Amplify
        "2e54312d-136d-493c-8eb9-b001f22f67d2" => (2, 2, YEAR, Query::All),
        // Managed-CachingDisabled
        "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" => (0, 0, 0, Query::None),
        // Managed-CachingOptimized
        "658327ea-f89d-4fab-a63d-7e88639e58f6" => (1, 86_400, YEAR, Query::None),
        // Managed-CachingOptimizedForUncompressedObjects
        "b2884449-e4de-46a7-ac36-70bc7f1ddd6d" => (1, 86_400, YEAR, Query::None),
        // Managed-Elemental-MediaPackage: MediaPackage's own query strings.
        "08627262-05a9-4f76-9ded-b50ca2e3a84f" => (0, 86_400, YEAR, only(&["aws.manifestfilter", "start", "end", "m"])),
        // Managed-UseOriginCacheControlHeaders
        "83da9c7e-98b4-4e11-a168-04f0df8e2c65" => (0, 0, YEAR, Query::None),
        // Managed-UseOriginCacheControlHeaders-QueryStrings
        "4cc15a8a-d715-48a4-82b8-cc0b614638fe" => (0, 0, YEAR, Query::All),
        _ => return None,
    })
}

/// A managed origin request policy by id: whether it forwards every query string.
pub fn managed_origin_request_policy(id: &str) -> Option<bool> {
    Some(match id {
        // Managed-AllViewer, AllViewerExceptHostHeader, AllViewerAndCloudFrontHeaders-2022-06,
        // Elemental-MediaTailor-PersonalizedManifests: all query strings.
        "216adef6-5c7f-47e4-b989-5492eafa07d3"
        | "b689b0a8-53d0-40ab-baf2-68738e2966ac"
        | "33f36d7e-f396-46d9-90e0-52428a34d9dc"
        | "775133bc-15f2-49f9-abea-afb2e0bf67d2" => true,
        // Managed-CORS-CustomOrigin, CORS-S3Origin, UserAgentRefererHeaders: none.
        "59781a5b-3903-41f3-afcb-af62929ccde1"
        | "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
        | "acba4595-bd28-49b8-b9fe-13317c0390fa" => false,
        _ => return None,
    })
}

/// A managed response headers policy by id: whether it adds `Access-Control-Allow-Origin: *`.
pub fn managed_response_headers_policy(id: &str) -> Option<bool> {
    Some(match id {
        // Managed-SimpleCORS, CORS-With-Preflight, CORS-and-SecurityHeadersPolicy,
        // CORS-with-preflight-and-SecurityHeadersPolicy
        "60669652-455b-4ae9-85a4-c4c02393f86c"
        | "5cc3b908-e619-4b99-88e5-2cf7f45965bd"
        | "e61eb60c-9c35-4d20-a928-2b84e02af89c"
        | "eaab4381-ed33-4a86-88ca-d9558dc6cd63" => true,
        // Managed-SecurityHeadersPolicy
        "67f7725c-6f97-4210-82d7-5512b31e9d03" => false,
        _ => return None,
    })
}

fn non_empty(behavior: &Value, member: &str) -> Option<String> {
    behavior[member].as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// How `behavior` (a DefaultCacheBehavior or CacheBehavior, already validated) caches.
pub fn caching(behavior: &Value) -> Caching {
    let cors = non_empty(behavior, "ResponseHeadersPolicyId")
        .and_then(|id| managed_response_headers_policy(&id))
        .unwrap_or(false);
    if let Some((min, default, max, key)) =
        non_empty(behavior, "CachePolicyId").and_then(|id| managed_cache_policy(&id))
    {
        let forward_all = non_empty(behavior, "OriginRequestPolicyId")
            .and_then(|id| managed_origin_request_policy(&id))
            .unwrap_or(false);
        // Without an origin request policy, what is in the cache key is what the origin gets.
        let forward = if forward_all { Query::All } else { key.clone() };
        return Caching {
            min_ttl: min,
            default_ttl: default,
            max_ttl: max,
            key,
            forward,
            cors,
        };
    }
    let legacy = &behavior["ForwardedValues"];
    let (key, forward) = if legacy["QueryString"].as_bool() == Some(true) {
        let names: Vec<String> = (legacy["QueryStringCacheKeys"]["Items"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        // "Forward all, cache based on whitelist": every parameter goes to the origin.
        let key = if names.is_empty() {
            Query::All
        } else {
            Query::Only(names)
        };
        (key, Query::All)
    } else {
        (Query::None, Query::None)
    };
    let ttl = |member: &str, default: u64| behavior[member].as_u64().unwrap_or(default);
    Caching {
        min_ttl: ttl("MinTTL", 0),
        default_ttl: ttl("DefaultTTL", 86_400),
        max_ttl: ttl("MaxTTL", YEAR),
        key,
        forward,
        cors,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn legacy_forwarded_values_forward_all_and_key_on_the_allow_list() {
        let behavior = json!({"ForwardedValues": {"QueryString": true, "Cookies": {"Forward": "none"},
            "QueryStringCacheKeys": {"Quantity": 2, "Items": ["_HLS_msn", "_HLS_part"]}}, "MinTTL": 0, "DefaultTTL": 5, "MaxTTL": 60});
        let c = caching(&behavior);
        assert_eq!((c.min_ttl, c.default_ttl, c.max_ttl), (0, 5, 60));
        assert_eq!(c.key.select("_HLS_msn=3&token=x&_HLS_part=1"), "_HLS_msn=3&_HLS_part=1");
        assert_eq!(c.forward.select("_HLS_msn=3&token=x"), "_HLS_msn=3&token=x");
        let none = caching(&json!({"ForwardedValues": {"QueryString": false, "Cookies": {"Forward": "none"}}}));
        assert_eq!(
            (none.key.select("a=1"), none.forward.select("a=1")),
            (String::new(), String::new())
        );
        assert_eq!((none.default_ttl, none.max_ttl), (86_400, YEAR));
    }

    #[test]
    fn managed_policies() {
        let mp = caching(&json!({"CachePolicyId": "08627262-05a9-4f76-9ded-b50ca2e3a84f"}));
        assert_eq!(
            mp.key.select("aws.manifestfilter=x&_HLS_msn=1&m=2"),
            "aws.manifestfilter=x&m=2"
        );
        assert_eq!(mp.forward, mp.key);
        let optimized = caching(&json!({"CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            "OriginRequestPolicyId": "216adef6-5c7f-47e4-b989-5492eafa07d3",
            "ResponseHeadersPolicyId": "60669652-455b-4ae9-85a4-c4c02393f86c"}));
        assert_eq!(
            (optimized.min_ttl, optimized.key.clone(), optimized.forward.clone()),
            (1, Query::None, Query::All)
        );
        assert!(optimized.cors);
        assert!(managed_cache_policy("00000000-0000-0000-0000-000000000000").is_none());
    }
}
