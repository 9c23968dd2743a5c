//! numpy arrays in: shapes and values checked, with a ValueError that says what is wrong.

use numpy::prelude::*;
use numpy::PyReadonlyArray2;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The rows of a C-contiguous float32 (n, features) array, without copying.
pub fn features<'a>(
    x: &'a PyReadonlyArray2<'_, f32>,
    what: &str,
    expected: usize,
) -> PyResult<(&'a [f32], usize)> {
    let shape = x.shape();
    if shape[1] != expected {
        return Err(PyValueError::new_err(format!(
            "{what} has {} values per example (shape {:?}) but the model expects {expected}",
            shape[1], shape
        )));
    }
    let slice = x
        .as_slice()
        .map_err(|_| PyValueError::new_err(format!("{what} is not a contiguous array")))?;
    // A branch-free fold over chunks rather than `position`, so the common case (all finite)
    // vectorises: |v| < inf is false for NaN and both infinities.
    let all_finite = slice
        .chunks(4096)
        .all(|c| c.iter().fold(true, |ok, v| ok & (v.abs() < f32::INFINITY)));
    if all_finite {
        return Ok((slice, shape[0]));
    }
    if let Some(i) = slice.iter().position(|v| !v.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "{what} holds {} at example {}, value {}: inputs must be finite",
            slice[i],
            i / expected,
            i % expected
        )));
    }
    Ok((slice, shape[0]))
}
