//! Resilience as a plan: a backup input beside the primary, both inputs with a destination per
//! pipeline, and a change of class that waits for the inputs and a stopped channel.

use aws_sdk_medialive::types::{ChannelClass, ChannelState};
use serde_json::json;

use super::tests::{UID, converge, desired, flags, spec};
use super::*;
use crate::aws::Input;

fn resilient(redundancy: &str) -> LiveStreamSpec {
    let mut spec = spec();
    spec.redundancy = serde_json::from_value(json!(redundancy)).unwrap();
    spec.input.backup = Some(serde_json::from_value(json!({"inputLossThresholdMsec": 500})).unwrap());
    spec
}

#[test]
fn a_backup_input_is_created_beside_the_primary_and_the_channel_fails_over_to_it() {
    let mut observed = Observed::default();
    let (rounds, last) = converge(&resilient("Standard"), &mut observed, &flags());
    assert_eq!(
        rounds[1],
        vec![
            Step::Create(Kind::Endpoint.main()),
            Step::Create(Kind::Input.role(Role::Primary)),
            Step::Create(Kind::Input.role(Role::Backup)),
        ]
    );
    assert_eq!(last.outcome, Outcome::Steady { update_pending: None });
    for input in observed.inputs.values() {
        assert_eq!(input.urls.len(), 2, "a destination per pipeline: {input:?}");
    }
    let want = desired(&resilient("Standard"), &observed, true);
    let channel = want.channel.unwrap();
    assert_eq!(channel.channel_class, ChannelClass::Standard);
    let attachments = channel.request["InputAttachments"].as_array().unwrap();
    let [primary, backup] = &attachments[..] else {
        panic!("{attachments:?}")
    };
    let failover = &primary["AutomaticInputFailoverSettings"];
    assert_eq!(failover["SecondaryInputId"], backup["InputId"]);
    assert!(backup.get("AutomaticInputFailoverSettings").is_none());
}

#[test]
fn going_standard_updates_the_inputs_then_the_stopped_channel_and_waits_while_it_runs() {
    let mut observed = Observed::default();
    converge(&spec(), &mut observed, &flags());
    // Running under Manual: the inputs and the channel wait for a stop, and it is reported.
    observed.channel.as_mut().unwrap().state = ChannelState::Running;
    let running = Flags {
        running: true,
        ..flags()
    };
    let mut standard = spec();
    standard.redundancy = crate::api::Redundancy::Standard;
    let pass = plan(UID, &observed, &desired(&standard, &observed, true), &running);
    assert!(pass.steps.is_empty(), "{:?}", pass.steps);
    assert!(
        matches!(&pass.outcome, Outcome::Steady { update_pending: Some(why) } if why.contains("stream name") || why.contains("stop")),
        "{:?}",
        pass.outcome
    );
    // Stopped: the input gets its second destination, then the channel its class.
    observed.channel.as_mut().unwrap().state = ChannelState::Idle;
    let (rounds, last) = converge(&standard, &mut observed, &flags());
    assert_eq!(
        rounds,
        vec![
            vec![Step::Update(Kind::Input.role(Role::Primary))],
            vec![Step::Update(Kind::Channel.main())],
        ]
    );
    assert_eq!(last.outcome, Outcome::Steady { update_pending: None });
    // Back to Single: only the channel changes; the input keeps its second destination.
    let (rounds, _) = converge(&spec(), &mut observed, &flags());
    assert_eq!(rounds, vec![vec![Step::Update(Kind::Channel.main())]]);
}

/// The stream's inputs are a set by role: one the spec does not ask for (a backup of a spec that
/// was Standard) is deleted, but only once the channel no longer reads from it.
#[test]
fn an_input_of_a_role_the_spec_does_not_ask_for_goes_once_the_channel_lets_go_of_it() {
    let mut observed = Observed::default();
    converge(&spec(), &mut observed, &flags());
    let mut backup = observed.inputs[&Role::Primary].clone();
    (backup.id, backup.role) = ("4321".into(), Role::Backup);
    observed.inputs.insert(Role::Backup, backup);
    let (rounds, last) = converge(&spec(), &mut observed, &flags());
    assert_eq!(rounds, vec![vec![Step::Delete(Kind::Input.role(Role::Backup))]]);
    assert_eq!(last.outcome, Outcome::Steady { update_pending: None });
    assert_eq!(observed.inputs.keys().collect::<Vec<_>>(), [&Role::Primary]);

    // A channel known to read from it (a summary without settings is assumed to): not yet.
    let mut attached = observed.clone();
    attached.inputs.insert(
        Role::Backup,
        Input {
            id: "4321".into(),
            role: Role::Backup,
            ..attached.inputs[&Role::Primary].clone()
        },
    );
    attached.channel.as_mut().unwrap().settings = None;
    let plan = plan(UID, &attached, &desired(&spec(), &attached, true), &flags());
    assert!(
        !plan.steps.contains(&Step::Delete(Kind::Input.role(Role::Backup))),
        "{:?}",
        plan.steps
    );
}
