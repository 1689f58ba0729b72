//! Status as one pure function: conditions, fields and their history.
use super::*;

fn facts() -> Facts<'static> {
    Facts {
        input: &InputHealth::NotRunning,
        source: Source::Spec,
        intent: None,
        fired: None,
        recordings: None,
    }
}

fn conditions(
    status: LiveStreamStatus,
    generation: Option<i64>,
    outcome: &Result<Outcome>,
    facts: &Facts,
) -> LiveStreamStatus {
    super::conditions(status, generation, outcome, facts, Timestamp::now())
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
        source: None,
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

fn seen(state: ChannelState) -> Seen {
    let observed = Observed {
        channel: Some(crate::aws::Channel {
            id: "9".into(),
            arn: None,
            owner: Some("uid".into()),
            state,
            settings: None,
            corrected: None,
        }),
        ..Default::default()
    };
    Seen {
        observed,
        packaging: PackagingVersion::V2,
        delivery: DeliveryMode::CloudFront,
        target: None,
        resilience: Resilience::default(),
        engine: None,
    }
}

#[test]
fn status_is_one_function_of_the_previous_status_what_the_pass_learnt_and_its_outcome() {
    let at = |text: &str| text.parse::<Timestamp>().unwrap();
    let previous = LiveStreamStatus {
        running_since: Some(Time(at("2026-12-24T12:00:00Z"))),
        billed_seconds: Some(60),
        ..Default::default()
    };
    // A cost guard stopped the channel: its stop is recorded at this generation, the channel's
    // run is billed, and the Stopped condition names the guard.
    let learnt = Facts {
        fired: Some(Guard::InputLoss),
        recordings: Some(&["s3://b/r/1/".to_owned()]),
        ..facts()
    };
    let now = at("2026-12-24T12:10:00Z");
    let outcome = Ok(Outcome::Transition("stopping".into()));
    let status = of(
        &previous,
        Some(&seen(ChannelState::Stopping)),
        &learnt,
        &outcome,
        Some(4),
        now,
    );
    let guard = status.guard_stop.as_ref().unwrap();
    assert_eq!(
        (guard.reason.as_str(), guard.generation, guard.at.0),
        ("InputLoss", 4, now)
    );
    assert_eq!(
        (status.running_since.as_ref(), status.billed_seconds),
        (None, Some(660))
    );
    assert_eq!(status.state.as_deref(), Some("STOPPING"));
    assert_eq!(
        (status.packaging_version, status.delivery),
        (Some(PackagingVersion::V2), Some(DeliveryMode::CloudFront))
    );
    assert_eq!(status.recordings, ["s3://b/r/1/"]);
    let stopped = find(&status, "Stopped");
    assert_eq!(
        (stopped.status.as_str(), stopped.reason.as_str()),
        ("True", "InputLoss")
    );
    assert_eq!(find(&status, "Progressing").message, "stopping");
    assert!(status.conditions.iter().all(|c| c.last_transition_time.0 == now));
    // The same inputs give the same status; a pass that observed nothing keeps what it had.
    assert_eq!(
        status,
        of(
            &previous,
            Some(&seen(ChannelState::Stopping)),
            &learnt,
            &outcome,
            Some(4),
            now
        )
    );
    let failed = of(
        &previous,
        None,
        &facts(),
        &Err(Error::Invalid("x".into())),
        Some(4),
        now,
    );
    assert_eq!(
        (failed.running_since, failed.billed_seconds, failed.guard_stop),
        (previous.running_since.clone(), Some(60), None)
    );
    assert_eq!(failed.state.as_deref(), Some("Pending"));
}

#[test]
fn waiting_is_an_outcome_that_reads_as_progress_not_as_a_failure() {
    let now = Timestamp::now();
    let what = "MediaPackage channel a is not visible yet";
    let waiting = of(
        &LiveStreamStatus::default(),
        None,
        &facts(),
        &Ok(Outcome::Waiting(what.into())),
        Some(1),
        now,
    );
    let progressing = find(&waiting, "Progressing");
    assert_eq!(
        (
            progressing.status.as_str(),
            progressing.reason.as_str(),
            progressing.message.as_str()
        ),
        ("True", "Waiting", what)
    );
    assert_eq!(find(&waiting, "Ready").reason, "InProgress");
    assert_eq!(find(&waiting, "Degraded").status, "False");
    let as_error = Err(Error::Waiting(what.into()));
    assert_eq!(
        waiting,
        of(&LiveStreamStatus::default(), None, &facts(), &as_error, Some(1), now)
    );
}
