//! ONNX export checked by the real tools: `onnx.checker.check_model` (full check) and ONNX
//! Runtime's logits against digits' own on the 10,000 MNIST test images, for MLPs (the built-in
//! model through `digits export --onnx`, and others through the library) and for a CNN built
//! from random weights in the exporter's intermediate form (against its naive NCHW reference).
//!
//! Needs Python with `onnx` and `onnxruntime` (scripts/test.sh installs them in target/pyenv
//! and sets DIGITS_PYTHON); DIGITS_SKIP_PYTHON_TESTS=1 skips the Python part.

mod common;

use digits::data::{mnist, PixelScale};
use digits::export::{write_onnx, OnnxLayer, OnnxModel};
use digits::nn::{Activation, Init, LayerSpec, ModelSpec, Sequential};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// The 10,000 test images, n x 784 in [0, 1].
fn test_images() -> &'static Vec<f32> {
    static X: OnceLock<Vec<f32>> = OnceLock::new();
    X.get_or_init(|| {
        let (_, test) = mnist::load_dir(&common::mnist_dir()).expect("MNIST (see scripts/test.sh)");
        let all: Vec<usize> = (0..test.len()).collect();
        test.batch_x(&all, PixelScale::Unit)
    })
}

fn write_f32(path: &Path, v: &[f32]) {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

/// check_onnx.py's report on `model` given digits' `expected` logits, or None when skipped.
fn check(model: &Path, expected: &[f32]) -> Option<serde_json::Value> {
    if std::env::var("DIGITS_SKIP_PYTHON_TESTS").as_deref() == Ok("1") {
        eprintln!(
            "\n!!!!!!!! SKIPPED: DIGITS_SKIP_PYTHON_TESTS=1, ONNX files NOT checked !!!!!!!!\n"
        );
        return None;
    }
    let dir = model.parent().unwrap();
    let (xs, ys) = (dir.join("inputs.f32"), dir.join("expected.f32"));
    write_f32(&xs, test_images());
    write_f32(&ys, expected);
    let python = std::env::var("DIGITS_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/onnx/check_onnx.py");
    let out = Command::new(&python)
        .arg(&script)
        .args([model, &xs, &ys])
        .output()
        .unwrap_or_else(|e| {
            panic!("could not run `{python}` ({e}): run scripts/test.sh, or set DIGITS_PYTHON to a Python with onnx and onnxruntime")
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "check_onnx.py failed (Python needs `pip install onnx onnxruntime numpy`; scripts/test.sh \
         installs them):\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
    Some(serde_json::from_str(stdout.trim()).unwrap())
}

/// ONNX Runtime agrees with digits within 1e-4, and the graph has the declared interface.
fn assert_matches(r: &serde_json::Value, classes: usize) {
    assert_eq!(r["n"], 10_000);
    assert_eq!(r["classes"], classes);
    let (d, d1) = (
        r["max_abs_diff"].as_f64().unwrap(),
        r["max_abs_diff_single"].as_f64().unwrap(),
    );
    assert!(
        d < 1e-4 && d1 < 1e-4,
        "ONNX Runtime differs from digits by {d} (batch), {d1} (one by one)"
    );
    assert_eq!(r["input"]["name"], "pixels");
    assert_eq!(r["input"]["dims"], serde_json::json!(["N", 1, 28, 28]));
    assert_eq!(r["output"]["name"], "logits");
    assert_eq!(r["output"]["dims"], serde_json::json!(["N", classes]));
    assert!(r["opset"].as_i64().unwrap() >= 13);
}

/// `assert_matches` for a model exported from a digits network: same digits, preprocessing noted.
fn assert_matches_model(r: &serde_json::Value) {
    assert_matches(r, 10);
    assert_eq!(r["argmax_agree"], 1.0);
    assert!(r["metadata"]["digits.preprocessing"]
        .as_str()
        .unwrap()
        .contains("[0, 1]"));
}

#[test]
fn the_built_in_model_exported_by_the_cli_gives_digits_logits_in_onnx_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/model.onnx");
    let out = Command::new(env!("CARGO_BIN_EXE_digits"))
        .args(["export", "--onnx"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ckpt = digits::default_model::load().unwrap();
    let expected = ckpt.model.predict(test_images());
    if let Some(r) = check(&path, &expected) {
        assert_matches_model(&r);
        let m = &r["metadata"];
        assert!(
            m["digits.architecture"].as_str().unwrap().contains("c32k3"),
            "{m}"
        );
        assert!(
            m["digits.spec"]
                .as_str()
                .unwrap()
                .contains("\"filters\":32"),
            "{m}"
        );
    }
}

#[test]
fn an_mlp_trained_on_raw_pixels_with_sigmoids_is_exported_with_its_scaling() {
    let spec = ModelSpec::new(
        784,
        vec![
            LayerSpec::dense(30, Activation::Sigmoid),
            LayerSpec::dense(20, Activation::Relu),
            LayerSpec::dense(10, Activation::Linear),
        ],
    );
    let model = Sequential::new(spec, Init::GlorotUniform, 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raw.onnx");
    let onnx = OnnxModel::from_sequential(&model, PixelScale::Raw, "test").unwrap();
    assert_eq!(onnx.input_scale, 255.0);
    write_onnx(&path, &onnx).unwrap();
    let raw: Vec<f32> = test_images().iter().map(|v| v * 255.0).collect();
    let expected = model.predict(&raw);
    if let Some(r) = check(&path, &expected) {
        assert_matches_model(&r);
    }
}

/// Uniform in +-1/sqrt(fan_in), like PyTorch's default initialisation.
fn random(rng: &mut ChaCha8Rng, n: usize, fan_in: usize) -> Vec<f32> {
    let a = 1.0 / (fan_in as f32).sqrt();
    (0..n).map(|_| rng.gen_range(-a..a)).collect()
}

/// A LeNet-like CNN from random weights: conv 5x5 same, pool, conv 5x5 valid, pool, dense.
fn random_cnn() -> OnnxModel {
    let mut r = ChaCha8Rng::seed_from_u64(11);
    let conv =
        |r: &mut ChaCha8Rng, cin: usize, cout: usize, k: usize, pad: usize| OnnxLayer::Conv2d {
            w: random(r, cout * cin * k * k, cin * k * k),
            b: random(r, cout, cin * k * k),
            cin,
            cout,
            k,
            pad,
            act: Activation::Relu,
        };
    let dense = |r: &mut ChaCha8Rng, inp: usize, out: usize, act| OnnxLayer::Dense {
        w: random(r, out * inp, inp),
        b: random(r, out, inp),
        inp,
        out,
        act,
    };
    OnnxModel {
        layers: vec![
            conv(&mut r, 1, 6, 5, 2),
            OnnxLayer::MaxPool2,
            conv(&mut r, 6, 16, 5, 0),
            OnnxLayer::MaxPool2,
            OnnxLayer::Flatten,
            OnnxLayer::Dropout,
            dense(&mut r, 16 * 5 * 5, 32, Activation::Relu),
            dense(&mut r, 32, 10, Activation::Linear),
        ],
        input_scale: 1.0,
        metadata: vec![("digits.architecture".into(), "test cnn".into())],
    }
}

#[test]
fn a_cnn_in_the_intermediate_form_gives_its_reference_logits_in_onnx_runtime() {
    let cnn = random_cnn();
    let x = test_images();
    let expected: Vec<f32> = x
        .par_chunks(784 * 250)
        .flat_map_iter(|c| cnn.eval_naive(c, c.len() / 784).unwrap())
        .collect();
    assert_eq!(expected.len(), 100_000);
    let spread = expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(
        spread > 0.05,
        "the random CNN's logits are all near zero ({spread}): a weak test"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cnn.onnx");
    write_onnx(&path, &cnn).unwrap();
    if let Some(r) = check(&path, &expected) {
        assert_eq!(r["metadata"]["digits.architecture"], "test cnn");
        assert_matches(&r, 10);
    }
}

#[test]
fn a_digits_cnn_gives_its_logits_in_onnx_runtime() {
    let spec = ModelSpec::mnist_convnet(784, 10);
    let model = Sequential::new(spec, Init::KaimingUniform, 5);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cnn.onnx");
    let onnx = OnnxModel::from_sequential(&model, PixelScale::Unit, "cnn").unwrap();
    write_onnx(&path, &onnx).unwrap();
    // The intermediate form computes what the engine does (NCHW against NHWC).
    let few = &test_images()[..784 * 50];
    let (ours, naive) = (model.predict(few), onnx.eval_naive(few, 50).unwrap());
    let d = ours
        .iter()
        .zip(&naive)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        d < 1e-4,
        "the engine and the naive NCHW reference differ by {d}"
    );
    let expected = model.predict(test_images());
    if let Some(r) = check(&path, &expected) {
        assert_matches_model(&r);
        assert!(r["metadata"]["digits.architecture"]
            .as_str()
            .unwrap()
            .contains("c32k3"));
    }
}

#[test]
fn models_that_are_not_28x28_or_badly_built_are_refused_with_a_reason() {
    let small = Sequential::new(ModelSpec::mlp(400, &[25], 10), Init::GlorotUniform, 1);
    let e = OnnxModel::from_sequential(&small, PixelScale::Unit, "m.safetensors").unwrap_err();
    assert!(
        format!("{e}").contains("m.safetensors reads 400 inputs"),
        "{e}"
    );
    let mut cnn = random_cnn();
    cnn.layers.remove(4); // no Flatten before the Dense layers
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.onnx");
    let e = format!("{:#}", write_onnx(&path, &cnn).unwrap_err());
    assert!(e.contains("bad.onnx") && e.contains("Flatten first"), "{e}");
    assert!(!path.exists());
}

#[test]
fn pools_other_than_2x2_and_inputs_other_than_28x28_are_refused() {
    let relu = Activation::Relu;
    let layers = |pool: LayerSpec| {
        vec![
            LayerSpec::conv2d(2, 3, digits::nn::Padding::Valid, relu),
            pool,
            LayerSpec::flatten(),
            LayerSpec::dense(10, Activation::Linear),
        ]
    };
    let tall = Sequential::new(
        ModelSpec::new(784, layers(LayerSpec::maxpool(2, 1))),
        Init::GlorotUniform,
        1,
    );
    let e = OnnxModel::from_sequential(&tall, PixelScale::Unit, "tall.safetensors").unwrap_err();
    let e = format!("{e}");
    assert!(
        e.contains("tall.safetensors") && e.contains("2x1") && e.contains("2x2 pooling only"),
        "{e}"
    );
    // 784 inputs, but as a 14x56 line.
    let line = Sequential::new(
        ModelSpec::image(14, 56, 1, layers(LayerSpec::maxpool2d())),
        Init::GlorotUniform,
        1,
    );
    let e = OnnxModel::from_sequential(&line, PixelScale::Unit, "line.safetensors").unwrap_err();
    assert!(format!("{e}").contains("14x56x1"), "{e}");
    // Spelling out the default shape changes nothing.
    let square = Sequential::new(
        ModelSpec::image(28, 28, 1, layers(LayerSpec::maxpool2d())),
        Init::GlorotUniform,
        1,
    );
    assert!(OnnxModel::from_sequential(&square, PixelScale::Unit, "ok").is_ok());
}
