//! `TensorBoardLogger`: the fit loop's scalars to TensorBoard, as the PyTorch tutorial logs them.

use super::writer::SummaryWriter;
use crate::nn::Sequential;
use crate::train::{EpochReport, Observer, Trainer};
use std::path::Path;

/// Logs, in one new event file of a log directory:
/// - `train_loss`: the mean loss of the batches since the last point, every `every` (default
///   100) optimizer steps, at step = global step;
/// - `train_loss_epoch`, `test_loss`, `test_accuracy`: each epoch, at step = epoch (1-based).
///
/// The file is flushed at the end of every epoch. A write error during an epoch is returned
/// by the next `on_epoch_end` (so it stops training), naming the file.
pub struct TensorBoardLogger {
    writer: SummaryWriter,
    every: u64,
    loss_sum: f64,
    loss_count: u64,
    error: Option<anyhow::Error>,
}

impl TensorBoardLogger {
    /// A logger writing a new event file in `logdir` (created if needed).
    pub fn new(logdir: impl AsRef<Path>) -> anyhow::Result<Self> {
        Ok(Self::with_writer(SummaryWriter::new(logdir)?))
    }

    pub fn with_writer(writer: SummaryWriter) -> Self {
        TensorBoardLogger {
            writer,
            every: 100,
            loss_sum: 0.0,
            loss_count: 0,
            error: None,
        }
    }

    /// Log `train_loss` every `steps` optimizer steps (at least 1).
    pub fn every(mut self, steps: u64) -> Self {
        self.every = steps.max(1);
        self
    }

    /// The event file written to.
    pub fn path(&self) -> &Path {
        self.writer.path()
    }

    fn pending_error(&mut self) -> anyhow::Result<()> {
        self.error.take().map_or(Ok(()), Err)
    }
}

impl Observer for TensorBoardLogger {
    fn on_batch_end(&mut self, _epoch: usize, _step: usize, global_step: u64, loss: f32) {
        self.loss_sum += loss as f64;
        self.loss_count += 1;
        if global_step.is_multiple_of(self.every) {
            let mean = (self.loss_sum / self.loss_count as f64) as f32;
            (self.loss_sum, self.loss_count) = (0.0, 0);
            let written = self
                .writer
                .add_scalar("train_loss", mean, global_step as i64);
            // Only the first error is kept; the batch loop cannot be stopped from here.
            if let (Err(e), None) = (written, &self.error) {
                self.error = Some(e);
            }
        }
    }

    fn on_epoch_end(
        &mut self,
        r: &EpochReport,
        _model: &Sequential,
        _trainer: &Trainer,
    ) -> anyhow::Result<()> {
        self.pending_error()?;
        let step = r.epoch as i64;
        self.writer
            .add_scalar("train_loss_epoch", r.loss as f32, step)?;
        if let Some(l) = r.test_loss {
            self.writer.add_scalar("test_loss", l as f32, step)?;
        }
        if let Some(a) = r.test_accuracy {
            self.writer.add_scalar("test_accuracy", a as f32, step)?;
        }
        self.writer.flush()
    }

    fn on_interrupt(&mut self, _model: &Sequential, _trainer: &Trainer) -> anyhow::Result<()> {
        self.pending_error()?;
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{self, Write};
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// Accepts writes until `broken` is set, then fails them all.
    struct Sink(Arc<AtomicBool>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            if self.0.load(Ordering::Relaxed) {
                Err(io::Error::other("disk full"))
            } else {
                Ok(b.len())
            }
        }
        fn flush(&mut self) -> io::Result<()> {
            self.write(&[]).map(|_| ())
        }
    }

    fn report(epoch: usize) -> EpochReport {
        EpochReport {
            epoch,
            epochs: 2,
            loss: 0.5,
            test_loss: Some(0.4),
            test_accuracy: Some(0.9),
            seconds: 0.1,
            steps: 10,
        }
    }

    #[test]
    fn a_write_error_in_a_batch_is_returned_at_epoch_end_naming_the_file() {
        let broken = Arc::new(AtomicBool::new(false));
        let path = PathBuf::from("/logs/events.out.tfevents.test");
        let writer = SummaryWriter::with_sink(path, Box::new(Sink(broken.clone()))).unwrap();
        let mut logger = TensorBoardLogger::with_writer(writer).every(1);
        let model = Sequential::new(
            crate::nn::ModelSpec::new(
                2,
                vec![crate::nn::LayerSpec::dense(
                    2,
                    crate::nn::Activation::Linear,
                )],
            ),
            crate::nn::Init::KaimingUniform,
            0,
        );
        let trainer = Trainer::new(&model, Default::default());
        logger.on_batch_end(1, 1, 1, 0.5);
        logger.on_epoch_end(&report(1), &model, &trainer).unwrap();
        broken.store(true, Ordering::Relaxed);
        // Enough points to overflow BufWriter's 8 KiB buffer, so the write itself fails.
        for s in 2..1000 {
            logger.on_batch_end(2, s as usize, s, 0.5);
        }
        assert!(logger.error.is_some());
        let err = logger
            .on_epoch_end(&report(2), &model, &trainer)
            .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("/logs/events.out.tfevents.test"), "{msg}");
        assert!(msg.contains("disk full"), "{msg}");
        // Reported once; the flush of the next epoch end still fails on its own.
        assert!(logger.error.is_none());
        assert!(logger.on_epoch_end(&report(2), &model, &trainer).is_err());
    }
}
