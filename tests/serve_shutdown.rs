//! `digits serve` stops gracefully on SIGTERM and on Ctrl-C (SIGINT): a request in flight when
//! the signal arrives is answered, new connections are refused, and the process exits 0.

#![cfg(unix)]

mod serve_support;

use serve_support::{get, pixels_json, seven, shrink, spawn_binary};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn in_flight(addr: SocketAddr) -> f64 {
    let t = get(addr, "/metrics").text();
    t.lines()
        .find_map(|l| {
            l.strip_prefix("digits_http_requests_in_flight ")?
                .parse()
                .ok()
        })
        .unwrap()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stops_gracefully_on(signal: libc::c_int) {
    let (mut server, addr) = spawn_binary(&[], Stdio::piped());

    // A request in flight: its headers and half of its body sent.
    let body = pixels_json(&shrink(&seven()));
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        slow,
        "POST /api/predict HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    slow.write_all(first).unwrap();
    // The /metrics request itself is the second one in flight.
    wait_for("the slow request to be in flight", || {
        in_flight(addr) == 2.0
    });

    // SAFETY: kill(2) on the pid of a child this test started and has not yet waited for.
    assert_eq!(
        unsafe { libc::kill(server.0.id() as libc::pid_t, signal) },
        0
    );
    wait_for("new connections to be refused", || {
        TcpStream::connect(addr).is_err()
    });

    slow.write_all(rest).unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"digit\":"), "{answer}");

    let start = Instant::now();
    let status = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the server did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    server
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "exit {status}: {stderr}");
    assert!(
        stderr.contains("shutting down") && stderr.contains("stopped"),
        "{stderr}"
    );
}

#[test]
fn sigterm_finishes_requests_in_flight_and_refuses_new_ones() {
    stops_gracefully_on(libc::SIGTERM);
}

#[test]
fn ctrl_c_finishes_requests_in_flight_and_refuses_new_ones() {
    stops_gracefully_on(libc::SIGINT);
}
