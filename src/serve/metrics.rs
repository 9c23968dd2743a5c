//! `GET /metrics` in Prometheus' text format, and the middleware that feeds it and writes the
//! request log (through `tracing`, target `digits::serve::request`, at INFO: quiet unless
//! `RUST_LOG` asks for it).
//!
//! - `digits_http_requests_total{route, status}`: requests answered, by route and status code
//!   (route is the matched pattern, or `unmatched`, so the label set stays small).
//! - `digits_http_requests_in_flight`: requests being handled now.
//! - `digits_predict_duration_seconds`: histogram of `POST /api/predict` handling time (body read,
//!   decoding or parsing, preprocessing and the forward pass).
//! - `digits_read_duration_seconds`: the same for `POST /api/read` (decoding, finding the digits
//!   and reading each).
//! - `digits_model_info{architecture, source}` = 1 and `digits_model_parameters`.
//! - `digits_connections_open` and `digits_connections_refused_total` (over `--max-connections`).

use super::state::AppState;
use crate::nn::Sequential;
use crate::train::checkpoint::describe;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use std::sync::Arc;
use std::time::Instant;

/// The route label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

const PREDICT_ROUTE: &str = "/api/predict";
const READ_ROUTE: &str = "/api/read";

/// Histogram buckets for one prediction, in seconds: 25 us to 1 s.
const BUCKETS: [f64; 15] = [
    25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 0.1, 0.25, 0.5,
    1.0,
];

/// The server's metrics, in a registry of their own (one per server).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    in_flight: IntGauge,
    predict_seconds: Histogram,
    read_seconds: Histogram,
    /// Connections open now (see `listen`).
    pub(crate) connections_open: IntGauge,
    /// Connections refused because `max_connections` were open.
    pub(crate) connections_refused: IntCounter,
}

impl Metrics {
    pub fn new(model: &Sequential, source: &str) -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "digits_http_requests_total",
                "HTTP requests answered, by route and status code",
            ),
            &["route", "status"],
        )
        .expect("valid metric");
        let in_flight = IntGauge::new(
            "digits_http_requests_in_flight",
            "HTTP requests being handled now",
        )
        .expect("valid metric");
        let predict_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "digits_predict_duration_seconds",
                "Time to handle POST /api/predict: reading, preprocessing and the forward pass",
            )
            .buckets(BUCKETS.to_vec()),
        )
        .expect("valid metric");
        let read_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "digits_read_duration_seconds",
                "Time to handle POST /api/read: reading, finding the digits and classifying them",
            )
            .buckets(BUCKETS.to_vec()),
        )
        .expect("valid metric");
        let info = IntGaugeVec::new(
            Opts::new("digits_model_info", "The model being served (always 1)"),
            &["architecture", "source"],
        )
        .expect("valid metric");
        info.with_label_values(&[describe(model.spec()).as_str(), source])
            .set(1);
        let params = IntGauge::new("digits_model_parameters", "Parameters of the model served")
            .expect("valid metric");
        params.set(model.params().len() as i64);
        let connections_open =
            IntGauge::new("digits_connections_open", "Connections open now").expect("valid metric");
        let connections_refused = IntCounter::new(
            "digits_connections_refused_total",
            "Connections answered 503 and closed because --max-connections were open",
        )
        .expect("valid metric");
        for m in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(connections_open.clone()),
            Box::new(connections_refused.clone()),
            Box::new(in_flight.clone()),
            Box::new(predict_seconds.clone()),
            Box::new(read_seconds.clone()),
            Box::new(info),
            Box::new(params),
        ] {
            registry.register(m).expect("metric names are distinct");
        }
        Metrics {
            registry,
            requests,
            in_flight,
            predict_seconds,
            read_seconds,
            connections_open,
            connections_refused,
        }
    }

    /// Every metric in Prometheus' text exposition format.
    pub fn render(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_else(|e| format!("# encoding the metrics failed: {e}\n"))
    }
}

/// Counts a request in flight until dropped (also when the client goes away mid-request).
struct InFlight<'a>(&'a IntGauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Around every request: the metrics (when enabled) and one log line.
pub async fn observe(
    State(state): State<Arc<AppState>>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let route = matched
        .as_ref()
        .map_or(UNMATCHED, |m| m.as_str())
        .to_owned();
    let method = req.method().clone();
    let start = Instant::now();
    let metrics = state.metrics.as_deref();
    let guard = metrics.map(|m| {
        m.in_flight.inc();
        InFlight(&m.in_flight)
    });
    let response = next.run(req).await;
    drop(guard);
    let elapsed = start.elapsed();
    let status = response.status();
    if let Some(m) = metrics {
        m.requests
            .with_label_values(&[route.as_str(), status.as_str()])
            .inc();
        match route.as_str() {
            PREDICT_ROUTE => m.predict_seconds.observe(elapsed.as_secs_f64()),
            READ_ROUTE => m.read_seconds.observe(elapsed.as_secs_f64()),
            _ => {}
        }
    }
    tracing::info!(
        target: "digits::serve::request",
        %method,
        route,
        status = status.as_u16(),
        micros = elapsed.as_micros() as u64,
    );
    response
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    match &state.metrics {
        Some(m) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            m.render(),
        )
            .into_response(),
        None => super::error::ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "metrics are off (digits serve --no-metrics)",
        )
        .into_response(),
    }
}
