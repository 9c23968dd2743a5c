//! Training: the fit loop, its observers (progress, TensorBoard, checkpoints) and History.

pub mod augment;
pub mod calibration;
pub mod checkpoint;
pub mod evaluate;
pub mod fit;
pub mod fit_lines;
pub mod interrupt;
pub mod line_source;
pub mod observer;
pub mod pace;
pub mod pool;
pub mod progress;
pub mod sparse_input;
pub mod step;
pub mod tensorboard;
pub mod widths;

pub use evaluate::{evaluate, evaluate_counts};
pub use fit::{fit, FitConfig, History, TrainError, Trainer};
pub use observer::{EpochReport, Observer};
