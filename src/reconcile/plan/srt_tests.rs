//! SRT as a plan: the passphrase's secret before the input that decrypts with it, a rotated
//! passphrase as a new version of the secret and nothing else, and teardown in dependency order.

use serde_json::json;

use super::tests::{UID, apply, desired_for, flags};
use super::*;
use crate::desired::{ingest::IngestTarget, srt::Passphrase, srt::SrtTarget};

fn srt_spec() -> LiveStreamSpec {
    serde_json::from_value(json!({"input": {
        "protocol": "SRT",
        "srt": {"passphraseSecretRef": {"name": "srt"}, "streamId": "cam-1"}
    }}))
    .unwrap()
}

fn target(spec: &LiveStreamSpec, passphrase: &str) -> IngestTarget {
    let passphrase = Passphrase::parse(passphrase.as_bytes()).unwrap();
    IngestTarget::Srt(SrtTarget::of(
        spec.input.srt.as_ref().unwrap(),
        passphrase,
        "secret-uid".into(),
    ))
}

/// Plans and applies until nothing is left; every round's steps.
fn settle(spec: &LiveStreamSpec, target: &IngestTarget, observed: &mut Observed) -> Vec<Vec<Step>> {
    let mut rounds = Vec::new();
    for _ in 0..8 {
        let desired = desired_for(spec, observed, Some(target));
        let plan = plan(UID, observed, &desired, &flags());
        if plan.steps.is_empty() {
            return rounds;
        }
        for step in &plan.steps {
            apply(observed, &desired, step);
        }
        rounds.push(plan.steps);
    }
    panic!("the plan did not settle: {rounds:?}");
}

#[test]
fn the_secret_comes_before_the_srt_input_that_decrypts_with_it() {
    let spec = srt_spec();
    let mut observed = Observed::default();
    let rounds = settle(&spec, &target(&spec, "first passphrase"), &mut observed);
    let flat: Vec<Step> = rounds.concat();
    let at = |step: Step| {
        flat.iter()
            .position(|s| *s == step)
            .unwrap_or_else(|| panic!("{step:?} in {flat:?}"))
    };
    assert!(at(Step::Create(Kind::SecurityGroup.main())) < at(Step::Create(Kind::Secret.main())));
    assert!(at(Step::Create(Kind::Secret.main())) < at(Step::Create(Kind::Input.role(Role::Primary))));
    assert!(at(Step::Create(Kind::Input.role(Role::Primary))) < at(Step::Create(Kind::Channel.main())));
    let desired = desired_for(&spec, &observed, Some(&target(&spec, "first passphrase")));
    let input = &desired.inputs[&Role::Primary];
    assert_eq!(
        input.secret_arn.as_deref(),
        observed.secret.as_ref().map(|s| s.arn.as_str())
    );
    assert!(observed.inputs[&Role::Primary].urls[0].starts_with("srt://"));
}

#[test]
fn a_rotated_passphrase_is_a_new_version_of_the_secret_and_nothing_else() {
    let spec = srt_spec();
    let mut observed = Observed::default();
    settle(&spec, &target(&spec, "first passphrase"), &mut observed);
    let rounds = settle(&spec, &target(&spec, "second passphrase"), &mut observed);
    assert_eq!(rounds, vec![vec![Step::Update(Kind::Secret.main())]]);
    assert!(settle(&spec, &target(&spec, "second passphrase"), &mut observed).is_empty());
}

#[test]
fn without_the_passphrase_no_secret_and_no_input_are_made() {
    let spec = srt_spec();
    let mut observed = Observed::default();
    let desired = desired_for(&spec, &observed, None);
    assert!(desired.secret.is_none() && desired.inputs.is_empty());
    let mut flags = flags();
    flags.key_known = false;
    for _ in 0..3 {
        let plan = plan(UID, &observed, &desired, &flags);
        if matches!(plan.outcome, Outcome::Blocked(Blocker::StreamKey)) {
            assert!(
                !plan
                    .steps
                    .iter()
                    .any(|s| matches!(s, Step::Create(r) if r.kind == Kind::Input || r.kind == Kind::Secret))
            );
            return;
        }
        for step in &plan.steps {
            apply(&mut observed, &desired, step);
        }
    }
    panic!("never blocked on the passphrase");
}
