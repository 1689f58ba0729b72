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

use super::Progress;
use crate::{
    api::{LiveStream, LiveStreamStatus, condition_type, set_condition},
    context::{Context, FIELD_MANAGER},
    error::{Error, Result},
};

/// The conditions for an outcome (pure).
pub fn conditions(
    mut status: LiveStreamStatus,
    generation: Option<i64>,
    outcome: &Result<Progress>,
    update_pending: Option<&str>,
) -> LiveStreamStatus {
    let now = Time(Timestamp::now());
    let make = |type_: &str, ok: bool, reason: &str, message: String| Condition {
        type_: type_.into(),
        status: if ok { "True" } else { "False" }.into(),
        reason: reason.into(),
        message,
        observed_generation: generation,
        last_transition_time: now.clone(),
    };
    let (ready, progressing, degraded) = match outcome {
        Ok(Progress::Steady) => match update_pending {
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
        Ok(Progress::Transition(what)) => (
            (false, "InProgress", what.clone()),
            (true, "InProgress", what.clone()),
            (false, "AsExpected", String::new()),
        ),
        Err(Error::Waiting(what)) => (
            (false, "InProgress", what.clone()),
            (true, "Waiting", what.clone()),
            (false, "AsExpected", String::new()),
        ),
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
        make(condition_type::PROGRESSING, progressing.0, progressing.1, progressing.2),
    );
    set_condition(
        &mut status.conditions,
        make(condition_type::DEGRADED, degraded.0, degraded.1, degraded.2),
    );
    let running = status.state.as_deref() == Some("RUNNING");
    let (stopped_reason, stopped_message) = if status.max_run_duration_stopped_generation.is_some()
        && status.max_run_duration_stopped_generation == generation
        && !running
    {
        (
            "MaxRunDurationExceeded",
            "stopped by spec.maxRunDuration; set running to false and back to true to start again",
        )
    } else if running {
        ("Running", "the channel is running and billed")
    } else {
        ("NotRunning", "the channel is not running")
    };
    set_condition(
        &mut status.conditions,
        make(
            condition_type::STOPPED,
            !running,
            stopped_reason,
            stopped_message.into(),
        ),
    );
    status.observed_generation = generation;
    if status.state.is_none() {
        status.state = Some("Pending".into());
    }
    status
}

pub async fn write(
    stream: &LiveStream,
    ctx: &Context,
    status: LiveStreamStatus,
    outcome: &Result<Progress>,
    update_pending: Option<&str>,
) -> Result<()> {
    let status = conditions(status, stream.metadata.generation, outcome, update_pending);
    crate::metrics::set_running(
        &stream.namespace().unwrap_or_default(),
        &stream.name_any(),
        status.state.as_deref() == Some("RUNNING"),
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

    fn find<'a>(status: &'a LiveStreamStatus, type_: &str) -> &'a Condition {
        status.conditions.iter().find(|c| c.type_ == type_).unwrap()
    }

    #[test]
    fn steady_idle_stream_is_ready_and_stopped() {
        let status = LiveStreamStatus {
            state: Some("IDLE".into()),
            ..Default::default()
        };
        let status = conditions(status, Some(3), &Ok(Progress::Steady), None);
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
        let status = conditions(LiveStreamStatus::default(), Some(1), &Err(error), None);
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
            &Ok(Progress::Steady),
            Some("stop the channel to apply"),
        );
        let ready = find(&status, "Ready");
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "UpdatePending")
        );
        assert_eq!(find(&status, "Stopped").status, "False");
    }
}
