//! `digits train`: the PyTorch tutorial by default, the Keras lab with `--dataset digits5000`.

use anyhow::Context;
use digits::data::Dataset;
use digits::data::{DatasetKind, PixelScale};
use digits::nn::{syntax, Activation, Init, LayerSpec, ModelSpec, Sequential};
use digits::train::checkpoint::{self, CheckpointMeta, CheckpointSaver};
use digits::train::interrupt::StopOnInterrupt;
use digits::train::progress::Progress;
use digits::train::{FitConfig, Observer, Trainer};
use digits::vision::augment::Augment;
use std::path::{Path, PathBuf};

/// The network's shape, shared by the commands that build one.
#[derive(clap::Args, Clone)]
pub struct ArchArgs {
    /// The network: mlp (the PyTorch tutorial's, hidden layers 25,15) or cnn (Keras'
    /// mnist_convnet: c32k3,p2,c64k3,p2,flatten,drop0.5; trained with batch 128). --layers
    /// replaces its layers.
    #[arg(long, value_enum, default_value = "mlp")]
    pub arch: Arch,
    /// Layers, comma-separated; a Dense layer of 10 logits is added at the end.
    /// N = Dense with N units; cFkK = Conv2d, F filters KxK, valid padding (cFkKs: same
    /// padding); p2 = 2x2 max pooling; flatten; dropR = dropout of rate R (e.g. drop0.5).
    /// Examples: 25,15 (the default MLP); c32k3,p2,c64k3,p2,flatten,drop0.5 (--arch cnn).
    #[arg(long)]
    pub layers: Option<String>,
    /// Activation of the hidden Dense and Conv2d layers.
    #[arg(long, default_value = "relu", value_parser = parse_activation)]
    pub activation: Activation,
    /// Inputs per image (default: the dataset's, 784 for MNIST, 400 for digits5000).
    #[arg(long)]
    pub inputs: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Arch {
    /// Multilayer perceptron (Dense layers).
    Mlp,
    /// Convolutional network.
    Cnn,
}

impl Arch {
    /// The layers of the preset, without the final Dense layer.
    pub fn default_layers(self) -> &'static str {
        match self {
            Arch::Mlp => "25,15",
            Arch::Cnn => "c32k3,p2,c64k3,p2,flatten,drop0.5",
        }
    }
}

fn parse_activation(s: &str) -> Result<Activation, String> {
    Activation::parse(s)
        .ok_or_else(|| format!("unknown activation {s:?} (relu, sigmoid or linear)"))
}

impl ArchArgs {
    pub fn spec(&self, inputs: usize) -> anyhow::Result<ModelSpec> {
        let text = self
            .layers
            .as_deref()
            .unwrap_or_else(|| self.arch.default_layers());
        let mut layers = syntax::parse_layers(text, self.activation)
            .map_err(|e| anyhow::anyhow!("--layers: {e}"))?;
        layers.push(LayerSpec::dense(10, Activation::Linear));
        let spec = ModelSpec::new(inputs, layers);
        spec.validate().map_err(anyhow::Error::msg)?;
        Ok(spec)
    }
}

#[derive(clap::Args)]
pub struct TrainArgs {
    #[arg(long, value_enum, default_value = "mnist")]
    pub dataset: DatasetKind,
    /// Directory holding the dataset's files (default: data/mnist or data/digits5000).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub arch: ArchArgs,
    /// Epochs (default: 10 for MNIST as the PyTorch tutorial, 40 for digits5000 as the Keras
    /// lab, 15 for --arch cnn as Keras' mnist_convnet).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Batch size (default: 64 for MNIST, 32 for digits5000, 128 for --arch cnn).
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f32,
    /// Seed for the weights and the shuffling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Feed the raw 0..255 pixel values, as the original PyTorch tutorial did.
    #[arg(long)]
    pub raw_pixels: bool,
    /// Visit the images in file order every epoch.
    #[arg(long)]
    pub no_shuffle: bool,
    /// Threads to split each batch across (default: up to 2; at most the cores available).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Weight initialisation (default: kaiming for MNIST as PyTorch, glorot for digits5000 as Keras).
    #[arg(long, value_enum)]
    pub init: Option<InitArg>,
    /// Save a checkpoint (safetensors, PyTorch's layout) after the last epoch and on Ctrl-C.
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Also save every N epochs.
    #[arg(long, default_value_t = 0)]
    pub save_every: usize,
    /// Continue a run saved with --save (to --epochs in all; saves back there unless --save).
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Write TensorBoard event files here: train_loss every 100 steps, test_loss and
    /// test_accuracy each epoch (view with `tensorboard --logdir DIR`).
    #[arg(long)]
    pub logdir: Option<PathBuf>,
    /// Write the History (per-epoch loss, test loss and accuracy, seconds) to this JSON file.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Distort each batch's images at random, seeded by --seed and the step (MNIST; u8 images):
    /// rotation ±12°, scale ×(1±0.12), aspect ×(1±0.15), shear ±0.25, translation ±2.5 px,
    /// elastic ±1.5 px, strokes thickened up to 1 or thinned up to 0.6 px; the digit is kept
    /// inside the frame; then a quarter of them scanned as low-resolution form readers scan
    /// digits (stretched to fill a 14-20 px square, black and white). See `digits show
    /// --augment`. Costs about 23 µs per image on one core: 15% of the Keras convnet's epoch,
    /// several times the default MLP's.
    #[arg(long)]
    pub augment: bool,
    /// With --augment: the chance that a 1 is first given a long flag, a 7 a bar across its
    /// stem, a 4 its top closed or a 9 a tail curling back (styles MNIST hardly has). Off by
    /// default.
    #[arg(long, default_value_t = 0.0, requires = "augment")]
    pub styles: f32,
    /// With --augment: the chance that a 1, 4, 7 or 9 is replaced by one drawn from pen strokes
    /// in a shape MNIST hardly has (a flagged 1, a barred 7, a 4 written in one stroke or closed
    /// at the top, a 9 with a foot, a tail sweeping left or a stem sloping left). Off by
    /// default.
    #[arg(long, default_value_t = 0.0, requires = "augment")]
    pub allographs: f32,
    /// With --augment: the chance that a distorted image is then scanned as form readers scan
    /// digits (stretched to fill a 14-20 px square, black and white).
    #[arg(long, default_value_t = Augment::default().scan, requires = "augment")]
    pub scans: f32,
    /// With --augment: the chance that a digit is given a bar under or over it, as a ruled line,
    /// an underline or a box's side leaves where writing touches it. Off by default.
    #[arg(long, default_value_t = 0.0, requires = "augment")]
    pub underlines: f32,
    /// With --augment: the chance that a digit is put on paper as the number reader's training
    /// lines are (paper, ink, printed lines, 8-40 px high, blur, noise, JPEG), captured and
    /// framed again as a picture is. Off by default.
    #[arg(long, default_value_t = 0.0, requires = "augment")]
    pub paper: f32,
    /// With --augment: how far (pixels, 0 to 4) the elastic field's control points (a 4x4 grid
    /// over the 28x28 digit) move in x and in y.
    #[arg(long, default_value_t = Augment::default().elastic, requires = "augment")]
    pub elastic: f32,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum InitArg {
    /// Glorot uniform, as Keras Dense.
    Glorot,
    /// Kaiming uniform (a = sqrt 5), as PyTorch nn.Linear.
    Kaiming,
}

/// An error naming `flag` when `value` is not a chance (0 to 1).
fn check_chance(flag: &str, value: f32) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&value) {
        anyhow::bail!("{flag} is a chance, from 0 to 1; got {value}");
    }
    Ok(())
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    check_chance("--styles", args.styles)?;
    check_chance("--allographs", args.allographs)?;
    check_chance("--scans", args.scans)?;
    check_chance("--underlines", args.underlines)?;
    check_chance("--paper", args.paper)?;
    if !(0.0..=4.0).contains(&args.elastic) {
        anyhow::bail!(
            "--elastic is a distance in pixels, from 0 to 4; got {}",
            args.elastic
        );
    }
    let dir = args.dataset.resolve_dir(args.data_dir.as_deref());
    let (train, test) = args.dataset.load(&dir)?;
    let keras = args.dataset == DatasetKind::Digits5000;
    let cnn = args.arch.arch == Arch::Cnn;
    let init = match args.init {
        Some(InitArg::Glorot) => Init::GlorotUniform,
        Some(InitArg::Kaiming) => Init::KaimingUniform,
        None if keras => Init::GlorotUniform,
        None => Init::KaimingUniform,
    };
    let spec = args
        .arch
        .spec(args.arch.inputs.unwrap_or(train.features()))?;
    let defaults = FitConfig::default();
    let config = FitConfig {
        epochs: args.epochs.unwrap_or(if cnn {
            15
        } else if keras {
            40
        } else {
            10
        }),
        batch_size: args.batch_size.unwrap_or(if cnn {
            128
        } else if keras {
            32
        } else {
            64
        }),
        lr: args.lr,
        shuffle: !args.no_shuffle,
        seed: args.seed,
        scale: if args.raw_pixels {
            PixelScale::Raw
        } else {
            PixelScale::Unit
        },
        threads: args.threads.unwrap_or(defaults.threads),
        augment: args.augment.then(|| Augment {
            styles: args.styles,
            allographs: args.allographs,
            scan: args.scans,
            underlines: args.underlines,
            paper: args.paper,
            elastic: args.elastic,
            ..Augment::default()
        }),
    };
    let (mut model, mut trainer) = match &args.resume {
        Some(path) => {
            let r = checkpoint::resume(path, config)?;
            checkpoint::check_compatible(&spec, r.model.spec(), path)?;
            check_same_data(&r.meta, args.dataset, &train, path)?;
            for d in r.differences() {
                eprintln!("warning: {d}; the run will differ from an uninterrupted one");
            }
            eprintln!(
                "resuming {} after epoch {} (step {})",
                path.display(),
                r.trainer.epochs_done,
                r.trainer.global_step
            );
            (r.model, r.trainer)
        }
        None => {
            let model = Sequential::try_new(spec, init, args.seed).map_err(anyhow::Error::msg)?;
            let trainer = Trainer::new(&model, config);
            (model, trainer)
        }
    };
    let mut observers: Vec<Box<dyn Observer>> = vec![Box::new(Progress::new())];
    if let Some(path) = args.save.clone().or_else(|| args.resume.clone()) {
        let base = CheckpointMeta::default().with_dataset(args.dataset, train.rows, train.cols);
        observers.push(Box::new(CheckpointSaver::new(path, args.save_every, base)));
        observers.push(Box::new(StopOnInterrupt::install()?));
    }
    if let Some(dir) = &args.logdir {
        let logger = digits::train::tensorboard::TensorBoardLogger::new(dir)?;
        eprintln!("TensorBoard: writing {}", logger.path().display());
        observers.push(Box::new(logger));
    }
    let history = trainer.fit(&mut model, &train, test.as_ref(), &mut observers)?;
    if let Some(path) = &args.history {
        std::fs::write(path, serde_json::to_string_pretty(&history)?)
            .with_context(|| format!("could not write the history to {}", path.display()))?;
    }
    if trainer.epochs_done < trainer.config.epochs {
        // Stopped by Ctrl-C; the checkpoint saver has written a resumable checkpoint.
        eprintln!(
            "training interrupted in epoch {} after {} steps",
            trainer.epochs_done + 1,
            trainer.global_step
        );
        std::process::exit(130);
    }
    match &test {
        Some(t) => println!(
            "test_accuracy: {:.4}",
            digits::train::evaluate(&model, t, trainer.config.scale).1
        ),
        None => println!(
            "train_accuracy: {:.4}",
            digits::train::evaluate(&model, &train, trainer.config.scale).1
        ),
    }
    Ok(())
}

/// Refuses to resume on data of another kind than the checkpoint was trained on: the same
/// number of inputs is not enough (20x20 images stored by column are not MNIST-style ones).
fn check_same_data(
    meta: &CheckpointMeta,
    dataset: DatasetKind,
    train: &Dataset,
    path: &Path,
) -> anyhow::Result<()> {
    let p = path.display();
    if let Some(saved) = meta.dataset.filter(|&d| d != dataset) {
        anyhow::bail!("{p} was trained on {saved:?} but this run uses {dataset:?}");
    }
    if let Some(layout) = meta.layout.filter(|&l| l != train.layout) {
        anyhow::bail!(
            "{p} was trained on images stored {layout:?} but these are stored {:?}",
            train.layout
        );
    }
    if let Some((r, c)) = meta
        .image
        .filter(|&(r, c)| (r, c) != (train.rows, train.cols))
    {
        anyhow::bail!(
            "{p} was trained on {r}x{c} images but these are {}x{}",
            train.rows,
            train.cols
        );
    }
    Ok(())
}
