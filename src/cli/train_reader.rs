//! `digits train-reader`: trains a line reader (a sequence model read with CTC) on numbers
//! composed on the fly from MNIST's training digits, drawn separators and synthesised
//! handwriting, captured as real pictures are; evaluated after each epoch on lines composed
//! the same way from MNIST's *test* digits.

use anyhow::Context;
use digits::data::{mnist, DatasetKind, Pixels};
use digits::nn::{Init, Sequential};
use digits::train::checkpoint::{self, CheckpointMeta, CheckpointSaver};
use digits::train::fit_lines::fit_lines;
use digits::train::interrupt::StopOnInterrupt;
use digits::train::line_source::{line_seed, LineSource};
use digits::train::progress::Progress;
use digits::train::{FitConfig, Observer, Trainer};
use digits::vision::line::reader::{reader_spec, DEFAULT_LAYERS};
use digits::vision::line::synth::{LineSynth, Sample};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// The width the model is saved at (any width reads; this is only its nominal input).
const SAVED_WIDTH: usize = 128;

#[derive(clap::Args)]
pub struct TrainReaderArgs {
    /// Folder with MNIST's four files (default: $DIGITS_DATA/mnist or data/mnist).
    #[arg(long)]
    pub mnist_dir: Option<PathBuf>,
    /// Hidden layers (the syntax of `train --layers`); a 1x1 convolution to the classes follows.
    #[arg(long, default_value = DEFAULT_LAYERS)]
    pub layers: String,
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Steps per epoch.
    #[arg(long, default_value_t = 1000)]
    pub steps: usize,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Adam's learning rate at the start (it eases down to 5% of it along a cosine).
    #[arg(long, default_value_t = 2e-3)]
    pub lr: f32,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long)]
    pub threads: Option<usize>,
    /// Lines kept in the pool batches are drawn from.
    #[arg(long, default_value_t = 4096)]
    pub pool: usize,
    /// New lines put into the pool before each step (each line serves in about
    /// batch-size / fresh steps).
    #[arg(long, default_value_t = 8)]
    pub fresh: usize,
    /// Lines composed from MNIST's test digits to evaluate on after each epoch.
    #[arg(long, default_value_t = 1000)]
    pub validation: usize,
    /// Where to save the reader (and its optimizer state, to resume), after every epoch.
    #[arg(long, default_value = "reader.safetensors")]
    pub save: PathBuf,
    /// Continue the run saved at --save.
    #[arg(long)]
    pub resume: bool,
    /// Start from this reader's weights (a new run: fresh optimizer and schedule).
    #[arg(long, conflicts_with = "resume")]
    pub init_from: Option<PathBuf>,
    /// Write TensorBoard scalars to this folder.
    #[arg(long)]
    pub logdir: Option<PathBuf>,
    /// The share of plain lines among the training lines: upright, on clean paper, sharp
    /// (`LineSynth::with_plain`).
    #[arg(long, default_value_t = 0.0)]
    pub plain: f64,
}

fn synth_of(dataset: digits::data::Dataset) -> anyhow::Result<LineSynth> {
    let Pixels::U8(images) = dataset.pixels else {
        anyhow::bail!("MNIST's images load as bytes");
    };
    LineSynth::new(images, &dataset.labels).map_err(anyhow::Error::msg)
}

pub fn run(args: TrainReaderArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.plain),
        "--plain takes the share of plain lines, from 0 to 1; got {}",
        args.plain
    );
    let dir = DatasetKind::Mnist.resolve_dir(args.mnist_dir.as_deref());
    let (train, test) = mnist::load_dir(&dir)?;
    let spec = reader_spec(&args.layers, SAVED_WIDTH).map_err(anyhow::Error::msg)?;
    let config = FitConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        seed: args.seed,
        threads: args.threads.unwrap_or(FitConfig::default().threads),
        ..FitConfig::default()
    };
    let (mut model, mut trainer) = if args.resume {
        let r = checkpoint::resume(&args.save, config)?;
        checkpoint::check_compatible(&spec, r.model.spec(), &args.save)?;
        eprintln!(
            "resuming {} after epoch {} (step {})",
            args.save.display(),
            r.trainer.epochs_done,
            r.trainer.global_step
        );
        (r.model, r.trainer)
    } else if let Some(path) = &args.init_from {
        let ckpt = checkpoint::load(path)?;
        checkpoint::check_compatible(&spec, ckpt.model.spec(), path)?;
        eprintln!("starting from the weights of {}", path.display());
        let trainer = Trainer::new(&ckpt.model, config);
        (ckpt.model, trainer)
    } else {
        let model = Sequential::try_new(spec, Init::KaimingUniform, args.seed)
            .map_err(anyhow::Error::msg)?;
        let trainer = Trainer::new(&model, config);
        (model, trainer)
    };
    eprintln!(
        "line reader: {} parameters; composing {} validation lines from MNIST's test digits",
        model.params().len(),
        args.validation
    );
    let checking = synth_of(test)?;
    let validation: Vec<Sample> = (0..args.validation as u64)
        .map(|i| checking.sample(line_seed(u64::MAX - args.seed, i)))
        .collect();
    let started = Instant::now();
    let first_line = trainer.global_step * args.fresh as u64;
    let mut source = LineSource::start(
        Arc::new(synth_of(train)?.with_plain(args.plain)),
        args.seed,
        first_line,
        args.pool,
        args.fresh,
    );
    eprintln!(
        "pool of {} lines made in {:.1} s",
        args.pool,
        started.elapsed().as_secs_f64()
    );
    let mut observers: Vec<Box<dyn Observer>> = vec![
        Box::new(Progress::new()),
        Box::new(CheckpointSaver::new(
            args.save.clone(),
            1,
            CheckpointMeta::default(),
        )),
        Box::new(StopOnInterrupt::install()?),
    ];
    if let Some(dir) = &args.logdir {
        let logger = digits::train::tensorboard::TensorBoardLogger::new(dir)?;
        eprintln!("TensorBoard: writing {}", logger.path().display());
        observers.push(Box::new(logger));
    }
    let (made0, training) = (source.making_time(), Instant::now());
    let history = fit_lines(
        &mut trainer,
        &mut model,
        &mut source,
        args.steps,
        &validation,
        &mut observers,
    )?;
    let wall = training.elapsed().as_secs_f64();
    let made = (source.making_time() - made0).as_secs_f64();
    let cores = trainer.config.threads.max(1) as f64;
    eprintln!(
        "trained in {:.0} s; making lines took {:.0} s of CPU ({:.0}% of {} cores' time), the loop waited {:.1} s for them",
        wall,
        made,
        100.0 * made / (wall * cores),
        cores,
        source.waited().as_secs_f64()
    );
    if trainer.epochs_done < trainer.config.epochs {
        eprintln!("training interrupted after {} steps", trainer.global_step);
        std::process::exit(130);
    }
    if let Some(acc) = history.test_accuracy.last() {
        println!("validation_exact: {acc:.4}");
    }
    eprintln!("saved {}", args.save.display());
    let _ = std::fs::metadata(&args.save).with_context(|| "the reader was not saved")?;
    Ok(())
}
