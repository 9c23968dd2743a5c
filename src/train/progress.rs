//! Keras-style progress: one line per epoch, redrawn live on a terminal, printed once otherwise
//! (so CI logs stay readable).

use super::observer::{EpochReport, Observer};
use super::Trainer;
use crate::nn::Sequential;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const BAR: usize = 30;

pub struct Progress {
    live: bool,
    epoch: usize,
    epochs: usize,
    steps: usize,
    started: Instant,
    last_draw: Instant,
    loss_sum: f64,
}

impl Progress {
    /// Live redraws when stdout is a terminal.
    pub fn new() -> Self {
        Self::with_live(std::io::stdout().is_terminal())
    }

    pub fn with_live(live: bool) -> Self {
        let now = Instant::now();
        Progress {
            live,
            epoch: 0,
            epochs: 0,
            steps: 0,
            started: now,
            last_draw: now,
            loss_sum: 0.0,
        }
    }

    fn line(&self, step: usize, loss: f64) -> String {
        let width = self.steps.to_string().len();
        let done = (step * BAR).checked_div(self.steps).unwrap_or(BAR);
        let bar = if done >= BAR {
            "=".repeat(BAR)
        } else {
            format!("{}>{}", "=".repeat(done), ".".repeat(BAR - done - 1))
        };
        format!(
            "Epoch {}/{}  {step:>width$}/{} [{bar}] - {:.1}s - loss: {loss:.4}",
            self.epoch,
            self.epochs,
            self.steps,
            self.started.elapsed().as_secs_f64()
        )
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Observer for Progress {
    fn on_epoch_begin(&mut self, epoch: usize, epochs: usize, steps: usize) {
        (self.epoch, self.epochs, self.steps) = (epoch, epochs, steps);
        self.started = Instant::now();
        self.loss_sum = 0.0;
    }

    fn on_batch_end(&mut self, _epoch: usize, step: usize, _global_step: u64, loss: f32) {
        self.loss_sum += loss as f64;
        if self.live && self.last_draw.elapsed() >= Duration::from_millis(100) {
            self.last_draw = Instant::now();
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "\r{}", self.line(step, self.loss_sum / step as f64));
            let _ = out.flush();
        }
    }

    fn on_epoch_end(
        &mut self,
        r: &EpochReport,
        _model: &Sequential,
        _trainer: &Trainer,
    ) -> anyhow::Result<()> {
        let mut line = self.line(r.steps, r.loss);
        line = line.replacen(
            &format!("{:.1}s", self.started.elapsed().as_secs_f64()),
            &format!("{:.1}s", r.seconds),
            1,
        );
        if let (Some(l), Some(a)) = (r.test_loss, r.test_accuracy) {
            line += &format!(" - test_loss: {l:.4} - test_accuracy: {a:.4}");
        }
        let mut out = std::io::stdout().lock();
        if self.live {
            write!(out, "\r\x1b[2K")?;
        }
        writeln!(out, "{line}")?;
        Ok(())
    }
}
