//! Plots as PNG files a person opens: digit grids with labels and predictions, galleries of
//! mistakes (digits, or whole numbers), loss curves and a confusion matrix. Each plot is a pure
//! function returning an `RgbImage`; [`save_png`] writes one.

mod axes;
mod confusion;
mod curve;
mod gallery;
mod grid;
mod numbers;
mod save;
mod style;

pub use confusion::{confusion_cell, confusion_counts, confusion_matrix};
pub use curve::{loss_curve, plot_area};
pub use gallery::{error_caption, error_gallery, find_errors, Misclassified};
pub use grid::{dataset_grid, digit_grid, titled, Caption, GridLayout};
pub use numbers::number_gallery;
pub use save::{save_png, SaveError};
