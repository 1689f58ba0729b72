//! Resilience as MediaLive takes it: the channel's class, the inputs it reads (a backup beside the
//! primary), how many destinations each input has, and the failover settings on the primary's
//! attachment.

use aws_sdk_medialive::types::ChannelClass;
use serde_json::{Value, json};

use crate::api::{BackupInputSpec, InputPreference, LiveStreamSpec, Redundancy};
use crate::resource::Role;

/// The audio selector every attachment has (see `medialive`): the one silence is watched on.
pub(super) const AUDIO_SELECTOR: &str = "default";

/// `spec.redundancy` and `spec.input.backup`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resilience {
    pub redundancy: Redundancy,
    pub backup: Option<BackupInputSpec>,
}

impl Resilience {
    pub fn of(spec: &LiveStreamSpec) -> Self {
        Self {
            redundancy: spec.redundancy,
            backup: spec.input.backup.clone(),
        }
    }

    /// The roles of the inputs the channel reads from, in attachment order.
    pub fn input_roles(&self) -> Vec<Role> {
        let backup = self.backup.as_ref().map(|_| Role::Backup);
        [Role::Primary].into_iter().chain(backup).collect()
    }

    /// Destinations per input: one per pipeline.
    pub fn pipelines(&self) -> usize {
        self.redundancy.pipelines()
    }

    pub fn channel_class(&self) -> ChannelClass {
        match self.redundancy {
            Redundancy::Single => ChannelClass::SinglePipeline,
            Redundancy::Standard => ChannelClass::Standard,
        }
    }

    /// The stream asks for more than one leg: status tells which are up.
    pub fn asked(&self) -> bool {
        self.redundancy == Redundancy::Standard || self.backup.is_some()
    }

    /// The primary attachment's `AutomaticInputFailoverSettings` to `secondary` (the backup
    /// input's id), if the spec has a backup.
    pub fn failover(&self, secondary: &str) -> Option<Value> {
        let backup = self.backup.as_ref()?;
        let input_loss = json!({"InputLossSettings": {"InputLossThresholdMsec": backup.input_loss_threshold_msec}});
        let black = backup.video_black.as_ref().map(|b| {
            json!({"VideoBlackSettings": {
                "BlackDetectThreshold": b.black_level,
                "VideoBlackThresholdMsec": b.threshold_msec,
            }})
        });
        let silence = backup.audio_silence.as_ref().map(|s| {
            json!({"AudioSilenceSettings": {
                "AudioSelectorName": AUDIO_SELECTOR,
                "AudioSilenceThresholdMsec": s.threshold_msec,
            }})
        });
        let conditions: Vec<Value> = [input_loss]
            .into_iter()
            .chain(black)
            .chain(silence)
            .map(|settings| json!({"FailoverConditionSettings": settings}))
            .collect();
        let preference = match backup.input_preference {
            InputPreference::PrimaryPreferred => "PRIMARY_INPUT_PREFERRED",
            InputPreference::Equal => "EQUAL_INPUT_PREFERENCE",
        };
        Some(json!({
            "SecondaryInputId": secondary,
            "InputPreference": preference,
            "FailoverConditions": conditions,
            "ErrorClearTimeMsec": backup.error_clear_time_msec,
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn of(spec: serde_json::Value) -> Resilience {
        Resilience::of(&serde_json::from_value(spec).unwrap())
    }

    #[test]
    fn a_stream_of_before_is_one_pipeline_and_one_input() {
        let single = of(json!({}));
        assert_eq!(single.input_roles(), [Role::Primary]);
        assert_eq!((single.pipelines(), single.asked()), (1, false));
        assert_eq!(single.channel_class(), ChannelClass::SinglePipeline);
        assert_eq!(single.failover("2"), None);
    }

    #[test]
    fn a_backup_is_a_second_input_the_primary_fails_over_to_on_the_asked_conditions() {
        let both = of(json!({"redundancy": "Standard", "input": {"backup": {
            "inputPreference": "Equal", "inputLossThresholdMsec": 500,
            "audioSilence": {"thresholdMsec": 2000}}}}));
        assert_eq!(both.input_roles(), [Role::Primary, Role::Backup]);
        assert_eq!((both.pipelines(), both.asked()), (2, true));
        assert_eq!(both.channel_class(), ChannelClass::Standard);
        let failover = both.failover("4321").unwrap();
        assert_eq!(failover["SecondaryInputId"], "4321");
        assert_eq!(failover["InputPreference"], "EQUAL_INPUT_PREFERENCE");
        assert_eq!(failover["ErrorClearTimeMsec"], 30_000);
        let conditions = failover["FailoverConditions"].as_array().unwrap();
        assert_eq!(conditions.len(), 2, "{conditions:?}");
        let loss = &conditions[0]["FailoverConditionSettings"]["InputLossSettings"];
        assert_eq!(loss["InputLossThresholdMsec"], 500);
        let silence = &conditions[1]["FailoverConditionSettings"]["AudioSilenceSettings"];
        assert_eq!(silence["AudioSelectorName"], AUDIO_SELECTOR);
        assert_eq!(silence["AudioSilenceThresholdMsec"], 2000);
    }
}
