//! Prometheus metrics: reconciles and their errors by reason, reconcile duration, every AWS call by
//! service, operation and outcome (counted once per attempt, as AWS rate limits count them), AWS
//! calls per reconcile, and channels running.

use std::{cell::Cell, sync::LazyLock};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// "ok", or the error's metric label (aws_throttled, invalid_spec, waiting …).
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AwsCallLabels {
    pub service: String,
    pub operation: String,
    /// ok, throttled, client_error, server_error or no_response.
    pub outcome: String,
}

pub struct Metrics {
    registry: Registry,
    pub reconciles: Family<OutcomeLabels, Counter>,
    pub reconcile_seconds: Histogram,
    pub aws_calls: Family<AwsCallLabels, Counter>,
    pub aws_calls_per_reconcile: Histogram,
    pub channels_running: Gauge,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("livestream_operator");
    let reconciles = Family::<OutcomeLabels, Counter>::default();
    registry.register("reconciles", "Reconciles by outcome", reconciles.clone());
    let reconcile_seconds = Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]);
    registry.register(
        "reconcile_duration_seconds",
        "Time one reconcile took",
        reconcile_seconds.clone(),
    );
    let aws_calls = Family::<AwsCallLabels, Counter>::default();
    registry.register(
        "aws_calls",
        "AWS API call attempts by service, operation and outcome",
        aws_calls.clone(),
    );
    let aws_calls_per_reconcile = Histogram::new([0.0, 1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0]);
    registry.register(
        "aws_calls_per_reconcile",
        "AWS API call attempts made by one reconcile",
        aws_calls_per_reconcile.clone(),
    );
    let channels_running = Gauge::default();
    registry.register(
        "channels_running",
        "MediaLive channels observed RUNNING",
        channels_running.clone(),
    );
    Metrics {
        registry,
        reconciles,
        reconcile_seconds,
        aws_calls,
        aws_calls_per_reconcile,
        channels_running,
    }
});

pub fn metrics() -> &'static Metrics {
    &METRICS
}

tokio::task_local! {
    /// AWS calls made by the reconcile running on this task.
    pub static RECONCILE_CALLS: Cell<u64>;
}

/// Records whether a stream's channel is RUNNING, for the channels_running gauge.
pub fn set_running(stream: &str, running: bool) {
    static RUNNING: LazyLock<std::sync::Mutex<std::collections::HashSet<String>>> = LazyLock::new(Default::default);
    let mut set = RUNNING.lock().unwrap();
    if running {
        set.insert(stream.to_owned());
    } else {
        set.remove(stream);
    }
    metrics().channels_running.set(set.len() as i64);
}

/// Counts one AWS call attempt (called by the SDK interceptor in `aws`).
pub fn count_aws_call(service: &str, operation: &str, outcome: &str) {
    metrics()
        .aws_calls
        .get_or_create(&AwsCallLabels {
            service: service.into(),
            operation: operation.into(),
            outcome: outcome.into(),
        })
        .inc();
    let _ = RECONCILE_CALLS.try_with(|calls| calls.set(calls.get() + 1));
}

/// The Prometheus text exposition.
pub fn render() -> String {
    let mut text = String::new();
    encode(&mut text, &metrics().registry).expect("metrics encode to a String");
    text
}
