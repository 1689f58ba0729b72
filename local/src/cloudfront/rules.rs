//! What CloudFront refuses in a DistributionConfig beyond the model's shape (the model has already
//! checked required members, types and enums), and the defaults it fills in. Codes are the
//! modeled errors of CreateDistribution / UpdateDistribution; messages are AWS's where public
//! answers quote them (`The parameter origin name cannot be an IP address.`, `The parameter
//! ForwardedValues is required.`, `The specified origin access control does not exist or is not
//! valid.`), ours otherwise.
//!
//! One deliberate deviation: the origin domain `127.0.0.1` (livestream-local's own endpoint, where
//! its MediaPackage origins are) is accepted; every other IP literal is refused as AWS refuses all.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::{errors::error, errors::invalid_argument, policies};
use crate::protocol::ApiError;

/// Where an origin is: an S3 bucket (REST endpoint domain) or a custom HTTP origin.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    S3 { bucket: String },
    Custom { host: String, port: u16, https_only: bool },
}

/// The bucket of an S3 REST endpoint domain: `<bucket>.s3.amazonaws.com`,
/// `<bucket>.s3.<region>.amazonaws.com` or `<bucket>.s3-<region>.amazonaws.com`.
pub fn s3_bucket(domain: &str) -> Option<String> {
    let rest = domain.strip_suffix(".amazonaws.com")?;
    let (bucket, endpoint) = rest.rsplit_once(".s3")?;
    let valid = endpoint.is_empty()
        || (endpoint.starts_with('.') || endpoint.starts_with('-'))
            && endpoint[1..]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    (valid && !bucket.is_empty() && !endpoint.contains("website")).then(|| bucket.to_owned())
}

/// Where `origin` (a validated Origin) sends the edge's requests.
pub fn origin(origin: &Value) -> Origin {
    let domain = origin["DomainName"].as_str().unwrap_or_default();
    let custom = &origin["CustomOriginConfig"];
    if custom.is_null()
        && let Some(bucket) = s3_bucket(domain)
    {
        return Origin::S3 { bucket };
    }
    Origin::Custom {
        host: domain.to_owned(),
        port: custom["HTTPPort"].as_u64().unwrap_or(80) as u16,
        https_only: custom["OriginProtocolPolicy"] == "https-only",
    }
}

/// Every `{Quantity, Items}` pair in `value` agrees.
fn check_quantities(value: &Value) -> Result<(), ApiError> {
    // The model's own words for InconsistentQuantities: "The value of Quantity and the size of
    // Items don't match."
    match value {
        Value::Object(map) => {
            if let Some(quantity) = map.get("Quantity").and_then(Value::as_u64) {
                let items = map.get("Items").and_then(Value::as_array).map_or(0, Vec::len);
                if quantity != items as u64 {
                    return Err(error(
                        400,
                        "InconsistentQuantities",
                        "The value of Quantity and the size of Items don't match.",
                    ));
                }
            }
            map.values().try_for_each(check_quantities)
        }
        Value::Array(items) => items.iter().try_for_each(check_quantities),
        _ => Ok(()),
    }
}

fn items(value: &Value) -> impl Iterator<Item = &Value> {
    value["Items"].as_array().into_iter().flatten()
}

fn text<'a>(value: &'a Value, member: &str) -> &'a str {
    value[member].as_str().unwrap_or_default()
}

/// Refuses what CloudFront refuses in `config`; `oac_type` finds an origin access control's
/// origin type by id.
pub fn check(config: &Value, oac_type: &dyn Fn(&str) -> Option<String>) -> Result<(), ApiError> {
    check_quantities(config)?;
    // The model (DistributionConfig.Comment): "The comment cannot be longer than 128 characters."
    if text(config, "Comment").chars().count() > 128 {
        return Err(invalid_argument("The parameter Comment is too long."));
    }
    let mut ids = Vec::new();
    for o in items(&config["Origins"]) {
        let id = text(o, "Id");
        // The model (Origin.Id): "This value must be unique within the distribution."
        if ids.contains(&id) {
            return Err(invalid_argument(format!(
                "The parameter Origin Id must be unique: {id}"
            )));
        }
        ids.push(id);
        check_origin(o, oac_type)?;
    }
    // A behaviour may target an origin group (its members are origins of the distribution): the
    // API reference's words for NoSuchOrigin's message name "origins or origin groups"; public
    // configurations that ran on AWS target one (Terraform's acceptance test
    // `TestAccCloudFrontDistribution_originGroups`, target_origin_id = "groupS3").
    let mut groups = Vec::new();
    for g in items(&config["OriginGroups"]) {
        if items(&g["Members"]).any(|m| !ids.contains(&text(m, "OriginId"))) {
            return Err(error(
                404,
                "NoSuchOrigin",
                "One or more of your origins or origin groups do not exist.",
            ));
        }
        groups.push(text(g, "Id"));
    }
    let behaviors = std::iter::once(&config["DefaultCacheBehavior"]).chain(items(&config["CacheBehaviors"]));
    for b in behaviors {
        let target = text(b, "TargetOriginId");
        if !ids.contains(&target) && !groups.contains(&target) {
            return Err(error(
                404,
                "NoSuchOrigin",
                "One or more of your origins or origin groups do not exist.",
            ));
        }
        check_behavior(b)?;
    }
    Ok(())
}

fn check_origin(o: &Value, oac_type: &dyn Fn(&str) -> Option<String>) -> Result<(), ApiError> {
    let domain = text(o, "DomainName");
    if let Ok(ip) = domain.parse::<IpAddr>()
        && ip != IpAddr::from([127, 0, 0, 1])
    {
        return Err(invalid_argument("The parameter origin name cannot be an IP address."));
    }
    let path = text(o, "OriginPath");
    // "beginning with a /. … Do not include a / at the end" (the 2018-11-05 model's Origin.OriginPath;
    // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html#DownloadDistValuesOriginPath).
    if !path.is_empty() && (!path.starts_with('/') || path.ends_with('/')) {
        return Err(invalid_argument(
            "The parameter OriginPath must begin with a slash and must not end with one.",
        ));
    }
    let (s3, custom) = (!o["S3OriginConfig"].is_null(), !o["CustomOriginConfig"].is_null());
    match (s3, custom) {
        // AWS's words in https://github.com/cloudposse/terraform-aws-cloudfront-cdn/issues/74 (an
        // update, answered IllegalUpdate there; CreateDistribution's code is not public).
        (true, true) => {
            return Err(invalid_argument(
                "You must specify either a CustomOrigin or an S3Origin. You cannot specify both.",
            ));
        }
        // Neither: InvalidOrigin, as AWS answered in https://github.com/aws/aws-sdk-go-v2/issues/1831.
        (false, false) => {
            return Err(error(
                400,
                "InvalidOrigin",
                "The specified origin server does not exist or is not valid.",
            ));
        }
        // An S3 origin whose domain is not a bucket's REST endpoint (a website endpoint, a URL):
        // InvalidArgument, not InvalidOrigin — AWS's answer in
        // https://github.com/hashicorp/terraform-provider-aws/issues/33214 and
        // https://github.com/pulumi/examples/pull/1296.
        (true, false) if s3_bucket(domain).is_none() => {
            return Err(invalid_argument(
                "The parameter Origin DomainName does not refer to a valid S3 bucket.",
            ));
        }
        _ => {}
    }
    // A custom origin's domain is a host name: InvalidArgument, AWS's words in
    // https://github.com/aws/aws-cdk/issues/25110 (a colon) and
    // https://github.com/laurilehmijoki/s3_website/issues/83 (not a domain name).
    if domain.contains(':') {
        return Err(invalid_argument("The parameter origin name cannot contain a colon."));
    }
    if domain.is_empty() || domain.contains('/') {
        return Err(invalid_argument("The parameter origin name must be a domain name."));
    }
    // The three refusals below are the modeled errors' own words (InvalidOriginAccessControl,
    // IllegalOriginAccessConfiguration, InvalidDomainNameForOriginAccessControl).
    let oac = text(o, "OriginAccessControlId");
    if !oac.is_empty() {
        let Some(kind) = oac_type(oac) else {
            return Err(error(
                400,
                "InvalidOriginAccessControl",
                "The specified origin access control does not exist or is not valid.",
            ));
        };
        if !text(&o["S3OriginConfig"], "OriginAccessIdentity").is_empty() {
            return Err(error(
                400,
                "IllegalOriginAccessConfiguration",
                "An origin cannot contain both an origin access control and an origin access identity.",
            ));
        }
        if kind == "s3" && s3_bucket(domain).is_none() {
            return Err(error(
                400,
                "InvalidDomainNameForOriginAccessControl",
                "An origin access control is associated with an origin whose domain name is not supported.",
            ));
        }
    }
    Ok(())
}

fn check_behavior(b: &Value) -> Result<(), ApiError> {
    let legacy = !b["ForwardedValues"].is_null();
    // "A DefaultCacheBehavior must include either a CachePolicyId or ForwardedValues" (the model);
    // both at once: AWS's words in https://github.com/terraform-aws-modules/terraform-aws-cloudfront/issues/40.
    // (The legacy TTLs beside a cache policy: no public refusal found, so accepted, audited 2026-12.)
    match b["CachePolicyId"].as_str().filter(|s| !s.is_empty()) {
        Some(id) => {
            if legacy {
                return Err(invalid_argument(
                    "The parameter ForwardedValues cannot be used when a cache policy is associated to the cache behavior.",
                ));
            }
            if policies::managed_cache_policy(id).is_none() {
                return Err(error(404, "NoSuchCachePolicy", "The cache policy does not exist."));
            }
        }
        None if !legacy => return Err(invalid_argument("The parameter ForwardedValues is required.")),
        None => {
            let ttl = |m: &str, d: i64| b[m].as_i64().unwrap_or(d);
            let (min, default, max) = (ttl("MinTTL", 0), ttl("DefaultTTL", 86_400), ttl("MaxTTL", 31_536_000));
            // The modeled error InvalidTTLOrder: "The TTL order specified is not valid."
            if min < 0 || !(min <= default && default <= max) {
                return Err(error(
                    400,
                    "InvalidTTLOrder",
                    "The TTL values must be in order: MinTTL <= DefaultTTL <= MaxTTL.",
                ));
            }
        }
    }
    if let Some(id) = b["OriginRequestPolicyId"].as_str().filter(|s| !s.is_empty())
        && policies::managed_origin_request_policy(id).is_none()
    {
        return Err(error(
            404,
            "NoSuchOriginRequestPolicy",
            "The origin request policy does not exist.",
        ));
    }
    if let Some(id) = b["ResponseHeadersPolicyId"].as_str().filter(|s| !s.is_empty())
        && policies::managed_response_headers_policy(id).is_none()
    {
        return Err(error(
            404,
            "NoSuchResponseHeadersPolicy",
            "The response headers policy does not exist.",
        ));
    }
    // The model (AllowedMethods, CachedMethods): "There are three choices" / "two choices".
    if !b["AllowedMethods"].is_null() {
        let set = |v: &Value| {
            let mut m: Vec<String> = items(v).filter_map(Value::as_str).map(str::to_owned).collect();
            m.sort();
            m
        };
        let allowed = set(&b["AllowedMethods"]);
        let valid = [
            vec!["GET", "HEAD"],
            vec!["GET", "HEAD", "OPTIONS"],
            vec!["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"],
        ];
        if !valid.iter().any(|v| *v == allowed) {
            return Err(invalid_argument(
                "The parameter AllowedMethods must be GET and HEAD; GET, HEAD and OPTIONS; or all seven methods.",
            ));
        }
        let cached = &b["AllowedMethods"]["CachedMethods"];
        if !cached.is_null() {
            let cached = set(cached);
            if !valid[..2].iter().any(|v| *v == cached) || cached.iter().any(|m| !allowed.contains(m)) {
                return Err(invalid_argument(
                    "The parameter CachedMethods must be GET and HEAD, or GET, HEAD and OPTIONS, among the allowed methods.",
                ));
            }
        }
    }
    Ok(())
}

/// Sets `member` of `object` to `value` unless it is there.
fn default(object: &mut Value, member: &str, value: Value) {
    if let Some(map) = object.as_object_mut() {
        map.entry(member).or_insert(value);
    }
}

/// `config` as CloudFront keeps and describes it: the optional members it fills in.
pub fn with_defaults(mut config: Value) -> Value {
    let none = || json!({"Quantity": 0});
    for (member, value) in [
        ("Aliases", none()),
        ("DefaultRootObject", json!("")),
        ("OriginGroups", none()),
        ("CacheBehaviors", none()),
        ("CustomErrorResponses", none()),
        (
            "Logging",
            json!({"Enabled": false, "IncludeCookies": false, "Bucket": "", "Prefix": ""}),
        ),
        ("PriceClass", json!("PriceClass_All")),
        (
            "ViewerCertificate",
            json!({"CloudFrontDefaultCertificate": true, "SSLSupportMethod": "vip", "MinimumProtocolVersion": "TLSv1", "CertificateSource": "cloudfront"}),
        ),
        (
            "Restrictions",
            json!({"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}}),
        ),
        ("WebACLId", json!("")),
        ("HttpVersion", json!("http1.1")),
        ("IsIPV6Enabled", json!(false)),
        ("Staging", json!(false)),
    ] {
        default(&mut config, member, value);
    }
    if let Some(origins) = config["Origins"]["Items"].as_array_mut() {
        for o in origins {
            default(o, "OriginPath", json!(""));
            default(o, "CustomHeaders", none());
            default(o, "ConnectionAttempts", json!(3));
            default(o, "ConnectionTimeout", json!(10));
            default(o, "OriginShield", json!({"Enabled": false}));
            default(o, "OriginAccessControlId", json!(""));
            if let Some(custom) = o.get_mut("CustomOriginConfig").filter(|c| c.is_object()) {
                default(
                    custom,
                    "OriginSslProtocols",
                    json!({"Quantity": 1, "Items": ["TLSv1.2"]}),
                );
                default(custom, "OriginReadTimeout", json!(30));
                default(custom, "OriginKeepaliveTimeout", json!(5));
            }
        }
    }
    let mut behaviors = vec![config["DefaultCacheBehavior"].take()];
    let listed: Vec<Value> = config["CacheBehaviors"]["Items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    behaviors.extend(listed);
    for b in &mut behaviors {
        default(b, "TrustedSigners", json!({"Enabled": false, "Quantity": 0}));
        default(b, "TrustedKeyGroups", json!({"Enabled": false, "Quantity": 0}));
        default(
            b,
            "AllowedMethods",
            json!({"Quantity": 2, "Items": ["HEAD", "GET"], "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}}),
        );
        default(
            &mut b["AllowedMethods"],
            "CachedMethods",
            json!({"Quantity": 2, "Items": ["HEAD", "GET"]}),
        );
        default(b, "SmoothStreaming", json!(false));
        default(b, "Compress", json!(false));
        default(b, "LambdaFunctionAssociations", none());
        default(b, "FunctionAssociations", none());
        default(b, "FieldLevelEncryptionId", json!(""));
        if !b["ForwardedValues"].is_null() {
            default(b, "MinTTL", json!(0));
            default(b, "DefaultTTL", json!(86_400));
            default(b, "MaxTTL", json!(31_536_000));
            default(&mut b["ForwardedValues"], "Headers", none());
            default(&mut b["ForwardedValues"], "QueryStringCacheKeys", none());
        }
    }
    let mut behaviors = behaviors.into_iter();
    config["DefaultCacheBehavior"] = behaviors.next().unwrap_or_default();
    let rest: Vec<Value> = behaviors.collect();
    if !rest.is_empty() {
        config["CacheBehaviors"]["Items"] = Value::Array(rest);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Value {
        json!({"CallerReference": "r", "Comment": "c", "Enabled": true,
            "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": "web.s3.us-east-1.amazonaws.com",
                "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": "E1"}]},
            "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})
    }

    fn kind(config: &Value) -> &'static str {
        let oacs = |id: &str| (id == "E1").then(|| "s3".to_owned());
        check(config, &oacs).err().map_or("ok", |e| e.kind)
    }

    #[test]
    fn refusals() {
        assert_eq!(kind(&config()), "ok");
        let mut c = config();
        c["Origins"]["Quantity"] = json!(2);
        assert_eq!(kind(&c), "InconsistentQuantities");
        let mut c = config();
        c["Origins"]["Items"][0]["OriginAccessControlId"] = json!("E9");
        assert_eq!(kind(&c), "InvalidOriginAccessControl");
        let mut c = config();
        c["DefaultCacheBehavior"]["CachePolicyId"] = json!("00000000-0000-0000-0000-000000000000");
        assert_eq!(kind(&c), "NoSuchCachePolicy");
        let mut c = config();
        c["DefaultCacheBehavior"]["MinTTL"] = json!(0);
        assert_eq!(kind(&c), "ok");
        c["DefaultCacheBehavior"]["ForwardedValues"] = json!({"QueryString": false, "Cookies": {"Forward": "none"}});
        assert_eq!(kind(&c), "InvalidArgument");
        let mut c = config();
        c["DefaultCacheBehavior"]
            .as_object_mut()
            .unwrap()
            .remove("CachePolicyId");
        assert_eq!(kind(&c), "InvalidArgument");
        c["DefaultCacheBehavior"]["ForwardedValues"] = json!({"QueryString": false, "Cookies": {"Forward": "none"}});
        c["DefaultCacheBehavior"]["DefaultTTL"] = json!(10);
        c["DefaultCacheBehavior"]["MaxTTL"] = json!(5);
        assert_eq!(kind(&c), "InvalidTTLOrder");
        let mut c = config();
        c["DefaultCacheBehavior"]["TargetOriginId"] = json!("nope");
        assert_eq!(kind(&c), "NoSuchOrigin");
        let custom = |domain: &str| {
            let mut c = config();
            c["Origins"]["Items"][0] = json!({"Id": "s3", "DomainName": domain,
                "CustomOriginConfig": {"HTTPPort": 4580, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}});
            kind(&c)
        };
        assert_eq!(custom("127.0.0.1"), "ok");
        assert_eq!(custom("10.0.0.1"), "InvalidArgument");
        assert_eq!(custom("::1"), "InvalidArgument");
        assert_eq!(custom("example.com"), "ok");
    }

    #[test]
    fn origins_and_defaults() {
        assert_eq!(s3_bucket("web.s3.us-east-1.amazonaws.com").as_deref(), Some("web"));
        assert_eq!(s3_bucket("web.s3.amazonaws.com").as_deref(), Some("web"));
        assert_eq!(s3_bucket("web.s3-website-us-east-1.amazonaws.com"), None);
        assert_eq!(s3_bucket("example.com"), None);
        let filled = with_defaults(config());
        assert_eq!(filled["PriceClass"], "PriceClass_All");
        assert_eq!(filled["DefaultCacheBehavior"]["AllowedMethods"]["Quantity"], 2);
        assert_eq!(filled["Origins"]["Items"][0]["ConnectionAttempts"], 3);
        assert_eq!(
            origin(&filled["Origins"]["Items"][0]),
            Origin::S3 { bucket: "web".into() }
        );
    }
}
