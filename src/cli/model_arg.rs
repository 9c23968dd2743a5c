//! `--model`, shared by the commands that use a trained network.

use digits::default_model;
use digits::train::checkpoint::Checkpoint;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ModelArg {
    /// Checkpoint (.safetensors, ours or a PyTorch state dict); default: the built-in model.
    #[arg(long)]
    pub model: Option<PathBuf>,
}

impl ModelArg {
    /// The checkpoint and the name to show for it in messages.
    pub fn load(&self) -> anyhow::Result<(Checkpoint, PathBuf)> {
        let ckpt = default_model::load_or_default(self.model.as_deref())?;
        let name = self
            .model
            .clone()
            .unwrap_or_else(|| default_model::NAME.into());
        Ok((ckpt, name))
    }
}
