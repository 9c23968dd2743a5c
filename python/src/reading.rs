//! Reading pictures: the number in each (as `digits read --json` gives it) or the single digit
//! with its ten probabilities (as `digits predict --json`). A batch is read on all the threads
//! allowed, the GIL released.

use crate::threads;
use digits::data::PixelScale;
use digits::nn::argmax;
use digits::train::checkpoint::{self, Checkpoint};
use digits::vision::preprocess::{self, Ink, PreprocessError};
use digits::vision::reading::Reading;
use digits::vision::segment::read_digits;
use image::DynamicImage;
use numpy::prelude::*;
use numpy::PyReadonlyArrayDyn;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;

/// One picture as handed over from Python.
enum Picture {
    Path(PathBuf),
    Bytes(Vec<u8>),
    /// Decoded pixels (an array, or a PIL image turned into one).
    Image(DynamicImage),
}

impl Picture {
    fn from_py(item: &Bound<'_, PyAny>, k: usize) -> PyResult<Self> {
        if let Ok(b) = item.cast::<PyBytes>() {
            return Ok(Picture::Bytes(b.as_bytes().to_vec()));
        }
        if let Ok(a) = item.extract::<PyReadonlyArrayDyn<'_, u8>>() {
            return image_of(&a, k).map(Picture::Image);
        }
        if let Ok(p) = item.extract::<PathBuf>() {
            return Ok(Picture::Path(p));
        }
        Err(PyValueError::new_err(format!(
            "picture {k}: expected a path, PNG/JPEG/BMP bytes, a PIL image or a uint8 numpy array, got {}",
            item.get_type().name()?
        )))
    }

    /// What to call the picture in an error message.
    fn name(&self, k: usize) -> String {
        match self {
            Picture::Path(p) => p.display().to_string(),
            _ => format!("picture {k}"),
        }
    }

    fn ink(&self) -> Result<Ink, PreprocessError> {
        match self {
            Picture::Path(p) => preprocess::ink_from_path(p),
            Picture::Bytes(b) => preprocess::ink_from_bytes(b),
            Picture::Image(img) => preprocess::ink_from_image(img),
        }
    }

    /// The 784 MNIST-style inputs of a picture holding one digit.
    fn input(&self) -> Result<Vec<f32>, PreprocessError> {
        match self {
            Picture::Path(p) => preprocess::from_path(p),
            Picture::Bytes(b) => preprocess::from_bytes(b),
            Picture::Image(img) => preprocess::from_image(img),
        }
    }
}

/// A grey (h, w) or RGB/RGBA (h, w, 3|4) uint8 array as an image (one copy, in its layout).
fn image_of(a: &PyReadonlyArrayDyn<'_, u8>, k: usize) -> PyResult<DynamicImage> {
    let shape = a.shape().to_vec();
    let bad = |why: &str| PyValueError::new_err(format!("picture {k}: {why} (shape {shape:?})"));
    let (h, w, c) = match shape[..] {
        [h, w] => (h, w, 1),
        [h, w, c @ (1 | 3 | 4)] => (h, w, c),
        _ => {
            return Err(bad(
                "an array picture is (height, width) grey or (height, width, 3 or 4) RGB(A)",
            ))
        }
    };
    if h == 0 || w == 0 {
        return Err(bad("the picture is empty"));
    }
    let side = preprocess::MAX_SIDE as usize;
    if h > side || w > side {
        return Err(bad(&format!(
            "the picture is larger than {side} pixels a side"
        )));
    }
    let px: Vec<u8> = match a.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => a.as_array().iter().copied().collect(), // logical (C) order
    };
    let (w, h) = (w as u32, h as u32);
    let img = match c {
        1 => image::GrayImage::from_raw(w, h, px).map(DynamicImage::ImageLuma8),
        3 => image::RgbImage::from_raw(w, h, px).map(DynamicImage::ImageRgb8),
        _ => image::RgbaImage::from_raw(w, h, px).map(DynamicImage::ImageRgba8),
    };
    img.ok_or_else(|| bad("the pixels do not fill the picture"))
}

/// A model and how its inputs are scaled.
#[pyclass(module = "digits._digits", frozen)]
pub struct Reader {
    ckpt: Checkpoint,
}

/// One picture's number, with `confidence`: the product of its digits' probabilities (the
/// chance, by the network, that every digit is right; 0 when no digit was found).
#[derive(Serialize)]
struct NumberRead {
    #[serde(flatten)]
    reading: Reading,
    confidence: f32,
}

impl Reader {
    fn probabilities(&self, x: &[f32]) -> Vec<f32> {
        if self.ckpt.meta.scale == PixelScale::Raw {
            let scaled: Vec<f32> = x.iter().map(|v| v * 255.0).collect();
            self.ckpt.model.predict_proba(&scaled)
        } else {
            self.ckpt.model.predict_proba(x)
        }
    }

    fn read_one(&self, picture: &Picture) -> Result<String, PreprocessError> {
        let found = match picture.ink() {
            Ok(ink) => read_digits(&ink, &|x: &[f32]| self.probabilities(x)),
            Err(e) if matches!(e.root(), PreprocessError::Blank) => Vec::new(),
            Err(e) => return Err(e),
        };
        let confidence = if found.is_empty() {
            0.0
        } else {
            found.iter().map(|d| d.probability).product()
        };
        let out = NumberRead {
            reading: Reading::of(&found),
            confidence,
        };
        Ok(serde_json::to_string(&out).expect("a reading always serialises"))
    }

    fn predict_one(&self, picture: &Picture) -> Result<String, PreprocessError> {
        let p = self.probabilities(&picture.input()?);
        let out = serde_json::json!({"digit": argmax(&p), "probabilities": p});
        Ok(out.to_string())
    }

    /// Runs `each` over the pictures on the allowed threads; per picture, its JSON or the error.
    fn batch(
        &self,
        py: Python<'_>,
        items: Vec<Bound<'_, PyAny>>,
        each: fn(&Reader, &Picture) -> Result<String, PreprocessError>,
    ) -> PyResult<Vec<(bool, String)>> {
        let pictures = items
            .iter()
            .enumerate()
            .map(|(k, item)| Picture::from_py(item, k))
            .collect::<PyResult<Vec<_>>>()?;
        py.detach(|| {
            threads::in_pool(|| {
                pictures
                    .par_iter()
                    .enumerate()
                    .map(|(k, p)| match each(self, p) {
                        Ok(json) => (true, json),
                        // Errors from a path already name the file.
                        Err(e) if matches!(p, Picture::Path(_)) => (false, e.to_string()),
                        Err(e) => (false, format!("{}: {e}", p.name(k))),
                    })
                    .collect()
            })
        })
        .map_err(|e| PyValueError::new_err(e.to_string()))
    }
}

#[pymethods]
impl Reader {
    /// The built-in model, or a checkpoint file's (which must take 28x28 = 784 inputs).
    #[new]
    #[pyo3(signature = (model=None))]
    fn new(model: Option<PathBuf>) -> PyResult<Self> {
        let ckpt = match &model {
            Some(p) => checkpoint::load(p),
            None => digits::default_model::load(),
        }
        .map_err(|e| PyValueError::new_err(format!("{e:#}")))?;
        if ckpt.model.input_dim() != preprocess::PIXELS {
            return Err(PyValueError::new_err(format!(
                "{} takes {} inputs per image; pictures are read as 28x28 = 784 (use a model trained on MNIST)",
                model.map_or("the model".into(), |p| p.display().to_string()),
                ckpt.model.input_dim()
            )));
        }
        Ok(Reader { ckpt })
    }

    /// The number in each picture: per picture (ok, JSON of {"text", "digits", "confidence"} or
    /// the error message).
    fn read_batch(
        &self,
        py: Python<'_>,
        items: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<Vec<(bool, String)>> {
        self.batch(py, items, Reader::read_one)
    }

    /// The single digit in each picture: per picture (ok, JSON of {"digit", "probabilities"}
    /// or the error message).
    fn predict_batch(
        &self,
        py: Python<'_>,
        items: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<Vec<(bool, String)>> {
        self.batch(py, items, Reader::predict_one)
    }
}
