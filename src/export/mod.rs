//! Exporting a model for other runtimes: ONNX (`digits export --onnx`) and a static web page
//! that runs it in the browser with onnxruntime-web (`digits export --web`).
//!
//! The ONNX model reads `pixels`, float32 [N, 1, 28, 28] in [0, 1] (MNIST-style: light ink on
//! black, cropped, fitted to 20x20, centre of mass in the middle; see `vision::preprocess`), and
//! gives `logits`, float32 [N, 10]; N is dynamic. Architecture and preprocessing are in its
//! `metadata_props`.
//!
//! ```no_run
//! let ckpt = digits::default_model::load().unwrap();
//! let onnx = digits::export::OnnxModel::from_sequential(&ckpt.model, ckpt.meta.scale, "built-in").unwrap();
//! digits::export::write_onnx("model.onnx".as_ref(), &onnx).unwrap();
//! ```

mod ir;
mod onnx_graph;
mod proto;
pub mod web;

pub use ir::{OnnxLayer, OnnxModel, Shape, INPUT};
pub use onnx_graph::{encode, INPUT_NAME, IR_VERSION, OPSET, OUTPUT_NAME};

use crate::data::PixelScale;
use crate::nn::Sequential;
use crate::train::checkpoint::{atomic, describe};
use anyhow::anyhow;
use std::path::Path;

/// How the exported model's input is made, for `metadata_props`.
pub const PREPROCESSING: &str = "pixels: float32 [N, 1, 28, 28], values in [0, 1] (MNIST / 255), \
    light ink on a black background; the digit cropped to its ink, scaled to fit 20x20 keeping \
    its aspect ratio, placed in 28x28 with its centre of mass in the middle (as MNIST was made)";

impl OnnxModel {
    /// An MLP (Sequential of Dense layers over 784 row-major pixels), its weights transposed
    /// to PyTorch's [out, in] as checkpoints are. `source` names it in the metadata.
    pub fn from_sequential(
        model: &Sequential,
        scale: PixelScale,
        source: &str,
    ) -> anyhow::Result<Self> {
        if model.input_dim() != INPUT.len() {
            anyhow::bail!(
                "{source} reads {} inputs; ONNX export needs a model of 28x28 = 784 inputs",
                model.input_dim()
            );
        }
        let mut layers = vec![OnnxLayer::Flatten];
        for (k, l) in model.layers().iter().enumerate() {
            let (w, b) = model.weights(k);
            let (i, o) = (l.in_dim, l.out_dim);
            let mut t = vec![0.0; i * o];
            for r in 0..i {
                for c in 0..o {
                    t[c * i + r] = w[r * o + c];
                }
            }
            layers.push(OnnxLayer::Dense {
                w: t,
                b: b.to_vec(),
                inp: i,
                out: o,
                act: l.activation,
            });
        }
        let spec = serde_json::to_string(model.spec())?;
        let input_scale = match scale {
            PixelScale::Unit => 1.0,
            PixelScale::Raw => 255.0,
        };
        let metadata = vec![
            (
                "digits.architecture".into(),
                format!("mlp {}", describe(model.spec())),
            ),
            ("digits.spec".into(), spec),
            ("digits.preprocessing".into(), PREPROCESSING.into()),
            (
                "digits.trained_scale".into(),
                format!("{scale:?}").to_lowercase() + " (inputs are [0, 1]; the graph rescales)",
            ),
            ("digits.source".into(), source.into()),
        ];
        let m = OnnxModel {
            layers,
            input_scale,
            metadata,
        };
        m.shapes()
            .map_err(|e| anyhow!("cannot export {source}: {e}"))?;
        Ok(m)
    }
}

/// Writes `model` as ONNX to `path`, atomically (temporary file, fsync, rename).
pub fn write_onnx(path: &Path, model: &OnnxModel) -> anyhow::Result<()> {
    let bytes = encode(model).map_err(|e| anyhow!("cannot export to {}: {e}", path.display()))?;
    atomic::write_atomic(path, &bytes)
}
