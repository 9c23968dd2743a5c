//! `--model`, shared by the commands that use a trained network.

use super::train::Arch;
use anyhow::Context;
use digits::nn::{syntax, Activation, LayerSpec, ModelSpec};
use digits::train::checkpoint::{self, Checkpoint};
use digits::vision::number_reader::number_reader;
use digits::vision::reading::NumberReader;
use digits::{default_model, default_reader};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ModelArg {
    /// Checkpoint (.safetensors, ours or a PyTorch state dict); default: the built-in model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The architecture of a --model file without digits' metadata (a state dict saved from
    /// PyTorch), when it is a CNN: cnn = torch_cnn.py's ConvNet (Keras' mnist_convnet).
    /// MLPs are read from the tensor shapes.
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// The layers of such a file, as `digits train --layers` spells them (a final Dense layer
    /// of 10 logits is added).
    #[arg(long)]
    pub layers: Option<String>,
}

/// The reader of `digits read` and `digits eval --numbers`: `--model`'s (a line model, or a
/// digit model read through segmentation), else the built-in number reader, or with
/// `segment` the built-in digit model cutting the ink into digits.
pub fn number_reader_of(
    model: &ModelArg,
    segment: bool,
) -> anyhow::Result<(Box<dyn NumberReader>, PathBuf)> {
    if model.model.is_some() || segment {
        let (ckpt, name) = model.load()?;
        let reader = number_reader(ckpt).with_context(|| name.display().to_string())?;
        return Ok((reader, name));
    }
    Ok((
        Box::new(default_reader::reader()?),
        default_reader::NAME.into(),
    ))
}

impl ModelArg {
    /// The checkpoint and the name to show for it in messages.
    pub fn load(&self) -> anyhow::Result<(Checkpoint, PathBuf)> {
        let ckpt = match &self.model {
            Some(path) => checkpoint::load_as(path, self.spec()?.as_ref())?,
            None => default_model::load()?,
        };
        let name = self
            .model
            .clone()
            .unwrap_or_else(|| default_model::NAME.into());
        Ok((ckpt, name))
    }

    /// The architecture given by --arch or --layers, for 28x28 inputs.
    fn spec(&self) -> anyhow::Result<Option<ModelSpec>> {
        let text = match (&self.layers, self.arch) {
            (Some(l), _) => l.as_str(),
            (None, Some(a)) => a.default_layers(),
            (None, None) => return Ok(None),
        };
        let mut layers = syntax::parse_layers(text, Activation::Relu)
            .map_err(|e| anyhow::anyhow!("--layers: {e}"))?;
        layers.push(LayerSpec::dense(10, Activation::Linear));
        Ok(Some(ModelSpec::new(784, layers)))
    }
}
