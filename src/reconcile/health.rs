//! Health while the channel runs: MediaLive's active alerts (ListAlerts) become `status.alerts`
//! and `status.inputLostSince`, with an event on every change. A refused or failed ListAlerts
//! never blocks the pass (stopping a billed channel matters more than knowing why it is silent):
//! InputConnected turns Unknown, and a refusal is reported once the pass is done.

use std::time::Duration;

use aws_sdk_medialive::types::ChannelState;
use k8s_openapi::{apimachinery::pkg::apis::meta::v1::Time, jiff::Timestamp};
use kube::runtime::events::EventType;

use super::{legs, publish, resolve::Resolved};
use crate::observe::Observed;
use crate::{
    api::{ChannelAlert, LiveStream, LiveStreamStatus},
    aws::alerts::{self, Alert},
    context::Context,
    desired::ingest::IngestTarget,
    error::Error,
};

/// After a start, MediaLive needs a moment to probe the input: no alert yet does not mean input.
pub const PROBE_GRACE: Duration = Duration::from_secs(15);

/// What the pass learnt of the input, for the InputConnected condition.
#[derive(Clone, Debug, PartialEq)]
pub enum InputHealth {
    /// The channel is not running.
    NotRunning,
    /// Running for less than PROBE_GRACE and no alert yet.
    Probing,
    /// No input-loss alert is set.
    Receiving,
    /// An input-loss alert is set (status.inputLostSince says since when).
    Lost,
    /// ListAlerts failed: the message says why.
    Unknown(String),
}

/// Reads the running channel's alerts into `status` and tells what changed: the input's health,
/// and a refused read to report after the pass.
pub(super) async fn watch(
    ctx: &Context,
    stream: &LiveStream,
    want: &Resolved,
    observed: &Observed,
    status: &mut LiveStreamStatus,
) -> (InputHealth, Option<Error>) {
    let running = observed.channel.as_ref().filter(|c| c.state == ChannelState::Running);
    let Some(channel) = running else {
        status.alerts.clear();
        status.input_lost_since = None;
        status.pipelines.clear();
        return (InputHealth::NotRunning, None);
    };
    let id = channel.id.clone();
    let alerts = match alerts::active(&ctx.aws, &id).await {
        Ok(alerts) => alerts,
        // A throttled or failed read keeps what the last one learnt (no flapping while the
        // account is busy); a refusal (IAM, a wrong region) is reported after the pass.
        Err(e) if e.is_transient() => {
            let input = match status.input_lost_since {
                Some(_) => InputHealth::Lost,
                None if status.alerts.is_empty() => InputHealth::Receiving,
                None => InputHealth::Unknown(format!("cannot read the channel's alerts: {e}")),
            };
            return (input, None);
        }
        Err(e) => {
            let input = InputHealth::Unknown(format!("cannot read the channel's alerts: {e}"));
            return (input, Some(e));
        }
    };
    // MediaLive may quote the stream name, which can be a key from a Secret: never shown.
    let (app, public) = want.stream_name.split_once('/').unwrap_or_default();
    let on_input = observed
        .primary_input()
        .and_then(|i| i.url.as_deref())
        .and_then(|u| u.rsplit_once('/'))
        .map(|(_, key)| key.to_owned());
    // The input may still carry a key from a Secret the spec no longer names.
    let keyed = want.key_from_secret || on_input.as_deref().is_some_and(|k| k != public);
    let target = want.target.as_ref().ok();
    let alerts: Vec<Alert> = match keyed {
        false => alerts,
        true => (alerts.into_iter())
            .map(|a| Alert {
                message: redact(&a.message, app, target, on_input.as_deref()),
                ..a
            })
            .collect(),
    };
    // The input is lost when every pipeline has lost it; one leg down is the Redundant condition's.
    let pipelines = legs::pipelines(ctx, want, &id, &alerts, &status.pipelines).await;
    let lost = pipelines.iter().all(|p| p.input_lost);
    for note in legs::changes(&status.pipelines, &pipelines, &id) {
        publish(ctx, stream, note.kind, note.reason, note.message).await;
    }
    status.pipelines = pipelines;
    let before = std::mem::take(&mut status.alerts);
    status.alerts = alerts.iter().map(to_status).collect();
    for (alert, set) in changes(&before, &status.alerts) {
        let (kind, reason, verb) = match set {
            true => (EventType::Warning, "AlertSet", "raised"),
            false => (EventType::Normal, "AlertCleared", "cleared"),
        };
        let note = format!(
            "MediaLive {verb} \"{}\" on channel {id}: {}",
            alert.type_, alert.message
        );
        publish(ctx, stream, kind, reason, note).await;
    }
    let was_lost = status.input_lost_since.is_some();
    match (lost, was_lost) {
        (true, false) => {
            // Since the first input-loss alert was raised (or now, if MediaLive gave no time).
            let since = (alerts.iter().filter(|a| a.is_input_loss()))
                .filter_map(|a| a.set_at.as_deref()?.parse::<Timestamp>().ok())
                .min()
                .unwrap_or_else(Timestamp::now);
            status.input_lost_since = Some(Time(since));
            let note = format!("No input on MediaLive channel {id}: no encoder is pushing to it");
            publish(ctx, stream, EventType::Warning, "InputLost", note).await;
        }
        (false, true) => {
            status.input_lost_since = None;
            let note = format!("An encoder is pushing to MediaLive channel {id} again");
            publish(ctx, stream, EventType::Normal, "InputConnected", note).await;
        }
        _ => {}
    }
    let young = (status.running_since.as_ref()).is_none_or(|since| super::elapsed(since) < PROBE_GRACE);
    let input = match (lost, alerts.is_empty() && young) {
        (true, _) => InputHealth::Lost,
        (false, true) => InputHealth::Probing,
        (false, false) => InputHealth::Receiving,
    };
    (input, None)
}

/// `text` without the stream key: the key the spec gives, the one on the input, and whatever
/// follows `{app}/` (a key of before a rotation).
fn redact(text: &str, app: &str, target: Option<&IngestTarget>, on_input: Option<&str>) -> String {
    let mut text = target.map_or_else(|| text.to_owned(), |t| t.redact(text));
    if let Some(key) = on_input.filter(|k| !k.is_empty()) {
        text = text.replace(key, "<redacted>");
    }
    let prefix = format!("{app}/");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find(&prefix) {
        let (before, after) = rest.split_at(at + prefix.len());
        out.push_str(before);
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(after.len());
        out.push_str(if end > 0 && !after.starts_with("<redacted>") {
            "<redacted>"
        } else {
            ""
        });
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn to_status(a: &Alert) -> ChannelAlert {
    ChannelAlert {
        type_: a.alert_type.clone(),
        message: a.message.clone(),
        pipeline: a.pipeline_id.clone(),
        since: a.set_at.as_deref().and_then(|t| t.parse().ok()).map(Time),
    }
}

/// Alerts raised (true) and cleared (false) between two lists, matched by type and pipeline.
fn changes<'a>(before: &'a [ChannelAlert], after: &'a [ChannelAlert]) -> Vec<(&'a ChannelAlert, bool)> {
    let same = |a: &ChannelAlert, b: &ChannelAlert| a.type_ == b.type_ && a.pipeline == b.pipeline;
    let raised = (after.iter()).filter(|a| !before.iter().any(|b| same(a, b)));
    let cleared = (before.iter()).filter(|b| !after.iter().any(|a| same(a, b)));
    raised.map(|a| (a, true)).chain(cleared.map(|b| (b, false))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(type_: &str, pipeline: &str) -> ChannelAlert {
        ChannelAlert {
            type_: type_.into(),
            message: String::new(),
            pipeline: Some(pipeline.into()),
            since: None,
        }
    }

    #[test]
    fn a_stream_key_in_an_alert_message_is_redacted_even_after_a_rotation() {
        let message = "RTMP stream [live/old-key-123] not found on rtmp://h:1935/live/new_key";
        assert_eq!(
            redact(message, "live", None, Some("new_key")),
            "RTMP stream [live/<redacted>] not found on rtmp://h:1935/live/<redacted>"
        );
        assert_eq!(redact("no stream here", "live", None, None), "no stream here");
    }

    #[test]
    fn raised_and_cleared_alerts_are_told_apart_by_type_and_pipeline() {
        let before = [alert("Video Not Detected", "0"), alert("Audio Not Detected", "0")];
        let after = [alert("Audio Not Detected", "0"), alert("Video Not Detected", "1")];
        let changed: Vec<_> = changes(&before, &after)
            .into_iter()
            .map(|(a, set)| (a.type_.as_str(), a.pipeline.as_deref().unwrap(), set))
            .collect();
        assert_eq!(
            changed,
            [("Video Not Detected", "1", true), ("Video Not Detected", "0", false)]
        );
    }
}
