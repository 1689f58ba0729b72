//! `kubectl livestream status`: one screen about one LiveStream, from its object alone (pure).

use std::fmt::Write;

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use crate::api::{LiveStream, condition_type};

/// The screen, as of `now`.
pub fn status(stream: &LiveStream, now: Timestamp) -> String {
    let status = stream.status.clone().unwrap_or_default();
    let condition = |kind: &str| status.conditions.iter().find(|c| c.type_ == kind);
    let mut out = String::new();
    let line = |out: &mut String, label: &str, value: &str| {
        let _ = writeln!(out, "{:<15} {value}", format!("{label}:"));
    };
    let name = format!("{}/{}", stream.namespace().unwrap_or_default(), stream.name_any());
    line(&mut out, "LiveStream", &name);
    let state = status.state.as_deref().unwrap_or("Pending");
    let running = match &status.running_since {
        Some(since) => format!(
            "{state} since {} ({})",
            since.0,
            span(now.as_second() - since.0.as_second())
        ),
        None => state.to_owned(),
    };
    line(&mut out, "State", &running);
    line(
        &mut out,
        "Wanted",
        if stream.spec.running {
            "running: true"
        } else {
            "running: false"
        },
    );
    if let Some(ready) = condition(condition_type::READY) {
        line(
            &mut out,
            "Ready",
            format!("{} ({}) {}", ready.status, ready.reason, ready.message).trim_end(),
        );
    }
    if let Some(degraded) = condition(condition_type::DEGRADED).filter(|c| c.status == "True") {
        line(
            &mut out,
            "Problem",
            &format!("{}: {}", degraded.reason, degraded.message),
        );
    }
    let input = match condition(condition_type::INPUT_CONNECTED) {
        Some(c) if c.status == "True" => "connected".to_owned(),
        Some(c) => format!("not connected ({}: {})", c.reason, c.message),
        None => "unknown".to_owned(),
    };
    line(&mut out, "Input", &input);
    let alerts = if status.alerts.is_empty() {
        "none".to_owned()
    } else {
        (status.alerts.iter())
            .map(|a| format!("{} ({})", a.type_, a.message))
            .collect::<Vec<_>>()
            .join("; ")
    };
    line(&mut out, "Alerts", &alerts);
    let current = status
        .running_since
        .as_ref()
        .map_or(0, |s| now.as_second() - s.0.as_second());
    let billed = status.billed_seconds.unwrap_or(0) + current.max(0);
    line(&mut out, "Billed so far", &format!("{} channel time", span(billed)));
    if let Some(schedule) = &status.schedule {
        let at = |t: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>| {
            t.as_ref().map_or_else(|| "none".to_owned(), |t| t.0.to_string())
        };
        line(&mut out, "Next start", &at(&schedule.next_start));
        line(&mut out, "Next stop", &at(&schedule.next_stop));
        if schedule.manual {
            let until = at(&schedule.manual_until);
            line(&mut out, "Override", &format!("spec.running holds until {until}"));
        }
    }
    if let Some(guard) = &status.guard_stop {
        line(&mut out, "Stopped by", &format!("{} at {}", guard.reason, guard.at.0));
    }
    for (label, url) in [
        ("Ingest", &status.ingest_url),
        ("Playback", &status.playback_url),
        ("Website", &status.website_url),
    ] {
        if let Some(url) = url {
            line(&mut out, label, url);
        }
    }
    out
}

/// "1h02m03s", "4m05s", "7s".
pub fn span(seconds: i64) -> String {
    let s = seconds.max(0);
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, min, sec) => format!("{min}m{sec:02}s"),
        (h, min, sec) => format!("{h}h{min:02}m{sec:02}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_running_stream_shows_state_input_alerts_billing_schedule_and_urls() {
        let stream: LiveStream = serde_json::from_value(json!({
            "apiVersion": "media.livestream.io/v1alpha1",
            "kind": "LiveStream",
            "metadata": {"name": "launch", "namespace": "media"},
            "spec": {"running": true},
            "status": {
                "state": "RUNNING",
                "runningSince": "2026-12-02T10:00:00Z",
                "billedSeconds": 600,
                "alerts": [{"type": "Audio Not Detected", "message": "no audio", "pipeline": "0"}],
                "schedule": {"nextStart": "2026-12-09T09:50:00Z", "nextStop": "2026-12-02T12:00:00Z"},
                "playbackUrl": "https://example.com/index.m3u8",
                "conditions": [
                    {"type": "InputConnected", "status": "True", "reason": "Receiving", "message": "", "lastTransitionTime": "2026-12-02T10:00:10Z"}
                ]
            }
        }))
        .unwrap();
        let screen = status(&stream, "2026-12-02T10:30:00Z".parse().unwrap());
        for want in [
            "LiveStream:     media/launch",
            "State:          RUNNING since 2026-12-02T10:00:00Z (30m00s)",
            "Input:          connected",
            "Alerts:         Audio Not Detected (no audio)",
            "Billed so far:  40m00s channel time",
            "Next start:     2026-12-09T09:50:00Z",
            "Next stop:      2026-12-02T12:00:00Z",
            "Playback:       https://example.com/index.m3u8",
        ] {
            assert!(screen.contains(want), "{want:?} not in\n{screen}");
        }
    }

    #[test]
    fn spans_read_like_durations() {
        assert_eq!(span(7), "7s");
        assert_eq!(span(245), "4m05s");
        assert_eq!(span(3723), "1h02m03s");
    }
}
