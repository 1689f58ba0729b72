//! Status: the observed state, URLs, AWS ids and the conditions, as one pure function of what the
//! pass learnt and its outcome (`of`), written with server-side apply on the status subresource (the
//! operator owns every status field).

use k8s_openapi::{
    apimachinery::pkg::apis::meta::v1::{Condition, Time},
    jiff::Timestamp,
};
use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
};
use serde_json::json;

use aws_sdk_medialive::types::ChannelState;

use super::{
    health::InputHealth,
    intent::{Guard, Intent, Source},
    plan::Outcome,
};
use crate::{
    api::{
        CloudFrontStatus, DeliveryMode, GuardStop, LiveStream, LiveStreamStatus, PackagingVersion, condition_type,
        set_condition,
    },
    context::{Context, FIELD_MANAGER},
    desired::{
        ingest::{IngestTarget, server_part},
        redundancy::Resilience,
    },
    error::{Error, Result},
    observe::Observed,
};

/// What a pass learnt besides its outcome and what AWS holds; each part once the pass got there.
pub struct Facts<'a> {
    pub input: &'a InputHealth,
    /// Who decided whether the channel runs.
    pub source: Source,
    /// Whether the channel should run, once decided: the guard stop that holds, the schedule.
    pub intent: Option<&'a Intent>,
    /// A cost guard stopped the channel this pass.
    pub fired: Option<Guard>,
    /// The recorded runs, once listed.
    pub recordings: Option<&'a [String]>,
}

/// What AWS holds once the pass's steps are done, and how the stream uses it.
pub struct Seen {
    pub observed: Observed,
    pub packaging: PackagingVersion,
    pub delivery: DeliveryMode,
    /// The RTMP target, when the stream key is known.
    pub target: Option<IngestTarget>,
    /// Pipelines and the backup input, as the spec asks.
    pub resilience: Resilience,
    /// The channel's engine version.
    pub engine: Option<super::engine::Engine>,
}

/// The stream's status after a pass (pure): `previous` is the status the pass started from, with
/// what it read into it on the way (the channel's alerts, the player page); `seen` is there once
/// the pass executed.
pub fn of(
    previous: &LiveStreamStatus,
    seen: Option<&Seen>,
    facts: &Facts,
    outcome: &Result<Outcome>,
    generation: Option<i64>,
    now: Timestamp,
) -> LiveStreamStatus {
    let mut status = previous.clone();
    if let Some(intent) = facts.intent {
        status.guard_stop = intent.guard_stop.clone();
        status.schedule = intent.schedule.clone();
    }
    if let Some(guard) = facts.fired {
        status.guard_stop = Some(GuardStop {
            reason: guard.reason().into(),
            generation: generation.unwrap_or_default(),
            at: Time(now),
        });
    }
    if let Some(seen) = seen {
        record(&mut status, seen, now);
    }
    if let Some(recordings) = facts.recordings {
        status.recordings = recordings.to_vec();
    }
    let mut status = conditions(status, generation, outcome, facts, now);
    if let Some(seen) = seen {
        redundant(&mut status, &seen.resilience, generation, now);
        match &seen.engine {
            Some(engine) => set_condition(
                &mut status.conditions,
                super::engine::condition(engine, now, generation),
            ),
            None => status.conditions.retain(|c| c.type_ != condition_type::ENGINE_EXPIRING),
        }
    }
    status
}

/// The Redundant condition of a stream with more than one leg; none for one with a single leg.
fn redundant(status: &mut LiveStreamStatus, resilience: &Resilience, generation: Option<i64>, now: Timestamp) {
    let running = status.state.as_deref() == Some("RUNNING");
    let make = |value: &str, reason: &'static str, message: String| Condition {
        type_: condition_type::REDUNDANT.into(),
        status: value.into(),
        reason: reason.into(),
        message,
        observed_generation: generation,
        last_transition_time: Time(now),
    };
    match super::legs::redundant(resilience, running, &status.pipelines, make) {
        Some(condition) => set_condition(&mut status.conditions, condition),
        None => status.conditions.retain(|c| c.type_ != condition_type::REDUNDANT),
    }
}

/// Status fields that follow from what AWS holds: ids, URLs, the channel's state.
fn record(status: &mut LiveStreamStatus, seen: &Seen, now: Timestamp) {
    let observed = &seen.observed;
    status.aws = Some(observed.ids());
    status.packaging_version = Some(seen.packaging);
    status.delivery = Some(seen.delivery);
    status.cloud_front = observed.distribution.as_ref().map(|d| CloudFrontStatus {
        distribution_id: d.id.clone(),
        arn: d.arn.clone(),
        domain_name: d.domain.clone(),
        status: d.status.clone(),
        enabled: d.enabled(),
    });
    let urls = observed.delivered(seen.packaging, seen.delivery);
    status.playback_url = urls.hls;
    status.low_latency_playback_url = urls.low_latency_hls;
    status.dash_playback_url = urls.dash;
    let url = observed.primary_input().and_then(|i| i.url.as_deref());
    status.ingest_url = match &seen.target {
        Some(target) => url.and_then(|u| target.status_url(u)),
        None => url.and_then(server_part),
    };
    let pipelines = seen.resilience.pipelines();
    status.ingest = super::legs::ingest_points(observed, seen.target.as_ref(), pipelines, &status.pipelines);
    let state = observed.channel.as_ref().map(|c| c.state.clone());
    if state == Some(ChannelState::Running) {
        status.running_since.get_or_insert(Time(now));
    } else if let Some(since) = status.running_since.take() {
        let ran = (now.as_second() - since.0.as_second()).max(0);
        *status.billed_seconds.get_or_insert(0) += ran;
    }
    status.state = state.map(|s| s.as_str().to_owned());
    let described = observed.channel.as_ref().filter(|c| c.settings.is_some());
    status.channel = described.map(|c| super::engine::status(c, seen.engine.as_ref()));
}

/// The conditions for an outcome (pure).
fn conditions(
    mut status: LiveStreamStatus,
    generation: Option<i64>,
    outcome: &Result<Outcome>,
    facts: &Facts,
    now: Timestamp,
) -> LiveStreamStatus {
    // A blocked plan reads as the failure it is (the pass turns it into one before it gets here).
    if let Ok(Outcome::Blocked(blocker)) = outcome {
        return conditions(status, generation, &Err(blocker.clone().error()), facts, now);
    }
    let now = Time(now);
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
        Ok(Outcome::Waiting(what)) | Err(Error::Waiting(what)) => (
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
    let previous = stream.status.clone().unwrap_or_default();
    let facts = Facts {
        input: &InputHealth::NotRunning,
        source: Source::Spec,
        intent: None,
        fired: None,
        recordings: None,
    };
    let outcome = Err(error);
    let status = of(
        &previous,
        None,
        &facts,
        &outcome,
        stream.metadata.generation,
        Timestamp::now(),
    );
    let max_run_seconds = super::resolve::max_run_seconds(stream);
    write(stream, ctx, status, &InputHealth::NotRunning, max_run_seconds).await?;
    let Err(error) = outcome else {
        unreachable!("built as an error above")
    };
    Ok(error)
}

/// Writes `status` (unless the stream has it already) and the stream's health metrics.
pub async fn write(
    stream: &LiveStream,
    ctx: &Context,
    status: LiveStreamStatus,
    input: &InputHealth,
    max_run_seconds: Option<f64>,
) -> Result<()> {
    let health = crate::metrics::Health {
        input_connected: match input {
            InputHealth::Receiving => Some(true),
            InputHealth::Lost => Some(false),
            _ => None,
        },
        alerts: status.alerts.len(),
        redundant: (status.conditions.iter())
            .find(|c| c.type_ == condition_type::REDUNDANT && c.status != "Unknown")
            .map(|c| c.status == "True"),
        max_run_seconds,
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
#[path = "status_tests.rs"]
mod tests;
