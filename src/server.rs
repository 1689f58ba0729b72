//! The operator's HTTP endpoint for the platform: `/metrics` (Prometheus), `/healthz` (the process
//! answers), `/readyz` (the controller runs: the CRD and RBAC were found, and AWS answers with valid
//! credentials).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};

/// Binds `addr` and serves in the background; returns the bound address.
pub async fn serve(addr: SocketAddr, ready: Arc<AtomicBool>) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route(
            "/metrics",
            get(|| async {
                (
                    [("content-type", "text/plain; version=0.0.4")],
                    crate::metrics::render(),
                )
            }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(ready);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "HTTP endpoint failed");
        }
    });
    tracing::info!(%bound, "serving /metrics, /healthz and /readyz");
    Ok(bound)
}

async fn readyz(State(ready): State<Arc<AtomicBool>>) -> impl IntoResponse {
    use crate::aws::health::{self, Health};
    if !ready.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "starting".to_owned());
    }
    match health::current() {
        Health::Valid => (StatusCode::OK, "ready".to_owned()),
        Health::Unknown => (
            StatusCode::SERVICE_UNAVAILABLE,
            "waiting for a first answer from AWS".to_owned(),
        ),
        Health::Failing(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("AWS: {why}")),
    }
}
