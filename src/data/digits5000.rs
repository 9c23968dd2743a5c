//! The 20x20 tutorial set: X.npy (5000 x 400, column-major pixels) and y.npy (5000 x 1).
use super::npy;
use super::{Dataset, PixelLayout, Pixels};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// Side of the square images.
pub const SIDE: usize = 20;

/// Reads `dir`/X.npy and `dir`/y.npy.
pub fn load_dir(dir: &Path) -> anyhow::Result<Dataset> {
    let x_path = existing(dir, "X.npy")?;
    let y_path = existing(dir, "y.npy")?;
    let (x, n, k) = npy::read_f32_matrix(&x_path)?;
    // A 1-D array reads as (n, 1), so this also rejects it.
    if k != SIDE * SIDE {
        bail!(
            "{}: expected shape (n, {}) (one 20x20 image per row), got ({n}, {k})",
            x_path.display(),
            SIDE * SIDE
        );
    }
    let labels = npy::read_labels(&y_path)?;
    if labels.len() != n {
        bail!(
            "{}: {} labels, but {} has {n} images; the counts must match",
            y_path.display(),
            labels.len(),
            x_path.display()
        );
    }
    if n == 0 {
        bail!("{}: contains no images", x_path.display());
    }
    Ok(Dataset {
        pixels: Pixels::F32(x),
        labels,
        rows: SIDE,
        cols: SIDE,
        layout: PixelLayout::ColumnMajor,
    })
}

fn existing(dir: &Path, name: &str) -> Result<PathBuf> {
    let p = dir.join(name);
    if !p.is_file() {
        bail!(
            "{}: not found; build the 20x20 set from MNIST with `digits data subset --out {}`",
            p.display(),
            dir.display()
        );
    }
    Ok(p)
}
