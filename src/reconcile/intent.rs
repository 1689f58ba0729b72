//! Intent: whether the channel should run right now, from `spec.running`, the schedule, a manual
//! override of the schedule and the cost guards (maxRunDuration, stopAfterInputLoss). Pure: the
//! clock and the previous status are parameters.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::{
    api::{GuardStop, LiveStreamSpec, LiveStreamStatus, ScheduleStatus},
    desired::schedule::Schedule,
};

/// What the spec asks of the channel's running: `spec.running` and the cost guards' limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asked {
    pub running: bool,
    pub max_run_duration: Option<Duration>,
    pub stop_after_input_loss: Option<Duration>,
}

impl Asked {
    pub fn of(spec: &LiveStreamSpec) -> Self {
        Self {
            running: spec.running,
            max_run_duration: spec.max_run_duration.map(Duration::from),
            stop_after_input_loss: spec.stop_after_input_loss.map(Duration::from),
        }
    }
}

/// Who decides that the channel runs or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `spec.running` (no schedule).
    Spec,
    /// The schedule's windows.
    Schedule,
    /// `spec.running`, changed by hand while a schedule is set: it holds until the next boundary.
    Manual,
}

/// A cost guard that stops a running channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    MaxRunDuration,
    InputLoss,
}

impl Guard {
    /// Its reason in status (`guardStop.reason`), conditions and events.
    pub fn reason(self) -> &'static str {
        match self {
            Guard::MaxRunDuration => "MaxRunDurationExceeded",
            Guard::InputLoss => "InputLoss",
        }
    }

    /// Why it stopped the channel, for the stop's event.
    pub fn why(self) -> &'static str {
        match self {
            Guard::MaxRunDuration => "it ran longer than spec.maxRunDuration",
            Guard::InputLoss => "no input for spec.stopAfterInputLoss",
        }
    }

    /// The guard a `guardStop.reason` names (any reason but InputLoss's is maxRunDuration's, as
    /// an operator of before `guardStop` recorded only that one).
    pub fn of_reason(reason: &str) -> Guard {
        match reason {
            r if r == Guard::InputLoss.reason() => Guard::InputLoss,
            _ => Guard::MaxRunDuration,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Intent {
    /// The channel should run now.
    pub running: bool,
    pub source: Source,
    /// A guard that fires now: the running channel must stop.
    pub fires: Option<Guard>,
    /// An earlier guard stop that still holds (the channel stays stopped).
    pub guard_stop: Option<GuardStop>,
    /// `status.schedule` as of now.
    pub schedule: Option<ScheduleStatus>,
    /// The schedule's next start and stop, for event notes.
    pub next_stop: Option<Timestamp>,
    /// When something is due: a guard, a schedule boundary, the end of an override.
    pub wake: Option<Duration>,
}

/// What the pass needs besides the spec and the previous status.
pub struct Now<'a> {
    pub at: Timestamp,
    pub generation: Option<i64>,
    /// The channel is RUNNING or STARTING.
    pub channel_running: bool,
    pub schedule: Option<&'a Schedule>,
}

pub fn intent(spec: &Asked, status: &LiveStreamStatus, now: &Now) -> Intent {
    let mut wake: Option<Duration> = None;
    let mut due = |at: Timestamp| {
        let secs = (at.as_second() - now.at.as_second()).max(1) as u64;
        wake = Some(wake.map_or(Duration::from_secs(secs), |w| w.min(Duration::from_secs(secs))));
    };
    // The schedule, and a manual override of it.
    let mut window_start = None;
    let (mut running, source, schedule, next_stop) = match now.schedule {
        None => (spec.running, Source::Spec, None, None),
        Some(schedule) => {
            let phase = schedule.phase(now.at);
            window_start = phase.window_start;
            let old = status.schedule.clone().unwrap_or_default();
            // An override ends at the first boundary after it was made, as the schedule is now
            // (windows added or moved since count).
            let until = match (old.manual_until.as_ref().map(|t| t.0), phase.next_boundary()) {
                (Some(u), Some(b)) => Some(u.min(b)),
                (u, b) => u.or(b),
            };
            let mut manual = old.manual && until.is_none_or(|u| now.at < u);
            let mut manual_until = if manual { until } else { None };
            if old.running_seen.is_some_and(|seen| seen != spec.running) {
                manual = true;
                manual_until = phase.next_boundary();
            }
            for at in [phase.next_start, phase.next_stop, manual_until].into_iter().flatten() {
                due(at);
            }
            let (running, source) = if manual {
                (spec.running, Source::Manual)
            } else {
                (phase.active, Source::Schedule)
            };
            let status = ScheduleStatus {
                next_start: phase.next_start.map(Time),
                next_stop: phase.next_stop.map(Time),
                running_seen: Some(spec.running),
                manual,
                manual_until: manual_until.map(Time),
            };
            (running, source, Some(status), phase.next_stop)
        }
    };
    // A guard's stop holds until the spec changes (a manual `running` change is one) or a window
    // opens.
    let guard_stop = status.guard_stop.clone().filter(|g| {
        Some(g.generation) == now.generation && !now.schedule.is_some_and(|s| s.opened_between(g.at.0, now.at))
    });
    if guard_stop.is_some() {
        running = false;
    }
    // Guards that fire now, or when they will.
    let mut fires = None;
    if running && now.channel_running {
        let limits = [
            (
                Guard::MaxRunDuration,
                spec.max_run_duration,
                status.running_since.as_ref(),
            ),
            (
                Guard::InputLoss,
                spec.stop_after_input_loss,
                status.input_lost_since.as_ref(),
            ),
        ];
        for (guard, limit, since) in limits {
            let (Some(limit), Some(since)) = (limit, since) else {
                continue;
            };
            // No input during the lead time is expected: the encoder starts with the window.
            let since = match (guard, source, window_start) {
                (Guard::InputLoss, Source::Schedule, Some(start)) if start > since.0 => &Time(start),
                _ => since,
            };
            let limit = jiff::SignedDuration::try_from(limit).unwrap_or(jiff::SignedDuration::MAX);
            match since.0.checked_add(limit) {
                Ok(at) if at <= now.at => fires = fires.or(Some(guard)),
                Ok(at) => due(at),
                Err(_) => {}
            }
        }
    }
    Intent {
        running,
        source,
        fires,
        guard_stop,
        schedule,
        next_stop,
        wake,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ScheduleSpec, ScheduleWindow};

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn schedule() -> Schedule {
        let spec = ScheduleSpec {
            time_zone: "UTC".into(),
            lead_time: Duration::from_secs(600).into(),
            windows: vec![ScheduleWindow {
                start: Some("2026-12-24T18:00".into()),
                end: Some("2026-12-24T21:00".into()),
                cron: None,
                duration: None,
            }],
        };
        Schedule::parse(&spec).unwrap()
    }

    fn now<'a>(text: &str, schedule: Option<&'a Schedule>, channel_running: bool) -> Now<'a> {
        Now {
            at: at(text),
            generation: Some(1),
            channel_running,
            schedule,
        }
    }

    fn spec(running: bool) -> Asked {
        let spec: LiveStreamSpec = serde_json::from_value(serde_json::json!({ "running": running })).unwrap();
        Asked::of(&spec)
    }

    #[test]
    fn without_a_schedule_spec_running_decides() {
        let i = intent(
            &spec(true),
            &LiveStreamStatus::default(),
            &now("2026-12-24T12:00:00Z", None, false),
        );
        assert_eq!((i.running, i.source, i.wake), (true, Source::Spec, None));
    }

    #[test]
    fn the_schedule_starts_the_channel_a_lead_time_before_the_window() {
        let s = schedule();
        let before = intent(
            &spec(false),
            &LiveStreamStatus::default(),
            &now("2026-12-24T17:49:00Z", Some(&s), false),
        );
        assert_eq!((before.running, before.source), (false, Source::Schedule));
        assert_eq!(before.wake, Some(Duration::from_secs(60)));
        let status = LiveStreamStatus {
            schedule: before.schedule,
            ..Default::default()
        };
        let lead = intent(&spec(false), &status, &now("2026-12-24T17:50:00Z", Some(&s), false));
        assert!(lead.running);
        assert_eq!(lead.next_stop, Some(at("2026-12-24T21:00:00Z")));
    }

    #[test]
    fn a_manual_change_wins_until_the_next_boundary() {
        let s = schedule();
        let first = intent(
            &spec(false),
            &LiveStreamStatus::default(),
            &now("2026-12-24T19:00:00Z", Some(&s), true),
        );
        assert!(first.running, "inside the window");
        // The user sets running: true then false (a change from what was seen): stop until 21:00.
        let status = LiveStreamStatus {
            schedule: Some(ScheduleStatus {
                running_seen: Some(true),
                ..first.schedule.unwrap()
            }),
            ..Default::default()
        };
        let manual = intent(&spec(false), &status, &now("2026-12-24T19:30:00Z", Some(&s), true));
        assert_eq!((manual.running, manual.source), (false, Source::Manual));
        let held = manual.schedule.clone().unwrap();
        assert_eq!(
            held.manual_until.as_ref().map(|t| t.0),
            Some(at("2026-12-24T21:00:00Z"))
        );
        let status = LiveStreamStatus {
            schedule: Some(held),
            ..Default::default()
        };
        let still = intent(&spec(false), &status, &now("2026-12-24T20:00:00Z", Some(&s), false));
        assert_eq!((still.running, still.source), (false, Source::Manual));
        let after = intent(&spec(false), &status, &now("2026-12-24T21:00:01Z", Some(&s), false));
        assert_eq!(after.source, Source::Schedule);
    }

    #[test]
    fn input_loss_fires_after_its_limit_and_then_holds_until_the_spec_changes() {
        let mut s = spec(true);
        s.stop_after_input_loss = Some(Duration::from_secs(900));
        let lost = LiveStreamStatus {
            input_lost_since: Some(Time(at("2026-12-24T12:00:00Z"))),
            ..Default::default()
        };
        let early = intent(&s, &lost, &now("2026-12-24T12:10:00Z", None, true));
        assert_eq!((early.fires, early.wake), (None, Some(Duration::from_secs(300))));
        let late = intent(&s, &lost, &now("2026-12-24T12:15:00Z", None, true));
        assert_eq!(late.fires, Some(Guard::InputLoss));
        let stopped = LiveStreamStatus {
            guard_stop: Some(GuardStop {
                reason: "InputLoss".into(),
                generation: 1,
                at: Time(at("2026-12-24T12:15:00Z")),
            }),
            ..Default::default()
        };
        let held = intent(&s, &stopped, &now("2026-12-24T13:00:00Z", None, false));
        assert!(!held.running && held.guard_stop.is_some());
        let edited = Now {
            generation: Some(2),
            ..now("2026-12-24T13:00:00Z", None, false)
        };
        assert!(intent(&s, &stopped, &edited).running);
    }

    #[test]
    fn a_guard_stop_holds_during_a_manual_override_and_an_override_ends_at_a_window_added_later() {
        let s = schedule();
        let manual = LiveStreamStatus {
            schedule: Some(ScheduleStatus {
                running_seen: Some(true),
                manual: true,
                manual_until: None,
                ..Default::default()
            }),
            guard_stop: Some(GuardStop {
                reason: "MaxRunDurationExceeded".into(),
                generation: 1,
                at: Time(at("2026-12-24T12:00:00Z")),
            }),
            ..Default::default()
        };
        let held = intent(&spec(true), &manual, &now("2026-12-24T13:00:00Z", Some(&s), false));
        assert_eq!(
            (held.running, held.source),
            (false, Source::Manual),
            "the guard is not forgotten"
        );
        let until = held.schedule.unwrap().manual_until.map(|t| t.0);
        assert_eq!(
            until,
            Some(at("2026-12-24T17:50:00Z")),
            "the window's start ends the override"
        );
    }

    #[test]
    fn input_loss_counts_from_the_window_start_not_from_the_lead_time() {
        let s = schedule();
        let mut guarded = spec(false);
        guarded.stop_after_input_loss = Some(Duration::from_secs(300));
        let lost = LiveStreamStatus {
            input_lost_since: Some(Time(at("2026-12-24T17:52:00Z"))),
            ..Default::default()
        };
        let lead = intent(&guarded, &lost, &now("2026-12-24T17:58:00Z", Some(&s), true));
        assert_eq!(lead.fires, None, "the window opens at 18:00");
        let late = intent(&guarded, &lost, &now("2026-12-24T18:05:00Z", Some(&s), true));
        assert_eq!(late.fires, Some(Guard::InputLoss));
    }

    #[test]
    fn a_guard_stop_ends_when_the_next_window_opens() {
        let s = schedule();
        let stopped = LiveStreamStatus {
            guard_stop: Some(GuardStop {
                reason: "InputLoss".into(),
                generation: 1,
                at: Time(at("2026-12-23T20:00:00Z")),
            }),
            ..Default::default()
        };
        assert!(!intent(&spec(false), &stopped, &now("2026-12-24T17:00:00Z", Some(&s), false)).running);
        assert!(intent(&spec(false), &stopped, &now("2026-12-24T17:55:00Z", Some(&s), false)).running);
    }
}
