//! Which source a pipeline encodes: automatic input failover as a pure decision (clocks in,
//! decision out), driven by [`super::pipeline`].
//!
//! A pipeline has one source per input attachment that can publish to it (the failover pair's
//! primary first). The MediaLive user guide ("Automatic input failover", "Starting the channel"):
//! the channel starts on the primary; when the active input meets a failover condition it
//! switches to the other input; an input that failed is healthy again only after it has been
//! free of failover conditions for `ErrorClearTimeMsec`; with PRIMARY_INPUT_PREFERRED the channel
//! then returns to the primary, with EQUAL_INPUT_PREFERENCE it stays where it is.
//!
//! Only the input-loss condition is detected here (no audio or video for the threshold, or the
//! publisher gone). VideoBlack and AudioSilence conditions are accepted and described back, but
//! livestream-local does not look at pixels or levels: they never trigger a failover (a
//! divergence from AWS).

use std::time::Duration;

/// The guide: "If the active input is unhealthy for 3 seconds, MediaLive switches" (used when
/// no input-loss condition gives a threshold).
pub const DEFAULT_INPUT_LOSS: Duration = Duration::from_secs(3);
/// The guide: "When the unhealthy input is healthy again for more than 30 seconds, it is marked
/// as healthy" (the default of `ErrorClearTimeMsec`).
pub const DEFAULT_ERROR_CLEAR: Duration = Duration::from_secs(30);

/// A channel's `AutomaticInputFailoverSettings`, as the media path acts on them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// `InputLossThresholdMsec`.
    pub input_loss: Duration,
    /// `ErrorClearTimeMsec`.
    pub error_clear: Duration,
    /// `InputPreference: PRIMARY_INPUT_PREFERRED`.
    pub prefer_primary: bool,
}

/// One source as the pipeline sees it now.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Seen {
    /// A publisher is connected and publishing.
    pub connected: bool,
    /// It has sent video since it published.
    pub has_video: bool,
    /// Since its last audio or video (or since its publish, before any).
    pub silent_for: Duration,
}

/// The decision's memory: the active source and when each source was last unhealthy.
#[derive(Clone, Debug, Default)]
pub struct Decider {
    pub active: Option<usize>,
    /// Milliseconds (on the caller's clock) when each source was last seen unhealthy.
    unhealthy_at: Vec<Option<u64>>,
}

impl Decider {
    /// Looks at the sources at `now_ms`; returns the new active source when it changes (None:
    /// nothing to encode, the run ends).
    pub fn step(&mut self, now_ms: u64, sources: &[Seen], policy: Option<&Policy>) -> Option<Option<usize>> {
        self.unhealthy_at.resize(sources.len(), None);
        let healthy = |s: &Seen| match policy {
            Some(p) => s.connected && s.has_video && s.silent_for < p.input_loss,
            // Without failover settings only a publisher that left is lost (a silent one keeps
            // its run, as a single input does on AWS).
            None => s.connected && s.has_video,
        };
        for (i, source) in sources.iter().enumerate() {
            if !healthy(source) {
                self.unhealthy_at[i] = Some(now_ms);
            }
        }
        let clear = policy.map_or(Duration::ZERO, |p| p.error_clear).as_millis() as u64;
        let recovered =
            |i: usize| healthy(&sources[i]) && self.unhealthy_at[i].is_none_or(|t| now_ms.saturating_sub(t) >= clear);
        let first_healthy = |skip: Option<usize>| (0..sources.len()).find(|&i| Some(i) != skip && healthy(&sources[i]));
        let next = match self.active {
            // Start on the primary (the first attachment) when it sends, else on whoever does.
            None => first_healthy(None),
            Some(a) if a >= sources.len() => first_healthy(None),
            Some(a) if healthy(&sources[a]) => {
                let back = policy.is_some_and(|p| p.prefer_primary) && a != 0 && recovered(0);
                Some(if back { 0 } else { a })
            }
            // Lost: to another source that is healthy; else stay while the publisher is still
            // connected (input loss shows in alerts), or end the run when it left.
            Some(a) => first_healthy(Some(a)).or(sources[a].connected.then_some(a)),
        };
        (next != self.active).then(|| {
            self.active = next;
            next
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        input_loss: Duration::from_millis(1000),
        error_clear: Duration::from_millis(3000),
        prefer_primary: true,
    };

    fn live() -> Seen {
        Seen {
            connected: true,
            has_video: true,
            silent_for: Duration::ZERO,
        }
    }

    fn silent(ms: u64) -> Seen {
        Seen {
            silent_for: Duration::from_millis(ms),
            ..live()
        }
    }

    const GONE: Seen = Seen {
        connected: false,
        has_video: false,
        silent_for: Duration::ZERO,
    };

    #[test]
    fn starts_on_the_primary_and_fails_over_after_the_loss_threshold() {
        let mut d = Decider::default();
        assert_eq!(d.step(0, &[live(), live()], Some(&POLICY)), Some(Some(0)));
        assert_eq!(
            d.step(100, &[silent(900), live()], Some(&POLICY)),
            None,
            "under the threshold"
        );
        assert_eq!(d.step(200, &[silent(1000), live()], Some(&POLICY)), Some(Some(1)));
        assert_eq!(d.active, Some(1));
    }

    #[test]
    fn primary_preferred_returns_after_the_clear_time_equal_stays() {
        for (prefer_primary, back) in [(true, Some(Some(0))), (false, None)] {
            let policy = Policy {
                prefer_primary,
                ..POLICY
            };
            let mut d = Decider::default();
            d.step(0, &[live(), live()], Some(&policy));
            assert_eq!(d.step(1000, &[GONE, live()], Some(&policy)), Some(Some(1)));
            // The primary is back at 5 s: healthy, but not for the clear time yet.
            assert_eq!(d.step(5000, &[GONE, live()], Some(&policy)), None);
            assert_eq!(d.step(5100, &[live(), live()], Some(&policy)), None);
            assert_eq!(d.step(7999, &[live(), live()], Some(&policy)), None);
            assert_eq!(d.step(8100, &[live(), live()], Some(&policy)), back, "{policy:?}");
        }
    }

    #[test]
    fn a_lost_input_with_nothing_to_fail_over_to_stays_until_its_publisher_leaves() {
        let mut d = Decider::default();
        assert_eq!(
            d.step(0, &[GONE, live()], Some(&POLICY)),
            Some(Some(1)),
            "starts on whoever sends"
        );
        assert_eq!(d.step(100, &[GONE, silent(5000)], Some(&POLICY)), None);
        assert_eq!(
            d.step(200, &[GONE, GONE], Some(&POLICY)),
            Some(None),
            "nothing to encode"
        );
        assert_eq!(d.step(300, &[live(), GONE], Some(&POLICY)), Some(Some(0)));
    }

    #[test]
    fn without_failover_settings_silence_is_kept_and_only_a_departure_switches() {
        let mut d = Decider::default();
        assert_eq!(d.step(0, &[live()], None), Some(Some(0)));
        assert_eq!(d.step(60_000, &[silent(30_000)], None), None);
        assert_eq!(d.step(60_100, &[GONE], None), Some(None));
        let publishing_no_video = Seen {
            has_video: false,
            ..live()
        };
        assert_eq!(
            d.step(60_200, &[publishing_no_video], None),
            None,
            "a run starts with video"
        );
    }
}
