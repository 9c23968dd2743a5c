//! Load test for `digits serve`: N keep-alive connections posting the 784-pixel JSON that the
//! drawing page sends, from this (second) process.
//!
//! ```text
//! cargo run --release -- serve --addr 127.0.0.1:8080 &
//! cargo run --release --example loadtest -- --addr 127.0.0.1:8080 --connections 32 --seconds 10
//! ```
//!
//! Prints requests per second, errors and latency percentiles.

use clap::Parser;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// The server.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Concurrent keep-alive connections, one thread each.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// How long to run.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
}

/// A "1" as the page sends it: a stroke 3 pixels wide and 20 high, centred, 3 decimals.
fn body() -> Vec<u8> {
    let mut px = vec![0.0f32; 784];
    for y in 4..24 {
        px[y * 28 + 13] = 1.0;
        px[y * 28 + 12] = 0.612;
        px[y * 28 + 14] = 0.388;
    }
    serde_json::json!({ "pixels": px }).to_string().into_bytes()
}

struct Tally {
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    latencies_us: Vec<u32>,
}

/// Posts on one connection until `stop`; reconnects after a broken connection (an error).
fn client(addr: SocketAddr, body: Arc<Vec<u8>>, stop: Arc<AtomicBool>) -> Tally {
    let mut t = Tally {
        ok: 0,
        errors: 0,
        first_error: None,
        latencies_us: Vec::new(),
    };
    let head = format!(
        "POST /api/predict HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(&body);
    let mut conn: Option<(TcpStream, BufReader<TcpStream>)> = None;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let result = (|| -> Result<(), String> {
            if conn.is_none() {
                let s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
                s.set_nodelay(true).ok();
                let r = BufReader::new(s.try_clone().map_err(|e| e.to_string())?);
                conn = Some((s, r));
            }
            let (s, r) = conn.as_mut().unwrap();
            s.write_all(&request).map_err(|e| format!("write: {e}"))?;
            let status = read_response(r)?;
            if status != 200 {
                return Err(format!("status {status}"));
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                t.ok += 1;
                t.latencies_us.push(started.elapsed().as_micros() as u32);
            }
            Err(e) => {
                t.errors += 1;
                t.first_error.get_or_insert(e);
                conn = None;
            }
        }
    }
    t
}

/// Reads one response (Content-Length body, which axum sends for JSON); returns its status.
fn read_response(r: &mut BufReader<TcpStream>) -> Result<u16, String> {
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| format!("read: {e}"))?;
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        r.read_line(&mut line).map_err(|e| format!("read: {e}"))?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().map_err(|_| "bad content-length")?;
            }
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body)
        .map_err(|e| format!("read body: {e}"))?;
    if status == 200 && !body.starts_with(b"{\"digit\":") {
        return Err(format!(
            "unexpected body {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(status)
}

fn main() {
    let args = Args::parse();
    let body = Arc::new(body());
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..args.connections)
        .map(|_| {
            let (body, stop) = (body.clone(), stop.clone());
            std::thread::spawn(move || client(args.addr, body, stop))
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(args.seconds));
    stop.store(true, Ordering::Relaxed);
    let tallies: Vec<Tally> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let elapsed = started.elapsed().as_secs_f64();
    let ok: u64 = tallies.iter().map(|t| t.ok).sum();
    let errors: u64 = tallies.iter().map(|t| t.errors).sum();
    let mut lat: Vec<u32> = tallies
        .iter()
        .flat_map(|t| t.latencies_us.iter().copied())
        .collect();
    lat.sort_unstable();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)));
    println!(
        "{ok} predictions in {elapsed:.1} s over {} connections ({} byte bodies): {:.0} requests/s, {errors} errors",
        args.connections,
        body.len(),
        ok as f64 / elapsed
    );
    if let (Some(p50), Some(p99)) = (pct(0.5), pct(0.99)) {
        println!("latency p50 {p50} us, p99 {p99} us");
    }
    if let Some(e) = tallies.iter().find_map(|t| t.first_error.clone()) {
        println!("first error: {e}");
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average: {}", load.trim());
    }
    if errors > 0 {
        std::process::exit(1);
    }
}
