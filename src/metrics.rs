//! Prometheus metrics: reconciles and their errors by reason, reconcile duration, every AWS call by
//! service, operation and outcome (counted once per attempt, as AWS rate limits count them), AWS
//! calls per reconcile, channels running and the seconds they ran.

use std::{
    cell::Cell,
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
    time::{Duration, Instant},
};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, text::encode},
    metrics::{
        MetricType,
        counter::{ConstCounter, Counter},
        family::Family,
        gauge::{ConstGauge, Gauge},
        histogram::Histogram,
    },
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
    /// ok, throttled, denied (403: IAM or the credentials), client_error, server_error or
    /// no_response.
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

static CLOCKS: LazyLock<Arc<RunningClocks>> = LazyLock::new(Default::default);

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
    registry.register_collector(Box::new(CLOCKS.clone()));
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

/// How long each stream's channel has been observed RUNNING. Read at scrape time, so the counter
/// grows between reconciles; its precision is that of the observations (a reconcile, or the
/// operator's own start and stop).
#[derive(Debug, Default)]
struct RunningClocks(Mutex<HashMap<StreamLabels, Clock>>);

#[derive(Debug, Default)]
struct Clock {
    since: Option<Instant>,
    total: Duration,
    health: Health,
}

/// One per-stream gauge's value, if the stream has one now.
type GaugeValue = fn(&Clock, Instant) -> Option<f64>;

/// A stream's channel health as the last reconcile saw it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Health {
    /// While the channel runs: whether an encoder pushes to it (None: not known yet).
    pub input_connected: Option<bool>,
    /// Active MediaLive alerts.
    pub alerts: usize,
    /// While a stream with more than one leg runs: whether every leg is up (the Redundant
    /// condition; None: a single leg, or not known).
    pub redundant: Option<bool>,
    /// `spec.maxRunDuration` in seconds.
    pub max_run_seconds: Option<f64>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    namespace: String,
    name: String,
}

impl Collector for RunningClocks {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let clocks = self.0.lock().unwrap();
        let now = Instant::now();
        {
            let mut family = encoder.encode_descriptor(
                "channel_running_seconds",
                "Seconds each LiveStream's MediaLive channel was observed RUNNING (billed time)",
                None,
                MetricType::Counter,
            )?;
            for (labels, clock) in clocks.iter() {
                let running = clock.since.map(|since| now - since).unwrap_or_default();
                ConstCounter::new((clock.total + running).as_secs_f64()).encode(family.encode_family(labels)?)?;
            }
        }
        // Gauges per stream, for alerting rules (deploy/monitoring/alerts.yaml).
        let gauges: [(&str, &str, GaugeValue); 5] = [
            (
                "channel_run_seconds",
                "Seconds the current run of the channel has lasted",
                |c, now| c.since.map(|since| (now - since).as_secs_f64()),
            ),
            (
                "channel_input_connected",
                "1 while an encoder pushes to the running channel, 0 while none does",
                |c, _| c.since.and(c.health.input_connected).map(|on| f64::from(u8::from(on))),
            ),
            (
                "channel_redundant",
                "1 while every pipeline of a running stream with two pipelines or a backup input ingests from the primary, 0 while it runs on one leg",
                |c, _| c.since.and(c.health.redundant).map(|on| f64::from(u8::from(on))),
            ),
            (
                "channel_alerts",
                "Active MediaLive alerts on the running channel",
                |c, _| c.since.map(|_| c.health.alerts as f64),
            ),
            (
                "channel_max_run_duration_seconds",
                "spec.maxRunDuration of the stream, in seconds",
                |c, _| c.health.max_run_seconds,
            ),
        ];
        for (name, help, value) in gauges {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for (labels, clock) in clocks.iter() {
                if let Some(v) = value(clock, now) {
                    ConstGauge::new(v).encode(family.encode_family(labels)?)?;
                }
            }
        }
        Ok(())
    }
}

/// Records a stream's channel health (alerts, input) next to whether it runs.
pub fn set_health(namespace: &str, name: &str, running: bool, health: Health) {
    set_running(namespace, name, running);
    let labels = StreamLabels {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    };
    CLOCKS.0.lock().unwrap().entry(labels).or_default().health = health;
}

/// Records whether a stream's channel is RUNNING, for channels_running and channel_running_seconds.
pub fn set_running(namespace: &str, name: &str, running: bool) {
    let labels = StreamLabels {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    };
    let mut clocks = CLOCKS.0.lock().unwrap();
    let clock = clocks.entry(labels).or_default();
    match (clock.since, running) {
        (None, true) => clock.since = Some(Instant::now()),
        (Some(since), false) => {
            clock.total += since.elapsed();
            clock.since = None;
        }
        _ => {}
    }
    let count = clocks.values().filter(|c| c.since.is_some()).count();
    metrics().channels_running.set(count as i64);
}

/// Drops a deleted stream's series.
pub fn forget(namespace: &str, name: &str) {
    set_running(namespace, name, false);
    CLOCKS.0.lock().unwrap().remove(&StreamLabels {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(name: &str) -> f64 {
        let prefix =
            format!("livestream_operator_channel_running_seconds_total{{namespace=\"unit\",name=\"{name}\"}} ");
        render()
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(|v| v.parse().unwrap())
            .unwrap_or_else(|| panic!("no series for {name} in\n{}", render()))
    }

    #[test]
    fn running_seconds_grow_while_running_and_hold_when_stopped() {
        set_running("unit", "clock", true);
        std::thread::sleep(Duration::from_millis(30));
        let running = seconds("clock");
        assert!(running >= 0.03, "{running}");
        set_running("unit", "clock", true); // a repeated observation does not restart the clock
        set_running("unit", "clock", false);
        let stopped = seconds("clock");
        assert!(stopped >= running);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(seconds("clock"), stopped, "a stopped channel costs nothing");
        set_running("unit", "clock", true);
        std::thread::sleep(Duration::from_millis(10));
        assert!(seconds("clock") > stopped, "a restart adds to the total");
        set_health(
            "unit",
            "clock",
            true,
            Health {
                input_connected: Some(false),
                alerts: 2,
                redundant: Some(false),
                max_run_seconds: Some(3600.0),
            },
        );
        let text = render();
        for line in [
            r#"livestream_operator_channel_input_connected{namespace="unit",name="clock"} 0"#,
            r#"livestream_operator_channel_alerts{namespace="unit",name="clock"} 2"#,
            r#"livestream_operator_channel_redundant{namespace="unit",name="clock"} 0"#,
            r#"livestream_operator_channel_max_run_duration_seconds{namespace="unit",name="clock"} 3600"#,
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
        assert!(text.contains(r#"livestream_operator_channel_run_seconds{namespace="unit",name="clock"} 0."#));
        forget("unit", "clock");
        assert!(
            !render().contains(r#"namespace="unit",name="clock""#),
            "a deleted stream's series goes"
        );
    }
}
