//! HTTP serving for the API endpoint and every CloudFront edge, with the limits a listener open
//! to anyone needs: a cap on connections held at once, and a deadline for a request's headers (a
//! client trickling them, or an idle keep-alive connection, is closed). Every 500 that fault
//! injection did not ask for is logged as [`INTERNAL_ERROR`]: a client's mistake must be a 4xx,
//! and the test suite fails on that line.

use std::{cell::Cell, future::Future, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::Request,
    http::StatusCode,
    middleware::{self, Next},
    response::Response,
};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};

/// Connections one listener holds at once.
pub const MAX_CONNECTIONS: usize = 512;
/// From a connection's first byte (or the end of its last answer) to the end of a request's headers.
pub const HEADER_DEADLINE: Duration = Duration::from_secs(10);

/// The log line of an internal error that no fault injection asked for.
pub const INTERNAL_ERROR: &str = "answered 500 InternalError without an injected fault";

tokio::task_local! {
    /// Set while a request is served when fault injection failed it on purpose.
    static INJECTED: Cell<bool>;
}

/// Marks the request being served as failed by fault injection.
pub fn mark_injected() {
    let _ = INJECTED.try_with(|injected| injected.set(true));
}

async fn flag_internal_errors(req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let (response, injected) = INJECTED
        .scope(Cell::new(false), async {
            let response = next.run(req).await;
            (response, INJECTED.with(Cell::get))
        })
        .await;
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR && !injected {
        tracing::error!(%method, path, "{INTERNAL_ERROR}");
    }
    response
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(listener: TcpListener, router: Router, shutdown: impl Future<Output = ()>) {
    let router = router.layer(middleware::from_fn(flag_internal_errors));
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "HTTP connection refused: {MAX_CONNECTIONS} connections open");
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_DEADLINE);
            if let Err(e) = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "HTTP connection ended");
            }
            drop(permit);
        });
    }
}
