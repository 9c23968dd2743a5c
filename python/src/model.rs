//! `Model`: the engine's Sequential with the optimizer state that outlives one `fit` call, as
//! Keras keeps it. `digits.keras.models.Sequential` wraps it.

use crate::arrays::features;
use crate::progress::PyProgress;
use crate::threads;
use digits::data::{Dataset, PixelLayout, Pixels};
use digits::nn::{Adam, Init, ModelSpec, Sequential};
use digits::train::checkpoint::{self, CheckpointMeta};
use digits::train::{FitConfig, History, TrainError, Trainer};
use numpy::prelude::*;
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyIOError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;

/// A layer's weights and bias, flat.
type WeightPair<'py> = (Bound<'py, PyArray1<f32>>, Bound<'py, PyArray1<f32>>);

#[pyclass(module = "digits._digits")]
pub struct Model {
    model: Sequential,
    /// Adam's moments and step count, kept between fit calls (None until the first fit or after
    /// a new compile).
    adam: Option<Adam>,
    /// Seeds the shuffling; each fit call shuffles differently (`seed + fit_calls`).
    seed: u64,
    fit_calls: u64,
}

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Full error chain of an anyhow error ("cannot read x: no such file").
fn chain(e: &anyhow::Error) -> String {
    format!("{e:#}")
}

impl Model {
    /// The training set from float32 rows and uint8 labels (one copy: the fit loop owns it).
    fn dataset(
        &self,
        x: &PyReadonlyArray2<'_, f32>,
        y: &PyReadonlyArray1<'_, u8>,
        what: &str,
    ) -> PyResult<Dataset> {
        let (x, n) = features(x, what, self.model.input_dim())?;
        let y = y.as_slice().map_err(value_error)?;
        if y.len() != n {
            return Err(PyValueError::new_err(format!(
                "{what} has {n} examples but its labels have {}",
                y.len()
            )));
        }
        Ok(Dataset {
            pixels: compact(x),
            labels: y.to_vec(),
            rows: 1,
            cols: self.model.input_dim(),
            layout: PixelLayout::RowMajor,
        })
    }
}

/// The pixels as u8 when every value is exactly `k / 255` (images scaled as Keras' tutorials
/// scale them: `x / 255`), so training reads a quarter of the memory and sees the same floats;
/// f32 otherwise. One pass in the common case; the caller has checked that x is finite.
fn compact(x: &[f32]) -> Pixels {
    let levels: [f32; 256] = std::array::from_fn(|k| k as f32 / 255.0);
    let mut bytes = vec![0u8; x.len()];
    for (b, &v) in bytes.iter_mut().zip(x) {
        // A saturating cast: NaN and negatives become 0, and then fail the comparison.
        let k = ((v * 255.0 + 0.5) as u32).min(255) as u8;
        if levels[k as usize] != v {
            return Pixels::F32(x.to_vec());
        }
        *b = k;
    }
    Pixels::U8(bytes)
}

#[pymethods]
impl Model {
    /// A new model of the architecture `spec_json` (the checkpoints' JSON spec), its weights
    /// drawn Glorot-uniform (Keras' default) from `seed`.
    #[new]
    fn new(spec_json: &str, seed: u64) -> PyResult<Self> {
        let spec: ModelSpec = serde_json::from_str(spec_json).map_err(value_error)?;
        let model = Sequential::try_new(spec, Init::GlorotUniform, seed).map_err(value_error)?;
        Ok(Model {
            model,
            adam: None,
            seed,
            fit_calls: 0,
        })
    }

    /// A model read from a digits safetensors checkpoint (or a PyTorch state dict).
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        let ckpt = checkpoint::load(&path).map_err(|e| value_error(chain(&e)))?;
        Ok(Model {
            model: ckpt.model,
            adam: None,
            seed: 0,
            fit_calls: 0,
        })
    }

    /// Writes the weights and architecture to `path` (safetensors, atomically).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        checkpoint::save_model(&path, &self.model, &CheckpointMeta::default())
            .map_err(|e| PyIOError::new_err(chain(&e)))
    }

    /// The architecture as JSON.
    fn spec_json(&self) -> String {
        serde_json::to_string(self.model.spec()).expect("a spec always serialises")
    }

    #[getter]
    fn input_dim(&self) -> usize {
        self.model.input_dim()
    }

    #[getter]
    fn output_dim(&self) -> usize {
        self.model.output_dim()
    }

    /// Keras' summary table.
    fn summary(&self) -> String {
        self.model.summary()
    }

    /// Per layer: (name, type, output shape without the batch, parameter count).
    fn layer_info(&self) -> Vec<(String, String, Vec<usize>, usize)> {
        self.model
            .layers()
            .iter()
            .map(|l| {
                let shape = match l.output_shape() {
                    digits::nn::Shape::Flat(n) => vec![n],
                    digits::nn::Shape::Image { h, w, c } => vec![h, w, c],
                };
                (
                    l.name().to_string(),
                    l.type_name().to_string(),
                    shape,
                    l.param_count(),
                )
            })
            .collect()
    }

    /// Layer `i`'s weights (flat) and bias; empty for a layer without parameters.
    fn get_weights<'py>(&self, py: Python<'py>, i: usize) -> PyResult<WeightPair<'py>> {
        if i >= self.model.layers().len() {
            return Err(PyValueError::new_err(format!("there is no layer {i}")));
        }
        let (w, b) = self.model.weights(i);
        Ok((w.to_vec().into_pyarray(py), b.to_vec().into_pyarray(py)))
    }

    /// Replaces layer `i`'s weights (flat, in get_weights' order) and bias.
    fn set_weights(
        &mut self,
        i: usize,
        w: PyReadonlyArray1<'_, f32>,
        b: PyReadonlyArray1<'_, f32>,
    ) -> PyResult<()> {
        if i >= self.model.layers().len() {
            return Err(PyValueError::new_err(format!("there is no layer {i}")));
        }
        let (w, b) = (
            w.as_slice().map_err(value_error)?,
            b.as_slice().map_err(value_error)?,
        );
        if w.iter().chain(b).any(|v| !v.is_finite()) {
            return Err(PyValueError::new_err(
                "weights must be finite (got NaN or infinity)",
            ));
        }
        self.model.set_weights(i, w, b).map_err(value_error)
    }

    /// Forgets the optimizer state (a new compile): the next fit starts a fresh Adam.
    fn reset_optimizer(&mut self) {
        self.adam = None;
    }

    /// Trains on (x, y) for `epochs` epochs; returns the History of this call as a dict
    /// (`loss`, and `val_loss`, `val_accuracy` with validation data). The GIL is released while
    /// training; Ctrl-C raises KeyboardInterrupt after the current step, the weights those
    /// after it.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (x, y, epochs, batch_size, learning_rate, shuffle, verbose, validation=None))]
    fn fit<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        y: PyReadonlyArray1<'py, u8>,
        epochs: usize,
        batch_size: usize,
        learning_rate: f32,
        shuffle: bool,
        verbose: u8,
        validation: Option<(PyReadonlyArray2<'py, f32>, PyReadonlyArray1<'py, u8>)>,
    ) -> PyResult<Bound<'py, PyDict>> {
        if batch_size == 0 {
            return Err(PyValueError::new_err("batch_size must be at least 1"));
        }
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            return Err(PyValueError::new_err(format!(
                "the learning rate must be a positive number, not {learning_rate}"
            )));
        }
        let train = self.dataset(&x, &y, "x")?;
        let test = match &validation {
            Some((vx, vy)) => Some(self.dataset(vx, vy, "validation x")?),
            None => None,
        };
        let mut config = FitConfig {
            epochs,
            batch_size,
            lr: learning_rate,
            shuffle,
            seed: self.seed.wrapping_add(self.fit_calls),
            ..FitConfig::default()
        };
        if let Some(n) = threads::capped() {
            config.threads = n;
        }
        self.fit_calls += 1;
        let mut trainer = Trainer::new(&self.model, config);
        if let Some(mut adam) = self.adam.take() {
            adam.lr = learning_rate;
            trainer.adam = adam;
        }
        let mut progress = PyProgress::new(verbose);
        let model = &mut self.model;
        let result = py.detach(|| trainer.fit(model, &train, test.as_ref(), &mut progress));
        self.adam = Some(trainer.adam.clone());
        if let Some(e) = progress.interrupted.take().or(progress.write_error.take()) {
            return Err(e);
        }
        let history: History = match result {
            Ok(h) => h,
            Err(
                e @ (TrainError::InputSize { .. }
                | TrainError::LabelRange { .. }
                | TrainError::Invalid(_)),
            ) => return Err(value_error(e)),
            Err(e) => return Err(PyRuntimeError::new_err(e.to_string())),
        };
        let out = PyDict::new(py);
        out.set_item("loss", history.loss)?;
        if test.is_some() {
            out.set_item("val_loss", history.test_loss)?;
            out.set_item("val_accuracy", history.test_accuracy)?;
        }
        Ok(out)
    }

    /// Logits (n, classes) of the rows of `x` (read in place), the GIL released.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (x, n) = features(&x, "x", self.model.input_dim())?;
        let model = &self.model;
        let logits = py.detach(|| model.predict(x));
        let classes = model.output_dim();
        logits.into_pyarray(py).reshape([n, classes])
    }
}
