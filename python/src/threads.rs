//! How many threads the package's work may use: the cores available unless capped (a Ray
//! worker caps it so the workers of one machine do not fight over its cores).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// 0: not set (the cores available).
static CAP: AtomicUsize = AtomicUsize::new(0);

/// The cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The threads to use now.
pub fn threads() -> usize {
    match CAP.load(Ordering::Relaxed) {
        0 => cores(),
        n => n,
    }
}

/// Whether `set_num_threads` capped the threads.
pub fn capped() -> Option<usize> {
    match CAP.load(Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    }
}

/// Caps the threads of fit, predict and reading at `n` (None: back to the cores available).
#[pyfunction]
#[pyo3(signature = (n=None))]
pub fn set_num_threads(n: Option<usize>) -> PyResult<()> {
    match n {
        Some(0) => Err(PyValueError::new_err(
            "the number of threads must be at least 1",
        )),
        Some(n) => {
            CAP.store(n, Ordering::Relaxed);
            Ok(())
        }
        None => {
            CAP.store(0, Ordering::Relaxed);
            Ok(())
        }
    }
}

/// The threads fit, predict and reading use.
#[pyfunction]
pub fn get_num_threads() -> usize {
    threads()
}

/// Runs `work` on a rayon pool of `threads()` threads.
pub fn in_pool<T: Send>(work: impl FnOnce() -> T + Send) -> anyhow::Result<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads())
        .build()?;
    Ok(pool.install(work))
}
