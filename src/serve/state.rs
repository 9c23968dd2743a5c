//! What every request shares: the model and how its inputs are scaled.

use crate::data::PixelScale;
use crate::nn::Sequential;

/// Inputs the server makes: 28x28 MNIST-style images, row-major.
pub const INPUT_DIM: usize = 784;

#[derive(Clone, Debug)]
pub struct AppState {
    pub model: Sequential,
    /// The scale the model was trained on; inputs are made in [0, 1] and scaled to it.
    pub scale: PixelScale,
    /// Where the model came from (a path, or "untrained"), shown by `GET /api/model`.
    pub source: String,
}

impl AppState {
    /// Fails unless the model reads 784 inputs (28x28 images).
    pub fn new(
        model: Sequential,
        scale: PixelScale,
        source: impl Into<String>,
    ) -> anyhow::Result<Self> {
        if model.input_dim() != INPUT_DIM {
            anyhow::bail!(
                "the server needs a model of 28x28 = {INPUT_DIM} inputs; this one reads {}",
                model.input_dim()
            );
        }
        Ok(AppState {
            model,
            scale,
            source: source.into(),
        })
    }

    /// The model's input for MNIST-style pixels in [0, 1].
    pub fn scaled(&self, mut x: Vec<f32>) -> Vec<f32> {
        if self.scale == PixelScale::Raw {
            x.iter_mut().for_each(|v| *v *= 255.0);
        }
        x
    }
}
