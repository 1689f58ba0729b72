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
