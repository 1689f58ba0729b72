//! More of what CloudFront refuses in a DistributionConfig (beside [`super::rules`]): certificates
//! for aliases, Lambda@Edge versions, origin timeouts within the account's quotas, the default
//! root object's length. Messages are AWS's where public answers quote them, the service model's
//! description of the error otherwise.

use serde_json::Value;

use super::{errors::error, quotas::Quotas};
use crate::protocol::ApiError;

fn items(value: &Value) -> impl Iterator<Item = &Value> {
    value["Items"].as_array().into_iter().flatten()
}

/// The developer guide's quota "Maximum length of a default root object": 255 characters
/// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html).
const DEFAULT_ROOT_OBJECT_MAX: usize = 255;

pub fn check(config: &Value, quotas: &Quotas) -> Result<(), ApiError> {
    // An alternate domain name needs a certificate that covers it; the CloudFront default
    // certificate covers only *.cloudfront.net. AWS's answer, quoted whole in
    // https://github.com/cloudposse/terraform-aws-cloudfront-s3-cdn/pull/72 and
    // https://github.com/winglang/wing/issues/2440.
    let aliases = config["Aliases"]["Quantity"].as_u64().unwrap_or(0) > 0;
    let certificate = &config["ViewerCertificate"];
    let own_certificate = ["ACMCertificateArn", "IAMCertificateId"]
        .iter()
        .any(|m| certificate[*m].as_str().is_some_and(|s| !s.is_empty()));
    if aliases && !own_certificate {
        return Err(error(
            400,
            "InvalidViewerCertificate",
            "To add an alternate domain name (CNAME) to a CloudFront distribution, you must attach a trusted certificate that validates your authorization to use the domain name. For more details, see: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/CNAMEs.html#alternate-domain-names-requirements",
        ));
    }
    // The model's own words: InvalidDefaultRootObject "The default root object file name is too
    // big or contains an invalid character." (A leading slash is accepted: `/` ran on AWS,
    // https://github.com/HHS/simpler-grants-gov/pull/3139.)
    if config["DefaultRootObject"].as_str().unwrap_or_default().chars().count() > DEFAULT_ROOT_OBJECT_MAX {
        return Err(error(
            400,
            "InvalidDefaultRootObject",
            "The default root object file name is too big or contains an invalid character.",
        ));
    }
    for o in items(&config["Origins"]) {
        let custom = &o["CustomOriginConfig"];
        // The model today: 1–120 s (read), 1–120 s (keep-alive); the account's default quota is
        // 1–60 s for both, adjustable: "values over 60 seconds are possible only after a limit
        // increase request … otherwise, values over 60 seconds will produce an error at deploy
        // time" (https://github.com/aws/aws-cdk/issues/38433, the CDK's documentation); the
        // earlier API reference: keep-alive "the maximum is 60 seconds. If you need to increase
        // the maximum time limit, contact the AWS Support Center"; raised quotas reach 180 s
        // (https://github.com/aws/aws-cdk/pull/18697, https://github.com/aws/aws-cdk/pull/18837).
        if let Some(t) = custom["OriginReadTimeout"].as_i64()
            && !(1..=quotas.origin_read_timeout as i64).contains(&t)
        {
            return Err(error(
                400,
                "InvalidOriginReadTimeout",
                "The read timeout specified for the origin is not valid.",
            ));
        }
        if let Some(t) = custom["OriginKeepaliveTimeout"].as_i64()
            && !(1..=quotas.origin_keepalive_timeout as i64).contains(&t)
        {
            return Err(error(
                400,
                "InvalidOriginKeepaliveTimeout",
                "The keep alive timeout specified for the origin is not valid.",
            ));
        }
    }
    let behaviors = std::iter::once(&config["DefaultCacheBehavior"]).chain(items(&config["CacheBehaviors"]));
    for b in behaviors {
        for association in items(&b["LambdaFunctionAssociations"]) {
            lambda_version(association["LambdaFunctionARN"].as_str().unwrap_or_default())?;
        }
    }
    Ok(())
}

/// A Lambda@Edge association names a published version: "You must specify the ARN of a function
/// version; you can't specify an alias or $LATEST" (the model). AWS's answer, quoted in
/// https://github.com/hashicorp/terraform-provider-aws/issues/21238 and
/// https://github.com/grahamgilbert/terraform-aws-munki-repo/issues/6.
fn lambda_version(arn: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = arn.split(':').collect();
    let versioned = parts.len() == 8
        && parts[..3] == ["arn", "aws", "lambda"]
        && parts[5] == "function"
        && !parts[7].is_empty()
        && parts[7].chars().all(|c| c.is_ascii_digit());
    if versioned {
        return Ok(());
    }
    Err(error(
        400,
        "InvalidLambdaFunctionAssociation",
        format!(
            "The function ARN must reference a specific function version. (The ARN must end with the version number.) ARN: {arn}"
        ),
    ))
}

/// The origin access controls `config`'s origins name.
fn oacs(config: &Value) -> Vec<&str> {
    items(&config["Origins"])
        .filter_map(|o| o["OriginAccessControlId"].as_str().filter(|s| !s.is_empty()))
        .collect()
}

/// At most `distributions_per_oac` distributions use one origin access control (the developer
/// guide's quota; the modeled error's words).
pub fn distributions_per_oac<'a>(
    others: impl Iterator<Item = &'a Value>,
    config: &Value,
    quotas: &Quotas,
) -> Result<(), ApiError> {
    let wanted = oacs(config);
    if wanted.is_empty() {
        return Ok(());
    }
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    for other in others {
        let mut named = oacs(other);
        named.dedup();
        for oac in named.into_iter().filter(|o| wanted.contains(o)) {
            *counts.entry(oac).or_default() += 1;
        }
    }
    if counts.values().any(|n| *n >= quotas.distributions_per_oac) {
        return Err(error(
            400,
            "TooManyDistributionsAssociatedToOriginAccessControl",
            "The maximum number of distributions have been associated with the specified origin access control.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use clap::Parser;
    use serde_json::json;

    use super::super::{CloudFront, rules};
    use super::*;

    fn config() -> Value {
        json!({"CallerReference": "r", "Comment": "c", "Enabled": true,
            "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": "web.s3.us-east-1.amazonaws.com",
                "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})
    }

    fn kind(config: &Value) -> &'static str {
        let oacs = |id: &str| id.starts_with('E').then(|| "s3".to_owned());
        rules::check(config, &oacs)
            .and_then(|()| check(config, &Quotas::default()))
            .err()
            .map_or("ok", |e| e.kind)
    }

    fn custom_origin(id: &str, domain: &str) -> Value {
        json!({"Id": id, "DomainName": domain,
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}})
    }

    #[test]
    fn a_behaviour_may_target_an_origin_group() {
        let mut c = config();
        c["Origins"] =
            json!({"Quantity": 2, "Items": [config()["Origins"]["Items"][0], custom_origin("backup", "example.com")]});
        c["OriginGroups"] = json!({"Quantity": 1, "Items": [{"Id": "group",
            "FailoverCriteria": {"StatusCodes": {"Quantity": 2, "Items": [500, 502]}},
            "Members": {"Quantity": 2, "Items": [{"OriginId": "s3"}, {"OriginId": "backup"}]}}]});
        c["DefaultCacheBehavior"]["TargetOriginId"] = json!("group");
        assert_eq!(kind(&c), "ok");
        c["OriginGroups"]["Items"][0]["Members"]["Items"][1]["OriginId"] = json!("missing");
        assert_eq!(kind(&c), "NoSuchOrigin");
    }

    #[test]
    fn origin_domains_refused_with_awss_types() {
        let mut c = config();
        c["Origins"]["Items"][0]["DomainName"] = json!("web.s3-website-us-east-1.amazonaws.com");
        assert_eq!(kind(&c), "InvalidArgument");
        for domain in ["https://example.com", "example.com/path", ""] {
            let mut c = config();
            c["Origins"]["Items"][0] = custom_origin("s3", domain);
            assert_eq!(kind(&c), "InvalidArgument", "{domain}");
        }
        let mut c = config();
        c["Origins"]["Items"][0]
            .as_object_mut()
            .unwrap()
            .remove("S3OriginConfig");
        assert_eq!(kind(&c), "InvalidOrigin");
    }

    #[test]
    fn certificates_lambdas_timeouts_and_root_objects() {
        let mut c = config();
        c["Aliases"] = json!({"Quantity": 1, "Items": ["live.example.com"]});
        assert_eq!(kind(&c), "InvalidViewerCertificate");
        c["ViewerCertificate"] = json!({"CloudFrontDefaultCertificate": true});
        assert_eq!(kind(&c), "InvalidViewerCertificate");
        c["ViewerCertificate"] = json!({"ACMCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x",
            "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"});
        assert_eq!(kind(&c), "ok");

        let lambda = |arn: &str| {
            let mut c = config();
            c["DefaultCacheBehavior"]["LambdaFunctionAssociations"] =
                json!({"Quantity": 1, "Items": [{"LambdaFunctionARN": arn, "EventType": "viewer-request"}]});
            kind(&c)
        };
        assert_eq!(lambda("arn:aws:lambda:us-east-1:123456789012:function:edge:3"), "ok");
        assert_eq!(
            lambda("arn:aws:lambda:us-east-1:123456789012:function:edge"),
            "InvalidLambdaFunctionAssociation"
        );
        assert_eq!(
            lambda("arn:aws:lambda:us-east-1:123456789012:function:edge:$LATEST"),
            "InvalidLambdaFunctionAssociation"
        );

        let timeout = |member: &str, seconds: u64| {
            let mut c = config();
            c["Origins"]["Items"][0] = custom_origin("s3", "example.com");
            c["Origins"]["Items"][0]["CustomOriginConfig"][member] = json!(seconds);
            kind(&c)
        };
        assert_eq!(timeout("OriginReadTimeout", 60), "ok");
        assert_eq!(timeout("OriginReadTimeout", 61), "InvalidOriginReadTimeout");
        assert_eq!(timeout("OriginReadTimeout", 0), "InvalidOriginReadTimeout");
        assert_eq!(timeout("OriginKeepaliveTimeout", 60), "ok");
        assert_eq!(timeout("OriginKeepaliveTimeout", 61), "InvalidOriginKeepaliveTimeout");
        let raised = Quotas::parse("originReadTimeout=180").unwrap();
        let mut c = config();
        c["Origins"]["Items"][0] = custom_origin("s3", "example.com");
        c["Origins"]["Items"][0]["CustomOriginConfig"]["OriginReadTimeout"] = json!(180);
        assert!(check(&c, &raised).is_ok());

        let mut c = config();
        c["DefaultRootObject"] = json!("a".repeat(255));
        assert_eq!(kind(&c), "ok");
        c["DefaultRootObject"] = json!("a".repeat(256));
        assert_eq!(kind(&c), "InvalidDefaultRootObject");
    }

    #[tokio::test]
    async fn distribution_and_oac_quotas() {
        let config = crate::config::Config::try_parse_from([
            "livestream-local",
            "--cloudfront-quotas",
            "distributions=2,distributionsPerOac=1",
        ])
        .unwrap();
        let key = crate::auth::ServiceKey {
            access_key_id: "k".into(),
            secret_access_key: "s".into(),
        };
        let cf = CloudFront::new(config, Arc::new(key));
        let oac = json!({"OriginAccessControlConfig": {"Name": "o", "SigningProtocol": "sigv4",
            "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}});
        cf.call_oac("CreateOriginAccessControl", "", None, &oac).unwrap();
        let oac_id = cf.inner.state.lock().unwrap().oacs.keys().next().unwrap().clone();
        let with_oac = |reference: &str| {
            let mut c = super::tests::config();
            c["CallerReference"] = json!(reference);
            c["Origins"]["Items"][0]["OriginAccessControlId"] = json!(oac_id);
            c
        };
        assert!(cf.create(&with_oac("a"), vec![]).is_ok());
        let refused = |r: Result<_, ApiError>| r.err().map_or("ok", |e| e.kind);
        assert_eq!(
            refused(cf.create(&with_oac("b"), vec![])),
            "TooManyDistributionsAssociatedToOriginAccessControl"
        );
        let mut plain = super::tests::config();
        plain["CallerReference"] = json!("c");
        assert!(cf.create(&plain, vec![]).is_ok());
        plain["CallerReference"] = json!("d");
        assert_eq!(refused(cf.create(&plain, vec![])), "TooManyDistributions");
    }
}
