//! MediaPackage v2's IAM resources: `channelGroup/G[/channel/C[/originEndpoint/E[/harvestJob/H]]]`.

use serde_json::Value;

use crate::iam::naming::RestJsonIam;

pub const IAM: RestJsonIam = RestJsonIam {
    service: "mediapackagev2",
    resource,
    tagging: "TagResource",
};

fn resource(segments: &[&str], body: &Value) -> Option<String> {
    match segments {
        ["channelGroup", rest @ ..] => channel_group_resource(rest, body),
        _ => None,
    }
}

/// The MediaPackage v2 resource a `/channelGroup/...` path names (`channelGroup/G`,
/// `channelGroup/G/channel/C`, `channelGroup/G/channel/C/originEndpoint/E`): a create names the
/// new resource by its body's name; a listing is authorized on the parent (None: every channel
/// group, `*`).
fn channel_group_resource(rest: &[&str], body: &Value) -> Option<String> {
    let named = |member: &str| body.get(member).and_then(Value::as_str).unwrap_or("*").to_owned();
    let group = |g: &str| format!("channelGroup/{g}");
    let channel = |g: &str, c: &str| format!("channelGroup/{g}/channel/{c}");
    Some(match rest {
        [] if body.get("ChannelGroupName").is_some() => group(&named("ChannelGroupName")),
        [] => return None,
        [g] => group(g),
        [g, "channel"] if body.get("ChannelName").is_some() => channel(g, &named("ChannelName")),
        [g, "channel"] => group(g),
        [g, "channel", c] => channel(g, c),
        [g, "channel", c, "originEndpoint"] if body.get("OriginEndpointName").is_some() => {
            format!("{}/originEndpoint/{}", channel(g, c), named("OriginEndpointName"))
        }
        [g, "channel", c, "originEndpoint"] => channel(g, c),
        [g, "channel", c, "originEndpoint", e, "harvestJob"] => format!(
            "{}/originEndpoint/{e}/harvestJob/{}",
            channel(g, c),
            named("HarvestJobName")
        ),
        [g, "channel", c, "originEndpoint", e, "harvestJob", n, ..] => {
            format!("{}/originEndpoint/{e}/harvestJob/{n}", channel(g, c))
        }
        [g, "channel", c, "originEndpoint", e, ..] => format!("{}/originEndpoint/{e}", channel(g, c)),
        [g, "channel", c, ..] => channel(g, c),
        [g, ..] => group(g),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::iam::actions::{example, tag_on_create};

    #[test]
    fn mediapackagev2_requests_name_their_resource() {
        let v2 = |operation: &str, path: &[&str], body: Value| example(&IAM)(operation, path, &body);
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
        let tagging = tag_on_create(&IAM, "CreateOriginEndpoint", &endpoint).unwrap();
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
        assert!(tag_on_create(&IAM, "CreateChannel", &untagged).is_none());
    }
}
