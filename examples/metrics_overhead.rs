//! What the metrics and the request log cost per request, in process: the same `POST
//! /api/predict` (the 784-pixel JSON of a drawn "1") through the router with and without
//! metrics, alternating short bursts, on one thread; prints the thread's CPU time per request
//! (steadier than wall time on a shared machine) and the medians over the bursts.
//!
//! ```text
//! cargo run --release --example metrics_overhead -- [bursts=21] [requests per burst=2000]
//! ```

use axum::body::Body;
use axum::http::Request;
use digits::serve::{router, AppState};
use tower::ServiceExt;

/// CPU time of this thread, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid, exclusively borrowed `t`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime failed");
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

fn body() -> String {
    let mut px = vec![0.0f32; 784];
    for y in 4..24 {
        px[y * 28 + 13] = 1.0;
        px[y * 28 + 12] = 0.612;
        px[y * 28 + 14] = 0.388;
    }
    serde_json::json!({ "pixels": px }).to_string()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (bursts, per) = (
        args.first().copied().unwrap_or(21),
        args.get(1).copied().unwrap_or(2000),
    );
    let ckpt = digits::default_model::load().unwrap();
    let state = AppState::new(ckpt.model, ckpt.meta.scale, "built-in").unwrap();
    let with = router(state.clone());
    let without = router(state.without_metrics());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let body = body();
    let burst = |app: &axum::Router| {
        let start = thread_cpu_ns();
        for _ in 0..per {
            let req = Request::post("/api/predict")
                .header("content-type", "application/json")
                .body(Body::from(body.clone()))
                .unwrap();
            let res = rt.block_on(app.clone().oneshot(req)).unwrap();
            assert!(res.status().is_success());
        }
        (thread_cpu_ns() - start) as f64 / per as f64 / 1000.0
    };
    burst(&with);
    burst(&without);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..bursts {
        a.push(burst(&with));
        b.push(burst(&without));
    }
    let (ma, mb) = (median(a), median(b));
    println!(
        "CPU per request, median of {bursts} bursts of {per}: with metrics {ma:.2} us, without {mb:.2} us ({:+.1}%)",
        100.0 * (ma - mb) / mb
    );
}
