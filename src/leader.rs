//! Leader election: only the holder of a coordination.k8s.io Lease reconciles (kube-lease-manager,
//! server-side apply on the Lease), so two replicas never act on AWS at once. Losing the lease stops
//! the controller and exits, to rejoin as a candidate; a clean shutdown releases it so the standby
//! takes over at once instead of after the lease duration.

use std::time::Duration;

use kube::Client;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::{sync::watch, task::JoinHandle};
use tracing::info;

#[derive(Clone, Debug)]
pub struct LeaseSettings {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub duration_seconds: u64,
    pub grace_seconds: u64,
}

pub struct Leadership {
    leading: watch::Receiver<bool>,
    task: JoinHandle<kube_lease_manager::Result<LeaseManager>>,
}

impl Leadership {
    /// Joins the election (the Lease is created when missing).
    pub async fn join(client: Client, settings: &LeaseSettings) -> anyhow::Result<Self> {
        let manager = LeaseManagerBuilder::new(client, &settings.name)
            .with_namespace(&settings.namespace)
            .with_identity(&settings.identity)
            .with_duration(settings.duration_seconds)
            .with_grace(settings.grace_seconds)
            .with_field_manager(crate::context::FIELD_MANAGER)
            .build()
            .await?;
        let (leading, task) = manager.watch().await;
        info!(lease = %format!("{}/{}", settings.namespace, settings.name), identity = %settings.identity, "joined the leader election");
        Ok(Self { leading, task })
    }

    /// Resolves once this process holds the lease; false if the election stopped.
    pub async fn acquired(&mut self) -> bool {
        self.leading.wait_for(|leading| *leading).await.is_ok()
    }

    /// A future that resolves when the lease is lost.
    pub fn lost(&self) -> impl Future<Output = ()> + Send + Sync + 'static {
        let mut leading = self.leading.clone();
        async move {
            let _ = leading.wait_for(|leading| !*leading).await;
        }
    }

    /// Leaves the election, releasing the lease if held.
    pub async fn release(self) {
        drop(self.leading);
        match tokio::time::timeout(Duration::from_secs(5), self.task).await {
            Ok(Ok(Ok(_))) => info!("released the lease"),
            other => tracing::warn!(?other, "could not release the lease cleanly"),
        }
    }
}
