//! MediaPackage (v1)'s IAM resources: `channels/ID`, `origin_endpoints/ID`, `harvest_jobs/ID`.

use serde_json::Value;

use crate::iam::naming::RestJsonIam;

pub const IAM: RestJsonIam = RestJsonIam {
    service: "mediapackage",
    resource,
    tagging: "TagResource",
};

fn resource(segments: &[&str], _body: &Value) -> Option<String> {
    match segments {
        [kind @ ("channels" | "origin_endpoints" | "harvest_jobs"), rest @ ..] => Some(match rest.first() {
            Some(id) => format!("{kind}/{id}"),
            None => format!("{kind}/*"),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::iam::actions::{Asked, EXAMPLE_SCOPE as SCOPE};

    fn rest_json(operation: &str, segments: &[&str], body: &Value) -> Asked {
        crate::iam::actions::rest_json(&SCOPE, &IAM, operation, segments, body)
    }

    fn tag_on_create(operation: &str, create: &Asked) -> Option<Asked> {
        crate::iam::actions::tag_on_create(&IAM, operation, create)
    }

    #[test]
    fn requests_name_their_action_and_resource() {
        let tagged = "arn:aws:mediapackage:us-east-1:123456789012:channels/x";
        let tag = rest_json("TagResource", &["tags", tagged], &json!({"tags": {"Owner": "a"}}));
        assert_eq!(
            (tag.resource.as_str(), &tag.context["aws:requesttag/owner"][0][..]),
            (tagged, "a")
        );
        let endpoint = rest_json("DeleteOriginEndpoint", &["origin_endpoints", "e"], &json!({}));
        assert_eq!(
            endpoint.resource,
            "arn:aws:mediapackage:us-east-1:123456789012:origin_endpoints/e"
        );
    }

    #[test]
    fn tags_at_creation_need_the_tagging_action() {
        let untagged = rest_json("CreateChannel", &["channels"], &json!({"id": "c"}));
        assert!(tag_on_create("CreateChannel", &untagged).is_none());
    }
}
