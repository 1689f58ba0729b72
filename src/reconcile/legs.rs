//! A stream's legs — each input (primary, backup) on each pipeline — as status tells them: every
//! URL encoders push to (`status.ingest`), what each running pipeline ingests and whether it has
//! input (`status.pipelines`, read while the channel runs), and the Redundant condition.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::runtime::events::EventType;

use super::resolve::Resolved;
use crate::{
    api::{IngestPoint, PipelineStatus},
    aws::{Role, alerts::Alert},
    context::Context,
    desired::{Names, ingest::IngestTarget, ingest::server_part, redundancy::Resilience},
    observe::Observed,
};

/// The running pipelines: MediaLive's ids "0" (and "1" with redundancy Standard), what each
/// ingests (read only when the stream has more than one leg: one DescribeChannel) and whether its
/// input is lost. A failed read keeps what the last one learnt.
pub(super) async fn pipelines(
    ctx: &Context,
    want: &Resolved,
    channel_id: &str,
    alerts: &[Alert],
    before: &[PipelineStatus],
) -> Vec<PipelineStatus> {
    let resilience = &want.asks.resilience;
    let active = match resilience.asked() {
        false => None,
        true => match crate::aws::alerts::active_inputs(&ctx.aws, channel_id).await {
            Ok(active) => Some(active),
            Err(e) => {
                tracing::warn!(channel_id, error = %e, "cannot read which input each pipeline ingests");
                None
            }
        },
    };
    let active_on = |pipeline: &str| match &active {
        Some(active) => (active.iter())
            .find(|(id, _)| id == pipeline)
            .and_then(|(_, name)| name.as_deref())
            .map(|name| input_of(&want.names, name)),
        None => (before.iter())
            .find(|p| p.pipeline == pipeline)
            .and_then(|p| p.active_input.clone()),
    };
    of(resilience, alerts, active_on)
}

/// The pipelines from the alerts and each pipeline's active input (pure). A pipeline on the backup
/// input is on air even if an input-loss alert stays set: the alert does not say which input
/// lost its feed, and the primary's loss is why it failed over.
fn of(resilience: &Resilience, alerts: &[Alert], active_on: impl Fn(&str) -> Option<String>) -> Vec<PipelineStatus> {
    (0..resilience.pipelines())
        .map(|n| {
            let pipeline = n.to_string();
            let alerted = (alerts.iter())
                .filter(|a| a.is_input_loss())
                .any(|a| a.pipeline_id.as_deref().unwrap_or("0") == pipeline);
            let active_input = active_on(&pipeline);
            let on_backup = active_input.as_deref() == Some(Role::Backup.as_str());
            PipelineStatus {
                input_lost: alerted && !on_backup,
                active_input,
                pipeline,
            }
        })
        .collect()
}

/// `primary` or `backup` for an input attachment's name; another name as it is.
fn input_of(names: &Names, attachment: &str) -> String {
    [Role::Primary, Role::Backup]
        .into_iter()
        .find(|role| names.input(*role) == attachment)
        .map_or_else(|| attachment.to_owned(), |role| role.as_str().to_owned())
}

/// An event to publish.
pub(super) struct Note {
    pub kind: EventType,
    pub reason: &'static str,
    pub message: String,
}

/// Events for what changed between two readings: a pipeline that lost or regained its input
/// while the stream stays on air, and an input failover.
pub(super) fn changes(before: &[PipelineStatus], after: &[PipelineStatus], channel_id: &str) -> Vec<Note> {
    let mut notes = Vec::new();
    let on_air = after.iter().any(|p| !p.input_lost);
    for now in after {
        let Some(was) = before.iter().find(|p| p.pipeline == now.pipeline) else {
            continue;
        };
        let pipeline = &now.pipeline;
        if now.input_lost != was.input_lost && after.len() > 1 && (on_air || !now.input_lost) {
            notes.push(match now.input_lost {
                true => Note {
                    kind: EventType::Warning,
                    reason: "PipelineDown",
                    message: format!(
                        "Pipeline {pipeline} of MediaLive channel {channel_id} has no input: the stream stays on air from the other pipeline; restart the encoder pushing to pipeline {pipeline} (status.ingest)"
                    ),
                },
                false => Note {
                    kind: EventType::Normal,
                    reason: "PipelineRecovered",
                    message: format!("Pipeline {pipeline} of MediaLive channel {channel_id} has input again"),
                },
            });
        }
        if let (Some(from), Some(to)) = (&was.active_input, &now.active_input)
            && from != to
        {
            let backup = to == Role::Backup.as_str();
            notes.push(Note {
                kind: if backup { EventType::Warning } else { EventType::Normal },
                reason: if backup { "FailedOver" } else { "InputRestored" },
                message: format!(
                    "Pipeline {pipeline} of MediaLive channel {channel_id} switched from the {from} input to the {to} input"
                ),
            });
        }
    }
    notes
}

/// Every URL an encoder pushes to: each input, in role order, on each of the stream's pipelines;
/// `active` from what the running pipelines ingest. A key from a Secret is never shown (only the
/// server part).
pub(super) fn ingest_points(
    observed: &Observed,
    target: Option<&IngestTarget>,
    pipelines: usize,
    running: &[PipelineStatus],
) -> Vec<IngestPoint> {
    let mut points = Vec::new();
    for (role, input) in &observed.inputs {
        for (n, url) in input.urls.iter().take(pipelines).enumerate() {
            let shown = match target {
                Some(target) => target.status_url(url),
                None => server_part(url),
            };
            let Some(url) = shown else { continue };
            let pipeline = n.to_string();
            let active = (running.iter())
                .find(|p| p.pipeline == pipeline)
                .map(|p| p.active_input.as_deref().unwrap_or(Role::Primary.as_str()) == role.as_str());
            points.push(IngestPoint {
                input: role.as_str().to_owned(),
                pipeline: n as i32,
                url,
                active,
            });
        }
    }
    points
}

/// The Redundant condition of a stream with more than one leg (None otherwise): whether every
/// pipeline ingests, from the primary input.
pub(super) fn redundant(
    resilience: &Resilience,
    running: bool,
    pipelines: &[PipelineStatus],
    make: impl Fn(&str, &'static str, String) -> Condition,
) -> Option<Condition> {
    if !resilience.asked() {
        return None;
    }
    if !running {
        return Some(make("Unknown", "NotRunning", "the channel is not running".into()));
    }
    let down: Vec<&str> = (pipelines.iter())
        .filter(|p| p.input_lost)
        .map(|p| p.pipeline.as_str())
        .collect();
    let on_backup: Vec<&str> = (pipelines.iter())
        .filter(|p| p.active_input.as_deref() == Some(Role::Backup.as_str()))
        .map(|p| p.pipeline.as_str())
        .collect();
    Some(if pipelines.is_empty() || down.len() == pipelines.len() {
        make(
            "False",
            "NoInput",
            "no pipeline has input: the stream is off the air".into(),
        )
    } else if !down.is_empty() {
        make(
            "False",
            "PipelineDown",
            format!(
                "pipeline {} has no input: the stream is on air from the other pipeline only; restart its encoder (status.ingest)",
                down.join(", ")
            ),
        )
    } else if !on_backup.is_empty() {
        make(
            "False",
            "OnBackupInput",
            format!(
                "pipeline {} runs on the backup input: the primary encoder failed; it returns to the primary once that is healthy again (inputPreference PrimaryPreferred)",
                on_backup.join(", ")
            ),
        )
    } else {
        let legs = match (resilience.pipelines(), resilience.backup.is_some()) {
            (2, true) => "both pipelines ingest the primary input; the backup input stands by",
            (2, false) => "both pipelines have input",
            _ => "the primary input is live; the backup input stands by",
        };
        make("True", "AllLegsUp", legs.into())
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn resilience(spec: serde_json::Value) -> Resilience {
        Resilience::of(&serde_json::from_value(spec).unwrap())
    }

    fn loss(pipeline: &str) -> Alert {
        Alert {
            alert_type: "RTMP Has No Audio/Video".into(),
            message: String::new(),
            pipeline_id: Some(pipeline.into()),
            set_at: None,
        }
    }

    fn reason(resilience: &Resilience, running: bool, pipelines: &[PipelineStatus]) -> Option<(String, String)> {
        let make = |status: &str, reason: &'static str, message: String| Condition {
            type_: "Redundant".into(),
            status: status.into(),
            reason: reason.into(),
            message,
            observed_generation: None,
            last_transition_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
            ),
        };
        redundant(resilience, running, pipelines, make).map(|c| (c.status, c.reason))
    }

    #[test]
    fn one_pipeline_down_is_degraded_but_on_air_and_both_down_is_off_the_air() {
        let standard = resilience(json!({"redundancy": "Standard"}));
        let primary = |_: &str| Some("primary".to_owned());
        let up = of(&standard, &[], primary);
        assert_eq!(up.len(), 2);
        assert_eq!(reason(&standard, true, &up), Some(("True".into(), "AllLegsUp".into())));
        let one = of(&standard, &[loss("1")], primary);
        assert_eq!((one[0].input_lost, one[1].input_lost), (false, true));
        assert_eq!(
            reason(&standard, true, &one),
            Some(("False".into(), "PipelineDown".into()))
        );
        let notes = changes(&up, &one, "42");
        assert_eq!(notes.iter().map(|n| n.reason).collect::<Vec<_>>(), ["PipelineDown"]);
        let both = of(&standard, &[loss("0"), loss("1")], primary);
        assert_eq!(reason(&standard, true, &both), Some(("False".into(), "NoInput".into())));
        assert_eq!(
            reason(&standard, false, &[]),
            Some(("Unknown".into(), "NotRunning".into()))
        );
        // A stream with one leg has no such condition.
        assert_eq!(reason(&resilience(json!({})), true, &up[..1]), None);
    }

    #[test]
    fn a_failover_to_the_backup_is_on_air_and_told_and_so_is_the_way_back() {
        let backup = resilience(json!({"input": {"backup": {}}}));
        let on_primary = of(&backup, &[], |_| Some("primary".into()));
        let on_backup = of(&backup, &[loss("0")], |_| Some("backup".into()));
        assert!(!on_backup[0].input_lost, "the backup carries the stream");
        assert_eq!(
            reason(&backup, true, &on_backup),
            Some(("False".into(), "OnBackupInput".into()))
        );
        let over = changes(&on_primary, &on_backup, "42");
        assert_eq!(over.iter().map(|n| n.reason).collect::<Vec<_>>(), ["FailedOver"]);
        let back = changes(&on_backup, &on_primary, "42");
        assert_eq!(back.iter().map(|n| n.reason).collect::<Vec<_>>(), ["InputRestored"]);
    }

    #[test]
    fn attachment_names_read_as_the_input_roles() {
        let names = Names {
            protocol: "rtmp",
            passphrase_secret: String::new(),
            channel: "launch".into(),
            endpoint: "launch-hls".into(),
        };
        assert_eq!(input_of(&names, "launch-rtmp"), "primary");
        assert_eq!(input_of(&names, "launch-rtmp-backup"), "backup");
        assert_eq!(input_of(&names, "other"), "other");
    }
}
