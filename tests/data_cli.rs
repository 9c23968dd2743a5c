//! `digits data subset` and `digits data download` through the binary.

use digits::data::digits5000;
use std::path::Path;
use std::process::Command;

fn digits() -> Command {
    Command::new(env!("CARGO_BIN_EXE_digits"))
}

#[test]
fn subset_writes_a_loadable_set() {
    let mnist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("d20");
    let o = digits()
        .args(["data", "subset", "--per-class", "20", "--seed", "5"])
        .arg("--mnist-dir")
        .arg(&mnist)
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let set = digits5000::load_dir(&dir).unwrap();
    assert_eq!(set.len(), 200);
    assert_eq!(&set.labels[19..21], &[0, 1]);
}

#[test]
fn subset_without_mnist_fails_with_a_hint() {
    let out = tempfile::tempdir().unwrap();
    let o = digits()
        .args(["data", "subset", "--mnist-dir"])
        .arg(out.path().join("nowhere"))
        .arg("--out")
        .arg(out.path().join("d20"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("nowhere/train-images-idx3-ubyte.gz"), "{err}");
    assert!(err.contains("digits data download --dir"), "{err}");
    assert!(!out.path().join("d20").exists());
}

#[test]
fn download_from_unreachable_mirror_fails_cleanly() {
    // A port that was just free: the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("m");
    let o = digits()
        .args(["data", "download", "--dir"])
        .arg(&dir)
        .args(["--mirror", &format!("http://127.0.0.1:{port}/a/")])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("MNIST download failed"), "{err}");
    assert!(
        err.contains(&format!(
            "http://127.0.0.1:{port}/a/t10k-labels-idx1-ubyte.gz: "
        )),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}
