//! The reconcile loop. For now it watches LiveStreams and reports what it sees; the AWS pipeline
//! (validate → desired state → apply → status) plugs in here.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use kube::{
    Api, Client, ResourceExt,
    runtime::{Controller, controller::Action, watcher},
};
use tracing::{info, instrument, warn};

use crate::api::LiveStream;

/// Shared state handed to every reconcile.
pub struct Context {
    pub client: Client,
}

/// Why a reconcile failed; each variant names the step, and becomes a metric label later.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API call failed: {0}")]
    Kube(#[from] kube::Error),
}

#[instrument(skip_all, fields(livestream = %format!("{}/{}", stream.namespace().unwrap_or_default(), stream.name_any())))]
async fn reconcile(stream: Arc<LiveStream>, _ctx: Arc<Context>) -> Result<Action, Error> {
    info!(
        channel_id = %stream.channel_id(),
        running = stream.spec.running,
        renditions = stream.spec.encoding.renditions.len(),
        generation = stream.metadata.generation,
        "observed LiveStream"
    );
    Ok(Action::await_change())
}

fn error_policy(stream: Arc<LiveStream>, error: &Error, _ctx: Arc<Context>) -> Action {
    warn!(livestream = %stream.name_any(), %error, "reconcile failed");
    Action::requeue(Duration::from_secs(5))
}

/// Runs the controller over every namespace until SIGTERM or Ctrl-C.
pub async fn run(client: Client) -> anyhow::Result<()> {
    let streams: Api<LiveStream> = Api::all(client.clone());
    // Fail fast with a clear message when the CRD is not installed.
    streams
        .list(&kube::api::ListParams::default().limit(1))
        .await
        .map_err(|e| anyhow::anyhow!("cannot list LiveStreams (is the CRD installed? `livestream-operator crd | kubectl apply -f -`): {e}"))?;
    info!("controller started");
    Controller::new(streams, watcher::Config::default())
        .shutdown_on_signal()
        .run(reconcile, error_policy, Arc::new(Context { client }))
        .for_each(|result| async move {
            if let Err(error) = result {
                warn!(%error, "controller event");
            }
        })
        .await;
    info!("controller stopped");
    Ok(())
}
