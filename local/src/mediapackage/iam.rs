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
    use serde_json::json;

    use super::*;
    use crate::iam::actions::{example, tag_on_create};

    #[test]
    fn requests_name_their_action_and_resource() {
        let tagged = "arn:aws:mediapackage:us-east-1:123456789012:channels/x";
        let tag = example(&IAM)("TagResource", &["tags", tagged], &json!({"tags": {"Owner": "a"}}));
        assert_eq!(
            (tag.resource.as_str(), &tag.context["aws:requesttag/owner"][0][..]),
            (tagged, "a")
        );
        let endpoint = example(&IAM)("DeleteOriginEndpoint", &["origin_endpoints", "e"], &json!({}));
        assert_eq!(
            endpoint.resource,
            "arn:aws:mediapackage:us-east-1:123456789012:origin_endpoints/e"
        );
    }

    #[test]
    fn tags_at_creation_need_the_tagging_action() {
        let untagged = example(&IAM)("CreateChannel", &["channels"], &json!({"id": "c"}));
        assert!(tag_on_create(&IAM, "CreateChannel", &untagged).is_none());
    }
}
