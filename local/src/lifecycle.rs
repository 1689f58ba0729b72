//! Resource states that move with time, as on AWS: a channel asked to start is STARTING now and
//! RUNNING once its delay has passed, however often (or rarely) anyone calls Describe.

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Lifecycle<S> {
    state: S,
    /// The state reached at the instant, once that instant has passed.
    pending: Option<(S, Instant)>,
}

impl<S: Copy + PartialEq> Lifecycle<S> {
    /// A resource that is `now` and becomes `then` after `delay`.
    pub fn transition(now: S, then: S, delay: Duration) -> Self {
        Self {
            state: now,
            pending: Some((then, Instant::now() + delay)),
        }
    }

    /// The state at `at`.
    pub fn at(&self, at: Instant) -> S {
        match self.pending {
            Some((next, due)) if at >= due => next,
            _ => self.state,
        }
    }

    pub fn now(&self) -> S {
        self.at(Instant::now())
    }

    /// When the state current at `at` was entered through a timed transition.
    pub fn entered_at(&self, at: Instant) -> Option<Instant> {
        self.pending.and_then(|(_, due)| (at >= due).then_some(due))
    }

    /// Enters `via` now and reaches `then` after `delay`.
    pub fn begin(&mut self, via: S, then: S, delay: Duration) {
        self.state = via;
        self.pending = Some((then, Instant::now() + delay));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_moves_with_time_not_with_reads() {
        let l = Lifecycle::transition("CREATING", "IDLE", Duration::from_millis(50));
        let start = Instant::now();
        for _ in 0..1000 {
            assert_eq!(l.at(start), "CREATING");
        }
        let later = start + Duration::from_millis(60);
        assert_eq!(l.at(later), "IDLE");
        assert!(l.entered_at(later).is_some());
    }

    #[test]
    fn zero_delay_lands_at_once() {
        let mut l = Lifecycle::transition("IDLE", "IDLE", Duration::ZERO);
        l.begin("STARTING", "RUNNING", Duration::ZERO);
        assert_eq!(l.now(), "RUNNING");
    }
}
