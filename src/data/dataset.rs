//! The in-memory dataset: pixels kept compact (u8 for MNIST) until a batch is formed.

use crate::nn::simd::dispatch;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How u8 pixels become network inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PixelScale {
    /// pixel / 255, in [0, 1] (Keras tutorial, and the usual choice).
    #[default]
    Unit,
    /// The raw 0..255 values, as the original PyTorch tutorial fed them.
    Raw,
}

/// Order of the pixels of one image inside its feature vector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PixelLayout {
    /// Row after row (IDX, MNIST).
    #[default]
    RowMajor,
    /// Column after column (the 20x20 tutorial set: `X[i].reshape(20,20).T` shows it).
    ColumnMajor,
}

/// Pixel storage: u8 (0..255, scaled when a batch is formed) or f32 (used as is).
#[derive(Clone, Debug, PartialEq)]
pub enum Pixels {
    U8(Vec<u8>),
    F32(Vec<f32>),
}

/// Images with their labels. Image `i` is `features()` values starting at `i * features()`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub pixels: Pixels,
    pub labels: Vec<u8>,
    pub rows: usize,
    pub cols: usize,
    pub layout: PixelLayout,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Inputs per image (rows * cols).
    pub fn features(&self) -> usize {
        self.rows * self.cols
    }

    /// Writes image `i` as network input into `out` (length `features()`).
    pub fn write_image(&self, i: usize, scale: PixelScale, out: &mut [f32]) {
        let f = self.features();
        match &self.pixels {
            Pixels::U8(p) => pixels_to_f32(&p[i * f..(i + 1) * f], scale == PixelScale::Unit, out),
            Pixels::F32(p) => out.copy_from_slice(&p[i * f..(i + 1) * f]),
        }
    }

    /// Fills `x` (indices.len() x features) and `y` with the given images; no allocation.
    pub fn fill_batch(&self, indices: &[usize], scale: PixelScale, x: &mut [f32], y: &mut [u8]) {
        let f = self.features();
        for (k, &i) in indices.iter().enumerate() {
            self.write_image(i, scale, &mut x[k * f..(k + 1) * f]);
            y[k] = self.labels[i];
        }
    }

    /// The inputs of the given images as a new row-major (n, features) buffer.
    pub fn batch_x(&self, indices: &[usize], scale: PixelScale) -> Vec<f32> {
        let f = self.features();
        let mut x = vec![0.0; indices.len() * f];
        for (k, &i) in indices.iter().enumerate() {
            self.write_image(i, scale, &mut x[k * f..(k + 1) * f]);
        }
        x
    }

    /// Image `i` as 0..1 grey levels in row-major display order (transposed if column-major).
    pub fn display_image(&self, i: usize) -> Vec<f32> {
        let mut v = vec![0.0; self.features()];
        self.write_image(i, PixelScale::Unit, &mut v);
        if self.layout == PixelLayout::ColumnMajor {
            let mut t = vec![0.0; v.len()];
            for r in 0..self.rows {
                for c in 0..self.cols {
                    t[r * self.cols + c] = v[c * self.rows + r];
                }
            }
            v = t;
        }
        v
    }

    /// A subset with the given images, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let f = self.features();
        let pixels = match &self.pixels {
            Pixels::U8(p) => Pixels::U8(
                indices
                    .iter()
                    .flat_map(|&i| p[i * f..(i + 1) * f].iter().copied())
                    .collect(),
            ),
            Pixels::F32(p) => Pixels::F32(
                indices
                    .iter()
                    .flat_map(|&i| p[i * f..(i + 1) * f].iter().copied())
                    .collect(),
            ),
        };
        Dataset {
            pixels,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            rows: self.rows,
            cols: self.cols,
            layout: self.layout,
        }
    }
}

dispatch! {
    /// out = pixels / 255 (as PyTorch's x / 255, a true division) or the raw values.
    pub fn pixels_to_f32(src: &[u8], unit: bool, out: &mut [f32]) {
        if unit {
            for (o, &v) in out.iter_mut().zip(src) {
                *o = v as f32 / 255.0;
            }
        } else {
            for (o, &v) in out.iter_mut().zip(src) {
                *o = v as f32;
            }
        }
    }
}

/// Visiting order of each epoch: 0..n, or a shuffle that depends only on (seed, epoch), so a
/// resumed run visits the images in the same order as an uninterrupted one.
pub struct EpochOrder {
    order: Vec<usize>,
    shuffle: bool,
    seed: u64,
}

impl EpochOrder {
    pub fn new(n: usize, shuffle: bool, seed: u64) -> Self {
        EpochOrder {
            order: (0..n).collect(),
            shuffle,
            seed,
        }
    }

    /// The order of epoch `epoch` (0-based).
    pub fn epoch(&mut self, epoch: usize) -> &[usize] {
        if self.shuffle {
            for (k, o) in self.order.iter_mut().enumerate() {
                *o = k;
            }
            let mut rng =
                ChaCha8Rng::seed_from_u64(self.seed ^ 0x5eed_0fda_7a00 ^ ((epoch as u64) << 32));
            self.order.shuffle(&mut rng);
        }
        &self.order
    }
}
