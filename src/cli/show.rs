//! `digits show`: PNG pictures a person opens: a grid of digits with their labels (and a model's
//! predictions, wrong ones in red), the loss curve of a run, a confusion matrix.

use super::eval::DataArgs;
use anyhow::{bail, Context};
use digits::data::{Dataset, DatasetKind, Pixels};
use digits::default_model;
use digits::train::augment::AugmentedBatch;
use digits::train::checkpoint;
use digits::train::tensorboard::read_scalars;
use digits::train::History;
use digits::vision::augment::Augment;
use digits::vision::plot::{
    confusion_counts, confusion_matrix, dataset_grid, loss_curve, save_png, titled,
};
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Show this model's prediction beside each label, wrong ones in red (default: the built-in
    /// model, for 28x28 images).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Draw the labels alone, without a model's predictions.
    #[arg(long, conflicts_with = "model")]
    pub labels_only: bool,
    /// Draw from the test images instead of the training images.
    #[arg(long)]
    pub test: bool,
    /// How many random digits (8x8 = 64 by default).
    #[arg(long, default_value_t = 64)]
    pub count: usize,
    /// Seed choosing the digits.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Draw the loss curve of a run instead: a History JSON (`train --history`) or a TensorBoard
    /// log directory (`train --logdir`).
    #[arg(long, conflicts_with = "confusion")]
    pub loss: Option<PathBuf>,
    /// Draw the confusion matrix of --model (default: the built-in model) on the test images.
    #[arg(long)]
    pub confusion: bool,
    /// Draw training digits as `digits train --augment` distorts them: each row one digit, then
    /// distortions of it (with --model, its predictions of them).
    #[arg(long, conflicts_with_all = ["loss", "confusion"])]
    pub augment: bool,
    /// The PNG file to write (default: digits.png, loss.png, confusion.png or augment.png).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

pub fn run(args: ShowArgs) -> anyhow::Result<()> {
    let (img, default_name) = if let Some(run) = &args.loss {
        (loss_picture(run)?, "loss.png")
    } else if args.confusion {
        (confusion_picture(&args)?, "confusion.png")
    } else if args.augment {
        (augment_picture(&args)?, "augment.png")
    } else {
        (grid_picture(&args)?, "digits.png")
    };
    let out = args.out.clone().unwrap_or_else(|| default_name.into());
    save_png(&img, &out)?;
    println!("wrote {}", out.display());
    Ok(())
}

/// The training images, or with `test` the test images alone (the training files are then not
/// read); a dataset without a test split gives all its images for either.
fn load_split(data: &DataArgs, test: bool) -> anyhow::Result<Dataset> {
    let kind = data.dataset.unwrap_or(DatasetKind::Mnist);
    let dir = kind.resolve_dir(data.data_dir.as_deref());
    if test {
        return kind.load_eval(&dir).map(|(d, _)| d);
    }
    kind.load(&dir).map(|(train, _)| train)
}

fn grid_picture(args: &ShowArgs) -> anyhow::Result<image::RgbImage> {
    let data = load_split(&args.data, args.test)?;
    let count = args.count.clamp(1, data.len());
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let idx: Vec<usize> = sample(&mut rng, data.len(), count).into_vec();
    captioned_grid(&data, &idx, args, "")
}

/// Rows of one training digit followed by its distortions under `--augment` (those of steps
/// 0, 1, ... with --seed), as a grid with labels (and predictions with --model).
fn augment_picture(args: &ShowArgs) -> anyhow::Result<image::RgbImage> {
    let data = load_split(&args.data, args.test)?;
    let count = args.count.clamp(2, 1024);
    // As many per row as the grid's columns: the original, then its distortions.
    let cols = (count as f64).sqrt().ceil() as usize;
    let rows = count.div_ceil(cols).min(data.len());
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let chosen = sample(&mut rng, data.len(), rows).into_vec();
    let mut batch = AugmentedBatch::new(Augment::default(), args.seed, &data, cols - 1)?;
    let f = data.features();
    let (mut pixels, mut labels) = (Vec::with_capacity(rows * cols * f), Vec::new());
    for (r, &i) in chosen.iter().enumerate() {
        let (aug, _) = batch.fill(&data, &vec![i; cols - 1], r as u64);
        let (Pixels::U8(src), Pixels::U8(distorted)) = (&data.pixels, &aug.pixels) else {
            unreachable!("AugmentedBatch::new accepts only u8 images");
        };
        pixels.extend_from_slice(&src[i * f..(i + 1) * f]);
        pixels.extend_from_slice(distorted);
        labels.extend(std::iter::repeat_n(data.labels[i], cols));
    }
    let tiles = Dataset {
        pixels: Pixels::U8(pixels),
        labels,
        ..data.select(&[])
    };
    let all: Vec<usize> = (0..tiles.len()).collect();
    captioned_grid(
        &tiles,
        &all,
        args,
        "; each row: a digit, then --augment's distortions",
    )
}

fn captioned_grid(
    data: &Dataset,
    idx: &[usize],
    args: &ShowArgs,
    note: &str,
) -> anyhow::Result<image::RgbImage> {
    let count = idx.len();
    // The built-in model reads 28x28 images; the 20x20 set gets labels alone unless --model.
    let model = match (&args.model, args.labels_only) {
        (_, true) => None,
        (Some(path), _) => Some((checkpoint::load(path)?, path.clone())),
        (None, _) if data.features() == default_model::INPUTS => {
            Some((default_model::load()?, PathBuf::from(default_model::NAME)))
        }
        (None, _) => None,
    };
    let (preds, title) = match &model {
        Some((ckpt, path)) => {
            check_inputs(ckpt.model.input_dim(), data, path)?;
            let scale = args.data.scale.unwrap_or(ckpt.meta.scale);
            let p = ckpt.model.predict_digits(&data.batch_x(idx, scale));
            let wrong = p
                .iter()
                .zip(idx)
                .filter(|(p, &i)| **p != data.labels[i] as usize)
                .count();
            (
                Some(p),
                format!("label,prediction  ({wrong} wrong of {count}){note}"),
            )
        }
        None => (None, format!("label{note}")),
    };
    Ok(titled(&dataset_grid(data, idx, preds.as_deref()), &title))
}

fn check_inputs(inputs: usize, data: &Dataset, model: &Path) -> anyhow::Result<()> {
    if inputs != data.features() {
        bail!(
            "{} takes {inputs} inputs per image but these images have {}",
            model.display(),
            data.features()
        );
    }
    Ok(())
}

fn confusion_picture(args: &ShowArgs) -> anyhow::Result<image::RgbImage> {
    let ckpt = default_model::load_or_default(args.model.as_deref())?;
    let name = args
        .model
        .clone()
        .unwrap_or_else(|| default_model::NAME.into());
    let data = load_split(&args.data, true)?;
    check_inputs(ckpt.model.input_dim(), &data, &name)?;
    let scale = args.data.scale.unwrap_or(ckpt.meta.scale);
    let all: Vec<usize> = (0..data.len()).collect();
    let preds = ckpt.model.predict_digits(&data.batch_x(&all, scale));
    Ok(confusion_matrix(
        &confusion_counts(&data.labels, &preds),
        &format!("{} images", data.len()),
    ))
}

/// Per-epoch training and test loss from a History JSON or a TensorBoard log directory.
fn loss_picture(run: &Path) -> anyhow::Result<image::RgbImage> {
    let per_epoch = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(e, &l)| ((e + 1) as f64, l))
            .collect()
    };
    let (train, test) = if run.is_dir() {
        let scalars = read_scalars(run)?;
        let series = |tag: &str| -> Vec<(f64, f64)> {
            scalars
                .get(tag)
                .map(|v| v.iter().map(|&(s, l)| (s as f64, l as f64)).collect())
                .unwrap_or_default()
        };
        (series("train_loss_epoch"), series("test_loss"))
    } else {
        let text = std::fs::read_to_string(run)
            .with_context(|| format!("cannot read {}", run.display()))?;
        let h: History = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a History JSON file (write one with `digits train --history FILE`)",
                run.display()
            )
        })?;
        (per_epoch(&h.loss), per_epoch(&h.test_loss))
    };
    if train.is_empty() && test.is_empty() {
        bail!("{} holds no per-epoch losses", run.display());
    }
    let mut series = vec![("training loss", train)];
    if !test.is_empty() {
        series.push(("test loss", test));
    }
    Ok(loss_curve(&series, &format!("loss of {}", run.display())))
}
