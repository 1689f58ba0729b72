//! What every reconcile shares: the Kubernetes and AWS clients, the event recorder, the operator's
//! settings, the per-stream failure bookkeeping that drives backoff, and the field manager. Its own
//! module so the reconcile pipeline depends on it without depending on the controller loop.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use kube::{
    Client, ResourceExt,
    runtime::events::{Recorder, Reporter},
};

use crate::{api::LiveStream, aws::AwsClients};

pub const FIELD_MANAGER: &str = "livestream-operator";

/// Operator-wide settings (flags).
#[derive(Clone, Debug)]
pub struct Settings {
    /// MediaLive's IAM role when a LiveStream sets none.
    pub role_arn: Option<String>,
    /// How often a stable stream's AWS state is re-read (drift detection).
    pub resync: Duration,
    /// How old the last full read (Describe/Get) of a resource may grow while account-wide
    /// listings say it has not changed; past it, the resource is described again.
    pub full_read: Duration,
    /// How soon to look again while AWS carries out a change.
    pub transition_requeue: Duration,
    /// How often a running channel's alerts are read.
    pub health_interval: Duration,
    /// S3 bucket for player pages when a LiveStream names none; unset: pages are not published.
    pub website_bucket: Option<String>,
    /// The operator's ServiceAccount (`namespace:name`), named in stream-key RBAC hints.
    pub service_account: String,
    /// Reconciles in flight at once.
    pub concurrency: u16,
    /// MediaPackage version of new streams that set none.
    pub packaging_version: crate::api::PackagingVersion,
    /// MediaPackage v2 channel group of streams that name none.
    pub channel_group: String,
    /// S3 bucket for recordings when a LiveStream names none.
    pub recording_bucket: Option<String>,
    /// How new streams that set no spec.delivery.mode reach viewers.
    pub delivery: crate::api::DeliveryMode,
}

impl Settings {
    /// How old what the operator read of a resource may be and still decide a pass: listings a
    /// tenth of the resync, so drift is seen at the first resync after it (30 s at the default
    /// 300 s); full answers up to the full-read bound while listings show them unchanged.
    pub fn freshness(&self) -> crate::observe::Freshness {
        crate::observe::Freshness {
            listing: self.resync / 10,
            full_read: self.full_read,
        }
    }
}

/// Shared state handed to every reconcile.
pub struct Context {
    pub client: Client,
    pub aws: AwsClients,
    /// Warnings go through one recorder, which folds a repeated warning into a series (it keeps
    /// every event it sent for 6 minutes to do so).
    pub recorder: Recorder,
    /// Who the events are from; Normal events (each an AWS action, rarely repeated) are sent
    /// through a recorder of their own and so are not kept: at 1,000 streams the shared cache held
    /// most of the operator's memory.
    pub reporter: Reporter,
    pub settings: Settings,
    /// Consecutive failures per stream (by uid), for backoff.
    failures: Mutex<HashMap<String, Failures>>,
    /// What the operator knows of each kind of AWS resource across the fleet (shared listings,
    /// the latest answers): how one snapshot per pass stays cheap at 1,000 streams.
    pub cache: crate::observe::ReadCache,
    /// The MediaPackage v2 channel groups AWS recently found full, for placing new streams.
    pub placement: crate::placement::Placement,
}

impl Context {
    pub fn new(client: Client, aws: AwsClients, settings: Settings) -> Self {
        let reporter = Reporter {
            controller: FIELD_MANAGER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        let recorder = Recorder::new(client.clone(), reporter.clone());
        Self {
            client,
            aws,
            recorder,
            reporter,
            settings,
            failures: Mutex::default(),
            cache: Default::default(),
            placement: Default::default(),
        }
    }
}

impl Context {
    /// Failed reconciles of this stream in a row so far.
    pub fn consecutive_failures(&self, stream: &LiveStream) -> u32 {
        self.failures.lock().unwrap().get(&uid(stream)).map_or(0, |f| f.count)
    }

    /// How long a failed stream still backs off. Watch events (our own status and finalizer
    /// writes, other controllers' edits) would otherwise retry at once and defeat the backoff; a
    /// user's spec change or a deletion is not held back.
    pub fn backing_off(&self, stream: &LiveStream) -> Option<Duration> {
        let failures = self.failures.lock().unwrap();
        let failed = failures.get(&uid(stream))?;
        let same = failed.generation == stream.metadata.generation
            && failed.deleting == stream.metadata.deletion_timestamp.is_some();
        let left = failed.retry_at.checked_duration_since(std::time::Instant::now())?;
        same.then_some(left)
    }

    /// A reconcile of this stream failed for the `attempt`th time in a row; retry after `delay`.
    pub fn record_failure(&self, stream: &LiveStream, attempt: u32, delay: Duration) {
        let failures = Failures {
            count: attempt,
            retry_at: std::time::Instant::now() + delay,
            generation: stream.metadata.generation,
            deleting: stream.metadata.deletion_timestamp.is_some(),
        };
        self.failures.lock().unwrap().insert(uid(stream), failures);
    }

    /// The stream converged, is waiting on AWS, or is gone: its backoff starts afresh.
    pub fn forget_failures(&self, stream: &LiveStream) {
        self.failures.lock().unwrap().remove(&uid(stream));
    }
}

/// A stream's run of failures: how many, and when (for which version of it) to try again.
struct Failures {
    count: u32,
    retry_at: std::time::Instant,
    generation: Option<i64>,
    deleting: bool,
}

/// Failures are tracked per object: a LiveStream deleted and created again starts afresh.
fn uid(stream: &LiveStream) -> String {
    stream.uid().unwrap_or_default()
}
