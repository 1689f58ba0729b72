//! MediaLive's IAM resources: `channel:ID`, `input:ID`, `inputSecurityGroup:ID`, `multiplex:ID`.

use serde_json::Value;

use crate::iam::naming::RestJsonIam;

pub const IAM: RestJsonIam = RestJsonIam {
    service: "medialive",
    resource,
    tagging: "CreateTags",
};

fn resource(segments: &[&str], _body: &Value) -> Option<String> {
    let ["prod", kind, rest @ ..] = segments else {
        return None;
    };
    let kind = match *kind {
        "channels" => "channel",
        "inputs" => "input",
        "inputSecurityGroups" => "inputSecurityGroup",
        "multiplexes" => "multiplex",
        _ => return None,
    };
    Some(match rest.first() {
        Some(id) => format!("{kind}:{id}"),
        None => format!("{kind}:*"),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::iam::actions::{example, tag_on_create};

    #[test]
    fn requests_name_their_action_and_resource() {
        let start = example(&IAM)("StartChannel", &["prod", "channels", "42", "start"], &json!({}));
        assert_eq!(start.action, "medialive:StartChannel");
        assert_eq!(start.resource, "arn:aws:medialive:us-east-1:123456789012:channel:42");
        let list = example(&IAM)("ListInputs", &["prod", "inputs"], &json!({}));
        assert_eq!(list.resource, "arn:aws:medialive:us-east-1:123456789012:input:*");
    }

    #[test]
    fn tags_at_creation_need_the_tagging_action() {
        let tagged = json!({"tags": {"owner": "x"}});
        let create = example(&IAM)("CreateInput", &["prod", "inputs"], &tagged);
        let tagging = tag_on_create(&IAM, "CreateInput", &create).unwrap();
        assert_eq!(
            (tagging.action.as_str(), tagging.resource.as_str()),
            ("medialive:CreateTags", create.resource.as_str())
        );
        let listed = example(&IAM)("ListInputs", &["prod", "inputs"], &tagged);
        assert!(tag_on_create(&IAM, "ListInputs", &listed).is_none());
    }
}
