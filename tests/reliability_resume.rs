//! `digits train --resume`: continues a run to the weights of an uninterrupted run with the same
//! seed, and refuses, without touching the checkpoint, one from another architecture or dataset
//! shape, one without optimizer state and a corrupt one.

mod common;
mod reliability_common;

use digits::data::idx;
use digits::nn::{Init, ModelSpec, Sequential};
use digits::train::checkpoint::{self, CheckpointMeta};
use reliability_common::{digits, s, train_args, write_set, Set};
use std::path::Path;

/// A saved 2-epoch run of 400-25-15-10 on a synthetic 20x20 set: (tempdir, data dir, checkpoint).
fn two_epochs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("set");
    write_set(&data, &Set::new(200));
    let ckpt = dir.path().join("run.safetensors");
    let out = digits(&train_args(&data, "2", "7", &["--save", s(&ckpt)]));
    assert!(out.ok, "{}", out.stderr);
    (dir, data, ckpt)
}

#[test]
fn resuming_reaches_the_weights_of_an_uninterrupted_run() {
    let (dir, data, ckpt) = two_epochs();
    let straight = dir.path().join("straight.safetensors");
    let out = digits(&train_args(&data, "5", "7", &["--save", s(&straight)]));
    assert!(out.ok, "{}", out.stderr);
    let out = digits(&train_args(&data, "5", "7", &["--resume", s(&ckpt)]));
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stderr.contains("resuming") && !out.stderr.contains("warning"),
        "{}",
        out.stderr
    );
    // Epochs 3 to 5 only are run and printed.
    assert!(out.stdout.contains("Epoch 3/5") && !out.stdout.contains("Epoch 2/5"));
    let (a, b) = (
        checkpoint::load(&straight).unwrap(),
        checkpoint::load(&ckpt).unwrap(),
    );
    assert_eq!(
        (b.meta.epoch, b.meta.global_step),
        (5, 5 * 200u64.div_ceil(16))
    );
    let d = common::max_diff(a.model.params(), b.model.params());
    println!("2 epochs + resume to 5 vs 5 straight: max |weight diff| = {d:e}");
    assert!(d <= 1e-6, "max |weight diff| {d}");
    assert_ne!(
        a.model.params(),
        Sequential::new(a.model.spec().clone(), Init::GlorotUniform, 7).params(),
        "training moved the weights"
    );
    let (ha, hb) = (a.meta.history.unwrap(), b.meta.history.unwrap());
    assert_eq!(hb.loss.len(), 5);
    for (x, y) in ha.loss.iter().zip(&hb.loss) {
        assert!((x - y).abs() <= 1e-6, "{:?} vs {:?}", ha.loss, hb.loss);
    }
}

#[test]
fn resuming_with_other_settings_warns_that_the_run_will_differ() {
    let (_dir, data, ckpt) = two_epochs();
    let mut args = train_args(&data, "3", "7", &["--resume", s(&ckpt)]);
    args[8] = "32"; // batch size
    args[10] = "8"; // seed
    let out = digits(&args);
    assert!(out.ok, "{}", out.stderr);
    for w in [
        "warning: the batch size is 32 but the checkpoint was trained with 16",
        "warning: the seed is 8 but the checkpoint was trained with 7",
    ] {
        assert!(out.stderr.contains(w), "{}", out.stderr);
    }
}

/// Runs `args`, expecting a failure whose message contains `want`, and the checkpoint untouched.
fn refused(args: &[&str], ckpt: &Path, want: &str) {
    let before = std::fs::read(ckpt).unwrap();
    let out = digits(args);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error: ") && out.stderr.contains(want),
        "expected {want:?} in: {}",
        out.stderr
    );
    assert!(!out.stdout.contains("Epoch"), "no training: {}", out.stdout);
    assert_eq!(std::fs::read(ckpt).unwrap(), before, "checkpoint untouched");
}

#[test]
fn a_checkpoint_of_another_architecture_is_refused() {
    let (_dir, data, ckpt) = two_epochs();
    let c = s(&ckpt);
    let saved = format!("{c} was saved for 400-25-15-10 (relu) but this run builds");
    refused(
        &train_args(&data, "4", "7", &["--resume", c, "--layers", "32"]),
        &ckpt,
        &format!("{saved} 400-32-10 (relu)"),
    );
    refused(
        &train_args(&data, "4", "7", &["--resume", c, "--activation", "sigmoid"]),
        &ckpt,
        &format!("{saved} 400-25-15-10 (sigmoid)"),
    );
}

#[test]
fn a_checkpoint_of_another_dataset_shape_is_refused() {
    let (dir, _data, ckpt) = two_epochs();
    // A small MNIST-format set: 28x28 images, 784 inputs, against a 400-input checkpoint.
    let mnist = dir.path().join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    let n = 20;
    let pixels: Vec<u8> = (0..n * 784).map(|i| (i * 37 % 256) as u8).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    for (images, labels_name) in [
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    ] {
        idx::write_images(&mnist.join(images), &pixels, n, 28, 28).unwrap();
        idx::write_labels(&mnist.join(labels_name), &labels).unwrap();
    }
    let c = s(&ckpt);
    refused(
        &[
            "train",
            "--dataset",
            "mnist",
            "--data-dir",
            s(&mnist),
            "--epochs",
            "3",
            "--resume",
            c,
        ],
        &ckpt,
        &format!("{c} was saved for 400-25-15-10 (relu) but this run builds 784-25-15-10 (relu)"),
    );
}

#[test]
fn a_checkpoint_without_optimizer_state_or_corrupt_is_refused() {
    let (dir, data, ckpt) = two_epochs();
    // Weights only (as `digits` saves outside training, or a PyTorch state dict).
    let bare = dir.path().join("bare.safetensors");
    let m = checkpoint::load(&ckpt).unwrap();
    checkpoint::save(&bare, &m.model, &CheckpointMeta::default(), None).unwrap();
    refused(
        &train_args(&data, "3", "7", &["--resume", s(&bare)]),
        &bare,
        "it has no optimizer state (",
    );

    // Truncated: named, refused.
    let cut = dir.path().join("cut.safetensors");
    let bytes = std::fs::read(&ckpt).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    refused(
        &train_args(&data, "3", "7", &["--resume", s(&cut)]),
        &cut,
        &format!("{} is truncated", s(&cut)),
    );

    // Its optimizer file truncated: named, refused.
    let optim = checkpoint::optim_path(&ckpt);
    let o = std::fs::read(&optim).unwrap();
    std::fs::write(&optim, &o[..o.len() - 10]).unwrap();
    refused(
        &train_args(&data, "3", "7", &["--resume", s(&ckpt)]),
        &ckpt,
        "run.optim.safetensors is truncated",
    );

    // A weights file from another model beside an optimizer file: refused as not a pair.
    std::fs::write(&optim, &o).unwrap();
    let other = Sequential::new(ModelSpec::mlp(400, &[25, 15], 10), Init::GlorotUniform, 99);
    let meta = CheckpointMeta {
        global_step: m.meta.global_step,
        ..m.meta.clone()
    };
    let tmp = dir.path().join("other.safetensors");
    checkpoint::save(&tmp, &other, &meta, None).unwrap();
    std::fs::rename(&tmp, &ckpt).unwrap();
    refused(
        &train_args(&data, "3", "7", &["--resume", s(&ckpt)]),
        &ckpt,
        "does not belong to the weights in",
    );
}
