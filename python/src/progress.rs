//! The fit loop's observer for Python: Keras' per-epoch lines on `sys.stdout` (so notebooks
//! show them) and Ctrl-C, checked between steps: Python's signal handlers run, and a
//! KeyboardInterrupt stops training after the current step.

use digits::nn::Sequential;
use digits::train::{EpochReport, Observer, Trainer};
use pyo3::prelude::*;
use std::time::{Duration, Instant};

/// How often, at most, the fit loop takes the GIL back to let Python see a signal.
const SIGNAL_CHECK_EVERY: Duration = Duration::from_millis(20);

pub struct PyProgress {
    /// 0: silent; 1: Keras' bar line per epoch; 2: one short line per epoch.
    verbose: u8,
    /// When the signals were last checked.
    last_check: Instant,
    /// The KeyboardInterrupt (or other error) a signal handler raised.
    pub interrupted: Option<PyErr>,
    /// An error writing to sys.stdout.
    pub write_error: Option<PyErr>,
}

impl PyProgress {
    pub fn new(verbose: u8) -> Self {
        PyProgress {
            verbose,
            last_check: Instant::now(),
            interrupted: None,
            write_error: None,
        }
    }

    fn write(&mut self, text: &str) {
        Python::attach(|py| {
            let result = py.import("sys").and_then(|sys| {
                let out = sys.getattr("stdout")?;
                out.call_method1("write", (text,))?;
                out.call_method0("flush")?;
                Ok(())
            });
            if let Err(e) = result {
                self.write_error.get_or_insert(e);
            }
        });
    }
}

impl Observer for PyProgress {
    fn on_batch_end(&mut self, _epoch: usize, _step: usize, _global_step: u64, _loss: f32) {
        if self.last_check.elapsed() >= SIGNAL_CHECK_EVERY {
            self.last_check = Instant::now();
            if let Err(e) = Python::attach(|py| py.check_signals()) {
                self.interrupted = Some(e);
            }
        }
    }

    fn should_stop(&self) -> bool {
        self.interrupted.is_some() || self.write_error.is_some()
    }

    fn on_epoch_end(
        &mut self,
        r: &EpochReport,
        _model: &Sequential,
        _trainer: &Trainer,
    ) -> anyhow::Result<()> {
        if self.verbose > 0 {
            self.write(&epoch_line(r, self.verbose));
        }
        // Signals are checked at least once an epoch, however short the epochs.
        if let Err(e) = Python::attach(|py| py.check_signals()) {
            self.interrupted = Some(e);
        }
        if self.should_stop() {
            anyhow::bail!("stopped");
        }
        Ok(())
    }
}

/// Keras' lines for an epoch:
/// `Epoch 1/40\n157/157 [==============================] - 0s 1ms/step - loss: 1.7094`.
pub fn epoch_line(r: &EpochReport, verbose: u8) -> String {
    let per_step = r.seconds / r.steps.max(1) as f64;
    let step_time = if per_step >= 1.0 {
        format!("{per_step:.0}s/step")
    } else if per_step >= 1e-3 {
        format!("{:.0}ms/step", per_step * 1e3)
    } else {
        format!("{:.0}us/step", per_step * 1e6)
    };
    let mut line = if verbose == 1 {
        format!(
            "Epoch {}/{}\n{}/{} [{}] - {:.0}s {step_time} - loss: {:.4}",
            r.epoch,
            r.epochs,
            r.steps,
            r.steps,
            "=".repeat(30),
            r.seconds,
            r.loss
        )
    } else {
        format!(
            "Epoch {}/{}\n{}/{} - {:.0}s - loss: {:.4}",
            r.epoch, r.epochs, r.steps, r.steps, r.seconds, r.loss
        )
    };
    if let (Some(l), Some(a)) = (r.test_loss, r.test_accuracy) {
        line += &format!(" - val_loss: {l:.4} - val_accuracy: {a:.4}");
    }
    line.push('\n');
    line
}
