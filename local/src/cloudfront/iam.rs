//! CloudFront's IAM mapping: which action and resource a request is.

use serde_json::Value;

use crate::iam::actions::{Asked, Scope};

/// A CloudFront request (REST-XML, path `/2020-05-31/...`): the action is `cloudfront:Operation`
/// (`CreateDistributionWithTags` is `cloudfront:CreateDistribution`, with `cloudfront:TagResource`
/// beside it, see [`tagging`]); resources have no region:
/// `arn:aws:cloudfront::ACCOUNT:distribution/ID`, `…:origin-access-control/ID`, the `Resource`
/// query member for the tagging operations; a create is authorized on `distribution/*`, a listing
/// on `*`. `body` is the request's XML payload as JSON (`{"DistributionConfigWithTags": …}`).
pub fn asked(scope: &Scope, operation: &str, segments: &[&str], tagged_resource: Option<&str>, body: &Value) -> Asked {
    let arn = |resource: &str| format!("arn:aws:cloudfront::{}:{resource}", scope.account);
    let resource = match segments {
        [_, "tagging", ..] => tagged_resource.unwrap_or("*").to_owned(),
        [_, kind @ ("distribution" | "origin-access-control"), id, ..] => arn(&format!("{kind}/{id}")),
        [_, kind @ ("distribution" | "origin-access-control")] if operation.starts_with("Create") => {
            arn(&format!("{kind}/*"))
        }
        _ => "*".to_owned(),
    };
    let mut context = scope.base_context();
    let tags = body
        .pointer("/DistributionConfigWithTags/Tags/Items")
        .or_else(|| body.pointer("/Tags/Items"))
        .and_then(Value::as_array);
    if let Some(tags) = tags {
        let mut keys = Vec::new();
        for tag in tags {
            let key = tag["Key"].as_str().unwrap_or_default();
            let value = tag["Value"].as_str().unwrap_or_default().to_owned();
            context.insert(format!("aws:requesttag/{}", key.to_ascii_lowercase()), vec![value]);
            keys.push(key.to_owned());
        }
        context.insert("aws:tagkeys".into(), keys);
    }
    if let Some(keys) = body.pointer("/TagKeys/Items").and_then(Value::as_array) {
        let keys = keys.iter().filter_map(Value::as_str).map(str::to_owned).collect();
        context.insert("aws:tagkeys".into(), keys);
    }
    let action = match operation {
        "CreateDistributionWithTags" => "CreateDistribution",
        other => other,
    };
    Asked {
        action: format!("cloudfront:{action}"),
        resource,
        context,
    }
}

/// `CreateDistributionWithTags` also needs `cloudfront:TagResource` on the new distribution, as
/// CloudFront's API reference says.
pub fn tagging(operation: &str, create: &Asked) -> Option<Asked> {
    (operation == "CreateDistributionWithTags").then(|| Asked {
        action: "cloudfront:TagResource".into(),
        ..create.clone()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::iam::actions::EXAMPLE_SCOPE as SCOPE;

    #[test]
    fn cloudfront_requests_name_their_action_and_resource() {
        let cf = |operation: &str, path: &[&str], body: Value| asked(&SCOPE, operation, path, None, &body);
        let base = "arn:aws:cloudfront::123456789012";
        let body = json!({"DistributionConfigWithTags": {"Tags": {"Items": [{"Key": "Owner", "Value": "a"}]}}});
        let create = cf("CreateDistributionWithTags", &["2020-05-31", "distribution"], body);
        assert_eq!(
            (create.action.as_str(), create.resource.as_str()),
            ("cloudfront:CreateDistribution", &*format!("{base}:distribution/*"))
        );
        assert_eq!(create.context["aws:requesttag/owner"], ["a"]);
        let tag_resource = tagging("CreateDistributionWithTags", &create).unwrap();
        assert_eq!(tag_resource.action, "cloudfront:TagResource");
        assert!(tagging("CreateDistribution", &create).is_none());
        let update = cf(
            "UpdateDistribution",
            &["2020-05-31", "distribution", "E1", "config"],
            json!({}),
        );
        assert_eq!(update.resource, format!("{base}:distribution/E1"));
        let oac = cf(
            "DeleteOriginAccessControl",
            &["2020-05-31", "origin-access-control", "E2"],
            json!({}),
        );
        assert_eq!(oac.resource, format!("{base}:origin-access-control/E2"));
        assert_eq!(
            cf("ListDistributions", &["2020-05-31", "distribution"], json!({})).resource,
            "*"
        );
        let tag = asked(
            &SCOPE,
            "TagResource",
            &["2020-05-31", "tagging"],
            Some("arn:x"),
            &json!({}),
        );
        assert_eq!(tag.resource, "arn:x");
    }
}
