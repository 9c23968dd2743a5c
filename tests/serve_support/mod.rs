//! Shared by the serve tests: a server on 127.0.0.1:0 and a tiny HTTP/1.1 client.
#![allow(dead_code)]

use digits::data::PixelScale;
use digits::nn::{Init, ModelSpec, Sequential};
use digits::serve::{serve_with_shutdown, AppState};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `digits serve` process (the real binary), killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `digits serve --addr 127.0.0.1:0 EXTRA...` with the built-in model and returns it with
/// the address it prints on its first line (`Serving on http://ADDR`).
pub fn spawn_binary(extra: &[&str], stderr: Stdio) -> (Running, SocketAddr) {
    let mut server = Running(
        Command::new(env!("CARGO_BIN_EXE_digits"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("Serving on http://")
        .unwrap_or_else(|| panic!("unexpected first line from digits serve: {line:?}"))
        .parse()
        .unwrap();
    (server, addr)
}

/// The untrained tutorial network the tests serve.
pub fn model() -> Sequential {
    Sequential::new(ModelSpec::mlp(784, &[25, 15], 10), Init::KaimingUniform, 7)
}

/// A running server; it stops when dropped (the runtime goes with it).
pub struct Server {
    pub addr: SocketAddr,
    _rt: tokio::runtime::Runtime,
}

pub fn start() -> Server {
    start_with(AppState::new(model(), PixelScale::Unit, "test model").unwrap())
}

pub fn start_with(state: AppState) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(serve_with_shutdown(listener, state, std::future::pending()));
    Server { addr, _rt: rt }
}

pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The `probabilities` of a prediction answer, as numbers.
    pub fn probabilities(&self) -> Vec<f64> {
        self.json()["probabilities"]
            .as_array()
            .unwrap_or_else(|| panic!("no probabilities in {}", self.text()))
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    }

    /// The `error` message of a JSON error answer.
    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message in {}", self.text()))
            .to_string()
    }
}

/// One request on a fresh connection (`Connection: close`), read to the end.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Response {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        head += &format!("Content-Type: {ct}\r\n");
    }
    head += "\r\n";
    s.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) and stop reading before the body is all sent.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    if let Err(e) = s.read_to_end(&mut raw) {
        assert!(!raw.is_empty(), "no response: {e}");
    }
    parse(&raw)
}

pub fn post(addr: SocketAddr, content_type: Option<&str>, body: &[u8]) -> Response {
    request(addr, "POST", "/api/predict", content_type, body)
}

pub fn post_json(addr: SocketAddr, body: &str) -> Response {
    post(addr, Some("application/json"), body.as_bytes())
}

pub fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, None, b"")
}

fn parse(raw: &[u8]) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let mut body = raw[end + 4..].to_vec();
    if header("transfer-encoding").eq_ignore_ascii_case("chunked") {
        body = dechunk(&body);
    }
    Response {
        status,
        content_type: header("content-type"),
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 4 + size..];
    }
}

/// A 280x280 canvas, black, with thick white strokes along the given polylines (0..1 coords).
pub fn canvas(strokes: &[&[(f32, f32)]]) -> Vec<f32> {
    const W: usize = 280;
    let mut px = vec![0.0f32; W * W];
    let radius = 10.0f32;
    for stroke in strokes {
        for seg in stroke.windows(2) {
            let (a, b) = (seg[0], seg[1]);
            let steps = 200;
            for k in 0..=steps {
                let t = k as f32 / steps as f32;
                let cx = (a.0 + (b.0 - a.0) * t) * W as f32;
                let cy = (a.1 + (b.1 - a.1) * t) * W as f32;
                for y in 0..W {
                    for x in 0..W {
                        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
                        if dx * dx + dy * dy <= radius * radius {
                            px[y * W + x] = 1.0;
                        }
                    }
                }
            }
        }
    }
    px
}

/// A vertical stroke: a "1".
pub fn one() -> Vec<f32> {
    canvas(&[&[(0.5, 0.15), (0.5, 0.85)]])
}

/// A "7": a bar and a slanted stem.
pub fn seven() -> Vec<f32> {
    canvas(&[&[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]])
}

/// Encodes 280x280 levels in [0, 1] as a grey PNG, inverted (dark ink on white) if asked.
pub fn png(px: &[f32], invert: bool) -> Vec<u8> {
    let side = (px.len() as f64).sqrt() as u32;
    let bytes: Vec<u8> = px
        .iter()
        .map(|&v| {
            let v = if invert { 1.0 - v } else { v };
            (v * 255.0).round() as u8
        })
        .collect();
    let img = image::GrayImage::from_raw(side, side, bytes).unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The 280x280 canvas averaged down to 28x28 (no framing: the server does that).
pub fn shrink(px: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; 784];
    for y in 0..280 {
        for x in 0..280 {
            out[(y / 10) * 28 + x / 10] += px[y * 280 + x] / 100.0;
        }
    }
    out
}

/// `{"pixels": [...]}`.
pub fn pixels_json(px: &[f32]) -> String {
    serde_json::json!({ "pixels": px }).to_string()
}
