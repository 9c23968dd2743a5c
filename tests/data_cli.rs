//! `digits data subset` and `digits data download` through the binary.

use digits::data::digits5000;
use std::path::Path;
use std::process::Command;

fn digits() -> Command {
    Command::new(env!("CARGO_BIN_EXE_digits"))
}

/// A port that was just free on 127.0.0.1: a connection to it is refused.
fn refused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
    let port = refused_port();
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
    let first = format!("http://127.0.0.1:{port}/a/train-images-idx3-ubyte.gz: ");
    // Said once, not once as it happens and again in the error.
    assert_eq!(err.matches(&first).count(), 1, "{err}");
    // Nothing answers: the other three files are not tried, one after another.
    assert!(!err.contains("/a/t10k-labels"), "{err}");
    assert!(err.contains("the other files were not tried"), "{err}");
    assert!(err.contains("--data-dir FOLDER"), "{err}");
    assert!(err.contains("DIGITS_DATA=FOLDER"), "{err}");
    assert!(err.lines().count() <= 6, "{err}");
    // No empty folder is left behind for `digits train` to stumble on.
    assert!(!dir.exists(), "{} was left behind", dir.display());
}

#[test]
fn a_failed_download_keeps_a_folder_that_was_already_there() {
    let port = refused_port();
    let out = tempfile::tempdir().unwrap();
    let o = digits()
        .args(["data", "download", "--dir"])
        .arg(out.path())
        .args(["--mirror", &format!("http://127.0.0.1:{port}/a/")])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(out.path().is_dir());
}

#[test]
fn train_without_data_says_once_how_to_get_it() {
    let out = tempfile::tempdir().unwrap();
    let o = digits()
        .current_dir(out.path())
        .env_remove("DIGITS_DATA")
        .args(["train", "--epochs", "1"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("data/mnist does not exist"), "{err}");
    assert_eq!(err.matches("digits data download").count(), 1, "{err}");
    assert!(err.contains("--data-dir FOLDER"), "{err}");
    assert!(err.contains("DIGITS_DATA=FOLDER"), "{err}");
}

#[test]
fn digits_data_names_the_mnist_folder_or_its_parent() {
    let mnist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    let out = tempfile::tempdir().unwrap();
    for root in [mnist.clone(), mnist.parent().unwrap().to_path_buf()] {
        let o = digits()
            .current_dir(out.path())
            .env("DIGITS_DATA", &root)
            .args(["eval"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{}: {}",
            root.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(text.contains("test_accuracy: 0.99"), "{text}");
    }
}

#[test]
fn the_test_set_alone_is_enough_for_eval_predict_and_show_confusion() {
    let mnist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    let only_test = tempfile::tempdir().unwrap();
    for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
        std::fs::copy(mnist.join(name), only_test.path().join(name)).unwrap();
    }
    let png = only_test.path().join("c.png");
    for args in [
        vec!["eval"],
        vec!["predict", "--index", "0,1"],
        vec!["show", "--confusion", "-o", png.to_str().unwrap()],
        vec!["show", "--test", "-o", png.to_str().unwrap()],
    ] {
        let o = digits()
            .args(&args)
            .arg("--data-dir")
            .arg(only_test.path())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
