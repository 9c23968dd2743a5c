//! `digits eval`: a checkpoint's loss and accuracy on the test set, with its own preprocessing.

use super::model_arg::ModelArg;
use anyhow::bail;
use digits::data::{Dataset, DatasetKind, PixelScale};
use digits::train::checkpoint::{self, Checkpoint};
use digits::vision::reject::parse_probability;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub model: ModelArg,
    #[command(flatten)]
    pub data: DataArgs,
    /// Evaluate on a folder of labelled pictures instead: labels.csv (file,label) or one
    /// sub-folder per digit; each picture is read like a photo.
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
    /// Evaluate reading whole numbers instead: DIR/labels.csv (file,text; the text as written,
    /// leading zeros kept, separators . , / - ignored) with pictures of numbers; accuracy and
    /// character error rate by sub-folder, and the error when only the most confident are kept.
    #[arg(long, value_name = "DIR", conflicts_with = "images")]
    pub numbers: Option<PathBuf>,
    /// With --images: write the confusion matrix to this PNG file; with --numbers: a gallery
    /// of the misread pictures listed.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// With --images: how many mistakes to list (the most confident first).
    #[arg(long, default_value_t = 20)]
    pub list: usize,
    /// With --images: ask the built-in number reader's line model too (as `digits predict
    /// --second-opinion` does).
    #[arg(long, requires = "images")]
    pub second_opinion: bool,
    /// With --numbers: how many misread pictures to list (and draw with -o).
    #[arg(long, value_name = "N", default_value_t = 20, requires = "numbers")]
    pub show_errors: usize,
    /// With --numbers: read with the built-in digit model cutting the ink into digits, instead
    /// of the built-in number reader.
    #[arg(long, requires = "numbers", conflicts_with = "model")]
    pub segment: bool,
    /// With --images or --numbers: how many answers reach the level P (in [0, 1]) and how many
    /// of them are wrong: what `predict`, `read` and `serve --min-confidence P` would accept.
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub min_confidence: Option<f32>,
    /// With --numbers: print the report as JSON.
    #[arg(long, requires = "numbers")]
    pub json: bool,
    /// With --numbers: read each picture as a number of as many digits as its label has, as
    /// `digits read --digits N` does for a form whose fields' lengths are known.
    #[arg(long, requires = "numbers")]
    pub known_length: bool,
}

/// Where the images come from and how they are fed; shared with `digits predict`.
#[derive(clap::Args)]
pub struct DataArgs {
    /// Dataset (default: the one the checkpoint was trained on, else mnist).
    #[arg(long, value_enum)]
    pub dataset: Option<DatasetKind>,
    /// Directory holding the dataset's files (default: $DIGITS_DATA, else data/mnist or
    /// data/digits5000).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Pixel scaling, overriding the checkpoint's: unit (/255) or raw (0..255). A PyTorch state
    /// dict records none and is read as unit.
    #[arg(long, value_parser = parse_scale)]
    pub scale: Option<PixelScale>,
}

fn parse_scale(s: &str) -> Result<PixelScale, String> {
    match s {
        "unit" => Ok(PixelScale::Unit),
        "raw" => Ok(PixelScale::Raw),
        _ => Err(format!("unknown scale {s:?} (unit or raw)")),
    }
}

/// The evaluation images for a checkpoint: the test split, or the whole set when the dataset has
/// none (digits5000); returns them with the split's name and the pixel scale to use.
pub fn load_images(
    args: &DataArgs,
    ckpt: &Checkpoint,
    path: &Path,
) -> anyhow::Result<(Dataset, &'static str, PixelScale)> {
    let kind = args
        .dataset
        .or(ckpt.meta.dataset)
        .unwrap_or(DatasetKind::Mnist);
    let dir = kind.resolve_dir(args.data_dir.as_deref());
    let (data, split) = kind.load_eval(&dir)?;
    let model = &ckpt.model;
    if data.features() != model.input_dim() {
        bail!(
            "{} expects {} inputs per image but the {kind:?} images have {}",
            path.display(),
            model.input_dim(),
            data.features()
        );
    }
    if let Some(&l) = data
        .labels
        .iter()
        .find(|&&l| l as usize >= model.output_dim())
    {
        bail!(
            "the data has label {l} but {} has only {} outputs",
            path.display(),
            model.output_dim()
        );
    }
    if ckpt.meta.inferred && args.scale.is_none() {
        eprintln!(
            "note: {} has no digits metadata (saved from PyTorch?): architecture {} {}, inputs scaled to 0..1 (use --scale raw for 0..255)",
            path.display(),
            checkpoint::describe(model.spec()),
            if model.spec().has_image_layers() {
                "as given"
            } else {
                "read from its tensors"
            }
        );
    }
    Ok((data, split, args.scale.unwrap_or(ckpt.meta.scale)))
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    if let Some(dir) = &args.numbers {
        return super::eval_numbers::run(super::eval_numbers::NumbersArgs {
            model: &args.model,
            segment: args.segment,
            dir,
            out: args.out.as_ref(),
            show_errors: args.show_errors,
            json: args.json,
            min_confidence: args.min_confidence,
            known_length: args.known_length,
        });
    }
    if let Some(dir) = &args.images {
        return super::eval_images::run(super::eval_images::ImagesArgs {
            model: &args.model,
            dir,
            out: args.out.as_ref(),
            list: args.list,
            second_opinion: args.second_opinion,
            min_confidence: args.min_confidence,
        });
    }
    if args.out.is_some() {
        bail!("-o/--out draws the results of --images or --numbers; give one of them");
    }
    if args.min_confidence.is_some() {
        bail!("--min-confidence reports on the answers of --images or --numbers; give one of them");
    }
    let (ckpt, name) = args.model.load()?;
    let (data, split, scale) = load_images(&args.data, &ckpt, &name)?;
    if split == "train" {
        eprintln!(
            "note: this dataset has no test split; evaluating on all {} images",
            data.len()
        );
    }
    let (loss, accuracy) = digits::train::evaluate(&ckpt.model, &data, scale);
    println!("{split}_loss: {loss:.4}\n{split}_accuracy: {accuracy:.4}");
    Ok(())
}
