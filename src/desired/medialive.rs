//! MediaLive requests: the input security group's rules, and the channel — the CreateChannel
//! request in AWS's member names (as `aws medialive create-channel --cli-input-json` takes it), a
//! ladder into a MediaPackage output group reading the stream's inputs, to which the recording
//! and `spec.encoding.overrides` are added (see `recording`, `overlay`).

use std::collections::HashMap;

use aws_sdk_medialive::types::{ChannelClass, InputWhitelistRuleCidr};
use serde_json::{Value, json};

use super::encoder::{DESTINATION, encoder_settings};
use super::names::Names;
use super::redundancy::{AUDIO_SELECTOR, Resilience};
use crate::api::{EncodingSpec, InputSpec, LiveStreamSpec, PackagingSpec, PackagingVersion};
use crate::resource::Role;

/// The security group's allow-list, one rule per CIDR.
pub fn whitelist_rules(input: &InputSpec) -> Vec<InputWhitelistRuleCidr> {
    input
        .allowed_cidrs
        .iter()
        .map(|cidr| InputWhitelistRuleCidr::builder().cidr(cidr).build())
        .collect()
}

/// The channel as CreateChannel and UpdateChannel send it, except tags and the request id.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelSettings {
    pub name: String,
    pub channel_class: ChannelClass,
    /// The request's members in AWS's names: `Name`, `ChannelClass`, `InputSpecification`,
    /// `InputAttachments`, `Destinations`, `EncoderSettings`, `RoleArn`, and
    /// `ChannelEngineVersion` / `LogLevel` when asked.
    pub request: Value,
}

impl ChannelSettings {
    /// The ids of the inputs it attaches, in attachment order.
    pub fn input_ids(&self) -> Vec<&str> {
        (self.request["InputAttachments"].as_array().into_iter().flatten())
            .filter_map(|a| a["InputId"].as_str())
            .collect()
    }

    /// How many video descriptions it encodes.
    pub fn video_descriptions(&self) -> usize {
        self.request["EncoderSettings"]["VideoDescriptions"]
            .as_array()
            .map_or(0, Vec::len)
    }

    pub fn role_arn(&self) -> &str {
        self.request["RoleArn"].as_str().unwrap_or_default()
    }

    /// The whole CreateChannel request: these settings, the owner's tags, and the stream's
    /// idempotency token (a create retried after a lost answer makes no second channel).
    pub fn create_request(&self, tags: &HashMap<String, String>, uid: &str) -> Value {
        let mut request = self.request.clone();
        request["Tags"] = json!(tags);
        request["RequestId"] = json!(format!("{uid}-channel"));
        request
    }
}

/// The MediaPackage channel the MediaPackage output group writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageTarget<'a> {
    /// MediaPackage v1: the channel's id.
    V1,
    /// MediaPackage v2 (CMAF ingest): the channel group and channel.
    V2 { group: &'a str },
}

/// The channel for `spec`, reading from `inputs` (by role, in attachment order) and writing to the
/// MediaPackage channel (without the recording and the overrides).
pub fn channel_settings(
    spec: &LiveStreamSpec,
    names: &Names,
    inputs: &[(Role, &str)],
    role_arn: &str,
    target: PackageTarget,
) -> ChannelSettings {
    let resilience = Resilience::of(spec);
    let mut channel = channel_settings_of(
        &spec.encoding,
        &spec.packaging,
        &resilience,
        names,
        inputs,
        role_arn,
        target,
    );
    with_engine_version(&mut channel, spec.engine_version.as_deref());
    channel
}

/// `ChannelEngineVersion`, when the spec pins one.
pub fn with_engine_version(channel: &mut ChannelSettings, version: Option<&str>) {
    if let Some(version) = version {
        channel.request["ChannelEngineVersion"] = json!({"Version": version});
    }
}

/// The channel for a ladder (`spec.encoding`) and its packaging (`spec.packaging`, for the
/// segment durations the keyframes follow).
pub fn channel_settings_of(
    encoding: &EncodingSpec,
    packaging: &PackagingSpec,
    resilience: &Resilience,
    names: &Names,
    inputs: &[(Role, &str)],
    role_arn: &str,
    target: PackageTarget,
) -> ChannelSettings {
    let (destination, version) = match target {
        PackageTarget::V1 => (json!({"ChannelId": names.channel}), PackagingVersion::V1),
        PackageTarget::V2 { group } => (
            json!({"ChannelGroup": group, "ChannelName": names.channel}),
            PackagingVersion::V2,
        ),
    };
    let segments = packaging.segment_durations(version);
    // The primary fails over to the backup, when the spec has one.
    let backup = inputs.iter().find(|(role, _)| *role == Role::Backup);
    let failover = backup.and_then(|(_, id)| resilience.failover(id));
    let attachments: Vec<Value> = (inputs.iter())
        .map(|&(role, id)| {
            let mut attachment = json!({
                "InputId": id,
                "InputAttachmentName": names.input(role),
                "InputSettings": {
                    "SourceEndBehavior": "CONTINUE",
                    "AudioSelectors": [{"Name": AUDIO_SELECTOR}],
                },
            });
            if let Some(failover) = failover.clone().filter(|_| role == Role::Primary) {
                attachment["AutomaticInputFailoverSettings"] = failover;
            }
            attachment
        })
        .collect();
    let channel_class = resilience.channel_class();
    ChannelSettings {
        name: names.channel.clone(),
        request: json!({
            "Name": names.channel,
            "ChannelClass": channel_class.as_str(),
            "InputSpecification": {"Codec": "AVC", "MaximumBitrate": "MAX_20_MBPS", "Resolution": "HD"},
            "InputAttachments": attachments,
            "Destinations": [{"Id": DESTINATION, "MediaPackageSettings": [destination]}],
            "EncoderSettings": encoder_settings(encoding, &segments),
            "RoleArn": role_arn,
        }),
        channel_class,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec() -> LiveStreamSpec {
        serde_json::from_value(json!({"input": {"allowedCidrs": ["203.0.113.0/24", "2001:db8::/32"]}})).unwrap()
    }

    fn names() -> Names {
        Names {
            protocol: "rtmp",
            passphrase_secret: String::new(),
            channel: "launch".into(),
            endpoint: "launch-hls".into(),
        }
    }

    #[test]
    fn one_rule_per_cidr() {
        let rules: Vec<_> = whitelist_rules(&spec().input)
            .into_iter()
            .map(|r| r.cidr.unwrap())
            .collect();
        assert_eq!(rules, ["203.0.113.0/24", "2001:db8::/32"]);
    }

    #[test]
    fn default_ladder_is_two_hd_renditions_into_mediapackage() {
        let role = "arn:aws:iam::123456789012:role/MediaLiveAccessRole";
        let settings = channel_settings(
            &spec(),
            &names(),
            &[(Role::Primary, "1234567")],
            role,
            PackageTarget::V1,
        );
        assert_eq!(settings.channel_class, ChannelClass::SinglePipeline);
        assert_eq!(settings.request["ChannelClass"], "SINGLE_PIPELINE");
        assert_eq!(settings.input_ids(), ["1234567"]);
        assert_eq!(
            settings.request["Destinations"][0]["MediaPackageSettings"][0]["ChannelId"],
            "launch"
        );
        assert_eq!(settings.video_descriptions(), 2);
        assert_eq!(settings.role_arn(), role);
        assert!(
            settings.request.get("ChannelEngineVersion").is_none(),
            "MediaLive's default"
        );
        let gop =
            &settings.request["EncoderSettings"]["VideoDescriptions"][0]["CodecSettings"]["H264Settings"]["GopSize"];
        assert_eq!(gop, &json!(1.0), "keyframes every second serve 5 s and 2 s segments");
    }

    #[test]
    fn a_v2_stream_writes_to_its_channel_in_the_group_and_a_pinned_engine_is_asked_for() {
        let mut spec = spec();
        spec.engine_version = Some("2.1.0".into());
        let role = "arn:aws:iam::123456789012:role/MediaLiveAccessRole";
        let target = PackageTarget::V2 { group: "live" };
        let settings = channel_settings(&spec, &names(), &[(Role::Primary, "1")], role, target);
        let destination = &settings.request["Destinations"][0]["MediaPackageSettings"][0];
        assert_eq!(destination, &json!({"ChannelGroup": "live", "ChannelName": "launch"}));
        assert_eq!(settings.request["ChannelEngineVersion"], json!({"Version": "2.1.0"}));
    }
}
