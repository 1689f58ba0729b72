//! A channel's redundancy: its pipelines (two for STANDARD, one per destination of its
//! standard-class inputs) and the automatic input failover pair on an input attachment.
//!
//! The rules CreateChannel / UpdateChannel / UpdateChannelClass check here come from the
//! MediaLive user guide ("Automatic input failover": both inputs of the pair are push inputs of
//! the same input class, the secondary is attached to the channel too; "a channel can have at
//! most two push inputs"). AWS's wording of these refusals was not found in public: the messages
//! are ours, with AWS's error type (422, as for the other channel validation errors). The bounds
//! of the `…Msec` members (`__integerMin100`, `__integerMin1000`, `__integerMin1`) and the
//! `InputPreference` enum are the service model's, checked before this by [`crate::model`].

use std::time::Duration;

use serde_json::{Map, Value};

use super::input_kinds::{self, Family};
use crate::media::failover::{self, Policy};
use crate::media::pipeline::Redundancy;

/// What [`channel_errors`] needs to know of an attached input: its type and class.
pub struct InputFacts {
    pub input_type: String,
    pub input_class: String,
}

fn attachments(settings: &Map<String, Value>) -> Vec<Value> {
    (settings.get("inputAttachments").and_then(Value::as_array))
        .cloned()
        .unwrap_or_default()
}

/// Pipelines of a channel class (STANDARD when none is sent, as the service defaults).
pub fn pipelines(settings: &Map<String, Value>) -> u8 {
    match settings.get("channelClass").and_then(Value::as_str) {
        Some("SINGLE_PIPELINE") => 1,
        _ => 2,
    }
}

/// The failover rules, as `(elementPath, errorMessage)`.
pub fn channel_errors(
    settings: &Map<String, Value>,
    facts: impl Fn(&str) -> Option<InputFacts>,
) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let attachments = attachments(settings);
    let ids: Vec<&str> = attachments.iter().filter_map(|a| a["inputId"].as_str()).collect();
    let push = ids
        .iter()
        .filter(|id| facts(id).is_some_and(|f| input_kinds::family(&f.input_type) == Family::Push))
        .count();
    if push > 2 {
        errors.push((
            "inputAttachments".into(),
            format!("A channel can have at most two push inputs, got {push}"),
        ));
    }
    for (n, attachment) in attachments.iter().enumerate() {
        let settings = &attachment["automaticInputFailoverSettings"];
        if settings.is_null() {
            continue;
        }
        let path = format!("inputAttachments[{n}].automaticInputFailoverSettings");
        let primary = attachment["inputId"].as_str().unwrap_or_default();
        let Some(secondary) = settings["secondaryInputId"].as_str() else {
            continue; // required by the model: refused there
        };
        if secondary == primary {
            errors.push((
                format!("{path}.secondaryInputId"),
                format!("The secondary input {secondary} must be another input than the primary"),
            ));
            continue;
        }
        if !ids.contains(&secondary) {
            errors.push((
                format!("{path}.secondaryInputId"),
                format!("The secondary input {secondary} is not attached to this channel"),
            ));
            continue;
        }
        let (Some(a), Some(b)) = (facts(primary), facts(secondary)) else {
            continue; // a missing input is reported by the attachment check
        };
        for (id, f) in [(primary, &a), (secondary, &b)] {
            if input_kinds::family(&f.input_type) != Family::Push {
                errors.push((
                    path.clone(),
                    format!(
                        "Automatic input failover works between push inputs; input {id} is {}",
                        f.input_type
                    ),
                ));
            }
        }
        if a.input_class != b.input_class {
            errors.push((
                path.clone(),
                format!(
                    "The inputs of a failover pair must have the same input class: {primary} is {}, {secondary} is {}",
                    a.input_class, b.input_class
                ),
            ));
        }
    }
    errors
}

/// The channel's pipelines and sources as the media path runs them: a failover pair's primary
/// first, its secondary second, then the other attachments.
pub fn redundancy(settings: &Map<String, Value>) -> (Redundancy, Vec<String>) {
    let attachments = attachments(settings);
    let mut order: Vec<usize> = (0..attachments.len()).collect();
    let pair = attachments.iter().enumerate().find_map(|(n, a)| {
        let secondary = a["automaticInputFailoverSettings"]["secondaryInputId"].as_str()?;
        let m = attachments
            .iter()
            .position(|b| b["inputId"].as_str() == Some(secondary))?;
        Some((n, m, &a["automaticInputFailoverSettings"]))
    });
    let failover = pair.map(|(n, m, settings)| {
        order.retain(|i| *i != n && *i != m);
        order.splice(0..0, [n, m]);
        policy(settings)
    });
    let name = |a: &Value| {
        (a["inputAttachmentName"].as_str())
            .or(a["inputId"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let sources = order.iter().map(|&i| name(&attachments[i])).collect();
    let inputs = order
        .iter()
        .map(|&i| attachments[i]["inputId"].as_str().unwrap_or_default().to_owned())
        .collect();
    let redundancy = Redundancy {
        pipelines: pipelines(settings),
        sources,
        failover,
    };
    (redundancy, inputs)
}

/// `AutomaticInputFailoverSettings` as the media path acts on them. Without an input-loss
/// condition, input loss still fails over, after the guide's 3 seconds.
fn policy(settings: &Value) -> Policy {
    let ms = |v: &Value| v.as_u64().map(Duration::from_millis);
    let conditions = settings["failoverConditions"].as_array().cloned().unwrap_or_default();
    let input_loss = conditions
        .iter()
        .find_map(|c| ms(&c["failoverConditionSettings"]["inputLossSettings"]["inputLossThresholdMsec"]))
        .unwrap_or(failover::DEFAULT_INPUT_LOSS);
    Policy {
        input_loss,
        error_clear: ms(&settings["errorClearTimeMsec"]).unwrap_or(failover::DEFAULT_ERROR_CLEAR),
        prefer_primary: settings["inputPreference"].as_str() == Some("PRIMARY_INPUT_PREFERRED"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn facts(id: &str) -> Option<InputFacts> {
        let (input_type, input_class) = match id {
            "push2" | "push2b" => ("RTMP_PUSH", "STANDARD"),
            "push1" => ("RTMP_PUSH", "SINGLE_PIPELINE"),
            "pull" => ("URL_PULL", "STANDARD"),
            _ => return None,
        };
        Some(InputFacts {
            input_type: input_type.into(),
            input_class: input_class.into(),
        })
    }

    fn channel(attachments: Value) -> Map<String, Value> {
        json!({"channelClass": "STANDARD", "inputAttachments": attachments})
            .as_object()
            .unwrap()
            .clone()
    }

    fn pair(primary: &str, secondary: &str) -> Map<String, Value> {
        channel(json!([
            {"inputId": primary, "inputAttachmentName": "main",
             "automaticInputFailoverSettings": {"secondaryInputId": secondary, "inputPreference": "PRIMARY_INPUT_PREFERRED",
                "errorClearTimeMsec": 3000,
                "failoverConditions": [{"failoverConditionSettings": {"inputLossSettings": {"inputLossThresholdMsec": 1000}}}]}},
            {"inputId": secondary, "inputAttachmentName": "backup"}
        ]))
    }

    #[test]
    fn a_failover_pair_is_two_attached_push_inputs_of_one_class() {
        assert_eq!(channel_errors(&pair("push2", "push2b"), facts), []);
        let mut not_attached = pair("push2", "push2b");
        not_attached["inputAttachments"][0]["automaticInputFailoverSettings"]["secondaryInputId"] = json!("elsewhere");
        let errors = channel_errors(&not_attached, facts);
        assert!(errors[0].1.contains("not attached to this channel"), "{errors:?}");
        let errors = channel_errors(&pair("push2", "push1"), facts);
        assert!(errors[0].1.contains("same input class"), "{errors:?}");
        let errors = channel_errors(&pair("push2", "pull"), facts);
        assert!(errors[0].1.contains("between push inputs"), "{errors:?}");
        let three = channel(json!([{"inputId": "push2"}, {"inputId": "push2b"}, {"inputId": "push1"}]));
        assert!(channel_errors(&three, facts)[0].1.contains("at most two push inputs"));
    }

    #[test]
    fn the_pair_is_read_primary_first_with_its_thresholds() {
        let mut settings = pair("push2", "push2b");
        settings["inputAttachments"].as_array_mut().unwrap().reverse();
        let (redundancy, inputs) = redundancy(&settings);
        assert_eq!(redundancy.sources, ["main", "backup"]);
        assert_eq!(inputs, ["push2", "push2b"]);
        assert_eq!(redundancy.pipelines, 2);
        assert_eq!(
            redundancy.failover,
            Some(Policy {
                input_loss: Duration::from_millis(1000),
                error_clear: Duration::from_millis(3000),
                prefer_primary: true
            })
        );
    }
}
