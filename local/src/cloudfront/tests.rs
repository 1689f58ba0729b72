//! The XML (de)serialization against botocore's real CloudFront model.

use std::sync::LazyLock;

use serde_json::json;

use super::xml;
use crate::model::Models;

static MODELS: LazyLock<Models> =
    LazyLock::new(|| Models::load(None, &[super::MODEL]).expect("botocore's models (hack/setup.sh installs them)"));

const CREATE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfigWithTags xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><DistributionConfig>
<CallerReference>ref-1</CallerReference>
<Origins><Quantity>1</Quantity><Items><Origin><Id>mp</Id><DomainName>127.0.0.1</DomainName>
<CustomOriginConfig><HTTPPort>4580</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>http-only</OriginProtocolPolicy></CustomOriginConfig>
</Origin></Items></Origins>
<DefaultCacheBehavior><TargetOriginId>mp</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>
<CachePolicyId>08627262-05a9-4f76-9ded-b50ca2e3a84f</CachePolicyId></DefaultCacheBehavior>
<Comment>livestream &amp; show</Comment><Enabled>true</Enabled></DistributionConfig>
<Tags><Items><Tag><Key>owner</Key><Value>default/show</Value></Tag></Items></Tags></DistributionConfigWithTags>"#;

#[test]
fn requests_read_by_the_model_and_answers_written_back() {
    let model = MODELS.service("cloudfront").unwrap();
    let (name, shape) = xml::input_payload(model, "CreateDistributionWithTags").unwrap();
    assert_eq!(
        (name.as_str(), shape.as_str()),
        ("DistributionConfigWithTags", "DistributionConfigWithTags")
    );
    let root = xml::parse(CREATE.as_bytes()).unwrap();
    let value = xml::to_json(model, &shape, &root).unwrap();
    let config = &value["DistributionConfig"];
    assert_eq!(config["Origins"]["Items"][0]["CustomOriginConfig"]["HTTPPort"], 4580);
    assert_eq!(config["Enabled"], true);
    assert_eq!(value["Tags"]["Items"][0]["Value"], "default/show");
    assert_eq!(config["Comment"], "livestream & show");
    let body = json!({ name: value });
    let no_query = Default::default();
    let labels = Default::default();
    let located = crate::model::Located {
        query: &no_query,
        labels: &labels,
        header: &|_| None,
    };
    let violations = model.validate_request("CreateDistributionWithTags", &body, &located);
    assert!(violations.is_empty(), "{violations:?}");

    let mut broken = body.clone();
    broken["DistributionConfigWithTags"]["DistributionConfig"]["DefaultCacheBehavior"]["ViewerProtocolPolicy"] =
        json!("sometimes");
    broken["DistributionConfigWithTags"]["DistributionConfig"]
        .as_object_mut()
        .unwrap()
        .remove("Enabled");
    let violations = model.validate_request("CreateDistributionWithTags", &broken, &located);
    let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
    assert!(
        paths.contains(&"DistributionConfigWithTags.DistributionConfig.Enabled"),
        "{paths:?}"
    );
    assert!(paths.iter().any(|p| p.ends_with("ViewerProtocolPolicy")), "{paths:?}");

    let unknown = CREATE.replace("<Comment>", "<Bogus>1</Bogus><Comment>");
    let root = xml::parse(unknown.as_bytes()).unwrap();
    assert!(xml::to_json(model, &shape, &root).unwrap_err().contains("Bogus"));

    let distribution = json!({"Id": "E1", "Status": "InProgress", "DistributionConfig": config});
    let doc = xml::document(model, "CreateDistributionWithTags", &distribution).unwrap();
    assert!(
        doc.contains(r#"<Distribution xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">"#),
        "{doc}"
    );
    assert!(doc.contains("<Items><Origin>"), "{doc}");
    assert!(doc.contains("<Id>mp</Id>") && doc.contains("<Id>E1</Id>"), "{doc}");
    assert!(doc.contains("<HTTPPort>4580</HTTPPort>"), "{doc}");
}

#[test]
fn routes_by_method_path_and_query() {
    use axum::http::Method;

    use crate::protocol::{ApiRequest, Routes};

    let routes = Routes::new(MODELS.service("cloudfront").unwrap(), super::OPERATIONS);
    let op = |method: Method, path: &str, query: &str| {
        routes
            .route(&ApiRequest::new(method, path, query, Default::default()))
            .map_or("Unknown", |r| r.operation)
    };
    assert_eq!(
        op(Method::POST, "/2020-05-31/distribution", "WithTags"),
        "CreateDistributionWithTags"
    );
    assert_eq!(op(Method::POST, "/2020-05-31/distribution", ""), "CreateDistribution");
    assert_eq!(
        op(Method::PUT, "/2020-05-31/distribution/E1/config", ""),
        "UpdateDistribution"
    );
    assert_eq!(
        op(Method::POST, "/2020-05-31/tagging", "Operation=Untag&Resource=x"),
        "UntagResource"
    );
    assert_eq!(
        op(Method::DELETE, "/2020-05-31/origin-access-control/E2", ""),
        "DeleteOriginAccessControl"
    );
    assert_eq!(op(Method::GET, "/2019-03-26/distribution", ""), "Unknown");
}

#[test]
fn the_model_takes_the_signing_protocol_aws_took() {
    let model = MODELS.service("cloudfront").unwrap();
    let shape = model.shape_def("OriginAccessControlSigningProtocols").unwrap();
    let values = shape["enum"].as_array().unwrap();
    assert!(values.iter().any(|v| v == "sigv4") && values.iter().any(|v| v == "sigv4a"));
}
