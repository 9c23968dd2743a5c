//! `digits predict`: the digit and the ten probabilities for photos of handwritten digits, or for
//! test images by index.

use super::eval::{load_images, DataArgs};
use super::model_arg::ModelArg;
use anyhow::bail;
use digits::data::PixelScale;
use digits::nn::argmax;
use digits::train::checkpoint::Checkpoint;
use digits::vision::preprocess;
use digits::vision::reading::gray_picture;
use digits::vision::reject::{accepted, parse_probability};
use digits::vision::second_opinion::SecondOpinion;
use rayon::prelude::*;
use std::path::Path;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct PredictArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Photos or scans of handwritten digits (PNG, JPEG, BMP, TIFF, WebP; any size, dark or
    /// light ink).
    pub files: Vec<PathBuf>,
    /// Test-set images to predict, by index (repeat or comma-separate; default 0).
    #[arg(long = "index", value_delimiter = ',')]
    pub index: Vec<usize>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Print JSON: [{"index", "digit", "label", "probabilities"}].
    #[arg(long)]
    pub json: bool,
    /// Write the 28x28 picture the network saw for each photo to this folder (NAME.png).
    #[arg(long, value_name = "DIR")]
    pub save_input: Option<PathBuf>,
    /// Photos: ask the built-in number reader's line model too, and give the digit both find
    /// likeliest (the geometric mean of their probabilities; see `vision::second_opinion`).
    #[arg(long, requires = "files")]
    pub second_opinion: bool,
    /// Mark the answers whose probability is below P (in [0, 1]) to be checked by hand (and
    /// add "accepted" to --json); `digits eval --images` shows the error left at each level.
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub min_confidence: Option<f32>,
}

pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    let (ckpt, name) = args.model.load()?;
    if !args.files.is_empty() {
        let second = args
            .second_opinion
            .then(SecondOpinion::built_in)
            .transpose()?;
        return predict_files(&ckpt, &name, &args, second.as_ref());
    }
    let (data, split, scale) = load_images(&args.data, &ckpt, &name)?;
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
                let mut entry = serde_json::json!({"index": i, "digit": argmax(p), "label": data.labels[i], "probabilities": p});
                if let Some(ok) = accepted(p[argmax(p)], args.min_confidence) {
                    entry["accepted"] = ok.into();
                }
                entry
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
        let below = below_mark(p[digit], args.min_confidence);
        println!("{split} image {i}: digit {digit}, label {label}{mark}{below}");
        println!("  {}", probability_line(p));
    }
    Ok(())
}

/// Reads each photo the way MNIST was made and predicts it, on all cores; a file that cannot be
/// read is reported and the others still predicted (the command then fails at the end).
fn predict_files(
    ckpt: &Checkpoint,
    name: &Path,
    args: &PredictArgs,
    second: Option<&SecondOpinion>,
) -> anyhow::Result<()> {
    let (files, json, save_input) = (&args.files, args.json, args.save_input.as_deref());
    if let Some(dir) = save_input {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let model = &ckpt.model;
    if model.input_dim() != preprocess::PIXELS {
        bail!(
            "{} takes {} inputs per image; photos are read as 28x28 = 784 (use a model trained on MNIST)",
            name.display(),
            model.input_dim()
        );
    }
    // Each photo's input and probabilities, read on all cores; printed in the order given.
    let read: Vec<_> = files
        .par_iter()
        .map(|file| read_photo(ckpt, file, second))
        .collect();
    let mut failed = 0;
    let mut out = Vec::new();
    for (file, read) in files.iter().zip(read) {
        let (x, p) = match read {
            Ok(x_p) => x_p,
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
                continue;
            }
        };
        if let Some(dir) = save_input {
            let stem = file.file_stem().unwrap_or_default().to_string_lossy();
            let out = dir.join(format!("{stem}.png"));
            let side = preprocess::SIDE;
            gray_picture(&x, side, side)
                .save(&out)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
        }
        let digit = argmax(&p);
        if json {
            let mut entry = serde_json::json!({"file": file, "digit": digit, "probabilities": p});
            if let Some(ok) = accepted(p[digit], args.min_confidence) {
                entry["accepted"] = ok.into();
            }
            out.push(entry);
        } else {
            let mark = below_mark(p[digit], args.min_confidence);
            println!("{}: {digit}{mark}", file.display());
            println!("  {}", probability_line(&p));
        }
    }
    if json {
        println!("{}", serde_json::to_string(&out)?);
    }
    if failed > 0 {
        bail!("{failed} of {} files could not be read", files.len());
    }
    Ok(())
}

/// The 784 inputs the photo at `path` is framed into, and `ckpt`'s ten probabilities for them
/// (with the line model's `second` opinion where given); shared with `digits eval --images`.
pub(super) fn read_photo(
    ckpt: &Checkpoint,
    path: &Path,
    second: Option<&SecondOpinion>,
) -> Result<(Vec<f32>, Vec<f32>), preprocess::PreprocessError> {
    let (x, ink) = preprocess::input_and_ink_from_path(path)?;
    let p = if ckpt.meta.scale == PixelScale::Raw {
        let raw: Vec<f32> = x.iter().map(|v| v * 255.0).collect();
        ckpt.model.predict_proba(&raw)
    } else {
        ckpt.model.predict_proba(&x)
    };
    let p = match second {
        Some(second) => second.combine(&p, &ink),
        None => p,
    };
    Ok((x, p))
}

/// " (below P: check by hand)" for an answer of probability under `min`, else "".
fn below_mark(probability: f32, min: Option<f32>) -> String {
    match min {
        Some(min) if probability < min => format!(" (below {min}: check by hand)"),
        _ => String::new(),
    }
}

/// "0: 0.0001  1: 0.0000  ...  9: 0.0016"
fn probability_line(p: &[f32]) -> String {
    let ps: Vec<String> = p
        .iter()
        .enumerate()
        .map(|(d, v)| format!("{d}: {v:.4}"))
        .collect();
    ps.join("  ")
}
