//! `digits predict`: a checkpoint's digit and probabilities for test images (photos later).

use super::eval::{load_images, DataArgs};
use anyhow::bail;
use digits::nn::argmax;
use digits::train::checkpoint;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct PredictArgs {
    /// Checkpoint to predict with (.safetensors, ours or a PyTorch state dict).
    #[arg(long)]
    pub model: PathBuf,
    /// Photos or scans of handwritten digits.
    pub files: Vec<PathBuf>,
    /// Test-set images to predict, by index (repeat or comma-separate; default 0).
    #[arg(long = "index", value_delimiter = ',')]
    pub index: Vec<usize>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Print JSON: [{"index", "digit", "label", "probabilities"}].
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    if !args.files.is_empty() {
        bail!("photo input is not built yet; use --index to predict test images");
    }
    let ckpt = checkpoint::load(&args.model)?;
    let (data, split, scale) = load_images(&args.data, &ckpt, &args.model)?;
    let index = if args.index.is_empty() {
        vec![0]
    } else {
        args.index
    };
    if let Some(&i) = index.iter().find(|&&i| i >= data.len()) {
        bail!(
            "there is no image {i}: the {split} set has {} (0..{})",
            data.len(),
            data.len() - 1
        );
    }
    let probs = ckpt.model.predict_proba(&data.batch_x(&index, scale));
    let rows: Vec<&[f32]> = probs.chunks_exact(ckpt.model.output_dim()).collect();
    if args.json {
        let out: Vec<_> = index
            .iter()
            .zip(&rows)
            .map(|(&i, p)| {
                serde_json::json!({"index": i, "digit": argmax(p), "label": data.labels[i], "probabilities": p})
            })
            .collect();
        println!("{}", serde_json::to_string(&out)?);
        return Ok(());
    }
    for (&i, p) in index.iter().zip(&rows) {
        let digit = argmax(p);
        let label = data.labels[i];
        let mark = if digit == label as usize {
            ""
        } else {
            "  (wrong)"
        };
        println!("{split} image {i}: digit {digit}, label {label}{mark}");
        let ps: Vec<String> = p
            .iter()
            .enumerate()
            .map(|(d, v)| format!("{d}: {v:.4}"))
            .collect();
        println!("  {}", ps.join("  "));
    }
    Ok(())
}
