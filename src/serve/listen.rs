//! The listening loop: accepts connections itself (axum's `serve` bounds neither their number
//! nor how long a client may take to send its headers) and serves each with hyper's HTTP/1.1.
//!
//! - At most `max_connections` are open at once; one more is answered 503 with
//!   `Connection: close` and closed at once (a client that already sent data may see a reset),
//!   so a flood of idle connections cannot exhaust the process's open files.
//! - Headers must arrive within `request_timeout` (else the connection is closed); the same
//!   bound closes an idle keep-alive connection. The body's deadline is in `deadline`.
//! - On shutdown, the listener is closed first (new connections are refused), requests in
//!   flight are answered, then idle connections are closed.

use super::limits::Limits;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let refusal = refusal(limits.max_connections);
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.request_timeout);
    let service = TowerToHyperService::new(app);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // Out of files or memory for the moment: try again shortly, without
                    // spinning.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            refuse(stream, &refusal);
            continue;
        };
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service.clone()));
        tokio::spawn(async move {
            // Timeouts and clients that hang up end here as errors; nothing to do about them.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The 503 a connection over the bound gets.
fn refusal(max: usize) -> Vec<u8> {
    let body = serde_json::json!({
        "error": format!("too many connections (at most {max}, --max-connections); retry shortly")
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\nRetry-After: 1\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Answers without waiting: a fresh socket's send buffer takes the few bytes at once, and a
/// client that does not read them is not worth a task. Dropping the stream closes it.
fn refuse(stream: TcpStream, answer: &[u8]) {
    // Written through the std socket (still non-blocking): tokio's `try_write` would report
    // WouldBlock until the reactor has seen the new socket's first readiness.
    if let Ok(mut s) = stream.into_std() {
        let _ = std::io::Write::write(&mut s, answer);
    }
}
