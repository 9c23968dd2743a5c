//! Reading pictures: the number in each (as `digits read --json` gives it) or the single digit
//! with its ten probabilities (as `digits predict --json`). A batch is read on all the threads
//! allowed, the GIL released.

use crate::threads;
use digits::data::PixelScale;
use digits::nn::argmax;
use digits::train::checkpoint::{self, Checkpoint};
use digits::vision::expect::Expected;
use digits::vision::number_reader::{number_reader, read_numbers_path_as};
use digits::vision::preprocess::{self, Ink, PreprocessError};
use digits::vision::reading::{NumberReader, PictureReading, SegmentReader};
use digits::vision::second_opinion::SecondOpinion;
use digits::{default_model, default_reader};
use image::DynamicImage;
use numpy::prelude::*;
use numpy::PyReadonlyArrayDyn;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::OnceLock;

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
            "picture {k}: expected a path, PNG/JPEG/BMP/TIFF/WebP bytes, a PIL image or a uint8 numpy array, got {}",
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

    /// The 784 MNIST-style inputs of a picture holding one digit.
    fn input(&self) -> Result<Vec<f32>, PreprocessError> {
        match self {
            Picture::Path(p) => preprocess::from_path(p),
            Picture::Bytes(b) => preprocess::from_bytes(b),
            Picture::Image(img) => preprocess::from_image(img),
        }
    }

    /// The picture's ink (for the line model's second opinion, and the inputs framed from it).
    fn ink(&self) -> Result<Ink, PreprocessError> {
        match self {
            Picture::Path(p) => preprocess::ink_from_path(p),
            Picture::Bytes(b) => preprocess::ink_from_bytes(b),
            Picture::Image(img) => preprocess::ink_from_image(img),
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

/// What reads numbers (the built-in number reader, or a checkpoint's reader as `digits read`
/// makes it) and, where there is one, the digit model that reads single digits.
#[pyclass(module = "digits._digits", frozen)]
pub struct Reader {
    numbers: Box<dyn NumberReader>,
    /// The digit model of `predict` (its inputs scaled as it was trained).
    digits: Option<SegmentReader>,
    /// The built-in line model, loaded when `predict(..., second_opinion=True)` first asks.
    second: OnceLock<SecondOpinion>,
}

impl Reader {
    /// The reading of one picture, of a number of as many digits as `expected` says where it
    /// is given.
    fn read_one(
        &self,
        picture: &Picture,
        expected: Option<&Expected>,
    ) -> Result<String, PreprocessError> {
        let numbers = self.numbers.as_ref();
        let read = match picture {
            Picture::Path(p) => read_numbers_path_as(numbers, p, expected)?,
            Picture::Bytes(b) => {
                numbers.read_numbers_as(&preprocess::decode_bytes(b)?, expected)?
            }
            Picture::Image(img) => numbers.read_numbers_as(img, expected)?,
        };
        let answer = PictureReading::of(read, None);
        Ok(serde_json::to_string(&answer).expect("a reading always serialises"))
    }

    /// The built-in line model for second opinions, loaded on first use.
    fn second_opinion(&self) -> PyResult<&SecondOpinion> {
        if let Some(second) = self.second.get() {
            return Ok(second);
        }
        let second =
            SecondOpinion::built_in().map_err(|e| PyValueError::new_err(format!("{e:#}")))?;
        Ok(self.second.get_or_init(|| second))
    }

    /// The digit model's JSON answer for `picture`, with `second`'s opinion where given.
    fn predict_with(
        &self,
        picture: &Picture,
        second: Option<&SecondOpinion>,
    ) -> Result<String, PreprocessError> {
        let digit_model = self
            .digits
            .as_ref()
            .expect("predict_batch checks for a digit model");
        let p = match second {
            None => digit_model.classify(&picture.input()?),
            Some(second) => {
                let ink = picture.ink()?;
                second.combine(&digit_model.classify(&ink.input()), &ink)
            }
        };
        let out = serde_json::json!({"digit": argmax(&p), "probabilities": p});
        Ok(out.to_string())
    }

    /// Runs `each` over the pictures on the allowed threads; per picture, its JSON or the error.
    fn batch(
        &self,
        py: Python<'_>,
        items: Vec<Bound<'_, PyAny>>,
        each: impl Fn(&Reader, &Picture) -> Result<String, PreprocessError> + Sync,
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

/// A digit model's checkpoint as the classifier of single digits.
fn digit_reader(ckpt: Checkpoint) -> SegmentReader {
    SegmentReader {
        model: ckpt.model,
        raw: ckpt.meta.scale == PixelScale::Raw,
    }
}

#[pymethods]
impl Reader {
    /// `model`: None for the built-in readers (the line reader, checked by the digit model
    /// where unsure, for numbers; the digit model for single digits; with `segment`, the digit
    /// model cutting the ink into digits for numbers too), or a checkpoint: a line model (numbers only) or a digit model of 28x28 = 784
    /// inputs (numbers through segmentation, and single digits).
    #[new]
    #[pyo3(signature = (model=None, segment=false))]
    fn new(model: Option<PathBuf>, segment: bool) -> PyResult<Self> {
        let value_error = |e: anyhow::Error| PyValueError::new_err(format!("{e:#}"));
        let Some(path) = model else {
            let numbers: Box<dyn NumberReader> = if segment {
                number_reader(default_model::load().map_err(value_error)?).map_err(value_error)?
            } else {
                Box::new(default_reader::reader().map_err(value_error)?)
            };
            let digits = Some(digit_reader(default_model::load().map_err(value_error)?));
            return Ok(Reader {
                numbers,
                digits,
                second: OnceLock::new(),
            });
        };
        let ckpt = checkpoint::load(&path).map_err(value_error)?;
        let digits = (ckpt.model.sequence_output().is_none()
            && ckpt.model.input_dim() == preprocess::PIXELS)
            .then(|| digit_reader(ckpt.clone()));
        let numbers =
            number_reader(ckpt).map_err(|e| value_error(e.context(path.display().to_string())))?;
        Ok(Reader {
            numbers,
            digits,
            second: OnceLock::new(),
        })
    }

    /// The number in each picture: per picture (ok, JSON of {"text", "formatted",
    /// "confidence", "digits"} or the error message); with `digits` ("5" or "4-8"), read as a
    /// number of that many digits (`digits read --digits`).
    #[pyo3(signature = (items, digits=None))]
    fn read_batch(
        &self,
        py: Python<'_>,
        items: Vec<Bound<'_, PyAny>>,
        digits: Option<String>,
    ) -> PyResult<Vec<(bool, String)>> {
        let expected = digits
            .map(|d| d.parse::<Expected>())
            .transpose()
            .map_err(|e| PyValueError::new_err(format!("digits: {e}")))?;
        self.batch(py, items, |r, p| r.read_one(p, expected.as_ref()))
    }

    /// The single digit in each picture: per picture (ok, JSON of {"digit", "probabilities"}
    /// or the error message); with `second_opinion`, the built-in line model's opinion too.
    #[pyo3(signature = (items, second_opinion=false))]
    fn predict_batch(
        &self,
        py: Python<'_>,
        items: Vec<Bound<'_, PyAny>>,
        second_opinion: bool,
    ) -> PyResult<Vec<(bool, String)>> {
        if self.digits.is_none() {
            return Err(PyValueError::new_err(
                "this Reader's model is a line model: it reads numbers (read), not single digits \
                 (predict); give a digit model of 28x28 inputs for predict",
            ));
        }
        let second = if second_opinion {
            Some(self.second_opinion()?)
        } else {
            None
        };
        self.batch(py, items, |reader, picture| {
            reader.predict_with(picture, second)
        })
    }
}
