//! Ctrl-C (SIGINT) during training: the first one asks the fit loop to stop after the current
//! step (so a checkpoint can be saved); a second one exits at once.

use super::Observer;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub struct StopOnInterrupt {
    flag: Arc<AtomicBool>,
}

impl StopOnInterrupt {
    /// Installs the SIGINT handler (once per process).
    pub fn install() -> anyhow::Result<Self> {
        let flag = Arc::new(AtomicBool::new(false));
        let seen = flag.clone();
        ctrlc::set_handler(move || {
            if seen.swap(true, Ordering::SeqCst) {
                eprintln!("\ninterrupted again: exiting without saving");
                std::process::exit(130);
            }
            eprintln!("\ninterrupted: stopping after this step (Ctrl-C again to exit at once)");
        })?;
        Ok(StopOnInterrupt { flag })
    }

    /// Whether Ctrl-C was pressed.
    pub fn interrupted(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

impl Observer for StopOnInterrupt {
    fn should_stop(&self) -> bool {
        self.interrupted()
    }
}
