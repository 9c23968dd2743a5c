//! `digits eval` and `digits predict` refuse bad input with errors that say what is wrong.
//! (Their data paths need MNIST or digits5000 files and are exercised by the data tests' owners.)

use digits::nn::{Init, ModelSpec, Sequential};
use digits::train::checkpoint::{self, CheckpointMeta};
use std::path::Path;
use std::process::Command;

fn digits(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_digits"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn eval_and_predict_name_a_missing_checkpoint() {
    for cmd in ["eval", "predict"] {
        let (ok, err) = digits(&[cmd, "--model", "no/such/model.safetensors"]);
        assert!(!ok);
        assert!(
            err.contains("no/such/model.safetensors") && err.contains("cannot read"),
            "{cmd}: {err}"
        );
    }
}

#[test]
fn predict_names_a_missing_photo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let m = Sequential::new(ModelSpec::mlp(784, &[25, 15], 10), Init::KaimingUniform, 0);
    checkpoint::save(&path, &m, &CheckpointMeta::default(), None).unwrap();
    let (ok, err) = digits(&["predict", "--model", path.to_str().unwrap(), "photo.jpg"]);
    assert!(!ok);
    assert!(err.contains("photo.jpg"), "{err}");
}

#[test]
fn eval_refuses_an_unknown_scale() {
    let (ok, err) = digits(&["eval", "--model", "m.safetensors", "--scale", "huge"]);
    assert!(!ok);
    assert!(err.contains("unknown scale"), "{err}");
}

#[test]
fn resume_refuses_a_checkpoint_of_another_dataset() {
    let mnist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    let mnist = std::env::var("DIGITS_MNIST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or(mnist);
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("s20");
    let ckpt = dir.path().join("m.safetensors");
    let (ok, err) = digits(&[
        "data",
        "subset",
        "--mnist-dir",
        mnist.to_str().unwrap(),
        "--out",
        set.to_str().unwrap(),
        "--per-class",
        "3",
    ]);
    assert!(ok, "{err}");
    let (ok, err) = digits(&[
        "train",
        "--dataset",
        "digits5000",
        "--data-dir",
        set.to_str().unwrap(),
        "--epochs",
        "1",
        "--save",
        ckpt.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let before = std::fs::read(&ckpt).unwrap();
    let (ok, err) = digits(&[
        "train",
        "--data-dir",
        mnist.to_str().unwrap(),
        "--inputs",
        "400",
        "--epochs",
        "2",
        "--resume",
        ckpt.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        err.contains("m.safetensors was trained on Digits5000 but this run uses Mnist"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&ckpt).unwrap(),
        before,
        "the checkpoint is untouched"
    );
}
