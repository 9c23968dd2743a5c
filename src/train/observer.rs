//! What the fit loop tells the outside world, and how it can be asked to stop.

use super::Trainer;
use crate::nn::Sequential;

/// The figures of one finished epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// 1-based.
    pub epoch: usize,
    pub epochs: usize,
    /// Mean training loss over the epoch's batches.
    pub loss: f64,
    pub test_loss: Option<f64>,
    pub test_accuracy: Option<f64>,
    pub seconds: f64,
    pub steps: usize,
}

/// Receives training events. Every method has a default that does nothing.
pub trait Observer {
    fn on_epoch_begin(&mut self, _epoch: usize, _epochs: usize, _steps: usize) {}
    /// After each optimizer step; `step` is 1-based within the epoch.
    fn on_batch_end(&mut self, _epoch: usize, _step: usize, _global_step: u64, _loss: f32) {}
    /// After the epoch and its evaluation; an error stops training and is returned by fit.
    fn on_epoch_end(
        &mut self,
        _report: &EpochReport,
        _model: &Sequential,
        _trainer: &Trainer,
    ) -> anyhow::Result<()> {
        Ok(())
    }
    /// Checked after every step: true stops training after the current step (e.g. Ctrl-C).
    fn should_stop(&self) -> bool {
        false
    }
    /// Training stopped early (should_stop) after `global_step` steps, in epoch `epoch`.
    fn on_interrupt(&mut self, _model: &Sequential, _trainer: &Trainer) -> anyhow::Result<()> {
        Ok(())
    }
}

impl Observer for () {}

impl Observer for Vec<Box<dyn Observer + '_>> {
    fn on_epoch_begin(&mut self, epoch: usize, epochs: usize, steps: usize) {
        self.iter_mut()
            .for_each(|o| o.on_epoch_begin(epoch, epochs, steps));
    }
    fn on_batch_end(&mut self, epoch: usize, step: usize, global_step: u64, loss: f32) {
        self.iter_mut()
            .for_each(|o| o.on_batch_end(epoch, step, global_step, loss));
    }
    fn on_epoch_end(
        &mut self,
        report: &EpochReport,
        model: &Sequential,
        trainer: &Trainer,
    ) -> anyhow::Result<()> {
        self.iter_mut()
            .try_for_each(|o| o.on_epoch_end(report, model, trainer))
    }
    fn should_stop(&self) -> bool {
        self.iter().any(|o| o.should_stop())
    }
    fn on_interrupt(&mut self, model: &Sequential, trainer: &Trainer) -> anyhow::Result<()> {
        self.iter_mut()
            .try_for_each(|o| o.on_interrupt(model, trainer))
    }
}
