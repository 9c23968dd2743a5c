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
use crate::nn::{Layer, Sequential};
use crate::train::checkpoint::{atomic, describe, torch_perm};
use anyhow::anyhow;
use std::path::Path;

/// How the exported model's input is made, for `metadata_props`.
pub const PREPROCESSING: &str = "pixels: float32 [N, 1, 28, 28], values in [0, 1] (MNIST / 255), \
    light ink on a black background; the digit cropped to its ink, scaled to fit 20x20 keeping \
    its aspect ratio, placed in 28x28 with its centre of mass in the middle (as MNIST was made)";

impl OnnxModel {
    /// Any digits network (Dense, Conv2d, MaxPool2d, Flatten, Dropout over 784 = 28x28 pixels),
    /// its weights in PyTorch's layouts as checkpoints write them. `source` names it in the
    /// metadata.
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
        if let Some(shape) = model.spec().input_shape {
            if (shape.h, shape.w, shape.c) != (28, 28, 1) {
                anyhow::bail!(
                    "{source} reads {}x{}x{} images; ONNX export needs 28x28 one-channel images",
                    shape.h,
                    shape.w,
                    shape.c
                );
            }
        }
        // Image layers read the input as (28, 28, 1), which with one channel is NCHW's memory
        // too; a network that starts flat reads the same pixels flattened.
        let starts_with_image = matches!(
            model.layers().first(),
            Some(Layer::Conv2d(_) | Layer::MaxPool2d(_) | Layer::Flatten { .. })
        );
        let mut layers = if starts_with_image {
            vec![]
        } else {
            vec![OnnxLayer::Flatten]
        };
        for (k, l) in model.layers().iter().enumerate() {
            // Weights and bias in PyTorch's layout (the checkpoint's tensors).
            let torch = || {
                let (w, b) = model.weights(k);
                let mut t = vec![0.0; w.len()];
                for (ours, &theirs) in torch_perm(l).iter().enumerate() {
                    t[theirs] = w[ours];
                }
                (t, b.to_vec())
            };
            layers.push(match l {
                Layer::Dense(d) => {
                    let (w, b) = torch();
                    OnnxLayer::Dense {
                        w,
                        b,
                        inp: d.in_dim,
                        out: d.out_dim,
                        act: d.activation,
                    }
                }
                Layer::Conv2d(c) => {
                    let (w, b) = torch();
                    OnnxLayer::Conv2d {
                        w,
                        b,
                        cin: c.cin,
                        cout: c.cout,
                        k: c.k,
                        pad: c.pad,
                        act: c.activation,
                    }
                }
                Layer::MaxPool2d(p) if (p.ph, p.pw) == (2, 2) => OnnxLayer::MaxPool2,
                Layer::MaxPool2d(p) => anyhow::bail!(
                    "{source}: layer {} pools {}x{} windows; ONNX export supports 2x2 pooling only",
                    p.name,
                    p.ph,
                    p.pw
                ),
                Layer::Flatten { .. } => OnnxLayer::Flatten,
                Layer::Dropout(_) => OnnxLayer::Dropout,
            });
        }
        let spec = serde_json::to_string(model.spec())?;
        let input_scale = match scale {
            PixelScale::Unit => 1.0,
            PixelScale::Raw => 255.0,
        };
        let metadata = vec![
            ("digits.architecture".into(), describe(model.spec())),
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
