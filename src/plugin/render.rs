//! `kubectl livestream render NAME`: the CreateChannel request the operator sends for the stream,
//! as `aws medialive create-channel --cli-input-json` takes it — the typed ladder, the recording,
//! the engine version and `spec.encoding.overrides`, in the order the operator applies them, with
//! the ids the stream's status names.

use serde_json::{Value, json};

use crate::{
    api::{LiveStream, PackagingVersion},
    desired::{Names, medialive::PackageTarget, names::owner_tags, recording},
    reconcile::plan::Asks,
    resource::Role,
};

/// What the cluster does not say: the operator's defaults.
pub struct Defaults<'a> {
    /// The operator's `--medialive-role-arn`, for a stream without spec.roleArn.
    pub role_arn: Option<&'a str>,
    /// The operator's `--recording-bucket`, for a recording without spec.recording.bucket.
    pub recording_bucket: Option<&'a str>,
}

/// The request; the error names the override that does not apply.
pub fn request(stream: &LiveStream, defaults: &Defaults) -> Result<Value, String> {
    let spec = &stream.spec;
    let status = stream.status.clone().unwrap_or_default();
    let ids = status.aws.clone().unwrap_or_default();
    let asks = Asks::of(spec)?;
    let names = Names::of(stream);
    let primary = ids.input_id.unwrap_or_else(|| "<input id: not created yet>".into());
    let inputs: Vec<(Role, &str)> = (asks.resilience.input_roles().into_iter())
        .map(|role| match role {
            Role::Primary => (role, primary.as_str()),
            _ => (role, "<backup input id>"),
        })
        .collect();
    let role = (spec.role_arn.as_deref())
        .or(defaults.role_arn)
        .unwrap_or("<the operator's --medialive-role-arn>");
    let group = ids.channel_group.or_else(|| spec.packaging.channel_group.clone());
    let target = match (status.packaging_version, group.as_deref()) {
        (Some(PackagingVersion::V2), Some(group)) => PackageTarget::V2 { group },
        _ => PackageTarget::V1,
    };
    let recording = recording::of(stream, defaults.recording_bucket);
    let mut request = asks.channel(&names, &inputs, role, target, recording.as_ref())?.request;
    request["Tags"] = json!(owner_tags(stream));
    request["RequestId"] = json!(format!(
        "{}-channel",
        kube::ResourceExt::uid(stream).unwrap_or_default()
    ));
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_render_is_the_ladder_with_the_overrides_and_the_status_ids() {
        let spec = serde_json::from_value(json!({
            "roleArn": "arn:aws:iam::123456789012:role/MediaLiveAccessRole",
            "encoding": {"overrides": {"patch": [
                {"op": "add", "path": "/EncoderSettings/OutputGroups/0/Outputs/-", "value": {"OutputName": "extra"}}
            ]}},
        }))
        .unwrap();
        let mut stream = LiveStream::new("launch", spec);
        stream.metadata.uid = Some("u-1".into());
        stream.status = Some(serde_json::from_value(json!({"aws": {"inputId": "7"}})).unwrap());
        let defaults = Defaults {
            role_arn: None,
            recording_bucket: None,
        };
        let request = request(&stream, &defaults).unwrap();
        assert_eq!(request["InputAttachments"][0]["InputId"], "7");
        assert_eq!(
            request["EncoderSettings"]["OutputGroups"][0]["Outputs"][2]["OutputName"],
            "extra"
        );
        assert_eq!(request["RequestId"], "u-1-channel");
        assert_eq!(request["Tags"]["livestream.io/uid"], "u-1");
    }
}
