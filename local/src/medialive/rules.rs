//! MediaLive's channel rules beyond the service model's shapes: what CreateChannel and
//! UpdateChannel refuse although every member has the right type. Each rule names its evidence
//! (AWS's answer quoted in a public issue, or the model's own documentation); element paths
//! inside the encoder settings are relative to them, as MediaLive reports them. A MediaPackage
//! output group's renditions need neither a size nor SPECIFIED frame rate / PAR controls: that
//! came from console guidance only, and public stacks that ran on AWS send otherwise (cdk-patterns
//! "the-media-live-stream": `parControl: SPECIFIED` without numerator or denominator).

use serde_json::{Map, Value};

/// The one 400 MediaLive answers before validating the rest: a destination must say where to go
/// in exactly one way (AWS's words quoted in
/// https://github.com/hashicorp/terraform-provider-aws/issues/30659).
pub fn destination_kinds(destinations: &[Value]) -> Option<String> {
    for destination in destinations {
        let kinds = [
            destination["settings"].as_array().is_some_and(|s| !s.is_empty()),
            destination["mediaPackageSettings"]
                .as_array()
                .is_some_and(|s| !s.is_empty()),
            destination["multiplexSettings"].is_object(),
            destination["srtSettings"].as_array().is_some_and(|s| !s.is_empty()),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            let id = destination["id"].as_str().unwrap_or_default();
            return Some(format!(
                "Exactly one of settings, MediaPackage settings, or Multiplex settings is required for destination {id}."
            ));
        }
    }
    None
}

/// The channel's output destinations.
pub fn destinations(settings: &Map<String, Value>) -> Vec<Value> {
    settings
        .get("destinations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// What the channel's settings break, as `(elementPath, errorMessage)`. `input_class` tells the
/// class (STANDARD / SINGLE_PIPELINE) of an attached input.
pub fn channel_errors(
    settings: &Map<String, Value>,
    input_class: impl Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let class = settings
        .get("channelClass")
        .and_then(Value::as_str)
        .unwrap_or("STANDARD");
    let pipelines = if class == "SINGLE_PIPELINE" { 1 } else { 2 };
    let destinations = destinations(settings);
    // The model's OutputDestination.settings: "one destination for each redundant encoder".
    for (n, destination) in destinations.iter().enumerate() {
        if let Some(urls) = destination["settings"].as_array()
            && !urls.is_empty()
            && urls.len() != pipelines
        {
            errors.push((
                format!("destinations[{n}].settings"),
                format!(
                    "A {class} channel needs {pipelines} destination URL(s), got {}",
                    urls.len()
                ),
            ));
        }
    }
    for (n, attachment) in settings
        .get("inputAttachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(id) = attachment["inputId"].as_str() else {
            continue;
        };
        // The model's InputClass: SINGLE_PIPELINE "If the ChannelClass is STANDARD, this value is
        // not valid because the channel requires two sources in the input."
        if class == "STANDARD" && input_class(id).as_deref() == Some("SINGLE_PIPELINE") {
            errors.push((
                format!("inputAttachments[{n}]"),
                format!("Input {id} is SINGLE_PIPELINE and cannot be attached to a STANDARD channel"),
            ));
        }
    }
    if let Some(encoder) = settings.get("encoderSettings") {
        errors.extend(encoder_rules(encoder, &destinations));
    }
    errors
}

fn encoder_rules(encoder: &Value, destinations: &[Value]) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let list = |key: &str| encoder[key].as_array().cloned().unwrap_or_default();
    let (videos, audios, groups) = (
        list("videoDescriptions"),
        list("audioDescriptions"),
        list("outputGroups"),
    );
    let outputs = || {
        groups
            .iter()
            .flat_map(|g| g["outputs"].as_array().into_iter().flatten())
    };
    // AWS's words (422): https://github.com/aws-solutions-library-samples/live-streaming-on-aws/pull/6
    for (n, audio) in audios.iter().enumerate() {
        let name = audio["name"].as_str().unwrap_or_default();
        let referenced = outputs().any(|o| {
            o["audioDescriptionNames"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| a.as_str() == Some(name))
        });
        if !referenced {
            errors.push((
                format!("audioDescriptions[{n}]"),
                format!("Audio description \"{name}\" is not referenced by any output"),
            ));
        }
    }
    for (g, group) in groups.iter().enumerate() {
        let settings = &group["outputGroupSettings"];
        for (key, destination) in settings.as_object().into_iter().flatten() {
            let Some(reference) = destination["destination"]["destinationRefId"].as_str() else {
                continue;
            };
            // AWS's words: https://github.com/aws/aws-sdk-java/issues/1525
            match destinations.iter().find(|d| d["id"].as_str() == Some(reference)) {
                None => errors.push((
                    format!("outputGroups[{g}].outputGroupSettings.{key}.destination"),
                    format!("Object references undefined destination \"{reference}\""),
                )),
                Some(found) if key == "hlsGroupSettings" => errors.extend(hls_to_media_package(g, found)),
                Some(_) => {}
            }
        }
        for (o, output) in group["outputs"].as_array().into_iter().flatten().enumerate() {
            let path = format!("outputGroups[{g}].outputs[{o}]");
            let video = output["videoDescriptionName"].as_str();
            if let Some(video) = video
                && !videos.iter().any(|v| v["name"].as_str() == Some(video))
            {
                errors.push((
                    format!("{path}.videoDescriptionName"),
                    format!("Object references undefined video description \"{video}\""),
                ));
            }
            for audio in output["audioDescriptionNames"].as_array().into_iter().flatten() {
                if !audios.iter().any(|a| a["name"] == *audio) {
                    errors.push((
                        format!("{path}.audioDescriptionNames"),
                        format!("Object references undefined audio description {audio}"),
                    ));
                }
            }
        }
    }
    errors
}

/// An HLS output group whose destination is a MediaPackage one: AWS answers 422 with its schema
/// validator's words (quoted in
/// https://github.com/aws-samples/aws-media-services-simple-live-workflow/issues/23). Other URL
/// groups (Archive, MS Smooth…) likely answer alike, but no public answer was found for them.
fn hls_to_media_package(g: usize, destination: &Value) -> Vec<(String, String)> {
    let Some(package) = destination["mediaPackageSettings"].as_array().and_then(|p| p.first()) else {
        return Vec::new();
    };
    let path = format!("output_groups[{g}].output_group_settings");
    let mut errors: Vec<(String, String)> = (package.as_object().into_iter().flatten())
        .map(|(member, _)| {
            let member = snake_case(member);
            (
                format!("{path}.destination.{member}"),
                format!("instance.destination additionalProperty \"{member}\" exists in instance when not allowed"),
            )
        })
        .collect();
    errors.push((
        format!("{path}.destination.uri"),
        "instance.destination requires property \"uri\"".into(),
    ));
    errors.push((path, "Object does not match discriminator \"hls_group\"".into()));
    errors
}

fn snake_case(name: &str) -> String {
    name.chars()
        .flat_map(|c| {
            let lower = c.to_ascii_lowercase();
            (c.is_ascii_uppercase().then_some('_').into_iter()).chain([lower])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn dangling_references_and_unused_audio_are_named_as_medialive_names_them() {
        let channel = settings(json!({
            "channelClass": "SINGLE_PIPELINE",
            "destinations": [{"id": "mp", "mediaPackageSettings": [{"channelId": "c"}]}],
            "encoderSettings": {
                "videoDescriptions": [{"name": "v", "codecSettings": {"h264Settings": {}}}],
                "audioDescriptions": [{"name": "a"}, {"name": "audio_3Aac96"}],
                "outputGroups": [{"outputGroupSettings": {"mediaPackageGroupSettings": {"destination": {"destinationRefId": "nope"}}},
                    "outputs": [{"videoDescriptionName": "v", "audioDescriptionNames": ["a"]},
                                {"videoDescriptionName": "missing", "audioDescriptionNames": ["a"]}]}]
            }
        }));
        let errors = channel_errors(&channel, |_| None);
        let has = |path: &str, text: &str| errors.iter().any(|(p, m)| p == path && m.contains(text));
        assert!(
            has(
                "audioDescriptions[1]",
                "Audio description \"audio_3Aac96\" is not referenced by any output"
            ),
            "{errors:?}"
        );
        assert!(
            has(
                "outputGroups[0].outputGroupSettings.mediaPackageGroupSettings.destination",
                "undefined destination \"nope\""
            ),
            "{errors:?}"
        );
        assert!(
            has(
                "outputGroups[0].outputs[1].videoDescriptionName",
                "undefined video description"
            ),
            "{errors:?}"
        );
    }

    /// cdk-patterns "the-media-live-stream" ran on AWS with `parControl: SPECIFIED` and no
    /// numerator or denominator; AWS's own samples leave the frame rate control likewise, and the
    /// model lets width and height be left out.
    #[test]
    fn media_package_renditions_need_no_size_nor_specified_controls() {
        let channel = settings(json!({
            "channelClass": "SINGLE_PIPELINE",
            "destinations": [{"id": "mp", "mediaPackageSettings": [{"channelId": "c"}]}],
            "encoderSettings": {
                "videoDescriptions": [
                    {"name": "par", "codecSettings": {"h264Settings": {"parControl": "SPECIFIED", "framerateControl": "SPECIFIED"}}},
                    {"name": "source", "codecSettings": {"h264Settings": {"parControl": "INITIALIZE_FROM_SOURCE", "framerateControl": "INITIALIZE_FROM_SOURCE"}}}
                ],
                "audioDescriptions": [{"name": "a"}],
                "outputGroups": [{"outputGroupSettings": {"mediaPackageGroupSettings": {"destination": {"destinationRefId": "mp"}}},
                    "outputs": [{"videoDescriptionName": "par", "audioDescriptionNames": ["a"]},
                                {"videoDescriptionName": "source", "audioDescriptionNames": ["a"]}]}]
            }
        }));
        assert_eq!(channel_errors(&channel, |_| None), []);
    }

    #[test]
    fn an_hls_group_writing_to_a_media_package_destination_is_refused_in_aws_words() {
        let channel = settings(json!({
            "channelClass": "SINGLE_PIPELINE",
            "destinations": [{"id": "mp", "mediaPackageSettings": [{"channelId": "c"}]}],
            "encoderSettings": {
                "videoDescriptions": [{"name": "v"}],
                "audioDescriptions": [],
                "outputGroups": [{"outputGroupSettings": {"hlsGroupSettings": {"destination": {"destinationRefId": "mp"}}},
                    "outputs": [{"videoDescriptionName": "v"}]}]
            }
        }));
        let errors = channel_errors(&channel, |_| None);
        let text: Vec<String> = errors.iter().map(|(p, m)| format!("{p} {m}")).collect();
        assert_eq!(
            text,
            [
                "output_groups[0].output_group_settings.destination.channel_id instance.destination additionalProperty \"channel_id\" exists in instance when not allowed",
                "output_groups[0].output_group_settings.destination.uri instance.destination requires property \"uri\"",
                "output_groups[0].output_group_settings Object does not match discriminator \"hls_group\"",
            ]
        );
    }

    #[test]
    fn a_destination_says_where_in_exactly_one_way() {
        let both =
            json!([{"id": "d", "settings": [{"url": "s3ssl://b/p"}], "mediaPackageSettings": [{"channelId": "c"}]}]);
        let none = json!([{"id": "d"}]);
        let one = json!([{"id": "d", "settings": [{"url": "s3ssl://b/p"}]}]);
        assert!(
            destination_kinds(both.as_array().unwrap())
                .unwrap()
                .ends_with("for destination d.")
        );
        assert!(destination_kinds(none.as_array().unwrap()).is_some());
        assert_eq!(destination_kinds(one.as_array().unwrap()), None);
    }

    #[test]
    fn the_channel_class_decides_urls_per_destination_and_which_inputs_fit() {
        let standard = settings(json!({
            "destinations": [{"id": "d", "settings": [{"url": "s3ssl://b/p"}]}],
            "inputAttachments": [{"inputId": "1"}]
        }));
        let errors = channel_errors(&standard, |_| Some("SINGLE_PIPELINE".into()));
        assert!(
            errors.iter().any(|(p, _)| p == "destinations[0].settings"),
            "{errors:?}"
        );
        assert!(errors.iter().any(|(p, _)| p == "inputAttachments[0]"), "{errors:?}");
        let mut single = standard.clone();
        single.insert("channelClass".into(), json!("SINGLE_PIPELINE"));
        assert!(channel_errors(&single, |_| Some("STANDARD".into())).is_empty());
    }
}
