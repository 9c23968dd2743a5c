//! The training loop of a line reader: the step of `Trainer::train_line_step` on batches
//! from a [`LineSource`], the learning rate eased down along a cosine, an evaluation on a
//! fixed set of lines after each epoch, and the same observers as `fit` (progress line,
//! TensorBoard, checkpoints, Ctrl-C).

use super::line_source::LineSource;
use super::observer::Observer;
use super::{History, TrainError, Trainer};
use crate::nn::{SequenceLabels, Sequential};
use crate::vision::line::reader::{score_lines, LineReader};
use crate::vision::line::synth::Sample;
use std::time::Instant;

/// The learning rate falls along a half cosine from the configured one to this share of it.
const FINAL_LR_SHARE: f32 = 0.05;

/// Trains until `trainer.config.epochs` epochs of `steps` steps are done, evaluating on
/// `validation` after each.
pub fn fit_lines(
    trainer: &mut Trainer,
    model: &mut Sequential,
    source: &mut LineSource,
    steps: usize,
    validation: &[Sample],
    observer: &mut dyn Observer,
) -> Result<History, TrainError> {
    if steps == 0 || trainer.config.batch_size == 0 {
        return Err(TrainError::Invalid(
            "an epoch needs at least one step of at least one line".into(),
        ));
    }
    let (epochs, base_lr) = (trainer.config.epochs, trainer.config.lr);
    let total = (epochs * steps) as f32;
    while trainer.epochs_done < epochs {
        let epoch = trainer.epochs_done + 1;
        observer.on_epoch_begin(epoch, epochs, steps);
        let started = Instant::now();
        let mut sums = (0.0f64, 0usize);
        let first = (trainer.global_step as usize).saturating_sub(trainer.epochs_done * steps);
        for s in first..steps {
            let progress = trainer.global_step as f32 / total;
            let ease = 0.5 * (1.0 + (std::f32::consts::PI * progress.min(1.0)).cos());
            trainer.adam.lr = base_lr * (FINAL_LR_SHARE + (1.0 - FINAL_LR_SHARE) * ease);
            let batch = source.batch(trainer.config.batch_size, trainer.global_step);
            let labels = SequenceLabels {
                labels: &batch.labels,
                lengths: &batch.lengths,
            };
            let loss = trainer.train_line_step(model, &batch.x, batch.width, &labels)?;
            if trainer.after_step(model, observer, (epoch, s + 1), loss, &mut sums)? {
                return Ok(trainer.history.clone());
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let reader = LineReader::new(model.clone()).map_err(TrainError::Invalid)?;
        let scores = score_lines(&reader, validation);
        trainer.end_epoch(model, observer, (epoch, steps), seconds, sums, Some(scores))?;
    }
    Ok(trainer.history.clone())
}
