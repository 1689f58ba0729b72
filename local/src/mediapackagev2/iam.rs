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
