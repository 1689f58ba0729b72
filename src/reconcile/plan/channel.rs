//! The channel's and the input's next step.

use aws_sdk_medialive::types::ChannelState;

use crate::api::UpdatePolicy;
pub use crate::reconcile::intent::Guard;

/// What the MediaLive channel looks like this pass, next to the spec.
#[derive(Clone, Debug)]
pub struct ChannelFacts {
    /// None: no channel of this stream exists (never created, or deleted behind our back).
    pub state: Option<ChannelState>,
    /// Its settings (ladder, destinations, input attachment, role) differ from the spec's.
    pub differs: bool,
    /// An earlier step found a change that waits for the channel to stop (e.g. the input's key).
    pub pending_elsewhere: bool,
    /// `spec.running`.
    pub running: bool,
    /// The cost guard stopped it at this generation: it stays stopped until the spec changes.
    pub guarded: bool,
    /// A cost guard fires now (maxRunDuration, stopAfterInputLoss).
    pub fires: Option<Guard>,
    pub update_policy: UpdatePolicy,
}

/// Why a running channel is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// `spec.running` is false (or the cost guard holds it stopped).
    NotRunning,
    /// A cost guard fires: it ran longer than `spec.maxRunDuration`, or had no input for
    /// `spec.stopAfterInputLoss`.
    Guard(Guard),
    /// A spec change under `updatePolicy: Restart`.
    Restart,
}

/// The one action on the channel this pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelStep {
    Create,
    /// Bring an IDLE channel's settings to the spec.
    Update,
    Start,
    Stop(StopReason),
    /// Nothing to do. `update_pending`: the spec differs but the channel runs and the policy is
    /// Manual, so the user has to stop it first.
    Steady {
        update_pending: bool,
    },
    /// AWS is moving the channel (creating, starting, updating, stopping, deleting): look again.
    Wait {
        what: String,
        update_pending: bool,
    },
    /// CREATE_FAILED / UPDATE_FAILED: only a person can tell what is wrong.
    Failed(String),
}

pub fn channel_step(f: &ChannelFacts) -> ChannelStep {
    let Some(state) = &f.state else {
        return ChannelStep::Create;
    };
    let differs = f.differs || f.pending_elsewhere;
    let want_running = f.running && !f.guarded;
    match state {
        ChannelState::Idle if f.differs && !f.pending_elsewhere => ChannelStep::Update,
        ChannelState::Idle if want_running => ChannelStep::Start,
        ChannelState::Idle => ChannelStep::Steady { update_pending: false },
        ChannelState::Running | ChannelState::Starting => {
            if !want_running {
                ChannelStep::Stop(StopReason::NotRunning)
            } else if let Some(guard) = f.fires {
                ChannelStep::Stop(StopReason::Guard(guard))
            } else if differs && f.update_policy == UpdatePolicy::Restart {
                ChannelStep::Stop(StopReason::Restart)
            } else if *state == ChannelState::Running {
                ChannelStep::Steady {
                    update_pending: differs,
                }
            } else {
                ChannelStep::Wait {
                    what: "the channel is starting".into(),
                    update_pending: differs,
                }
            }
        }
        ChannelState::CreateFailed | ChannelState::UpdateFailed => ChannelStep::Failed(state.as_str().to_owned()),
        other => ChannelStep::Wait {
            what: format!("the channel is {other}"),
            update_pending: false,
        },
    }
}

/// The RTMP input this pass, next to the spec and the stream key.
#[derive(Clone, Copy, Debug)]
pub struct InputFacts {
    pub exists: bool,
    /// The stream key is known: no Secret is named, or the named Secret was read and its value is
    /// valid. False for every stream-key problem (forbidden, Secret missing, data key missing,
    /// invalid value).
    pub key_known: bool,
    /// The existing input's stream name or security group differs from the spec's.
    pub differs: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputStep {
    Create,
    /// Bring the input's stream name and security group to the spec (AWS refuses while its channel
    /// runs: that becomes an update pending until the channel stops).
    Update,
    Keep,
    /// The key cannot be read: keep the input as it is, so the channel still starts and stops, and
    /// report the problem after the pass.
    KeepAndReport,
    /// No input, and no key to create one with: nothing is created; the problem is the outcome.
    Blocked,
}

pub fn input_step(f: InputFacts) -> InputStep {
    match (f.exists, f.key_known, f.differs) {
        (false, true, _) => InputStep::Create,
        (false, false, _) => InputStep::Blocked,
        (true, false, _) => InputStep::KeepAndReport,
        (true, true, true) => InputStep::Update,
        (true, true, false) => InputStep::Keep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATES: [Option<ChannelState>; 10] = [
        None,
        Some(ChannelState::Creating),
        Some(ChannelState::Idle),
        Some(ChannelState::Starting),
        Some(ChannelState::Running),
        Some(ChannelState::Stopping),
        Some(ChannelState::Updating),
        Some(ChannelState::Deleting),
        Some(ChannelState::CreateFailed),
        Some(ChannelState::UpdateFailed),
    ];

    fn facts(state: Option<ChannelState>) -> ChannelFacts {
        ChannelFacts {
            state,
            differs: false,
            pending_elsewhere: false,
            running: false,
            guarded: false,
            fires: None,
            update_policy: UpdatePolicy::Manual,
        }
    }

    /// Every combination of state × running × differs × policy × guard × limit.
    fn matrix() -> impl Iterator<Item = ChannelFacts> {
        let mut all = Vec::new();
        for state in STATES {
            for bits in 0..32u8 {
                let bit = |n: u8| bits & (1 << n) != 0;
                all.push(ChannelFacts {
                    running: bit(0),
                    differs: bit(1),
                    update_policy: if bit(2) {
                        UpdatePolicy::Restart
                    } else {
                        UpdatePolicy::Manual
                    },
                    guarded: bit(3),
                    fires: bit(4).then_some(Guard::InputLoss),
                    ..facts(state.clone())
                });
            }
        }
        all.into_iter()
    }

    #[test]
    fn a_missing_channel_is_created_whatever_else_holds() {
        for f in matrix().filter(|f| f.state.is_none()) {
            assert_eq!(channel_step(&f), ChannelStep::Create, "{f:?}");
        }
    }

    #[test]
    fn an_idle_channel_is_updated_before_it_is_started() {
        for f in matrix().filter(|f| f.state == Some(ChannelState::Idle)) {
            let want = if f.differs {
                ChannelStep::Update
            } else if f.running && !f.guarded {
                ChannelStep::Start
            } else {
                ChannelStep::Steady { update_pending: false }
            };
            assert_eq!(channel_step(&f), want, "{f:?}");
        }
    }

    #[test]
    fn a_running_channel_stops_for_running_false_the_guard_or_a_restart_in_that_order() {
        for f in matrix().filter(|f| matches!(f.state, Some(ChannelState::Running | ChannelState::Starting))) {
            let step = channel_step(&f);
            if !f.running || f.guarded {
                assert_eq!(step, ChannelStep::Stop(StopReason::NotRunning), "{f:?}");
            } else if let Some(guard) = f.fires {
                assert_eq!(step, ChannelStep::Stop(StopReason::Guard(guard)), "{f:?}");
            } else if f.differs && f.update_policy == UpdatePolicy::Restart {
                assert_eq!(step, ChannelStep::Stop(StopReason::Restart), "{f:?}");
            } else {
                assert!(
                    !matches!(step, ChannelStep::Stop(_) | ChannelStep::Update),
                    "{f:?}: {step:?}"
                );
            }
        }
    }

    #[test]
    fn a_manual_update_waits_for_the_user_and_is_reported() {
        let f = ChannelFacts {
            running: true,
            differs: true,
            ..facts(Some(ChannelState::Running))
        };
        assert_eq!(channel_step(&f), ChannelStep::Steady { update_pending: true });
        let starting = ChannelFacts {
            state: Some(ChannelState::Starting),
            ..f.clone()
        };
        assert_eq!(
            channel_step(&starting),
            ChannelStep::Wait {
                what: "the channel is starting".into(),
                update_pending: true
            }
        );
        // A change found by another step (the input's stream key) also waits for a stop...
        let elsewhere = ChannelFacts {
            differs: false,
            pending_elsewhere: true,
            ..f.clone()
        };
        assert_eq!(channel_step(&elsewhere), ChannelStep::Steady { update_pending: true });
        // ...and is not an update of the channel once it is idle.
        let idle = ChannelFacts {
            state: Some(ChannelState::Idle),
            running: false,
            ..elsewhere
        };
        assert_eq!(channel_step(&idle), ChannelStep::Steady { update_pending: false });
    }

    #[test]
    fn transitions_are_waited_out_and_failures_reported() {
        for f in matrix() {
            let step = channel_step(&f);
            match f.state {
                Some(
                    ChannelState::Creating | ChannelState::Stopping | ChannelState::Updating | ChannelState::Deleting,
                ) => assert!(
                    matches!(
                        step,
                        ChannelStep::Wait {
                            update_pending: false,
                            ..
                        }
                    ),
                    "{f:?}: {step:?}"
                ),
                Some(ChannelState::CreateFailed | ChannelState::UpdateFailed) => {
                    assert!(matches!(step, ChannelStep::Failed(_)), "{f:?}: {step:?}")
                }
                _ => {}
            }
        }
    }

    #[test]
    fn the_cost_guard_keeps_a_stopped_channel_stopped() {
        let f = ChannelFacts {
            running: true,
            guarded: true,
            ..facts(Some(ChannelState::Idle))
        };
        assert_eq!(channel_step(&f), ChannelStep::Steady { update_pending: false });
    }

    #[test]
    fn a_stream_key_problem_never_creates_an_input_and_never_touches_one() {
        // Stream-key states: none named or read fine (known); forbidden, Secret not found, data key
        // missing, invalid value (all unknown to the operator).
        for known in [true, false] {
            for exists in [false, true] {
                for differs in [false, true] {
                    let step = input_step(InputFacts {
                        exists,
                        key_known: known,
                        differs,
                    });
                    let case = format!("exists {exists}, key known {known}, differs {differs}: {step:?}");
                    if !known {
                        // No input is created with, or updated to, a key the operator cannot read;
                        // an existing one stays so the channel still starts and stops.
                        let expected = if exists {
                            InputStep::KeepAndReport
                        } else {
                            InputStep::Blocked
                        };
                        assert_eq!(step, expected, "{case}");
                    } else if !exists {
                        assert_eq!(step, InputStep::Create, "{case}");
                    } else {
                        assert_eq!(step == InputStep::Update, differs, "{case}");
                        assert!(matches!(step, InputStep::Update | InputStep::Keep), "{case}");
                    }
                }
            }
        }
    }
}
