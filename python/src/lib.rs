//! The native half of the `digits` Python package (`digits._digits`): the engine's Sequential
//! model with its fit loop, MNIST loading and reading digits from pictures. The Keras-shaped API
//! (`digits.keras`) is Python over these functions.

mod arrays;
mod data;
mod model;
mod progress;
mod reading;
mod threads;

use pyo3::prelude::*;

#[pymodule]
fn _digits(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::Model>()?;
    m.add_function(wrap_pyfunction!(data::load_mnist, m)?)?;
    m.add_function(wrap_pyfunction!(data::subset_from_mnist, m)?)?;
    m.add_class::<reading::Reader>()?;
    m.add_function(wrap_pyfunction!(threads::set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(threads::get_num_threads, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
