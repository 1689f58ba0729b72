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
