//! `digits export --web DIR`: the drawing page as a static site that runs the model in the
//! browser with onnxruntime-web (WebAssembly), for any static host: no server, no API.
//!
//! DIR gets `index.html` (the `digits serve` page with the model wired in), `model.onnx` and
//! three files of onnxruntime-web's `dist` (the WebAssembly build, ~14 MB). They are copied
//! from a given `dist` folder, or fetched with `npm` (pinned to [`ORT_VERSION`]), so the binary
//! does not carry them.

use super::{write_onnx, OnnxModel};
use crate::nn::Sequential;
use crate::serve::INDEX_HTML;
use crate::train::checkpoint::atomic;
use anyhow::{bail, Context};
use serde::Serialize;
use std::path::Path;
use std::process::Command;

/// The onnxruntime-web release fetched with npm (tests/e2e/package.json pins the same).
pub const ORT_VERSION: &str = "1.30.0";

/// What the site needs of onnxruntime-web: the WebAssembly-only build (global `ort`), its
/// loader and its binary (SIMD; run on one thread, which needs no cross-origin isolation).
pub const ORT_FILES: [&str; 3] = [
    "ort.wasm.min.js",
    "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm",
];

/// Where the page marks the place for the local model's scripts.
const MARKER: &str = "<!-- digits:local-model -->";

/// The model as the page's footer shows it (what `GET /api/model` says on a server).
#[derive(Serialize)]
pub struct ModelInfo {
    pub input: usize,
    pub layers: Vec<LayerUnits>,
    pub params: usize,
    pub source: String,
}

#[derive(Serialize)]
pub struct LayerUnits {
    pub units: usize,
}

impl ModelInfo {
    pub fn of(model: &Sequential, source: &str) -> Self {
        ModelInfo {
            input: model.input_dim(),
            layers: model
                .layers()
                .iter()
                .map(|l| LayerUnits { units: l.out_len() })
                .collect(),
            params: model.params().len(),
            source: source.to_string(),
        }
    }
}

/// Writes the site into `dir`; returns how many files it holds. `ort_dist`: onnxruntime-web's
/// `dist` folder; `None` fetches the package with npm into a temporary folder.
pub fn write_site(
    dir: &Path,
    model: &OnnxModel,
    info: &ModelInfo,
    ort_dist: Option<&Path>,
) -> anyhow::Result<usize> {
    let fetched;
    let dist = match ort_dist {
        Some(d) => d.to_path_buf(),
        None => {
            fetched = fetch_with_npm()?;
            fetched.path().join("node_modules/onnxruntime-web/dist")
        }
    };
    for f in ORT_FILES {
        let from = dist.join(f);
        if !from.is_file() {
            bail!(
                "{} is not onnxruntime-web's dist folder: {f} is missing (npm install onnxruntime-web@{ORT_VERSION}, then pass node_modules/onnxruntime-web/dist)",
                dist.display()
            );
        }
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    for f in ORT_FILES {
        let bytes = std::fs::read(dist.join(f))
            .with_context(|| format!("cannot read {}", dist.join(f).display()))?;
        atomic::write_atomic(&dir.join(f), &bytes)?;
    }
    write_onnx(&dir.join("model.onnx"), model)?;
    atomic::write_atomic(&dir.join("index.html"), page(info)?.as_bytes())?;
    Ok(ORT_FILES.len() + 2)
}

/// The drawing page with the local model's scripts in place of the marker.
pub fn page(info: &ModelInfo) -> anyhow::Result<String> {
    if !INDEX_HTML.contains(MARKER) {
        bail!("the drawing page has no {MARKER} marker");
    }
    // `</` cannot end the script early inside a JSON string once escaped.
    let info = serde_json::to_string(info)?.replace("</", "<\\/");
    let script = LOCAL_MODEL_JS.replace("INFO_JSON", &info);
    Ok(INDEX_HTML.replace(MARKER, &script))
}

/// `npm install onnxruntime-web@ORT_VERSION` in a temporary folder (deleted when dropped).
fn fetch_with_npm() -> anyhow::Result<tempfile::TempDir> {
    let tmp = tempfile::tempdir().context("cannot create a temporary folder for npm")?;
    let spec = format!("onnxruntime-web@{ORT_VERSION}");
    eprintln!("fetching {spec} with npm (pass --ort-dist DIR to use a copy you have)");
    let out = Command::new("npm")
        .args([
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
        ])
        .arg("--prefix")
        .arg(tmp.path())
        .arg(&spec)
        .output()
        .with_context(|| {
            format!("cannot run npm to fetch {spec}: install Node.js and npm, or pass --ort-dist")
        })?;
    if !out.status.success() {
        bail!(
            "npm install {spec} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(tmp)
}

const LOCAL_MODEL_JS: &str = r#"<script src="ort.wasm.min.js"></script>
<script>
"use strict";
// Written by `digits export --web`: the model runs in this page with onnxruntime-web.
window.digitsLocal = (() => {
  ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, which a static host may lack
  ort.env.wasm.wasmPaths = new URL("./", location.href).href;
  const session = ort.InferenceSession.create("model.onnx", { executionProviders: ["wasm"] });
  const info = INFO_JSON;
  // The reject option as `digits serve --min-confidence` gives it: `?min_confidence=P` in the
  // page's address marks the answers under P (ignored unless a probability).
  const asked = Number(new URLSearchParams(location.search).get("min_confidence") ?? NaN);
  const level = asked >= 0 && asked <= 1 ? asked : null;
  if (level !== null) info.min_confidence = level;
  // The pixels are the page's 28x28 MNIST-style input, fed as they are (the server's
  // `{"pixels": ..., "framed": true}`); softmax as the server computes it.
  async function predict(pixels) {
    if (pixels.every(v => v === 0)) {
      return { status: 422, answer: { error: "blank image: nothing is drawn" } };
    }
    const s = await session;
    const x = new ort.Tensor("float32", Float32Array.from(pixels), [1, 1, 28, 28]);
    const logits = Array.from((await s.run({ pixels: x })).logits.data);
    const top = Math.max(...logits);
    const e = logits.map(v => Math.exp(v - top));
    const sum = e.reduce((a, b) => a + b, 0);
    const probabilities = e.map(v => v / sum);
    const digit = logits.indexOf(top);
    const answer = { digit, probabilities, logits };
    if (level !== null) answer.accepted = probabilities[digit] >= level;
    return { status: 200, answer };
  }
  return { predict, info };
})();
</script>"#;
