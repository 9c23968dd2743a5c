//! CNNs through the command line: `--layers` with convolutions, pooling, flatten and dropout
//! trains, resumes to the weights of an uninterrupted run (dropout masks included), saves every
//! N epochs, stops on a NaN loss, and its checkpoints work with eval, predict, errors and show.

mod common;
mod reliability_common;

use digits::train::checkpoint;
use reliability_common::{digits, s, train_args, write_set, Set};

const CNN: &str = "c4k3,p2,c6k3s,p2,flatten,drop0.5";

#[test]
fn a_cnn_resumes_to_the_weights_of_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("set");
    write_set(&data, &Set::new(120));
    let straight = dir.path().join("straight.safetensors");
    let out = digits(&train_args(
        &data,
        "3",
        "5",
        &["--layers", CNN, "--save", s(&straight)],
    ));
    assert!(out.ok, "{}", out.stderr);
    let ckpt = dir.path().join("run.safetensors");
    let out = digits(&train_args(
        &data,
        "1",
        "5",
        &["--layers", CNN, "--save", s(&ckpt), "--save-every", "1"],
    ));
    assert!(out.ok, "{}", out.stderr);
    let after_one = checkpoint::load(&ckpt).unwrap();
    assert_eq!(after_one.meta.epoch, 1);
    let out = digits(&train_args(
        &data,
        "3",
        "5",
        &["--layers", CNN, "--resume", s(&ckpt)],
    ));
    assert!(out.ok && out.stderr.contains("resuming"), "{}", out.stderr);
    let (a, b) = (
        checkpoint::load(&straight).unwrap(),
        checkpoint::load(&ckpt).unwrap(),
    );
    assert_eq!(b.meta.epoch, 3);
    let d = common::max_diff(a.model.params(), b.model.params());
    println!("CNN 1 epoch + resume to 3 vs 3 straight: max |weight diff| = {d:e}");
    assert!(d <= 1e-6, "max |weight diff| {d}");
    assert!(common::max_diff(a.model.params(), after_one.model.params()) > 1e-3);
    // Another architecture is refused.
    let out = digits(&train_args(
        &data,
        "4",
        "5",
        &["--layers", "c4k3,p2,flatten", "--resume", s(&ckpt)],
    ));
    assert!(
        !out.ok && out.stderr.contains("was saved for 400-c4k3,p2,c6k3s"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_nan_pixel_stops_cnn_training_at_its_step() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("set");
    let mut set = Set::new(64);
    set.bad_pixel = Some((20, f64::NAN));
    write_set(&data, &set);
    let out = digits(&train_args(
        &data,
        "2",
        "1",
        &["--layers", CNN, "--no-shuffle"],
    ));
    assert!(!out.ok);
    // Image 20 is in the second batch of 16.
    assert!(
        out.stderr.contains("became NaN at epoch 1, step 2"),
        "{}",
        out.stderr
    );
}

#[test]
fn cnn_checkpoints_work_with_the_commands_that_use_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("set");
    write_set(&data, &Set::new(100));
    let ckpt = dir.path().join("cnn.safetensors");
    let out = digits(&train_args(
        &data,
        "2",
        "3",
        &["--layers", CNN, "--save", s(&ckpt)],
    ));
    assert!(out.ok, "{}", out.stderr);
    let on_set = ["--dataset", "digits5000", "--data-dir", s(&data)];
    let run = |cmd: &[&str]| {
        let mut a: Vec<&str> = cmd.to_vec();
        a.extend(["--model", s(&ckpt)]);
        a.extend(on_set);
        digits(&a)
    };
    let out = run(&["eval"]);
    assert!(
        out.ok && out.stdout.contains("accuracy: "),
        "{}",
        out.stderr
    );
    let out = run(&["predict", "--index", "0,1"]);
    assert!(out.ok, "{}", out.stderr);
    let out = run(&["errors", "--list", "3"]);
    assert!(out.ok, "{}", out.stderr);
    let png = dir.path().join("grid.png");
    let out = run(&["show", "-o", s(&png)]);
    assert!(out.ok && png.exists(), "{}", out.stderr);
}

#[test]
fn summary_and_bad_layer_stacks() {
    let out = digits(&["summary", "--arch", "cnn"]);
    assert!(out.ok, "{}", out.stderr);
    for want in [
        "(None, 26, 26, 32)",
        "18,496",
        "16,010",
        "Total params: 34,826",
    ] {
        assert!(out.stdout.contains(want), "{want} not in {}", out.stdout);
    }
    let out = digits(&["summary", "--layers", "c8k3,p2,c8k3,p2,p2,p2,c4k3,flatten"]);
    assert!(!out.ok);
    assert!(
        out.stderr.contains("layer 7 (conv2d_2)") && out.stderr.contains("does not fit"),
        "{}",
        out.stderr
    );
    let out = digits(&["summary", "--layers", "c8k3,16"]);
    assert!(!out.ok && out.stderr.contains("Flatten"), "{}", out.stderr);
    let out = digits(&["summary", "--layers", "c8x3"]);
    assert!(
        !out.ok && out.stderr.contains("unknown layer \"c8x3\""),
        "{}",
        out.stderr
    );
}
