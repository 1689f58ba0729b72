//! The controller: watches LiveStreams, runs the reconcile pipeline under a finalizer (so deletion
//! waits for AWS teardown), and requeues: on a resync when stable, quickly during AWS transitions,
//! with jittered exponential backoff after failures.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use kube::{
    Api, Client, ResourceExt,
    runtime::{
        Controller, WatchStreamExt,
        controller::Action,
        finalizer::{Event, finalizer},
        watcher,
    },
};
use tracing::{Instrument, info, info_span, warn};

pub use crate::context::{Context, FIELD_MANAGER, Settings};
use crate::{
    api::LiveStream,
    aws::AwsClients,
    error::{Error, Result},
    leader::Leadership,
    metrics, reconcile,
};

pub const FINALIZER: &str = "media.livestream.io/aws-teardown";

fn key(stream: &LiveStream) -> String {
    format!("{}/{}", stream.namespace().unwrap_or_default(), stream.name_any())
}

async fn reconcile(stream: Arc<LiveStream>, ctx: Arc<Context>) -> Result<Action> {
    if let Some(left) = ctx.backing_off(&stream) {
        return Ok(Action::requeue(left));
    }
    let span = info_span!("reconcile", livestream = %key(&stream), generation = stream.metadata.generation);
    let started = std::time::Instant::now();
    let work = async {
        let api: Api<LiveStream> = Api::namespaced(ctx.client.clone(), &stream.namespace().unwrap_or_default());
        let action = finalizer(&api, FINALIZER, stream.clone(), |event| async {
            match event {
                Event::Apply(stream) => reconcile::apply(stream, &ctx).await,
                Event::Cleanup(stream) => {
                    let action = reconcile::cleanup(&stream, &ctx).await?;
                    // Gone: its series goes too (a new stream of the same name starts from zero).
                    metrics::forget(&stream.namespace().unwrap_or_default(), &stream.name_any());
                    ctx.cache.forget(&stream.uid().unwrap_or_default());
                    Ok(action)
                }
            }
        })
        .await
        .map_err(|e| Error::Finalizer(Box::new(e)))?;
        ctx.forget_failures(&stream);
        Ok(action)
    };
    // Count the AWS calls this reconcile makes (the SDK interceptor adds to the task-local cell).
    let (result, calls) = metrics::RECONCILE_CALLS
        .scope(std::cell::Cell::new(0), async {
            let result: Result<Action> = work.instrument(span).await;
            (result, metrics::RECONCILE_CALLS.with(|c| c.get()))
        })
        .await;
    let m = metrics::metrics();
    m.reconcile_seconds.observe(started.elapsed().as_secs_f64());
    m.aws_calls_per_reconcile.observe(calls as f64);
    let outcome = match &result {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.inner().metric_label(),
    };
    m.reconciles.get_or_create(&metrics::OutcomeLabels { outcome }).inc();
    result
}

/// Waiting is not failing: look again soon. Failures back off exponentially with jitter, so a
/// throttled account is not hammered in lockstep by many streams.
fn error_policy(stream: Arc<LiveStream>, error: &Error, ctx: Arc<Context>) -> Action {
    let error = error.inner();
    if let Error::Waiting(what) = error {
        info!(livestream = %key(&stream), "waiting: {what}");
        ctx.forget_failures(&stream);
        return Action::requeue(ctx.settings.transition_requeue);
    }
    let attempt = ctx.consecutive_failures(&stream).saturating_add(1);
    // Throttling and 5xx say nothing about this stream: once the account has room again, a stream
    // should not sit out minutes of backoff earned while it was crowded.
    crate::aws::health::failed(error);
    // Missing permissions, refused credentials and reached quotas are fixed outside (a quota also by
    // deleting another stream): looked at again no less often than throttling.
    let cap = if error.is_transient()
        || error.may_be_eventual_consistency()
        || error.is_access_denied()
        || error.is_credentials()
        || error.is_quota()
    {
        64
    } else {
        256
    };
    let mut delay = backoff(attempt, cap, rand::random::<f64>());
    if matches!(error, Error::StreamKey { .. }) {
        // Fixed in Kubernetes (a Secret or Role created), which the operator does not watch: look
        // again within 30 s (or the resync interval, if shorter).
        delay = delay.min(ctx.settings.resync.min(Duration::from_secs(30)));
    }
    ctx.record_failure(&stream, attempt, delay);
    warn!(livestream = %key(&stream), reason = error.reason(), %error, attempt, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

/// 1 s, 2 s, 4 s … up to `cap_seconds`, each ±50 % jitter.
pub fn backoff(attempt: u32, cap_seconds: u64, unit_random: f64) -> Duration {
    let base = (1u64 << attempt.saturating_sub(1).min(16)).min(cap_seconds);
    Duration::from_secs(base).mul_f64(0.5 + unit_random)
}

fn watched(client: &Client, namespace: Option<&str>) -> Api<LiveStream> {
    match namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    }
}

/// Fails fast, before anything else starts, when the CRD is not installed or RBAC is missing.
pub async fn preflight(client: &Client, namespace: Option<&str>) -> anyhow::Result<()> {
    watched(client, namespace).list(&kube::api::ListParams::default().limit(1)).await.map_err(|e| {
        anyhow::anyhow!("cannot list LiveStreams (is the CRD installed? `livestream-operator crd | kubectl apply -f -`; is RBAC from deploy/ applied?): {e}")
    })?;
    Ok(())
}

/// Runs the controller over one namespace or all until SIGTERM or Ctrl-C.
pub async fn run(
    client: Client,
    aws: AwsClients,
    settings: Settings,
    namespace: Option<&str>,
    leadership: Option<Leadership>,
) -> anyhow::Result<()> {
    let streams = watched(&client, namespace);
    let mut leadership = leadership;
    if let Some(election) = leadership.as_mut() {
        info!("standing by until this replica holds the lease");
        tokio::select! {
            acquired = election.acquired() => anyhow::ensure!(acquired, "the leader election stopped"),
            _ = shutdown_signal() => return Ok(()),
        }
        info!("holding the lease: reconciling");
    }
    let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let lease_lost = leadership.as_ref().map(Leadership::lost);
    let trigger = {
        let lost = lost.clone();
        async move {
            tokio::select! {
                _ = shutdown_signal() => info!("shutting down: finishing reconciles in flight"),
                _ = async { match lease_lost { Some(lease_lost) => lease_lost.await, None => std::future::pending().await } } => {
                    warn!("lost the lease: stopping");
                    lost.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    };
    info!(?settings, "controller started");
    let config = kube::runtime::controller::Config::default().concurrency(settings.concurrency);
    let ctx = Arc::new(Context::new(client, aws, settings));
    // One shutdown for both controllers.
    let trigger = futures::FutureExt::shared(trigger);
    let clips = crate::clip::run(ctx.clone(), namespace.map(str::to_owned), trigger.clone());
    // The store keeps every LiveStream without its managedFields (the operator never reads them);
    // a change reconciles only if it is the user's (spec, deletion, finalizers, labels and
    // annotations), not the operator's own status writes: resyncs and requeues cover the rest.
    let (reader, writer) = kube::runtime::reflector::store();
    let changes = watcher(streams, watcher::Config::default().any_semantic())
        .default_backoff()
        .modify(|stream| stream.managed_fields_mut().clear())
        .reflect(writer)
        .applied_objects()
        .predicate_filter(user_change, Default::default());
    let streams = Controller::for_stream(changes, reader)
        .with_config(config)
        .graceful_shutdown_on(trigger)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            match result {
                // error_policy has logged it, once, with the stream and the retry delay.
                Ok(_) | Err(kube::runtime::controller::Error::ReconcilerFailed(..)) => {}
                Err(error) => warn!(%error, "controller event"),
            }
        });
    tokio::join!(streams, clips);
    info!("controller stopped");
    if let Some(election) = leadership {
        election.release().await;
    }
    anyhow::ensure!(
        !lost.load(std::sync::atomic::Ordering::Relaxed),
        "lost the leader lease"
    );
    Ok(())
}

/// What a user's change to a LiveStream touches; the operator's own status writes change none of it.
fn user_change(stream: &LiveStream) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let meta = &stream.metadata;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (
        meta.generation,
        meta.deletion_timestamp.as_ref().map(|t| t.0.as_second()),
        &meta.finalizers,
        &meta.labels,
        &meta.annotations,
    )
        .hash(&mut hasher);
    Some(hasher.finish())
}

/// SIGTERM (Kubernetes stopping the pod) or Ctrl-C.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        assert_eq!(backoff(1, 256, 0.5), Duration::from_secs(1));
        assert_eq!(backoff(3, 256, 0.5), Duration::from_secs(4));
        assert_eq!(backoff(30, 256, 0.5), Duration::from_secs(256));
        assert!(backoff(30, 256, 1.0) <= Duration::from_secs(450));
        assert_eq!(backoff(2, 256, 0.0), Duration::from_secs(1));
        assert_eq!(
            backoff(12, 64, 0.5),
            Duration::from_secs(64),
            "transient failures cap lower"
        );
        assert!(
            backoff(12, 64, 0.0) < backoff(12, 64, 0.99),
            "still jittered at the cap"
        );
    }
}
