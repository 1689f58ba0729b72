//! Teardown: the next step for each kind still there, taken in `aws::TEARDOWN_ORDER`.

use aws_sdk_medialive::types::{ChannelState, InputState};

/// A resource teardown found still there, with the state that decides what can be done to it.
#[derive(Clone, Debug, PartialEq)]
pub enum Found {
    Channel(ChannelState),
    Input(InputState),
    SecurityGroup,
    Endpoint,
    PackageChannel,
}

/// The next teardown action on a resource that is still there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TeardownStep {
    /// A running channel is stopped first (AWS refuses to delete it); then wait for IDLE.
    Stop,
    /// Delete it. `settles`: AWS deletes it over time, so look again before the next kind.
    Delete { settles: bool },
    /// It is moving (starting, stopping, being created or deleted, still attached): look again.
    Wait(String),
}

pub fn teardown_step(found: &Found) -> TeardownStep {
    match found {
        Found::Channel(ChannelState::Running | ChannelState::Starting | ChannelState::Recovering) => TeardownStep::Stop,
        Found::Channel(ChannelState::Idle | ChannelState::CreateFailed | ChannelState::UpdateFailed) => {
            TeardownStep::Delete { settles: true }
        }
        Found::Channel(other) => TeardownStep::Wait(format!("the channel is {other}")),
        Found::Input(InputState::Detached) => TeardownStep::Delete { settles: true },
        Found::Input(other) => TeardownStep::Wait(format!("the input is {other}")),
        Found::SecurityGroup | Found::Endpoint | Found::PackageChannel => TeardownStep::Delete { settles: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{Kind, TEARDOWN_ORDER};

    #[test]
    fn teardown_stops_a_running_channel_then_deletes_in_dependency_order() {
        assert_eq!(
            TEARDOWN_ORDER,
            [
                Kind::Channel,
                Kind::Input,
                Kind::SecurityGroup,
                Kind::Endpoint,
                Kind::PackageChannel,
                Kind::OriginEndpoint,
                Kind::ChannelV2
            ]
        );
        for state in [ChannelState::Running, ChannelState::Starting, ChannelState::Recovering] {
            assert_eq!(teardown_step(&Found::Channel(state)), TeardownStep::Stop);
        }
        for state in [
            ChannelState::Idle,
            ChannelState::CreateFailed,
            ChannelState::UpdateFailed,
        ] {
            assert_eq!(
                teardown_step(&Found::Channel(state)),
                TeardownStep::Delete { settles: true }
            );
        }
        for state in [
            ChannelState::Creating,
            ChannelState::Stopping,
            ChannelState::Updating,
            ChannelState::Deleting,
        ] {
            assert!(matches!(teardown_step(&Found::Channel(state)), TeardownStep::Wait(_)));
        }
        assert_eq!(
            teardown_step(&Found::Input(InputState::Detached)),
            TeardownStep::Delete { settles: true }
        );
        for state in [InputState::Attached, InputState::Creating, InputState::Deleting] {
            assert!(matches!(teardown_step(&Found::Input(state)), TeardownStep::Wait(_)));
        }
        for found in [Found::SecurityGroup, Found::Endpoint, Found::PackageChannel] {
            assert_eq!(teardown_step(&found), TeardownStep::Delete { settles: false });
        }
    }
}
