//! Which IAM action and resource a request is, as the Service Authorization Reference names them
//! (MediaLive and MediaPackage: `service:Operation`; S3: its own action names), and the condition
//! keys the request brings.

use std::collections::HashMap;

use serde_json::Value;

use super::{Decision, Policy, Request, naming::RestJsonIam};

/// What a request asks of IAM.
#[derive(Debug, Clone, PartialEq)]
pub struct Asked {
    pub action: String,
    pub resource: String,
    pub context: HashMap<String, Vec<String>>,
}

/// Where resources live: their ARNs' region and account.
pub struct Scope<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub principal_arn: &'a str,
}

impl Scope<'_> {
    fn base_context(&self) -> HashMap<String, Vec<String>> {
        let one = |v: &str| vec![v.to_owned()];
        let user = self.principal_arn.rsplit('/').next().unwrap_or_default();
        HashMap::from([
            ("aws:principalarn".into(), one(self.principal_arn)),
            ("aws:principalaccount".into(), one(self.account)),
            ("aws:username".into(), one(user)),
            ("aws:requestedregion".into(), one(self.region)),
            ("aws:securetransport".into(), one("false")),
            ("aws:currenttime".into(), one(&jiff::Timestamp::now().to_string())),
        ])
    }
}

/// A REST-JSON request: `operation` as the service model names it, the path's decoded segments
/// and the JSON body; `iam` is how the service names its resources.
pub fn rest_json(scope: &Scope, iam: &RestJsonIam, operation: &str, segments: &[&str], body: &Value) -> Asked {
    let service = iam.service;
    let arn = |resource: &str| format!("arn:aws:{service}:{}:{}:{resource}", scope.region, scope.account);
    let resource = match segments {
        [.., "tags", tagged] => (*tagged).to_owned(),
        _ => (iam.resource)(segments, body).map_or_else(|| "*".to_owned(), |resource| arn(&resource)),
    };
    let mut context = scope.base_context();
    let tags = body.get("tags").or_else(|| body.get("Tags")).and_then(Value::as_object);
    if let Some(tags) = tags {
        for (k, v) in tags {
            let value = v.as_str().unwrap_or_default().to_owned();
            context.insert(format!("aws:requesttag/{}", k.to_ascii_lowercase()), vec![value]);
        }
        context.insert("aws:tagkeys".into(), tags.keys().cloned().collect());
    }
    Asked {
        action: format!("{service}:{operation}"),
        resource,
        context,
    }
}

/// A create that carries tags also asks for the service's tagging action on the new resource
/// (`medialive:CreateTags`, `mediapackage:TagResource` ...), as IAM's dependent actions say.
pub fn tag_on_create(iam: &RestJsonIam, operation: &str, create: &Asked) -> Option<Asked> {
    let tagged = create.context.get("aws:tagkeys").is_some_and(|keys| !keys.is_empty());
    (operation.starts_with("Create") && tagged).then(|| Asked {
        action: format!("{}:{}", iam.service, iam.tagging),
        ..create.clone()
    })
}

/// A CloudFront request (REST-XML, path `/2020-05-31/...`): the action is `cloudfront:Operation`
/// (`CreateDistributionWithTags` is `cloudfront:CreateDistribution`, with `cloudfront:TagResource`
/// beside it, see [`cloudfront_tagging`]); resources have no region:
/// `arn:aws:cloudfront::ACCOUNT:distribution/ID`, `…:origin-access-control/ID`, the `Resource`
/// query member for the tagging operations; a create is authorized on `distribution/*`, a listing
/// on `*`. `body` is the request's XML payload as JSON (`{"DistributionConfigWithTags": …}`).
pub fn cloudfront(
    scope: &Scope,
    operation: &str,
    segments: &[&str],
    tagged_resource: Option<&str>,
    body: &Value,
) -> Asked {
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
pub fn cloudfront_tagging(operation: &str, create: &Asked) -> Option<Asked> {
    (operation == "CreateDistributionWithTags").then(|| Asked {
        action: "cloudfront:TagResource".into(),
        ..create.clone()
    })
}

/// An S3 request as s3s names its operation; `bucket` and `key` from its path.
pub fn s3(scope: &Scope, operation: &str, bucket: Option<&str>, key: Option<&str>) -> Asked {
    let action = match operation {
        "ListBuckets" => "ListAllMyBuckets",
        "HeadBucket" | "ListObjects" | "ListObjectsV2" => "ListBucket",
        "ListObjectVersions" => "ListBucketVersions",
        "GetPublicAccessBlock" => "GetBucketPublicAccessBlock",
        "PutPublicAccessBlock" | "DeletePublicAccessBlock" => "PutBucketPublicAccessBlock",
        "HeadObject" => "GetObject",
        "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" | "CopyObject" | "UploadPartCopy" => {
            "PutObject"
        }
        "DeleteObjects" => "DeleteObject",
        "ListParts" => "ListMultipartUploadParts",
        "ListMultipartUploads" => "ListBucketMultipartUploads",
        other => other,
    };
    let resource = match (bucket, key) {
        (Some(bucket), Some(key)) => format!("arn:aws:s3:::{bucket}/{key}"),
        (Some(bucket), None) => format!("arn:aws:s3:::{bucket}"),
        _ => "*".to_owned(),
    };
    Asked {
        action: format!("s3:{action}"),
        resource,
        context: scope.base_context(),
    }
}

/// `iam:PassRole` of `role` to `service` (e.g. `medialive.amazonaws.com`).
pub fn pass_role(scope: &Scope, role: &str, service: &str) -> Asked {
    let mut context = scope.base_context();
    context.insert("iam:passedtoservice".into(), vec![service.to_owned()]);
    Asked {
        action: "iam:PassRole".into(),
        resource: role.to_owned(),
        context,
    }
}

/// None when `policy` allows it (no policy: an administrator); else AWS's words for the refusal.
pub fn refusal(policy: Option<&Policy>, principal_arn: &str, asked: &Asked) -> Option<String> {
    let request = Request {
        action: &asked.action,
        resource: &asked.resource,
        context: &asked.context,
    };
    let why = match policy?.evaluate(&request) {
        Decision::Allow => return None,
        Decision::ExplicitDeny => "with an explicit deny in an identity-based policy".to_owned(),
        Decision::ImplicitDeny => format!("because no identity-based policy allows the {} action", asked.action),
    };
    Some(format!(
        "User: {principal_arn} is not authorized to perform: {} on resource: {} {why}",
        asked.action, asked.resource
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The mapping each service registers, by name, with the calls' old shape.
    fn iam(service: &str) -> RestJsonIam {
        match service {
            "medialive" => crate::medialive::iam::IAM,
            "mediapackage" => crate::mediapackage::iam::IAM,
            _ => crate::mediapackagev2::iam::IAM,
        }
    }

    fn rest_json(scope: &Scope, service: &str, operation: &str, segments: &[&str], body: &Value) -> Asked {
        super::rest_json(scope, &iam(service), operation, segments, body)
    }

    fn tag_on_create(service: &str, operation: &str, create: &Asked) -> Option<Asked> {
        super::tag_on_create(&iam(service), operation, create)
    }

    const SCOPE: Scope = Scope {
        region: "us-east-1",
        account: "123456789012",
        principal_arn: "arn:aws:iam::123456789012:user/operator",
    };

    #[test]
    fn requests_name_their_action_and_resource() {
        let start = rest_json(
            &SCOPE,
            "medialive",
            "StartChannel",
            &["prod", "channels", "42", "start"],
            &json!({}),
        );
        assert_eq!(start.action, "medialive:StartChannel");
        assert_eq!(start.resource, "arn:aws:medialive:us-east-1:123456789012:channel:42");
        let list = rest_json(&SCOPE, "medialive", "ListInputs", &["prod", "inputs"], &json!({}));
        assert_eq!(list.resource, "arn:aws:medialive:us-east-1:123456789012:input:*");
        let tagged = "arn:aws:mediapackage:us-east-1:123456789012:channels/x";
        let tag = rest_json(
            &SCOPE,
            "mediapackage",
            "TagResource",
            &["tags", tagged],
            &json!({"tags": {"Owner": "a"}}),
        );
        assert_eq!(
            (tag.resource.as_str(), &tag.context["aws:requesttag/owner"][0][..]),
            (tagged, "a")
        );
        let endpoint = rest_json(
            &SCOPE,
            "mediapackage",
            "DeleteOriginEndpoint",
            &["origin_endpoints", "e"],
            &json!({}),
        );
        assert_eq!(
            endpoint.resource,
            "arn:aws:mediapackage:us-east-1:123456789012:origin_endpoints/e"
        );
        let head = s3(&SCOPE, "HeadObject", Some("b"), Some("livestreams/x/index.html"));
        assert_eq!(
            (head.action.as_str(), head.resource.as_str()),
            ("s3:GetObject", "arn:aws:s3:::b/livestreams/x/index.html")
        );
        assert_eq!(s3(&SCOPE, "ListObjectsV2", Some("b"), None).action, "s3:ListBucket");
    }

    #[test]
    fn tags_at_creation_need_the_tagging_action() {
        let tagged = json!({"tags": {"owner": "x"}});
        let create = rest_json(&SCOPE, "medialive", "CreateInput", &["prod", "inputs"], &tagged);
        let tagging = tag_on_create("medialive", "CreateInput", &create).unwrap();
        assert_eq!(
            (tagging.action.as_str(), tagging.resource.as_str()),
            ("medialive:CreateTags", create.resource.as_str())
        );
        let untagged = rest_json(
            &SCOPE,
            "mediapackage",
            "CreateChannel",
            &["channels"],
            &json!({"id": "c"}),
        );
        assert!(tag_on_create("mediapackage", "CreateChannel", &untagged).is_none());
        let listed = rest_json(&SCOPE, "medialive", "ListInputs", &["prod", "inputs"], &tagged);
        assert!(tag_on_create("medialive", "ListInputs", &listed).is_none());
    }

    #[test]
    fn mediapackagev2_requests_name_their_resource() {
        let v2 =
            |operation: &str, path: &[&str], body: Value| rest_json(&SCOPE, "mediapackagev2", operation, path, &body);
        let base = "arn:aws:mediapackagev2:us-east-1:123456789012";
        let create = v2(
            "CreateChannelGroup",
            &["channelGroup"],
            json!({"ChannelGroupName": "live"}),
        );
        assert_eq!(
            (create.action.as_str(), create.resource.as_str()),
            (
                "mediapackagev2:CreateChannelGroup",
                &*format!("{base}:channelGroup/live")
            )
        );
        assert_eq!(v2("ListChannelGroups", &["channelGroup"], json!({})).resource, "*");
        assert_eq!(
            v2("ListChannels", &["channelGroup", "live", "channel"], json!({})).resource,
            format!("{base}:channelGroup/live")
        );
        assert_eq!(
            v2(
                "CreateChannel",
                &["channelGroup", "live", "channel"],
                json!({"ChannelName": "c"})
            )
            .resource,
            format!("{base}:channelGroup/live/channel/c")
        );
        let endpoint = v2(
            "CreateOriginEndpoint",
            &["channelGroup", "live", "channel", "c", "originEndpoint"],
            json!({"OriginEndpointName": "e", "Tags": {"team": "video"}}),
        );
        assert_eq!(
            endpoint.resource,
            format!("{base}:channelGroup/live/channel/c/originEndpoint/e")
        );
        let harvest = [
            "channelGroup",
            "live",
            "channel",
            "c",
            "originEndpoint",
            "e",
            "harvestJob",
        ];
        let create = v2("CreateHarvestJob", &harvest, json!({"HarvestJobName": "h"}));
        assert_eq!(
            (create.action.as_str(), create.resource.as_str()),
            (
                "mediapackagev2:CreateHarvestJob",
                &*format!("{base}:channelGroup/live/channel/c/originEndpoint/e/harvestJob/h")
            )
        );
        let cancel = v2("CancelHarvestJob", &[&harvest[..], &["h"]].concat(), json!({}));
        assert_eq!(
            cancel.resource,
            format!("{base}:channelGroup/live/channel/c/originEndpoint/e/harvestJob/h")
        );
        assert_eq!(
            v2("ListHarvestJobs", &["channelGroup", "live", "harvestJob"], json!({})).resource,
            format!("{base}:channelGroup/live")
        );
        let tagging = tag_on_create("mediapackagev2", "CreateOriginEndpoint", &endpoint).unwrap();
        assert_eq!(
            (tagging.action.as_str(), tagging.resource.as_str()),
            ("mediapackagev2:TagResource", endpoint.resource.as_str())
        );
        assert_eq!(
            v2(
                "ListOriginEndpoints",
                &["channelGroup", "live", "channel", "c", "originEndpoint"],
                json!({})
            )
            .resource,
            format!("{base}:channelGroup/live/channel/c")
        );
        assert_eq!(
            v2(
                "DeleteOriginEndpoint",
                &["channelGroup", "live", "channel", "c", "originEndpoint", "e"],
                json!({})
            )
            .resource,
            format!("{base}:channelGroup/live/channel/c/originEndpoint/e")
        );
        let untagged = v2(
            "CreateChannel",
            &["channelGroup", "live", "channel"],
            json!({"ChannelName": "c"}),
        );
        assert!(tag_on_create("mediapackagev2", "CreateChannel", &untagged).is_none());
    }

    #[test]
    fn cloudfront_requests_name_their_action_and_resource() {
        let cf = |operation: &str, path: &[&str], body: Value| cloudfront(&SCOPE, operation, path, None, &body);
        let base = "arn:aws:cloudfront::123456789012";
        let body = json!({"DistributionConfigWithTags": {"Tags": {"Items": [{"Key": "Owner", "Value": "a"}]}}});
        let create = cf("CreateDistributionWithTags", &["2020-05-31", "distribution"], body);
        assert_eq!(
            (create.action.as_str(), create.resource.as_str()),
            ("cloudfront:CreateDistribution", &*format!("{base}:distribution/*"))
        );
        assert_eq!(create.context["aws:requesttag/owner"], ["a"]);
        let tagging = cloudfront_tagging("CreateDistributionWithTags", &create).unwrap();
        assert_eq!(tagging.action, "cloudfront:TagResource");
        assert!(cloudfront_tagging("CreateDistribution", &create).is_none());
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
        let tag = cloudfront(
            &SCOPE,
            "TagResource",
            &["2020-05-31", "tagging"],
            Some("arn:x"),
            &json!({}),
        );
        assert_eq!(tag.resource, "arn:x");
    }

    #[test]
    fn refusals_use_aws_words() {
        let policy =
            Policy::parse(&json!({"Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}))
                .unwrap();
        let put = s3(&SCOPE, "PutObject", Some("b"), Some("k"));
        assert_eq!(
            refusal(Some(&policy), SCOPE.principal_arn, &put).unwrap(),
            "User: arn:aws:iam::123456789012:user/operator is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k because no identity-based policy allows the s3:PutObject action"
        );
        assert!(
            refusal(
                Some(&policy),
                SCOPE.principal_arn,
                &s3(&SCOPE, "ListObjects", Some("b"), None)
            )
            .is_none()
        );
        assert!(refusal(None, SCOPE.principal_arn, &put).is_none());
    }
}
