//! The 20x20 tutorial set: X.npy (5000 x 400, column-major pixels) and y.npy (5000 x 1).
use super::Dataset;
use std::path::Path;

/// Reads `dir`/X.npy and `dir`/y.npy.
pub fn load_dir(dir: &Path) -> anyhow::Result<Dataset> {
    todo!("{}", dir.display())
}
