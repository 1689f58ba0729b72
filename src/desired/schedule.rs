//! `spec.schedule` as time: when the channel should run, and the next start and stop. Pure (the
//! clock is a parameter), so daylight saving time, overlapping windows and the lead time are unit
//! tests. Cron expressions are croner's, time zones jiff's (the IANA database).

use std::time::Duration;

use croner::{Cron, parser::CronParser, parser::Seconds};
use jiff::{Timestamp, Zoned, civil::DateTime, tz::TimeZone};

use crate::api::ScheduleSpec;

/// A parsed schedule.
#[derive(Debug)]
pub struct Schedule {
    zone: TimeZone,
    lead: Duration,
    windows: Vec<Window>,
}

#[derive(Debug)]
enum Window {
    Once { start: Timestamp, end: Timestamp },
    Every { cron: Box<Cron>, duration: Duration },
}

/// Where `now` stands in the schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase {
    /// Inside a window, or within the lead time before one.
    pub active: bool,
    /// When the channel is next started (a window's start minus the lead time), if ever.
    pub next_start: Option<Timestamp>,
    /// When it is next stopped: the end of the current window, or of the next one.
    pub next_stop: Option<Timestamp>,
    /// While active: when the current window itself begins (its start, not the lead time's).
    pub window_start: Option<Timestamp>,
}

impl Phase {
    /// The next moment the schedule changes its mind.
    pub fn next_boundary(&self) -> Option<Timestamp> {
        if self.active { self.next_stop } else { self.next_start }
    }
}

/// Overlapping windows are merged by following them; this many at most.
const MAX_CHAINED: usize = 64;

impl Schedule {
    /// Reads the spec; Err names the field that is wrong.
    pub fn parse(spec: &ScheduleSpec) -> Result<Self, String> {
        let zone = TimeZone::get(&spec.time_zone)
            .map_err(|_| format!("spec.schedule.timeZone: {:?} is not an IANA time zone", spec.time_zone))?;
        let parser = CronParser::builder().seconds(Seconds::Disallowed).build();
        let mut windows = Vec::new();
        for (i, w) in spec.windows.iter().enumerate() {
            let field = |name: &str| format!("spec.schedule.windows[{i}].{name}");
            let window = match (&w.start, &w.end, &w.cron, &w.duration) {
                (Some(start), Some(end), None, None) => {
                    let at = |text: &str, name: &str| {
                        instant(text, &zone).ok_or_else(|| format!("{}: {text:?} is not a date-time", field(name)))
                    };
                    let (start, end) = (at(start, "start")?, at(end, "end")?);
                    if end <= start {
                        return Err(format!("{}: the window ends before it starts", field("end")));
                    }
                    Window::Once { start, end }
                }
                (None, None, Some(cron), Some(duration)) => {
                    let cron = parser
                        .parse(cron)
                        .map_err(|e| format!("{}: {cron:?}: {e}", field("cron")))?;
                    let duration = Duration::from(*duration);
                    if duration.is_zero() {
                        return Err(format!("{}: a window lasts longer than 0s", field("duration")));
                    }
                    Window::Every {
                        cron: Box::new(cron),
                        duration,
                    }
                }
                _ => {
                    return Err(format!(
                        "spec.schedule.windows[{i}]: either start and end, or cron and duration"
                    ));
                }
            };
            windows.push(window);
        }
        Ok(Self {
            zone,
            lead: spec.lead_time.into(),
            windows,
        })
    }

    /// Where `now` stands.
    pub fn phase(&self, now: Timestamp) -> Phase {
        let lead = jiff::SignedDuration::try_from(self.lead).unwrap_or_default();
        let covering = |t: Timestamp| (self.windows.iter()).filter_map(move |w| self.covering(w, t, lead));
        let active_end = |t: Timestamp| covering(t).map(|(_, end)| end).max();
        let window_start = covering(now).map(|(start, _)| start).min();
        match active_end(now) {
            Some(mut end) => {
                // Follow windows that begin before this one ends (lead time included).
                for _ in 0..MAX_CHAINED {
                    match active_end(end) {
                        Some(later) if later > end => end = later,
                        _ => break,
                    }
                }
                Phase {
                    active: true,
                    next_start: self.next_start_after(end, lead),
                    next_stop: Some(end),
                    window_start,
                }
            }
            None => {
                let next_start = self.next_start_after(now, lead);
                let next_stop = next_start.and_then(|s| {
                    let mut end = active_end(s)?;
                    for _ in 0..MAX_CHAINED {
                        match active_end(end) {
                            Some(later) if later > end => end = later,
                            _ => break,
                        }
                    }
                    Some(end)
                });
                Phase {
                    active: false,
                    next_start,
                    next_stop,
                    window_start: None,
                }
            }
        }
    }

    /// Whether a window opened (lead time included) in (after, until].
    pub fn opened_between(&self, after: Timestamp, until: Timestamp) -> bool {
        let lead = jiff::SignedDuration::try_from(self.lead).unwrap_or_default();
        self.next_start_after(after, lead).is_some_and(|s| s <= until)
    }

    /// The start and end of window `w` if it covers `t` (its start minus the lead, up to its end).
    fn covering(&self, w: &Window, t: Timestamp, lead: jiff::SignedDuration) -> Option<(Timestamp, Timestamp)> {
        match w {
            Window::Once { start, end } => (start.checked_sub(lead).ok()? <= t && t < *end).then_some((*start, *end)),
            Window::Every { cron, duration } => {
                let probe = t.checked_add(lead).ok()?.to_zoned(self.zone.clone());
                let start = cron.find_previous_occurrence(&probe, true).ok()?.timestamp();
                let end = start
                    .checked_add(jiff::SignedDuration::try_from(*duration).ok()?)
                    .ok()?;
                (t < end).then_some((start, end))
            }
        }
    }

    /// The earliest channel start (window start minus lead) strictly after `t`.
    fn next_start_after(&self, t: Timestamp, lead: jiff::SignedDuration) -> Option<Timestamp> {
        (self.windows.iter())
            .filter_map(|w| match w {
                Window::Once { start, .. } => Some(start.checked_sub(lead).ok()?).filter(|s| *s > t),
                Window::Every { cron, .. } => {
                    let probe: Zoned = t.checked_add(lead).ok()?.to_zoned(self.zone.clone());
                    let next = cron.find_next_occurrence(&probe, false).ok()?.timestamp();
                    next.checked_sub(lead).ok()
                }
            })
            .min()
    }
}

/// A date-time in the schedule's zone, or with its own offset.
fn instant(text: &str, zone: &TimeZone) -> Option<Timestamp> {
    if let Ok(at) = text.parse::<Timestamp>() {
        return Some(at);
    }
    let civil: DateTime = text.parse().ok()?;
    Some(zone.to_ambiguous_zoned(civil).compatible().ok()?.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ScheduleWindow;

    fn spec(zone: &str, lead_minutes: u64, windows: Vec<ScheduleWindow>) -> ScheduleSpec {
        ScheduleSpec {
            time_zone: zone.into(),
            lead_time: Duration::from_secs(lead_minutes * 60).into(),
            windows,
        }
    }

    fn once(start: &str, end: &str) -> ScheduleWindow {
        ScheduleWindow {
            start: Some(start.into()),
            end: Some(end.into()),
            cron: None,
            duration: None,
        }
    }

    fn every(cron: &str, hours: u64) -> ScheduleWindow {
        ScheduleWindow {
            start: None,
            end: None,
            cron: Some(cron.into()),
            duration: Some(Duration::from_secs(hours * 3600).into()),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_one_off_window_starts_early_by_the_lead_time_and_stops_at_its_end() {
        let s = Schedule::parse(&spec(
            "Europe/Paris",
            10,
            vec![once("2026-12-24T18:00", "2026-12-24T21:00")],
        ))
        .unwrap();
        // Paris is UTC+1 in December: 18:00 local is 17:00Z; started at 16:50Z.
        let before = s.phase(at("2026-12-24T16:49:00Z"));
        assert!(!before.active);
        assert_eq!(before.next_start, Some(at("2026-12-24T16:50:00Z")));
        assert_eq!(before.next_stop, Some(at("2026-12-24T20:00:00Z")));
        let lead = s.phase(at("2026-12-24T16:51:00Z"));
        assert!(lead.active);
        assert_eq!(lead.next_stop, Some(at("2026-12-24T20:00:00Z")));
        assert_eq!(lead.next_start, None);
        let after = s.phase(at("2026-12-24T20:00:00Z"));
        assert_eq!((after.active, after.next_start), (false, None));
    }

    #[test]
    fn a_recurring_window_follows_local_time_across_daylight_saving() {
        // Every Friday 19:00 in New York for 2 h; DST ends on Sunday 1 November 2026.
        let s = Schedule::parse(&spec("America/New_York", 0, vec![every("0 19 * * FRI", 2)])).unwrap();
        let summer = s.phase(at("2026-10-30T12:00:00Z"));
        assert_eq!(summer.next_start, Some(at("2026-10-30T23:00:00Z")), "EDT, UTC-4");
        let winter = s.phase(at("2026-11-06T12:00:00Z"));
        assert_eq!(winter.next_start, Some(at("2026-11-07T00:00:00Z")), "EST, UTC-5");
        let during = s.phase(at("2026-11-07T01:30:00Z"));
        assert!(during.active);
        assert_eq!(during.next_stop, Some(at("2026-11-07T02:00:00Z")));
        assert_eq!(during.next_start, Some(at("2026-11-14T00:00:00Z")));
    }

    #[test]
    fn overlapping_windows_merge_into_one_run() {
        let s = Schedule::parse(&spec(
            "UTC",
            0,
            vec![
                once("2026-12-01T10:00", "2026-12-01T12:00"),
                once("2026-12-01T11:00", "2026-12-01T13:00"),
            ],
        ))
        .unwrap();
        let phase = s.phase(at("2026-12-01T10:30:00Z"));
        assert_eq!(phase.next_stop, Some(at("2026-12-01T13:00:00Z")));
        assert_eq!(
            s.phase(at("2026-12-01T09:00:00Z")).next_stop,
            Some(at("2026-12-01T13:00:00Z"))
        );
    }

    #[test]
    fn offsets_in_the_text_win_over_the_zone() {
        let s = Schedule::parse(&spec(
            "Asia/Tokyo",
            0,
            vec![once("2026-12-01T10:00:00Z", "2026-12-01T12:00:00+01:00")],
        ))
        .unwrap();
        assert_eq!(
            s.phase(at("2026-12-01T09:00:00Z")).next_stop,
            Some(at("2026-12-01T11:00:00Z"))
        );
    }

    #[test]
    fn a_window_opening_is_seen_between_two_instants() {
        let s = Schedule::parse(&spec("UTC", 5, vec![every("0 12 * * *", 1)])).unwrap();
        assert!(s.opened_between(at("2026-12-01T11:00:00Z"), at("2026-12-01T11:56:00Z")));
        assert!(!s.opened_between(at("2026-12-01T11:56:00Z"), at("2026-12-02T11:54:00Z")));
    }

    #[test]
    fn bad_fields_are_named() {
        let zone = Schedule::parse(&spec("Mars/Olympus", 0, vec![every("0 1 * * *", 1)])).unwrap_err();
        assert!(zone.starts_with("spec.schedule.timeZone"), "{zone}");
        let cron = Schedule::parse(&spec(
            "UTC",
            0,
            vec![once("2026-12-01T10:00", "2026-12-01T11:00"), every("0 25 * * *", 1)],
        ))
        .unwrap_err();
        assert!(cron.starts_with("spec.schedule.windows[1].cron"), "{cron}");
        let order = Schedule::parse(&spec("UTC", 0, vec![once("2026-12-01T10:00", "2026-12-01T09:00")])).unwrap_err();
        assert!(order.starts_with("spec.schedule.windows[0].end"), "{order}");
    }
}
