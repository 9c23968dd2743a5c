//! Issue 21's hostile clients against a running `digits serve`, from this (second) process:
//! many connections that send headers and the start of a body, then nothing; a burst of reads
//! of a huge PNG (8000x8000, a few hundred KB); and, all the while, `GET /healthz` and a small
//! `POST /api/predict` every 100 ms, timed.
//!
//! ```text
//! cargo run --release -- serve --addr 127.0.0.1:8080 &
//! cargo run --release --example hostile_clients -- --addr 127.0.0.1:8080 --pid $!
//! ```
//!
//! Prints what the big reads were answered and how long they took, the worst probe latencies,
//! how many slow connections the server closed (or answered 408) within `--slow-wait` seconds,
//! and the server's peak memory (VmHWM of `--pid`).

use clap::Parser;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// The server.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// The server's process id, for its peak memory.
    #[arg(long)]
    pid: Option<u32>,
    /// Connections that send headers and part of a body, then nothing.
    #[arg(long, default_value_t = 3000)]
    slow: usize,
    /// Seconds to wait, after opening them, before counting the slow connections still open.
    #[arg(long, default_value_t = 40.0)]
    slow_wait: f64,
    /// Simultaneous `POST /api/read` of the big picture.
    #[arg(long, default_value_t = 16)]
    big_reads: usize,
    /// Side of the big picture, in pixels.
    #[arg(long, default_value_t = 8000)]
    side: u32,
}

/// A white `side` x `side` PNG with a few dark bars: compresses to a few hundred KB.
fn big_png(side: u32) -> Vec<u8> {
    let img = image::GrayImage::from_fn(side, side, |x, y| {
        let bar = (x / (side / 8)) % 2 == 1 && y > side / 4 && y < 3 * side / 4;
        image::Luma([if bar && x % (side / 8) < side / 40 {
            0
        } else {
            255
        }])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// One request on a fresh connection; the status (0 when none came back) and the time taken.
fn request(addr: SocketAddr, path: &str, ct: &str, body: &[u8]) -> (u16, Duration) {
    let start = Instant::now();
    let status = (|| -> std::io::Result<u16> {
        let mut s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        let method = if body.is_empty() { "GET" } else { "POST" };
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )?;
        let _ = s.write_all(body);
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let head = String::from_utf8_lossy(&raw[..raw.len().min(20)]).into_owned();
        Ok(head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0))
    })()
    .unwrap_or(0);
    (status, start.elapsed())
}

/// Peak resident memory of `pid`, in MB.
fn peak_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let args = Args::parse();
    let addr = args.addr;

    let opened = Instant::now();
    let mut slow = Vec::new();
    let mut refused = 0;
    for _ in 0..args.slow {
        let started = TcpStream::connect(addr).and_then(|mut s| {
            write!(
                s,
                "POST /api/predict HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{{\"pixels\": [0,"
            )?;
            Ok(s)
        });
        match started {
            Ok(s) => slow.push(s),
            Err(_) => refused += 1,
        }
    }
    println!(
        "{} slow connections opened in {:.1} s ({refused} failed)",
        slow.len(),
        opened.elapsed().as_secs_f64()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let probe = {
        let stop = stop.clone();
        let json = serde_json::json!({ "pixels": vec![0.5f32; 784], "framed": true }).to_string();
        std::thread::spawn(move || {
            let (mut worst_health, mut worst_predict, mut failures, mut n) =
                (Duration::ZERO, Duration::ZERO, 0, 0);
            let mut last_failure = None;
            while !stop.load(Ordering::Relaxed) {
                let (s1, t1) = request(addr, "/healthz", "text/plain", b"");
                let (s2, t2) = request(addr, "/api/predict", "application/json", json.as_bytes());
                if s1 != 200 || s2 != 200 {
                    failures += 1;
                    last_failure = Some(opened.elapsed());
                } else {
                    worst_health = worst_health.max(t1);
                    worst_predict = worst_predict.max(t2);
                }
                n += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            (worst_health, worst_predict, failures, n, last_failure)
        })
    };

    let png = Arc::new(big_png(args.side));
    println!(
        "{} reads of a {side}x{side} PNG ({} KB) at once",
        args.big_reads,
        png.len() / 1000,
        side = args.side
    );
    let burst = Instant::now();
    let reads: Vec<_> = (0..args.big_reads)
        .map(|_| {
            let png = png.clone();
            std::thread::spawn(move || request(addr, "/api/read", "image/png", &png))
        })
        .collect();
    let mut answers: Vec<(u16, Duration)> = reads.into_iter().map(|t| t.join().unwrap()).collect();
    answers.sort();
    for (status, took) in &answers {
        print!("{status} in {:.2} s; ", took.as_secs_f64());
    }
    println!("\nburst done in {:.1} s", burst.elapsed().as_secs_f64());

    let left = Duration::from_secs_f64(args.slow_wait).saturating_sub(opened.elapsed());
    std::thread::sleep(left);
    stop.store(true, Ordering::Relaxed);
    let (worst_health, worst_predict, failures, n, last_failure) = probe.join().unwrap();
    println!(
        "probes: {n} rounds, {failures} failed (the last {:.1} s after the slow clients came); \
         answered: worst /healthz {:.0} ms, worst /api/predict {:.0} ms",
        last_failure.map_or(0.0, |t| t.as_secs_f64()),
        worst_health.as_secs_f64() * 1e3,
        worst_predict.as_secs_f64() * 1e3
    );

    // A closed connection reads end-of-file (or a 408 first); an open one times out.
    let (mut closed, mut timed_out, mut refused_503) = (0, 0, 0);
    for s in &mut slow {
        s.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 512];
        match s.read(&mut buf) {
            Ok(0) => closed += 1,
            Ok(n) if buf[..n].starts_with(b"HTTP/1.1 408") => timed_out += 1,
            Ok(n) if buf[..n].starts_with(b"HTTP/1.1 503") => refused_503 += 1,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => closed += 1,
        }
    }
    println!(
        "after {:.0} s: of {} slow connections, {timed_out} answered 408, {refused_503} refused \
         503, {closed} closed, {} still open",
        opened.elapsed().as_secs_f64(),
        slow.len(),
        slow.len() - timed_out - refused_503 - closed
    );
    if let Some(mb) = args.pid.and_then(peak_mb) {
        println!("server peak memory (VmHWM): {mb:.0} MB");
    }
}
