//! Status: the observed state, URLs, AWS ids and the four conditions, written with server-side apply
//! on the status subresource (the operator owns every status field).

use k8s_openapi::{
    apimachinery::pkg::apis::meta::v1::{Condition, Time},
    jiff::Timestamp,
};
use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
};
use serde_json::json;

use super::{
    health::InputHealth,
    intent::{Guard, Source},
    plan::Outcome,
};
use crate::{
    api::{LiveStream, LiveStreamStatus, condition_type, set_condition},
    context::{Context, FIELD_MANAGER},
    error::{Error, Result},
};

/// What a pass learnt besides its outcome.
pub struct Facts<'a> {
    pub input: &'a InputHealth,
    /// Who decided whether the channel runs.
    pub source: Source,
    /// `spec.maxRunDuration`, for the metrics.
    pub max_run_seconds: Option<f64>,
}

/// The conditions for an outcome (pure).
pub fn conditions(
    mut status: LiveStreamStatus,
    generation: Option<i64>,
    outcome: &Result<Outcome>,
    facts: &Facts,
) -> LiveStreamStatus {
    // A blocked plan reads as the failure it is (the pass turns it into one before it gets here).
    if let Ok(Outcome::Blocked(blocker)) = outcome {
        return conditions(status, generation, &Err(blocker.clone().error()), facts);
    }
    let now = Time(Timestamp::now());
    let make_tri = |type_: &str, value: &str, reason: &str, message: String| Condition {
        type_: type_.into(),
        status: value.into(),
        reason: reason.into(),
        message,
        observed_generation: generation,
        last_transition_time: now.clone(),
    };
    let make = |type_: &str, ok: bool, reason: &str, message: String| Condition {
        type_: type_.into(),
        status: if ok { "True" } else { "False" }.into(),
        reason: reason.into(),
        message,
        observed_generation: generation,
        last_transition_time: now.clone(),
    };
    let (ready, progressing, degraded) = match outcome {
        Ok(Outcome::Steady { update_pending }) => match update_pending {
            Some(pending) => (
                (false, "UpdatePending", pending.to_owned()),
                (false, "Idle", String::new()),
                (false, "AsExpected", String::new()),
            ),
            None => (
                (true, "Reconciled", "every AWS resource matches the spec".into()),
                (false, "Idle", String::new()),
                (false, "AsExpected", String::new()),
            ),
        },
        Ok(Outcome::Transition(what)) => (
            (false, "InProgress", what.clone()),
            (true, "InProgress", what.clone()),
            (false, "AsExpected", String::new()),
        ),
        Err(Error::Waiting(what)) => (
            (false, "InProgress", what.clone()),
            (true, "Waiting", what.clone()),
            (false, "AsExpected", String::new()),
        ),
        Ok(Outcome::Blocked(_)) => unreachable!("turned into its error above"),
        Err(e) => {
            let reason = e.reason();
            (
                (false, reason, e.to_string()),
                (false, "Failed", String::new()),
                (true, reason, e.to_string()),
            )
        }
    };
    set_condition(
        &mut status.conditions,
        make(condition_type::READY, ready.0, ready.1, ready.2),
    );
    set_condition(
        &mut status.conditions,
        make(
            condition_type::PROGRESSING,
            progressing.0,
            progressing.1,
            progressing.2.clone(),
        ),
    );
    // kstatus reads these two: Reconciling while the spec is being carried out, Stalled when only
    // the user can unblock it.
    set_condition(
        &mut status.conditions,
        make(condition_type::RECONCILING, progressing.0, progressing.1, progressing.2),
    );
    set_condition(
        &mut status.conditions,
        make(condition_type::STALLED, degraded.0, degraded.1, degraded.2.clone()),
    );
    set_condition(
        &mut status.conditions,
        make(condition_type::DEGRADED, degraded.0, degraded.1, degraded.2),
    );
    let running = status.state.as_deref() == Some("RUNNING");
    let (stopped_reason, stopped_message) = stopped(&status, running, facts.source);
    set_condition(
        &mut status.conditions,
        make(condition_type::STOPPED, !running, stopped_reason, stopped_message),
    );
    let (value, reason, message) = input_connected(&status, facts.input);
    set_condition(
        &mut status.conditions,
        make_tri(condition_type::INPUT_CONNECTED, value, reason, message),
    );
    let alerting = !status.alerts.is_empty();
    let message = (status.alerts.iter())
        .map(|a| format!("{}: {}", a.type_, a.message))
        .collect::<Vec<_>>()
        .join("; ");
    let reason = if alerting { "MediaLiveAlerts" } else { "NoAlerts" };
    set_condition(
        &mut status.conditions,
        make(condition_type::ALERTING, alerting, reason, message),
    );
    status.observed_generation = generation;
    if status.state.is_none() {
        status.state = Some("Pending".into());
    }
    status
}

/// The Stopped condition's reason and message: asked for, a cost guard, or the schedule.
fn stopped(status: &LiveStreamStatus, running: bool, source: Source) -> (&'static str, String) {
    let next = |t: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>| {
        t.map_or_else(|| "no window lies ahead".to_owned(), |t| t.0.to_string())
    };
    let schedule = status.schedule.as_ref();
    match (running, &status.guard_stop, source) {
        (false, Some(guard), _) => {
            let reason = Guard::of_reason(&guard.reason).reason();
            let message = format!(
                "stopped by a cost guard ({}) at {}; it starts again when the spec changes (set running to false and back to true){}",
                guard.reason,
                guard.at.0,
                if schedule.is_some() {
                    " or the next scheduled window opens"
                } else {
                    ""
                }
            );
            (reason, message)
        }
        (false, None, Source::Schedule) => (
            "OutsideSchedule",
            format!(
                "the schedule starts the channel next at {}",
                next(schedule.and_then(|s| s.next_start.as_ref()))
            ),
        ),
        (true, _, Source::Schedule) => (
            "ScheduledWindow",
            format!(
                "running for the scheduled window; it stops at {}",
                next(schedule.and_then(|s| s.next_stop.as_ref()))
            ),
        ),
        (false, _, _) => ("NotRunning", "the channel is not running".into()),
        (true, _, _) => ("Running", "the channel is running and billed".into()),
    }
}

/// The InputConnected condition: True while an encoder pushes to the running channel.
fn input_connected(status: &LiveStreamStatus, input: &InputHealth) -> (&'static str, &'static str, String) {
    match input {
        InputHealth::NotRunning => ("False", "ChannelNotRunning", "the channel is not running".into()),
        InputHealth::Probing => (
            "Unknown",
            "Probing",
            "the channel just started; MediaLive is probing its input".into(),
        ),
        InputHealth::Receiving => ("True", "Receiving", "an encoder is pushing to the input".into()),
        InputHealth::Lost => {
            let why = (status.alerts.iter())
                .map(|a| a.type_.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let since = status
                .input_lost_since
                .as_ref()
                .map(|t| t.0.to_string())
                .unwrap_or_default();
            (
                "False",
                "NoInput",
                format!("no encoder is pushing to the input since {since} ({why})"),
            )
        }
        InputHealth::Unknown(why) => ("Unknown", "AlertsUnavailable", why.clone()),
    }
}

/// Reports a failure that is a pass's whole outcome (a teardown's): the stream's status as it
/// was, with the failure's conditions.
pub async fn write_failure(stream: &LiveStream, ctx: &Context, error: Error) -> Result<Error> {
    let status = stream.status.clone().unwrap_or_default();
    let facts = Facts {
        input: &InputHealth::NotRunning,
        source: Source::Spec,
        max_run_seconds: super::resolve::max_run_seconds(stream),
    };
    let outcome = Err(error);
    write(stream, ctx, status, &outcome, &facts).await?;
    let Err(error) = outcome else {
        unreachable!("built as an error above")
    };
    Ok(error)
}

pub async fn write(
    stream: &LiveStream,
    ctx: &Context,
    status: LiveStreamStatus,
    outcome: &Result<Outcome>,
    facts: &Facts<'_>,
) -> Result<()> {
    let status = conditions(status, stream.metadata.generation, outcome, facts);
    let health = crate::metrics::Health {
        input_connected: match facts.input {
            InputHealth::Receiving => Some(true),
            InputHealth::Lost => Some(false),
            _ => None,
        },
        alerts: status.alerts.len(),
        max_run_seconds: facts.max_run_seconds,
    };
    crate::metrics::set_health(
        &stream.namespace().unwrap_or_default(),
        &stream.name_any(),
        status.state.as_deref() == Some("RUNNING"),
        health,
    );
    if stream.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let api: Api<LiveStream> = Api::namespaced(ctx.client.clone(), &stream.namespace().unwrap_or_default());
    let patch = json!({ "apiVersion": "media.livestream.io/v1alpha1", "kind": "LiveStream", "status": status });
    api.patch_status(
        &stream.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts<'static> {
        Facts {
            input: &InputHealth::NotRunning,
            source: Source::Spec,
            max_run_seconds: None,
        }
    }

    fn steady(update_pending: Option<&str>) -> Outcome {
        Outcome::Steady {
            update_pending: update_pending.map(str::to_owned),
        }
    }

    fn find<'a>(status: &'a LiveStreamStatus, type_: &str) -> &'a Condition {
        status.conditions.iter().find(|c| c.type_ == type_).unwrap()
    }

    #[test]
    fn steady_idle_stream_is_ready_and_stopped() {
        let status = LiveStreamStatus {
            state: Some("IDLE".into()),
            ..Default::default()
        };
        let status = conditions(status, Some(3), &Ok(steady(None)), &facts());
        assert_eq!(find(&status, "Ready").status, "True");
        assert_eq!(find(&status, "Stopped").status, "True");
        assert_eq!(find(&status, "Degraded").status, "False");
        assert!(status.conditions.iter().all(|c| c.observed_generation == Some(3)));
    }

    #[test]
    fn aws_errors_degrade_with_the_service_message() {
        let error = Error::Aws {
            operation: "CreateChannel",
            code: "BadRequestException".into(),
            message: "role not found".into(),
        };
        let status = conditions(LiveStreamStatus::default(), Some(1), &Err(error), &facts());
        let degraded = find(&status, "Degraded");
        assert_eq!(
            (degraded.status.as_str(), degraded.reason.as_str()),
            ("True", "AwsError")
        );
        assert!(degraded.message.contains("role not found"));
        assert_eq!(status.state.as_deref(), Some("Pending"));
    }

    #[test]
    fn a_pending_manual_update_is_not_ready() {
        let status = LiveStreamStatus {
            state: Some("RUNNING".into()),
            ..Default::default()
        };
        let status = conditions(
            status,
            Some(2),
            &Ok(steady(Some("stop the channel to apply"))),
            &facts(),
        );
        let ready = find(&status, "Ready");
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "UpdatePending")
        );
        assert_eq!(find(&status, "Stopped").status, "False");
    }
}
