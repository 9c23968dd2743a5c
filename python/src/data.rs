//! Data sets as numpy arrays: MNIST from its IDX files, and the lab's 20x20 set built from it.

use digits::data::{mnist, subset, Dataset, Pixels};
use numpy::prelude::*;
use numpy::{PyArray1, PyArrayDyn};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::PathBuf;

type Split<'py> = (Bound<'py, PyArrayDyn<u8>>, Bound<'py, PyArray1<u8>>);
/// The lab's X and y.
type LabSet<'py> = (Bound<'py, PyArrayDyn<f32>>, Bound<'py, PyArrayDyn<u8>>);

fn images_u8<'py>(py: Python<'py>, d: Dataset) -> PyResult<Split<'py>> {
    let (n, rows, cols) = (d.len(), d.rows, d.cols);
    let pixels = match d.pixels {
        Pixels::U8(p) => p,
        Pixels::F32(p) => p.iter().map(|v| (v * 255.0).round() as u8).collect(),
    };
    let x = pixels.into_pyarray(py).reshape(vec![n, rows, cols])?;
    Ok((x, d.labels.into_pyarray(py)))
}

/// MNIST as Keras' `mnist.load_data()` gives it: ((x_train, y_train), (x_test, y_test)), images
/// uint8 (n, 28, 28), labels uint8 (n,).
#[pyfunction]
pub fn load_mnist(py: Python<'_>, dir: PathBuf) -> PyResult<(Split<'_>, Split<'_>)> {
    let (train, test) = py
        .detach(|| mnist::load_dir(&dir))
        .map_err(|e| PyValueError::new_err(format!("{e:#}")))?;
    Ok((images_u8(py, train)?, images_u8(py, test)?))
}

/// The lab's 20x20 set built from MNIST's training images as `digits data subset` builds it:
/// X float32 (n, 400) column-major images in [0, 1], y uint8 (n, 1), `per_class` of each digit.
#[pyfunction]
#[pyo3(signature = (dir, per_class=500, seed=0))]
pub fn subset_from_mnist(
    py: Python<'_>,
    dir: PathBuf,
    per_class: usize,
    seed: u64,
) -> PyResult<LabSet<'_>> {
    let set = py
        .detach(|| {
            let (train, _) = mnist::load_dir(&dir)?;
            subset::build(&train, per_class, seed)
        })
        .map_err(|e| PyValueError::new_err(format!("{e:#}")))?;
    let (n, f) = (set.len(), set.features());
    let Pixels::F32(x) = set.pixels else {
        unreachable!("the subset is built as f32")
    };
    Ok((
        x.into_pyarray(py).reshape(vec![n, f])?,
        set.labels.into_pyarray(py).reshape(vec![n, 1])?,
    ))
}
