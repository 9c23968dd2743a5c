//! MNIST download against tiny HTTP servers on 127.0.0.1 serving the real files from memory.

mod common;

use common::sorted_names;
use digits::data::download::{download_files, download_mnist, MNIST_FILES};
use digits::data::mnist;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type Files = Arc<HashMap<String, Vec<u8>>>;

fn real_files() -> Files {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    Arc::new(
        MNIST_FILES
            .iter()
            .map(|f| (f.name.to_string(), std::fs::read(dir.join(f.name)).unwrap()))
            .collect(),
    )
}

#[derive(Clone, Copy)]
enum Mode {
    Good,
    NotFound,
    /// Right size, one byte changed.
    Corrupt,
    /// The first half only.
    Short,
}

/// A one-thread HTTP server: answers at most 40 requests, stops when dropped or after 60 s.
struct Server {
    url: String,
    hits: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(files: Files, mode: Mode) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/mnist/", listener.local_addr().unwrap());
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut served = 0;
            while served < 40 && !s.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        served += 1;
                        handle(stream, &files, mode, &h);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server {
            url,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle(mut stream: TcpStream, files: &Files, mode: Mode, hits: &Mutex<Vec<String>>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(k) => req.extend_from_slice(&buf[..k]),
        }
    }
    let req = String::from_utf8_lossy(&req);
    let path = req.split_whitespace().nth(1).unwrap_or("").to_string();
    hits.lock().unwrap().push(path.clone());
    let name = path.strip_prefix("/mnist/").unwrap_or("");
    let (status, body) = match (mode, files.get(name)) {
        (Mode::NotFound, _) | (_, None) => ("404 Not Found", b"no such file".to_vec()),
        (Mode::Good, Some(b)) => ("200 OK", b.clone()),
        (Mode::Corrupt, Some(b)) => {
            let mut b = b.clone();
            let mid = b.len() / 2;
            b[mid] ^= 0x55;
            ("200 OK", b)
        }
        (Mode::Short, Some(b)) => ("200 OK", b[..b.len() / 2].to_vec()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

#[test]
fn falls_back_across_mirrors_then_skips_present_files() {
    let files = real_files();
    let missing = Server::start(files.clone(), Mode::NotFound);
    let corrupt = Server::start(files.clone(), Mode::Corrupt);
    let good = Server::start(files.clone(), Mode::Good);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mnist");

    download_mnist(&dir, &[&missing.url, &corrupt.url, &good.url]).unwrap();
    for f in MNIST_FILES {
        assert_eq!(
            std::fs::read(dir.join(f.name)).unwrap(),
            files[f.name],
            "{}",
            f.name
        );
    }
    // Only the four files: no temporary file left over.
    let mut names: Vec<String> = MNIST_FILES.iter().map(|f| f.name.to_string()).collect();
    names.sort();
    assert_eq!(sorted_names(&dir), names);
    // Every file was asked of every mirror, in order.
    for s in [&missing, &corrupt, &good] {
        assert_eq!(s.hits().len(), 4, "{:?}", s.hits());
    }
    let (train, test) = mnist::load_dir(&dir).unwrap();
    assert_eq!((train.len(), test.len()), (60_000, 10_000));

    // Second run: everything present and verified, so no request at all.
    download_mnist(&dir, &[&good.url]).unwrap();
    assert_eq!(good.hits().len(), 4);
}

#[test]
fn all_mirrors_bad_is_a_clear_error_and_leaves_nothing() {
    let files = real_files();
    let corrupt = Server::start(files.clone(), Mode::Corrupt);
    let short = Server::start(files.clone(), Mode::Short);
    let missing = Server::start(files.clone(), Mode::NotFound);
    let tmp = tempfile::tempdir().unwrap();
    let labels = &MNIST_FILES[1..2];

    let err = download_files(
        tmp.path(),
        &[&corrupt.url, &short.url, &missing.url],
        labels,
    )
    .unwrap_err()
    .to_string();
    let dest = tmp.path().join("train-labels-idx1-ubyte.gz");
    assert!(
        err.contains(&format!(
            "{}: no mirror gave the right file",
            dest.display()
        )),
        "{err}"
    );
    let name = "train-labels-idx1-ubyte.gz";
    assert!(
        err.contains(&format!("{}{name}: wrong MD5", corrupt.url)),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}{name}: got 14440 bytes, expected 28881",
            short.url
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}{name}: HTTP 404", missing.url)),
        "{err}"
    );
    assert!(
        sorted_names(tmp.path()).is_empty(),
        "{:?}",
        sorted_names(tmp.path())
    );
}

#[test]
fn bad_download_never_replaces_a_file() {
    let files = real_files();
    let corrupt = Server::start(files.clone(), Mode::Corrupt);
    let good = Server::start(files.clone(), Mode::Good);
    let tmp = tempfile::tempdir().unwrap();
    let labels = [MNIST_FILES[1], MNIST_FILES[3]];

    // A good file present and a damaged one present; the only mirror is corrupt.
    let good_path = tmp.path().join(labels[0].name);
    std::fs::write(&good_path, &files[labels[0].name]).unwrap();
    let damaged_path = tmp.path().join(labels[1].name);
    std::fs::write(&damaged_path, b"damaged").unwrap();
    let err = download_files(tmp.path(), &[&corrupt.url], &labels).unwrap_err();
    assert!(err.to_string().contains("wrong MD5"), "{err}");
    assert_eq!(corrupt.hits(), vec![format!("/mnist/{}", labels[1].name)]);
    assert_eq!(std::fs::read(&good_path).unwrap(), files[labels[0].name]);
    assert_eq!(std::fs::read(&damaged_path).unwrap(), b"damaged");
    assert_eq!(sorted_names(tmp.path()).len(), 2);

    // A good mirror repairs the damaged file.
    download_files(tmp.path(), &[&corrupt.url, &good.url], &labels).unwrap();
    assert_eq!(std::fs::read(&damaged_path).unwrap(), files[labels[1].name]);
    assert_eq!(sorted_names(tmp.path()).len(), 2);
}
