//! The fit-loop observer that saves checkpoints.

use super::meta::CheckpointMeta;
use super::resume::save;
use crate::nn::Sequential;
use crate::train::{EpochReport, Observer, Trainer};
use std::path::PathBuf;

/// Saves a resumable checkpoint every `every` epochs (0: only at the end), after the last
/// epoch, and when training is interrupted (Ctrl-C).
pub struct CheckpointSaver {
    pub path: PathBuf,
    pub every: usize,
    /// Data description written with every save (dataset, image shape, layout).
    pub base: CheckpointMeta,
    /// Messages go to stderr unless false.
    pub verbose: bool,
}

impl CheckpointSaver {
    pub fn new(path: impl Into<PathBuf>, every: usize, base: CheckpointMeta) -> Self {
        CheckpointSaver {
            path: path.into(),
            every,
            base,
            verbose: true,
        }
    }

    fn save(&self, model: &Sequential, trainer: &Trainer) -> anyhow::Result<()> {
        save(&self.path, model, &self.base, Some(trainer))
    }
}

impl Observer for CheckpointSaver {
    fn on_epoch_end(
        &mut self,
        report: &EpochReport,
        model: &Sequential,
        trainer: &Trainer,
    ) -> anyhow::Result<()> {
        let periodic = self.every > 0 && report.epoch.is_multiple_of(self.every);
        if periodic || report.epoch >= report.epochs {
            self.save(model, trainer)?;
        }
        Ok(())
    }

    /// The epoch in progress is not finished: the save records the weights and optimizer after
    /// the last step, with `epoch` = the epochs completed, so a resume repeats that whole epoch.
    fn on_interrupt(&mut self, model: &Sequential, trainer: &Trainer) -> anyhow::Result<()> {
        self.save(model, trainer)?;
        if self.verbose {
            eprintln!(
                "saved {} after {} complete epochs and {} steps; continue with --resume {}",
                self.path.display(),
                trainer.epochs_done,
                trainer.global_step,
                self.path.display()
            );
        }
        Ok(())
    }
}
