//! Fault injection and call accounting, so tests can rehearse what AWS does under load and assert API
//! budgets: per-operation throttling (TooManyRequestsException past N calls/s, as AWS's rate limits),
//! a random 5xx rate, added latency, and a delay before a new MediaPackage channel is visible to
//! MediaLive (eventual consistency). Every call is counted by service, operation and outcome.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
    time::{Duration, Instant},
};

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::protocol::ApiError;

/// What to inject; also the JSON body of `PUT /_local/faults`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultConfig {
    /// Calls per second allowed per operation name (e.g. "CreateChannel"); "*" applies to every
    /// operation without its own entry.
    pub throttle: BTreeMap<String, f64>,
    /// Fraction (0–1) of calls answered with a 500 InternalServerErrorException.
    pub error_rate: f64,
    /// Latency added to every API call.
    pub latency_ms: u64,
    /// How long a new MediaPackage channel stays invisible to MediaLive's CreateChannel.
    pub consistency_delay_ms: u64,
    /// Crash rehearsal: the Nth mutating call (counted from this setting) is carried out but its
    /// response is held back, and every later call waits, until the faults are changed. A client
    /// killed meanwhile has made N changes and learned of N - 1.
    pub hold_after_mutations: Option<u64>,
}

impl FaultConfig {
    /// Parses `Operation=N` flags (N calls per second).
    pub fn parse_throttle(spec: &str) -> Result<(String, f64), String> {
        let (op, rate) = spec.split_once('=').ok_or("expected OPERATION=CALLS_PER_SECOND")?;
        let rate: f64 = rate.parse().map_err(|e| format!("bad rate {rate:?}: {e}"))?;
        Ok((op.to_owned(), rate))
    }
}

struct TokenBucket {
    tokens: f64,
    updated: Instant,
}

#[derive(Default)]
struct State {
    config: FaultConfig,
    buckets: HashMap<String, TokenBucket>,
    calls: BTreeMap<(String, String, String), u64>,
    /// Mutating calls since the hold was configured.
    mutations: u64,
    held: bool,
}

#[derive(Default)]
pub struct Faults {
    state: Mutex<State>,
    released: tokio::sync::Notify,
}

/// What `GET /_local/hold` reports.
#[derive(Serialize)]
pub struct HoldStatus {
    pub held: bool,
    pub mutations: u64,
}

/// One row of the call counters.
#[derive(Serialize)]
pub struct CallCount {
    pub service: String,
    pub operation: String,
    pub outcome: String,
    pub count: u64,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        let faults = Self::default();
        faults.configure(config);
        faults
    }

    pub fn configure(&self, config: FaultConfig) {
        let mut state = self.state.lock().unwrap();
        state.config = config;
        state.buckets.clear();
        state.mutations = 0;
        state.held = false;
        self.released.notify_waiters();
    }

    pub fn hold_status(&self) -> HoldStatus {
        let state = self.state.lock().unwrap();
        HoldStatus {
            held: state.held,
            mutations: state.mutations,
        }
    }

    /// Waits while calls are held.
    pub async fn wait_while_held(&self) {
        loop {
            let released = self.released.notified();
            if !self.state.lock().unwrap().held {
                return;
            }
            released.await;
        }
    }

    /// Counts a mutating call that was carried out; holds its response if it is the one to hold.
    pub async fn after_mutation(&self, operation: &str) {
        let mutating = ["Create", "Update", "Delete", "Start", "Stop", "Tag", "Untag"]
            .iter()
            .any(|p| operation.starts_with(p));
        if !mutating {
            return;
        }
        {
            let mut state = self.state.lock().unwrap();
            state.mutations += 1;
            if state.config.hold_after_mutations != Some(state.mutations) {
                return;
            }
            state.held = true;
            tracing::warn!(
                operation,
                mutations = state.mutations,
                "holding the response of this call and every later call"
            );
        }
        self.wait_while_held().await;
    }

    pub fn config(&self) -> FaultConfig {
        self.state.lock().unwrap().config.clone()
    }

    /// Clears counters and faults.
    pub fn reset(&self) {
        *self.state.lock().unwrap() = State::default();
        self.released.notify_waiters();
    }

    /// Runs before an API call: waits out the injected latency, then throttles or fails it.
    pub async fn before(&self, operation: &str) -> Result<(), ApiError> {
        let latency = self.state.lock().unwrap().config.latency_ms;
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        let mut state = self.state.lock().unwrap();
        let rate = state
            .config
            .throttle
            .get(operation)
            .or_else(|| state.config.throttle.get("*"))
            .copied();
        if let Some(rate) = rate {
            let now = Instant::now();
            let bucket = state.buckets.entry(operation.to_owned()).or_insert(TokenBucket {
                tokens: rate,
                updated: now,
            });
            bucket.tokens =
                (bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * rate).min(rate.max(1.0));
            bucket.updated = now;
            if bucket.tokens < 1.0 {
                return Err(ApiError::too_many_requests(format!("Rate exceeded for {operation}")));
            }
            bucket.tokens -= 1.0;
        }
        if state.config.error_rate > 0.0 && rand::rng().random_bool(state.config.error_rate.clamp(0.0, 1.0)) {
            crate::serve::mark_injected();
            return Err(ApiError::internal(format!("Injected failure of {operation}")));
        }
        Ok(())
    }

    pub fn consistency_delay(&self) -> Duration {
        Duration::from_millis(self.state.lock().unwrap().config.consistency_delay_ms)
    }

    pub fn record(&self, service: &str, operation: &str, outcome: &str) {
        let mut state = self.state.lock().unwrap();
        *state
            .calls
            .entry((service.to_owned(), operation.to_owned(), outcome.to_owned()))
            .or_default() += 1;
    }

    pub fn calls(&self) -> Vec<CallCount> {
        let state = self.state.lock().unwrap();
        state
            .calls
            .iter()
            .map(|((service, operation, outcome), count)| CallCount {
                service: service.clone(),
                operation: operation.clone(),
                outcome: outcome.clone(),
                count: *count,
            })
            .collect()
    }

    /// Prometheus text exposition of the call counters.
    pub fn metrics_text(&self) -> String {
        let mut out = String::from(
            "# HELP livestream_local_api_calls_total API calls by service, operation and outcome.\n\
             # TYPE livestream_local_api_calls_total counter\n",
        );
        for c in self.calls() {
            out.push_str(&format!(
                "livestream_local_api_calls_total{{service=\"{}\",operation=\"{}\",outcome=\"{}\"}} {}\n",
                c.service, c.operation, c.outcome, c.count
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn throttles_past_the_rate_per_operation() {
        let faults = Faults::new(FaultConfig {
            throttle: [("CreateChannel".to_owned(), 2.0)].into(),
            ..Default::default()
        });
        let mut throttled = 0;
        for _ in 0..10 {
            if let Err(e) = faults.before("CreateChannel").await {
                assert_eq!(e.kind, "TooManyRequestsException");
                throttled += 1;
            }
        }
        assert_eq!(throttled, 8, "a burst of 2 then nothing within the same instant");
        assert!(
            faults.before("DescribeChannel").await.is_ok(),
            "other operations are not throttled"
        );
    }

    #[tokio::test]
    async fn error_rate_one_fails_every_call() {
        let faults = Faults::new(FaultConfig {
            error_rate: 1.0,
            ..Default::default()
        });
        assert_eq!(faults.before("ListChannels").await.unwrap_err().status.as_u16(), 500);
    }

    #[test]
    fn counts_calls_as_prometheus_text() {
        let faults = Faults::default();
        faults.record("medialive", "CreateChannel", "ok");
        faults.record("medialive", "CreateChannel", "ok");
        assert!(faults.metrics_text().contains(
            "livestream_local_api_calls_total{service=\"medialive\",operation=\"CreateChannel\",outcome=\"ok\"} 2"
        ));
    }
}
