//! The router and the listening loop.

use super::state::AppState;
use super::{api, deadline, limits, listen, metrics, page, read};
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Every route, with the body's size limit and deadline, the metrics and the request log.
pub fn router(state: AppState) -> Router {
    let state = Arc::new(state);
    Router::new()
        .route("/", get(page::index))
        .route("/api/predict", post(api::predict))
        .route("/api/read", post(read::read))
        .route("/api/model", get(api::model))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(metrics::metrics))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(limits::MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            deadline::read_body_in_time,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::observe,
        ))
        .with_state(state)
}

/// Listens on `addr`, with a plain message when that fails ("address in use").
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::AddrInUse => "address in use".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            std::io::ErrorKind::AddrNotAvailable => "address not available here".to_string(),
            _ => e.to_string(),
        };
        anyhow::anyhow!("could not listen on {addr}: {why}")
    })
}

/// Serves `state` on `addr` until Ctrl-C.
pub async fn serve(addr: SocketAddr, state: AppState) -> anyhow::Result<()> {
    let listener = bind(addr).await?;
    serve_with_shutdown(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Serves on a bound listener, within the state's [`limits::Limits`], until `shutdown`
/// completes; then refuses new connections and lets requests in flight finish.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (limits, metrics) = (state.limits.clone(), state.metrics.clone());
    listen::serve_connections(listener, router(state), &limits, metrics, shutdown).await;
    Ok(())
}
