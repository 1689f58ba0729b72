//! The members MediaLive's model gives every shape a CreateChannel request holds
//! (`medialive_members.json`, written from botocore's model by `hack/medialive-members.py`).
//!
//! Why the operator checks names before AWS does: a member the model lacks is not held by the
//! channel, so the intent is lost and drift would ask for it again on every full read (under
//! `updatePolicy: Restart`, a stop each time). The AWS CLI refuses such a request client-side; the
//! SDK, sending the overrides as the request's body, cannot. Wrong types and values stay
//! MediaLive's to refuse: the dry run reports them in AWS's words.

use std::{collections::BTreeMap, sync::LazyLock};

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(untagged)]
enum Shape {
    Structure { members: BTreeMap<String, String> },
    List { list: String },
    Map { map: String },
    Scalar(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct Model {
    root: String,
    shapes: BTreeMap<String, Shape>,
}

static MODEL: LazyLock<Model> = LazyLock::new(|| {
    serde_json::from_str(include_str!("medialive_members.json")).expect("the committed member table is JSON")
});

/// The first member of `request` (in the request's names) that MediaLive's model does not have:
/// where it is, its name, and the member meant (a close name) or the members there are.
pub fn unknown_member(request: &Value) -> Option<String> {
    find(&MODEL.root, request, "")
}

fn find(shape_name: &str, value: &Value, at: &str) -> Option<String> {
    match (MODEL.shapes.get(shape_name)?, value) {
        (Shape::Structure { members }, Value::Object(object)) => {
            object.iter().find_map(|(name, child)| match members.get(name) {
                Some(shape) => find(shape, child, &join(at, name)),
                None => Some(unknown(shape_name, members, at, name)),
            })
        }
        (Shape::List { list }, Value::Array(items)) => {
            (items.iter().enumerate()).find_map(|(n, item)| find(list, item, &format!("{at}[{n}]")))
        }
        (Shape::Map { map }, Value::Object(entries)) => {
            entries.iter().find_map(|(key, entry)| find(map, entry, &join(at, key)))
        }
        _ => None,
    }
}

fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

/// In the AWS CLI's words ("Unknown parameter in X: "Y", must be one of: …"), naming the shape,
/// with the member meant when one is close.
fn unknown(shape_name: &str, members: &BTreeMap<String, String>, at: &str, name: &str) -> String {
    let place = if at.is_empty() { "the request" } else { at };
    let meant = (members.keys())
        .map(|m| (strsim::damerau_levenshtein(&m.to_lowercase(), &name.to_lowercase()), m))
        .filter(|(distance, _)| *distance <= 2.max(name.len() / 5))
        .min();
    let choice = match meant {
        Some((_, m)) => format!("did you mean \"{m}\"?"),
        None => format!(
            "must be one of: {}",
            members.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    };
    format!("unknown parameter in {place}: \"{name}\" (MediaLive's {shape_name} has no such member), {choice}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::unknown_member;

    #[test]
    fn a_request_in_the_models_names_has_no_unknown_member() {
        let request = json!({
            "Name": "n",
            "EncoderSettings": {
                "AudioDescriptions": [{"AudioSelectorName": "a", "Name": "audio",
                    "CodecSettings": {"AacSettings": {"Bitrate": 96000}}}],
                "VideoDescriptions": [{"Name": "v", "CodecSettings": {"H265Settings": {"QvbrQualityLevel": 7}}}],
            },
            "Tags": {"anything": "goes"},
        });
        assert_eq!(unknown_member(&request), None);
    }

    #[test]
    fn a_misspelt_member_is_named_with_the_one_meant() {
        let request = json!({"EncoderSettings": {"AudioDescriptions": [
            {"Name": "a"},
            {"Name": "b", "AudioTypeControll": "FOLLOW_INPUT"},
        ]}});
        assert_eq!(
            unknown_member(&request).as_deref(),
            Some(
                "unknown parameter in EncoderSettings.AudioDescriptions[1]: \"AudioTypeControll\" \
                 (MediaLive's AudioDescription has no such member), did you mean \"AudioTypeControl\"?"
            )
        );
    }

    #[test]
    fn a_member_from_another_shape_lists_the_members_there_are() {
        let request = json!({"InputSpecification": {"Codec": "AVC", "Bitrate": 5000000}});
        let found = unknown_member(&request).unwrap();
        assert!(
            found.starts_with("unknown parameter in InputSpecification: \"Bitrate\""),
            "{found}"
        );
        assert!(
            found.ends_with("must be one of: Codec, MaximumBitrate, Resolution"),
            "{found}"
        );
    }

    #[test]
    fn a_case_slip_is_caught_at_the_top() {
        let found = unknown_member(&json!({"logLevel": "DEBUG"})).unwrap();
        assert!(
            found.starts_with("unknown parameter in the request: \"logLevel\""),
            "{found}"
        );
        assert!(found.ends_with("did you mean \"LogLevel\"?"), "{found}");
    }
}
