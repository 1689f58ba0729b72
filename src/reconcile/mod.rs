//! The reconcile pipeline for one LiveStream: resolve (the spec settled once, `resolve`) → observe
//! (one snapshot of what AWS holds, `observe`) → plan (pure: `plan`) → execute (`execute`), looping
//! plan and execute until nothing is left to do → status from the outcome (`status`). Every pass starts from AWS and every step is
//! idempotent, so a crash anywhere is repaired by the next pass: deterministic names and MediaLive
//! request ids prevent duplicates, owner tags let a restarted operator adopt what it had created.

mod act;
mod cleanup;
mod delivery;
mod engine;
mod execute;
mod health;
mod held;
pub mod intent;
mod legs;
pub mod plan;
mod recording;
mod resolve;
mod status;
mod stream_key;
pub mod website;

use std::{collections::HashMap, sync::Arc, time::Duration};

use aws_sdk_medialive::types::ChannelState;
use k8s_openapi::{apimachinery::pkg::apis::meta::v1::Time, jiff::Timestamp};
use kube::{
    Resource, ResourceExt,
    runtime::{
        controller::Action,
        events::{Event, EventType},
    },
};
use tracing::info;

pub use cleanup::cleanup;

use crate::{
    api::{DeliveryMode, LiveStream, LiveStreamStatus, PackagingVersion},
    context::Context,
    desired::owner_tags,
    error::{Error, Result},
};
use resolve::Resolved;

/// Consecutive transient AWS failures (throttling, 5xx) before they are reported in status.
const REPORT_TRANSIENT_AFTER: u32 = 5;

/// The executing stage of a pass: the resolved spec and the intent, and what the steps record.
pub struct Run<'a> {
    stream: &'a LiveStream,
    ctx: &'a Context,
    uid: String,
    tags: HashMap<String, String>,
    /// What the spec asks, resolved once (see `resolve`).
    want: Resolved,
    /// Whether the channel should run now, and who says so.
    intent: intent::Intent,
    /// The status the pass started from, with what the steps read into it (the player page).
    status: LiveStreamStatus,
    /// A failure that did not stop the pass (an unreadable stream-key Secret for an existing
    /// input): the rest converged, and this is reported as the outcome.
    deferred: Option<Error>,
    /// A cost guard stopped the channel.
    fired: Option<intent::Guard>,
}

/// What a pass learnt besides its outcome, however far it got: for status and the requeue.
struct Learnt {
    /// The status the pass started from, with what it read into it on the way (a guard stop of
    /// before `guardStop`, the channel's alerts, the player page).
    status: LiveStreamStatus,
    /// What the running channel's alerts say of its input.
    input: health::InputHealth,
    /// Who decided whether the channel runs.
    source: intent::Source,
    /// When a cost guard or the schedule is due.
    wake: Option<Duration>,
    /// See `Run::deferred`.
    deferred: Option<Error>,
    /// `spec.maxRunDuration`, for the metrics.
    max_run_seconds: Option<f64>,
    intent: Option<intent::Intent>,
    fired: Option<intent::Guard>,
    recordings: Option<Vec<String>>,
    /// What AWS holds once the steps are done.
    seen: Option<status::Seen>,
}

pub async fn apply(stream: Arc<LiveStream>, ctx: &Context) -> Result<Action> {
    let mut learnt = Learnt {
        status: stream.status.clone().unwrap_or_default(),
        input: health::InputHealth::NotRunning,
        source: intent::Source::Spec,
        wake: None,
        deferred: None,
        max_run_seconds: resolve::max_run_seconds(&stream),
        intent: None,
        fired: None,
        recordings: None,
        seen: None,
    };
    // Boxed: the pass's future holds every SDK call's and would overflow a worker's stack in debug
    // builds.
    let converged = Box::pin(converge(&stream, ctx, &mut learnt)).await;
    // Waiting is not failing: the pass's outcome, whichever step found that it must wait.
    let converged = match converged {
        Err(Error::Waiting(what)) => Ok(plan::Outcome::Waiting(what)),
        other => other,
    };
    // A deferred failure is what status and events report, but the pass itself went through: it
    // is requeued by its progress (a starting channel, the cost guard), within 30 s, and does not
    // count as a failure. (A pass that waits reports that it waits.)
    let (outcome, deferred) = match (converged, learnt.deferred.take()) {
        (Ok(plan::Outcome::Waiting(what)), _) => (Ok(plan::Outcome::Waiting(what)), None),
        (Ok(progress), Some(deferred)) => (Err(deferred), Some(progress)),
        (outcome, _) => (outcome, None),
    };
    // A throttled or 5xx call is retried with backoff; only when it keeps failing does it become
    // Degraded and an event, so a busy account does not flap the Ready of converged streams.
    let passing = matches!(&outcome, Err(e) if e.is_transient() || e.may_be_eventual_consistency())
        && ctx.consecutive_failures(&stream) < REPORT_TRANSIENT_AFTER;
    if !passing {
        let facts = status::Facts {
            input: &learnt.input,
            source: learnt.source,
            intent: learnt.intent.as_ref(),
            fired: learnt.fired,
            recordings: learnt.recordings.as_deref(),
        };
        let generation = stream.metadata.generation;
        let now = Timestamp::now();
        let status = status::of(&learnt.status, learnt.seen.as_ref(), &facts, &outcome, generation, now);
        status::write(&stream, ctx, status, &learnt.input, learnt.max_run_seconds).await?;
        // A failure the user can act on is also an event (repeats are aggregated by the recorder).
        if let Err(e) = &outcome
            && !matches!(e, Error::Waiting(_))
        {
            publish(ctx, &stream, EventType::Warning, e.reason(), e.to_string()).await;
        }
    }
    // A stream key fixed in Kubernetes is not watched: look again soon. Other reported problems
    // (a private player page) wait for the resync.
    let retry_deferred = deferred.is_some() && matches!(outcome, Err(Error::StreamKey { .. }));
    let progress = match deferred {
        Some(progress) => progress,
        None => outcome?,
    };
    let mut action = match progress {
        // ±10 % so that many streams created together do not resync in lockstep.
        plan::Outcome::Steady { .. } => ctx.settings.resync.mul_f64(0.9 + rand::random::<f64>() * 0.2),
        // The controller logs a wait, counts it as `waiting` (not a failure, not `ok`) and looks
        // again after the transition requeue: handed over as it expects it.
        plan::Outcome::Waiting(what) => return Err(Error::Waiting(what)),
        plan::Outcome::Transition(_) | plan::Outcome::Blocked(_) => ctx.settings.transition_requeue,
    };
    // Wake up when a cost guard or the schedule is due, and watch a running channel's health.
    if let Some(wake) = learnt.wake {
        action = action.min(wake);
    }
    if learnt.input != health::InputHealth::NotRunning {
        action = action.min(ctx.settings.health_interval);
    }
    if retry_deferred {
        action = action.min(Duration::from_secs(30));
    }
    Ok(Action::requeue(action))
}

/// One pass: resolve → observe → health and intent → plan and execute → status fields from what
/// exists. `learnt` keeps what it learnt, however far it got.
async fn converge(stream: &LiveStream, ctx: &Context, learnt: &mut Learnt) -> Result<plan::Outcome> {
    let want = resolve::resolve(stream, ctx, &learnt.status).await?;
    let uid = stream.uid().unwrap_or_default();
    let cached = learnt.status.aws.clone().unwrap_or_default();
    let v2_group = match want.packaging.version {
        PackagingVersion::V2 => Some(want.packaging.group.as_str()),
        PackagingVersion::V1 => cached.channel_group.as_deref(),
    };
    let freshness = ctx.settings.freshness();
    let names = &want.names;
    let mut observed = (ctx.cache)
        .observe(&ctx.aws, freshness, &uid, names, &cached, v2_group)
        .await?;
    // A stream that never had a distribution and does not want one lists none.
    if want.delivery.mode == DeliveryMode::CloudFront || learnt.status.cloud_front.is_some() {
        let cached = learnt.status.cloud_front.as_ref().map(|c| c.distribution_id.as_str());
        // Boxed, as every SDK call's future under the pass: inline they add up past a debug build's
        // worker stack.
        let read = ctx.cache.distribution(&ctx.aws, freshness, &uid, cached);
        observed.distribution = Box::pin(read).await?;
    }
    observed.page = website::recorded(stream, &learnt.status);
    if uses_srt(stream) {
        observed.secret = Box::pin(crate::aws::secret::find(&ctx.aws, &names.passphrase_secret)).await?;
    }
    let status = &mut learnt.status;
    // A stop by an operator of before `guardStop` still holds.
    if let Some(generation) = status.max_run_duration_stopped_generation.take() {
        status.guard_stop.get_or_insert_with(|| crate::api::GuardStop {
            reason: intent::Guard::MaxRunDuration.reason().into(),
            generation,
            at: Time(Timestamp::now()),
        });
    }
    let (input, refused) = health::watch(ctx, stream, &want, &observed, status).await;
    learnt.input = input;
    if let Some(refused) = refused {
        learnt.deferred.get_or_insert(refused);
    }
    let intent = decide(stream, &want, &learnt.status, &observed, &mut learnt.deferred);
    learnt.source = intent.source;
    learnt.wake = intent.wake;
    // Enabled without any bucket: the channel goes on without recording.
    if let Some(problem) = &want.recording_problem {
        learnt.deferred.get_or_insert(Error::Invalid(problem.clone()));
    }
    let mut run = Run {
        stream,
        ctx,
        uid,
        tags: owner_tags(stream),
        want,
        intent,
        status: std::mem::take(&mut learnt.status),
        deferred: learnt.deferred.take(),
        fired: None,
    };
    let rounds = run.rounds(&mut observed).await;
    // A finished pass knows what v2 holds (its own steps folded in); a failed one may not.
    let v2 = observed.v2.as_ref().filter(|_| rounds.is_ok());
    let engine = match &observed.channel {
        Some(channel) => Box::pin(engine::of(&ctx.aws, channel, Timestamp::now())).await,
        None => None,
    };
    ctx.cache.seen_v2(&run.uid, v2);
    let recordings = match run.list_recordings().await {
        Ok(recordings) => recordings,
        Err(e) => {
            run.deferred.get_or_insert(e);
            None
        }
    };
    let Run {
        status,
        deferred,
        want,
        intent,
        fired,
        ..
    } = run;
    (learnt.status, learnt.deferred) = (status, deferred);
    website::record(&mut learnt.status, observed.page.as_ref());
    (learnt.intent, learnt.fired, learnt.recordings) = (Some(intent), fired, recordings);
    // What exists goes into status whether or not the pass finished.
    learnt.seen = Some(status::Seen {
        observed,
        packaging: want.packaging.version,
        delivery: want.delivery.mode,
        target: want.target.as_ref().ok().cloned(),
        resilience: want.asks.resilience.clone(),
        engine,
    });
    execute::conclude(rounds?, want.target, &mut learnt.deferred)
}

/// The stream has (or may have) an SRT passphrase secret: it asks for SRT (the protocol is
/// immutable) or status names one. A stream that never used SRT makes no Secrets Manager call.
pub(super) fn uses_srt(stream: &LiveStream) -> bool {
    let recorded =
        (stream.status.as_ref().and_then(|s| s.aws.as_ref())).is_some_and(|a| a.srt_passphrase_secret_arn.is_some());
    recorded || stream.spec.input.protocol == crate::api::IngestProtocol::Srt
}

#[cfg(test)]
#[test]
fn an_event_note_is_cut_to_what_the_api_server_takes() {
    assert_eq!(within_note_limit("short".into()), "short");
    let long = within_note_limit("é".repeat(600));
    assert!(long.len() <= 1024 && long.ends_with('…'), "{}", long.len());
}

fn elapsed(since: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> Duration {
    let seconds = Timestamp::now().as_second() - since.0.as_second();
    Duration::from_secs(seconds.max(0) as u64)
}

impl Run<'_> {
    async fn event(&self, reason: &str, note: String) {
        action(self.ctx, self.stream, reason, note).await;
    }
}

/// Whether the channel should run now: spec, schedule and cost guards. (A channel first seen
/// RUNNING has no `runningSince` yet: it has run for no time.) A schedule that cannot be read
/// is reported and changes nothing: the channel stays as it is (the cost guards still apply),
/// the schedule's status is kept, and the rest of the stream still converges.
fn decide(
    stream: &LiveStream,
    want: &Resolved,
    status: &LiveStreamStatus,
    observed: &crate::observe::Observed,
    deferred: &mut Option<Error>,
) -> intent::Intent {
    let state = observed.channel.as_ref().map(|c| c.state.clone());
    let channel_running = matches!(state, Some(ChannelState::Running | ChannelState::Starting));
    let mut now = intent::Now {
        at: Timestamp::now(),
        generation: stream.meta().generation,
        channel_running,
        schedule: None,
    };
    match &want.schedule {
        Some(Err(problem)) => {
            deferred.get_or_insert(Error::Invalid(problem.clone()));
            let as_it_is = intent::Asked {
                running: channel_running,
                ..want.asked
            };
            let mut kept = intent::intent(&as_it_is, status, &now);
            kept.schedule = status.schedule.clone();
            kept
        }
        Some(Ok(schedule)) => {
            now.schedule = Some(schedule);
            intent::intent(&want.asked, status, &now)
        }
        None => intent::intent(&want.asked, status, &now),
    }
}

/// The MediaPackage version and v2 channel group of `stream`: what it owns stays what it uses
/// unless the spec says otherwise (see `PackagingSpec::effective_version`); a stream that names no
/// group and owns none is placed (see `placement`).
pub fn packaging(stream: &LiveStream, status: &LiveStreamStatus, ctx: &Context) -> Result<plan::Packaging> {
    let settings = &ctx.settings;
    let spec = &stream.spec.packaging;
    let cached = status.aws.clone().unwrap_or_default();
    let owns_v1 = cached.media_package_channel_id.is_some();
    let version = spec.effective_version(status.packaging_version, owns_v1, settings.packaging_version);
    if version == PackagingVersion::V2
        && let Some(problem) = spec.v2_problem()
    {
        return Err(Error::Invalid(problem));
    }
    let group = match (&spec.channel_group, cached.channel_group) {
        (Some(wanted), Some(owned)) if *wanted != owned && version == PackagingVersion::V2 => {
            return Err(Error::Invalid(format!(
                "spec.packaging.channelGroup: the stream's MediaPackage v2 channel is in group {owned} and a channel cannot move to {wanted}; set it back to {owned}, or move the stream to v1 first"
            )));
        }
        (Some(wanted), _) => wanted.clone(),
        (None, Some(owned)) => owned,
        (None, None) => {
            let group =
                crate::placement::placed(stream).unwrap_or_else(|| ctx.placement.choose(&settings.channel_group));
            return Ok(plan::Packaging {
                version,
                group,
                placed: true,
            });
        }
    };
    Ok(plan::Packaging {
        version,
        group,
        placed: false,
    })
}

/// How `stream` reaches viewers (see `DeliverySpec::effective_mode`) and the player bucket a
/// distribution fronts.
pub(super) fn delivery(stream: &LiveStream, status: &LiveStreamStatus, ctx: &Context) -> plan::Delivery {
    let has_urls = status.playback_url.is_some();
    let mode = (stream.spec.delivery).effective_mode(status.delivery, has_urls, ctx.settings.delivery);
    let website = &stream.spec.website;
    let bucket = (website.bucket.clone())
        .or_else(|| ctx.settings.website_bucket.clone())
        .filter(|_| website.enabled);
    plan::Delivery {
        mode,
        bucket,
        region: ctx.aws.region.clone(),
    }
}

/// An AWS action on the stream's behalf: logged (in the stream's span) and a Normal event.
async fn action(ctx: &Context, stream: &LiveStream, reason: &str, note: String) {
    info!(reason, "{note}");
    publish(ctx, stream, EventType::Normal, reason, note).await;
}

/// The API server refuses an event whose note passes 1 kB (events.k8s.io/v1): a long AWS refusal
/// is cut, at a character boundary, rather than lost with its event.
fn within_note_limit(note: String) -> String {
    const LIMIT: usize = 1024;
    if note.len() <= LIMIT {
        return note;
    }
    let mut cut = LIMIT - '…'.len_utf8();
    while !note.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &note[..cut])
}

/// Publishes a Kubernetes event about the stream; a failure to publish is logged, not fatal.
pub async fn publish(ctx: &Context, stream: &LiveStream, type_: EventType, reason: &str, note: String) {
    let event = Event {
        type_,
        reason: reason.into(),
        note: Some(within_note_limit(note)),
        action: reason.into(),
        secondary: None,
    };
    let published = match event.type_ {
        EventType::Warning => ctx.recorder.publish(&event, &stream.object_ref(&())).await,
        EventType::Normal => {
            let once = kube::runtime::events::Recorder::new(ctx.client.clone(), ctx.reporter.clone());
            once.publish(&event, &stream.object_ref(&())).await
        }
    };
    if let Err(e) = published {
        tracing::warn!(error = %e, "cannot publish event");
    }
}
