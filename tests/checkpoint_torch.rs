//! Checkpoints are interchangeable with PyTorch: a state dict saved by PyTorch predicts the same
//! logits here, and ours loads in PyTorch with strict=True and predicts the same logits there.

use digits::nn::{syntax, Activation, Init, LayerSpec, ModelSpec, Padding, Sequential};
use digits::train::checkpoint::{self, CheckpointMeta};
use std::path::{Path, PathBuf};
use std::process::Command;

const TOL: f32 = 1e-4;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/torch")
        .join(name)
}

/// Loads a PyTorch fixture and returns the largest |logit difference| over its inputs; `arch`
/// is given for a CNN (a state dict alone cannot tell its pooling, flatten and dropout layers).
fn max_diff_against_torch(name: &str, spec: ModelSpec, arch: Option<&ModelSpec>) -> f32 {
    let ckpt = checkpoint::load_as(&fixture(&format!("{name}.safetensors")), arch).unwrap();
    assert!(ckpt.meta.inferred, "a PyTorch file has no digits.spec");
    assert_eq!(ckpt.model.spec(), &spec);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(&format!("{name}.json"))).unwrap())
            .unwrap();
    let pixels = json["pixels"].as_array().unwrap();
    let expected = json["logits"].as_array().unwrap();
    assert!(!pixels.is_empty());
    let mut worst = 0.0f32;
    for (p, e) in pixels.iter().zip(expected) {
        // The fixture's inputs are 0..255 pixels fed as pixel / 255 in float32, as PixelScale::Unit.
        let x: Vec<f32> = p
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as f32 / 255.0)
            .collect();
        let got = ckpt.model.predict(&x);
        let want: Vec<f32> = e
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            worst = worst.max((g - w).abs());
        }
    }
    worst
}

#[test]
fn pytorch_fixture_small_gives_the_same_logits() {
    let d = max_diff_against_torch("mlp_64_16_10", ModelSpec::mlp(64, &[16], 10), None);
    println!("mlp_64_16_10: max |logit diff| vs PyTorch = {d:e}");
    assert!(d <= TOL, "max |logit diff| {d}");
}

#[test]
fn pytorch_fixture_tutorial_gives_the_same_logits() {
    let d = max_diff_against_torch("mlp_784_25_15_10", ModelSpec::mlp(784, &[25, 15], 10), None);
    println!("mlp_784_25_15_10: max |logit diff| vs PyTorch = {d:e}");
    assert!(d <= TOL, "max |logit diff| {d}");
}

/// The architecture of the CNN fixture (see tests/fixtures/make_torch_cnn_fixture.py).
fn small_cnn() -> ModelSpec {
    let mut layers =
        syntax::parse_layers("c4k3,p2,c4k3s,p2,flatten,drop0.5", Activation::Relu).unwrap();
    layers.push(LayerSpec::dense(10, Activation::Linear));
    ModelSpec::new(784, layers)
}

#[test]
fn pytorch_cnn_fixture_gives_the_same_logits() {
    // Conv2d weights [cout, cin, k, k], `same` padding, and a Linear after Flatten whose inputs
    // PyTorch counts channel-first.
    let name = "cnn_c4k3_p2_c4k3s_p2_10";
    let d = max_diff_against_torch(name, small_cnn(), Some(&small_cnn()));
    println!("{name}: max |logit diff| vs PyTorch = {d:e}");
    assert!(d <= TOL, "max |logit diff| {d}");
    // Without the architecture the file is refused with a way out.
    let e = format!(
        "{:#}",
        checkpoint::load(&fixture(&format!("{name}.safetensors"))).unwrap_err()
    );
    assert!(
        e.contains("model.0.weight") && e.contains("--arch cnn"),
        "{e}"
    );
    // A wrong architecture names the tensor that does not fit.
    let wrong = ModelSpec::mnist_convnet(784, 10);
    let e = format!(
        "{:#}",
        checkpoint::load_as(&fixture(&format!("{name}.safetensors")), Some(&wrong)).unwrap_err()
    );
    assert!(e.contains("model.0.weight has shape [4, 1, 3, 3]"), "{e}");
}

fn python() -> String {
    std::env::var("DIGITS_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Saves models of ours with inputs and logits, then has PyTorch load them strictly and compare.
/// Skipped only when the Python (DIGITS_PYTHON, default python3) cannot import torch.
#[test]
fn our_checkpoints_load_in_pytorch() {
    let py = python();
    let probe = Command::new(&py)
        .args(["-c", "import torch, safetensors"])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            eprintln!(
                "SKIPPED our_checkpoints_load_in_pytorch: {py} cannot import torch and safetensors ({}); set DIGITS_PYTHON to a Python that can",
                String::from_utf8_lossy(&o.stderr).trim().lines().last().unwrap_or("")
            );
            return;
        }
        Err(e) => {
            eprintln!("SKIPPED our_checkpoints_load_in_pytorch: cannot run {py}: {e}");
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let specs = [
        ("tutorial", ModelSpec::mlp(784, &[25, 15], 10)),
        (
            // A linear hidden layer takes one Sequential index, a sigmoid one two.
            "mixed",
            ModelSpec::new(
                20,
                vec![
                    LayerSpec::dense(8, Activation::Linear),
                    LayerSpec::dense(6, Activation::Sigmoid),
                    LayerSpec::dense(10, Activation::Linear),
                ],
            ),
        ),
    ];
    let specs = specs.into_iter().chain([
        // Every layer type; a sigmoid convolution; Flatten's order (channel-first in PyTorch).
        ("cnn", {
            let mut layers =
                syntax::parse_layers("c3k3s,p2,c4k3,flatten,drop0.3,7", Activation::Relu).unwrap();
            layers[2] = LayerSpec::conv2d(4, 3, Padding::Valid, Activation::Sigmoid);
            layers.push(LayerSpec::dense(10, Activation::Linear));
            ModelSpec::new(100, layers)
        }),
        ("convnet", ModelSpec::mnist_convnet(784, 10)),
    ]);
    for (k, (name, spec)) in specs.enumerate() {
        let model = Sequential::new(spec, Init::KaimingUniform, 7 + k as u64);
        let d = model.input_dim();
        let inputs: Vec<f32> = (0..4 * d)
            .map(|i| ((i * 37 % 101) as f32) / 101.0)
            .collect();
        let logits = model.predict(&inputs);
        let path = dir.path().join(format!("{name}.safetensors"));
        checkpoint::save(&path, &model, &CheckpointMeta::default(), None).unwrap();
        let rows =
            |v: &[f32], w: usize| -> Vec<Vec<f32>> { v.chunks(w).map(<[f32]>::to_vec).collect() };
        let json = serde_json::json!({
            "inputs": rows(&inputs, d),
            "logits": rows(&logits, model.output_dim()),
        });
        std::fs::write(dir.path().join(format!("{name}.json")), json.to_string()).unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check_torch_load.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "PyTorch check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("strict load ok").count(), 4, "{stdout}");
}
