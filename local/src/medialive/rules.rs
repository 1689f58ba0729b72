//! MediaLive's channel rules beyond the service model's shapes: what CreateChannel and
//! UpdateChannel refuse although every member has the right type. The wording is AWS's where it is
//! known (public issues and docs, see docs/src/local/fidelity.md); element paths
//! inside the encoder settings are relative to them, as MediaLive reports them.

use serde_json::{Map, Value};

/// The one 400 MediaLive answers before validating the rest: a destination must say where to go
/// in exactly one way.
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
            if let Some(reference) = destination["destination"]["destinationRefId"].as_str()
                && !destinations.iter().any(|d| d["id"].as_str() == Some(reference))
            {
                errors.push((
                    format!("outputGroups[{g}].outputGroupSettings.{key}.destination"),
                    format!("Object references undefined destination \"{reference}\""),
                ));
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
            // MediaPackage packages what it is given: it needs the picture's size and rates.
            if settings["mediaPackageGroupSettings"].is_object()
                && let Some((n, description)) = videos.iter().enumerate().find(|(_, v)| v["name"].as_str() == video)
            {
                errors.extend(media_package_video(n, description));
            }
        }
    }
    errors
}

fn media_package_video(n: usize, video: &Value) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let path = format!("videoDescriptions[{n}]");
    for size in ["width", "height"] {
        if !video[size].is_number() {
            errors.push((
                format!("{path}.{size}"),
                format!("Video descriptions used in a MediaPackage output group must specify {size}"),
            ));
        }
    }
    let codec = &video["codecSettings"];
    let Some((name, settings)) = ["h264Settings", "h265Settings"]
        .iter()
        .find_map(|c| codec[*c].is_object().then(|| (*c, &codec[*c])))
    else {
        return errors;
    };
    for (control, what) in [("framerateControl", "framerate"), ("parControl", "par")] {
        if settings[control].as_str() != Some("SPECIFIED") {
            errors.push((
                format!("{path}.codecSettings.{name}.{control}"),
                format!("Video descriptions used in a MediaPackage output group must set {control} to SPECIFIED"),
            ));
            continue;
        }
        // SPECIFIED means the numerator and denominator are given (user guide, MediaPackage output group).
        for part in ["Numerator", "Denominator"] {
            let field = format!("{what}{part}");
            if !settings[&field].is_number() {
                errors.push((
                    format!("{path}.codecSettings.{name}.{field}"),
                    format!("{control} SPECIFIED requires {field}"),
                ));
            }
        }
    }
    errors
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
        assert!(has("videoDescriptions[0].width", "must specify width"), "{errors:?}");
        assert!(
            has(
                "videoDescriptions[0].codecSettings.h264Settings.parControl",
                "SPECIFIED"
            ),
            "{errors:?}"
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
