//! `kubectl livestream render NAME`: the CreateChannel request the operator sends for the stream,
//! as `aws medialive create-channel --cli-input-json` takes it — the typed ladder, the recording,
//! the engine version and `spec.encoding.overrides`, in the order the operator applies them, with
//! the ids the stream's status names.

use serde_json::Value;

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
    let channel = asks.channel(&names, &inputs, role, target, recording.as_ref())?;
    let uid = kube::ResourceExt::uid(stream).unwrap_or_default();
    Ok(channel.create_request(&owner_tags(stream), &uid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    /// The typed fields build only members MediaLive's model has: an unknown member in a request
    /// with overrides is theirs, and the error says so.
    #[test]
    fn every_example_and_every_option_renders_in_medialives_names() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let examples = (std::fs::read_dir(folder).unwrap())
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "yaml"));
        let mut specs: Vec<serde_json::Value> = examples
            .map(|path| {
                let text = std::fs::read_to_string(&path).unwrap();
                let documents: Vec<serde_json::Value> = serde_saphyr::from_str_multiple(&text).unwrap();
                let stream = documents.into_iter().find(|d| d["kind"] == "LiveStream");
                stream.expect("the example has a LiveStream")["spec"].clone()
            })
            .collect();
        assert!(specs.len() >= 6, "every example is read");
        specs.push(json!({
            "redundancy": "Standard",
            "engineVersion": "2.5.0",
            "input": {"backup": {"inputPreference": "Equal", "videoBlack": {"thresholdMsec": 2000}}},
            "recording": {"enabled": true, "bucket": "recordings"},
        }));
        let defaults = Defaults {
            role_arn: Some("arn:aws:iam::123456789012:role/MediaLiveAccessRole"),
            recording_bucket: None,
        };
        for spec in specs {
            let stream = LiveStream::new("launch", serde_json::from_value(spec.clone()).unwrap());
            let request = request(&stream, &defaults).unwrap();
            let unknown = crate::desired::overlay::unknown_member(&request);
            assert_eq!(unknown, None, "{spec}");
        }
    }

    /// The overrides of the guide (five) and the README (one) apply to a default stream, in
    /// MediaLive's names: their yaml blocks that hold `patch:` or `merge:`, whole specs or as
    /// pasted under `spec.encoding.overrides`.
    #[test]
    fn the_documented_overrides_apply_and_speak_medialives_names() {
        let guide = include_str!("../../docs/src/guides/encoder-overrides.md");
        let readme = include_str!("../../README.md");
        let blocks_of = |text: &'static str| -> Vec<&'static str> {
            (text.split("```yaml\n").skip(1))
                .filter_map(|rest| rest.split("```").next())
                .filter(|block| block.contains("patch:") || block.contains("merge:"))
                .collect()
        };
        let (in_guide, in_readme) = (blocks_of(guide), blocks_of(readme));
        assert_eq!((in_guide.len(), in_readme.len()), (5, 1), "the documented overrides");
        let defaults = Defaults {
            role_arn: None,
            recording_bucket: None,
        };
        for block in in_guide.into_iter().chain(in_readme) {
            let indent = block.lines().map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
            let dedented: String = block.lines().map(|l| format!("{}\n", &l[indent..])).collect();
            let parsed: serde_json::Value = serde_saphyr::from_str(&dedented).unwrap();
            let spec = match parsed.get("spec") {
                Some(spec) => spec.clone(),
                None => json!({"encoding": {"overrides": parsed}}),
            };
            let stream = LiveStream::new("launch", serde_json::from_value(spec).unwrap());
            if let Err(e) = request(&stream, &defaults) {
                panic!("{e}\n{block}");
            }
        }
    }
}
