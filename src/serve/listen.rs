//! The listening loop: accepts connections itself (axum's `serve` bounds neither their number
//! nor how long a client may take to send its headers) and serves each with hyper's HTTP/1.1.
//!
//! - At most `max_connections` are open at once; one more is answered 503 with
//!   `Connection: close` and closed within a second, so a flood of idle connections cannot
//!   exhaust the process's open files.
//! - Headers must arrive within `request_timeout` (else the connection is closed); the same
//!   bound closes an idle keep-alive connection. The body's deadline is in `deadline`.
//! - On shutdown, the listener is closed first (new connections are refused), requests in
//!   flight are answered, then idle connections are closed.

use super::limits::Limits;
use super::metrics::Metrics;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io::ErrorKind::WouldBlock;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWrite;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    metrics: Option<Arc<Metrics>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let refusal: Arc<[u8]> = refusal(limits.max_connections).into();
    let refusing = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
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
            if let Some(m) = &metrics {
                m.connections_refused.inc();
            }
            refuse(stream, refusal.clone(), &refusing);
            continue;
        };
        let counted = metrics.clone();
        if let Some(m) = &counted {
            m.connections_open.inc();
        }
        let connection =
            graceful.watch(http.serve_connection(TokioIo::new(stream), service.clone()));
        tokio::spawn(async move {
            // Timeouts and clients that hang up end here as errors; nothing to do about them.
            let _ = connection.await;
            if let Some(m) = counted {
                m.connections_open.dec();
            }
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

/// Refused connections answered at once; past this many, more are closed unanswered.
const REFUSALS_AT_ONCE: usize = 32;

/// Answers 503 and closes, taking at most a second: the answer, then end-of-file, then the
/// client's request is read and thrown away until it closes (closing with its request unread
/// would reset the connection, and the client could lose the answer).
fn refuse(stream: TcpStream, answer: Arc<[u8]>, refusing: &Arc<Semaphore>) {
    let Ok(permit) = refusing.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let _ =
            tokio::time::timeout(Duration::from_secs(1), answer_and_drain(stream, &answer)).await;
    });
}

async fn answer_and_drain(mut stream: TcpStream, answer: &[u8]) -> std::io::Result<()> {
    let mut sent = 0;
    while sent < answer.len() {
        stream.writable().await?;
        match stream.try_write(&answer[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_shutdown(cx)).await?;
    let mut sink = [0u8; 4096];
    loop {
        stream.readable().await?;
        match stream.try_read(&mut sink) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}
