//! The fit loop: epochs of shuffled batches, Adam steps, evaluation, History.

use super::augment::AugmentedBatch;
use super::observer::{EpochReport, Observer};
use super::step::Stepper;
use super::widths::WidthViews;
use crate::data::dataset::EpochOrder;
use crate::data::{Dataset, PixelScale};
use crate::nn::{Adam, SequenceLabels, Sequential};
use crate::vision::augment::Augment;
use serde::{Deserialize, Serialize};
use std::time::Instant;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    pub shuffle: bool,
    /// Seeds the shuffling (the weights are seeded when the model is built).
    pub seed: u64,
    pub scale: PixelScale,
    /// Threads a batch is split across (at most the cores available are used).
    pub threads: usize,
    /// Random distortions of each batch's images (seeded by `seed` and the step); None
    /// trains on the images as they are.
    #[serde(default)]
    pub augment: Option<Augment>,
}

impl Default for FitConfig {
    /// The PyTorch tutorial: batch 64, Adam 1e-3, 10 epochs, shuffled /255 inputs.
    fn default() -> Self {
        FitConfig {
            epochs: 10,
            batch_size: 64,
            lr: 1e-3,
            shuffle: true,
            seed: 0,
            scale: PixelScale::Unit,
            threads: std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(2),
            augment: None,
        }
    }
}

/// Per-epoch figures, as Keras' History.history.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Mean training loss of each epoch.
    pub loss: Vec<f64>,
    pub test_loss: Vec<f64>,
    pub test_accuracy: Vec<f64>,
    /// Wall-clock seconds of each epoch's training steps (evaluation excluded).
    #[serde(default)]
    pub epoch_seconds: Vec<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("the loss or its gradient became {value} at epoch {epoch}, step {step}; training stopped before that step was applied (the weights are those after step {})", step - 1)]
    NonFiniteLoss {
        epoch: usize,
        step: usize,
        value: f32,
    },
    #[error("the data has {got} inputs per image but the model expects {expected}")]
    InputSize { expected: usize, got: usize },
    #[error("the data has label {label} but the model has only {classes} outputs")]
    LabelRange { label: u8, classes: usize },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Observer(#[from] anyhow::Error),
}

/// Training state that outlives one call to `fit`: the optimizer, the position, the buffers.
pub struct Trainer {
    pub config: FitConfig,
    pub adam: Adam,
    /// Epochs completed so far (the next epoch is `epochs_done + 1`).
    pub epochs_done: usize,
    pub global_step: u64,
    pub history: History,
    stepper: Stepper,
    /// The dense batch, for models that read their input densely.
    x: Vec<f32>,
    y: Vec<u8>,
    /// A line reader's model and buffers at each width it has trained on.
    widths: WidthViews,
}

impl Trainer {
    pub fn new(model: &Sequential, config: FitConfig) -> Self {
        let adam = Adam::new(model.params().len(), config.lr);
        // More threads than cores only make the step's threads wait for each other.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let stepper = Stepper::new(model, config.batch_size.max(1), config.threads.min(cores));
        Trainer {
            config,
            adam,
            epochs_done: 0,
            global_step: 0,
            history: History::default(),
            stepper,
            x: Vec::new(),
            y: Vec::new(),
            widths: WidthViews::default(),
        }
    }

    /// One Adam step on a batch; returns its mean loss. The step is not applied when the loss
    /// or the gradient is not finite (the loss returned is then NaN or infinite).
    pub fn train_step(&mut self, model: &mut Sequential, x: &[f32], y: &[u8]) -> f32 {
        self.stepper
            .set_dropout_key(self.config.seed, self.global_step);
        let loss = self.stepper.loss_and_grads(model, x, y);
        self.apply(model, loss)
    }

    /// `train_step` on the images `indices` of `data` (scaled as the config says); `next` (may
    /// be empty) are the images of the following step, fetched into cache meanwhile.
    pub fn train_step_on(
        &mut self,
        model: &mut Sequential,
        data: &Dataset,
        indices: &[usize],
        next: &[usize],
    ) -> f32 {
        self.stepper
            .set_dropout_key(self.config.seed, self.global_step);
        let loss = if model.sparse_input() {
            self.stepper
                .loss_and_grads_of(model, data, indices, next, self.config.scale)
        } else {
            let (rows, d) = (indices.len(), model.input_dim());
            let (mut x, mut y) = (std::mem::take(&mut self.x), std::mem::take(&mut self.y));
            x.resize(rows * d, 0.0);
            y.resize(rows, 0);
            data.fill_batch(indices, self.config.scale, &mut x, &mut y);
            let loss = self.stepper.loss_and_grads(model, &x, &y);
            (self.x, self.y) = (x, y);
            loss
        };
        self.apply(model, loss)
    }

    /// One Adam step of a line reader (per-column output) on a batch of lines `width` wide
    /// (x: n x HEIGHT x width) with their `labels`: the CTC loss's mean, as `train_step`.
    pub fn train_line_step(
        &mut self,
        model: &mut Sequential,
        x: &[f32],
        width: usize,
        labels: &SequenceLabels,
    ) -> Result<f32, TrainError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = self.config.threads.min(cores);
        let (view, stepper) = self
            .widths
            .at(model, width, self.config.batch_size.max(1), threads)
            .map_err(TrainError::Invalid)?;
        stepper.set_dropout_key(self.config.seed, self.global_step);
        let loss = stepper
            .ctc_loss_and_grads(view, x, labels)
            .map_err(TrainError::Invalid)?;
        let applied = apply(stepper, &mut self.adam, model, loss);
        self.global_step += applied.is_finite() as u64;
        Ok(applied)
    }

    /// What follows every step of a training loop: a loss that is not finite stops the run
    /// with an error; the loss is added to `sums` (total, count) and reported. Returns true
    /// when an observer asks to stop (Ctrl-C), after telling the observers.
    pub(super) fn after_step(
        &mut self,
        model: &Sequential,
        observer: &mut dyn Observer,
        (epoch, step): (usize, usize),
        loss: f32,
        sums: &mut (f64, usize),
    ) -> Result<bool, TrainError> {
        if !loss.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                epoch,
                step,
                value: loss,
            });
        }
        sums.0 += loss as f64;
        sums.1 += 1;
        observer.on_batch_end(epoch, step, self.global_step, loss);
        if observer.should_stop() {
            observer.on_interrupt(model, self)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// What follows every epoch of a training loop: its mean loss (`sums`: total, count), its
    /// time and its evaluation (loss, accuracy), when there is one, go into the history; the
    /// epoch is counted done and the observers told (they may stop the run with an error).
    pub(super) fn end_epoch(
        &mut self,
        model: &Sequential,
        observer: &mut dyn Observer,
        (epoch, steps): (usize, usize),
        seconds: f64,
        sums: (f64, usize),
        scores: Option<(f64, f64)>,
    ) -> Result<(), TrainError> {
        let loss = sums.0 / sums.1.max(1) as f64;
        self.history.loss.push(loss);
        self.history.epoch_seconds.push(seconds);
        if let Some((l, a)) = scores {
            self.history.test_loss.push(l);
            self.history.test_accuracy.push(a);
        }
        self.epochs_done = epoch;
        let report = EpochReport {
            epoch,
            epochs: self.config.epochs,
            loss,
            test_loss: scores.map(|s| s.0),
            test_accuracy: scores.map(|s| s.1),
            seconds,
            steps,
        };
        observer.on_epoch_end(&report, model, self)?;
        Ok(())
    }

    /// Applies the gradient of the step whose mean loss is `loss`, unless something is not finite.
    fn apply(&mut self, model: &mut Sequential, loss: f32) -> f32 {
        let applied = apply(&mut self.stepper, &mut self.adam, model, loss);
        self.global_step += applied.is_finite() as u64;
        applied
    }

    /// Trains until `config.epochs` epochs are done in all (continuing after `epochs_done`).
    pub fn fit(
        &mut self,
        model: &mut Sequential,
        train: &Dataset,
        test: Option<&Dataset>,
        observer: &mut dyn Observer,
    ) -> Result<History, TrainError> {
        self.fit_until(self.config.epochs, model, train, test, observer)
    }

    /// Trains until `until` epochs (at most `config.epochs`) are done in all, the epochs
    /// reported out of `config.epochs`: a run of `config.epochs` taken a few epochs at a time,
    /// as the PyTorch tutorial's loop does.
    pub fn fit_until(
        &mut self,
        until: usize,
        model: &mut Sequential,
        train: &Dataset,
        test: Option<&Dataset>,
        observer: &mut dyn Observer,
    ) -> Result<History, TrainError> {
        self.check(model, train)?;
        if let Some(t) = test {
            self.check(model, t)?;
        }
        let (bs, n) = (self.config.batch_size, train.len());
        let steps = n.div_ceil(bs);
        let mut order = EpochOrder::new(n, self.config.shuffle, self.config.seed);
        let mut augmented = match self.config.augment {
            Some(a) => Some(AugmentedBatch::new(a, self.config.seed, train, bs)?),
            None => None,
        };
        // A run stopped part-way through an epoch (Ctrl-C) resumes at the batch it stopped
        // before: the batches of that epoch already applied are skipped, so the result equals an
        // uninterrupted run's.
        let mut skip = (self.global_step as usize)
            .saturating_sub(self.epochs_done * steps)
            .min(steps);
        while self.epochs_done < until.min(self.config.epochs) {
            let epoch = self.epochs_done + 1;
            observer.on_epoch_begin(epoch, self.config.epochs, steps);
            let started = Instant::now();
            let mut sums = (0.0f64, 0usize);
            let order = order.epoch(self.epochs_done);
            for (s, idx) in order.chunks(bs).enumerate().skip(std::mem::take(&mut skip)) {
                let next = order.get((s + 1) * bs..).unwrap_or(&[]);
                let loss = match &mut augmented {
                    // The step reads the distorted copy of its batch.
                    Some(a) => {
                        let (batch, rows) = a.fill(train, idx, self.global_step);
                        self.train_step_on(model, batch, rows, &[])
                    }
                    None => self.train_step_on(model, train, idx, &next[..next.len().min(bs)]),
                };
                if self.after_step(model, observer, (epoch, s + 1), loss, &mut sums)? {
                    return Ok(self.history.clone());
                }
            }
            let seconds = started.elapsed().as_secs_f64();
            let scores = test.map(|t| super::evaluate(model, t, self.config.scale));
            // The mean is over the batches run in this call (all of them, except in a resumed
            // epoch).
            self.end_epoch(model, observer, (epoch, steps), seconds, sums, scores)?;
        }
        Ok(self.history.clone())
    }

    fn check(&self, model: &Sequential, data: &Dataset) -> Result<(), TrainError> {
        if self.config.batch_size == 0 {
            return Err(TrainError::Invalid(
                "the batch size must be at least 1".into(),
            ));
        }
        if model.sequence_output().is_some() {
            return Err(TrainError::Invalid(
                "the model gives one row of logits per column (a sequence reader): it is trained with CTC, not on single labels".into(),
            ));
        }
        if data.features() != model.input_dim() {
            return Err(TrainError::InputSize {
                expected: model.input_dim(),
                got: data.features(),
            });
        }
        if let Some(&label) = data
            .labels
            .iter()
            .find(|&&l| l as usize >= model.output_dim())
        {
            return Err(TrainError::LabelRange {
                label,
                classes: model.output_dim(),
            });
        }
        if data.is_empty() {
            return Err(TrainError::Invalid("the training set is empty".into()));
        }
        Ok(())
    }
}

/// Applies the gradient `stepper` holds for a step of mean loss `loss` to `model` (an Adam
/// step), unless the loss or the gradient is not finite; returns the loss, NaN when the
/// gradient was not finite.
fn apply(stepper: &mut Stepper, adam: &mut Adam, model: &mut Sequential, loss: f32) -> f32 {
    if !loss.is_finite() {
        return loss;
    }
    if !stepper.grads_finite() {
        return f32::NAN;
    }
    stepper.adam_step(adam, model.params_mut());
    loss
}

/// Keras-style `model.fit`: trains `model` for `config.epochs` epochs and returns the History.
pub fn fit(
    model: &mut Sequential,
    train: &Dataset,
    test: Option<&Dataset>,
    config: &FitConfig,
    observer: &mut dyn Observer,
) -> Result<History, TrainError> {
    Trainer::new(model, config.clone()).fit(model, train, test, observer)
}
