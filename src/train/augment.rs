//! The augmented copy of each training batch (`FitConfig::augment`): the batch's images,
//! distorted by `vision::augment`, in a batch-sized dataset the step reads instead of the
//! training set. Each image's distortion depends only on (seed, global step, place in the
//! batch), so a resumed run sees the same distortions as an uninterrupted one.

use super::fit::TrainError;
use crate::data::{Dataset, PixelLayout, Pixels};
use crate::vision::allographs::{draw_allograph, has_allographs};
use crate::vision::augment::{augment_image, Augment};
use crate::vision::line::synth::digit_on_paper;
use crate::vision::preprocess::SIDE;
use crate::vision::styles::add_style;
use crate::vision::underline::add_underline;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Buffers for one augmented batch, allocated once.
pub struct AugmentedBatch {
    aug: Augment,
    seed: u64,
    /// `batch_size` images of the training set's shape; the first `indices.len()` hold the
    /// current batch.
    batch: Dataset,
    /// 0..batch_size: the images of `batch` as the step's indices.
    all: Vec<usize>,
    tmp: Vec<u8>,
    /// An image given a style (`Augment::styles`), or drawn in its place (`Augment::allographs`),
    /// before it is distorted.
    styled: Vec<u8>,
}

/// Mixed into the seed of the styles' stream, so that turning styles on leaves every other
/// draw of the distortions as it was.
const STYLE_STREAM: u64 = 0x0571_71e5;

/// Likewise for the stream that picks and draws the allographs.
const ALLOGRAPH_STREAM: u64 = 0xa110_9a4f;

/// And for the bars under or over the digits.
const UNDERLINE_STREAM: u64 = 0x0bad_11e5;

/// And for the digits put on paper.
const PAPER_STREAM: u64 = 0x9a9e_5000;

impl AugmentedBatch {
    /// Buffers for batches of up to `batch_size` images like those of `train`, which must be
    /// stored as u8 (the distortions work on pixels as they were scanned).
    pub fn new(
        aug: Augment,
        seed: u64,
        train: &Dataset,
        batch_size: usize,
    ) -> Result<Self, TrainError> {
        if !matches!(train.pixels, Pixels::U8(_)) {
            return Err(TrainError::Invalid(
                "augmentation needs images stored as 0..255 bytes (as MNIST's); this training set holds floating-point pixels".into(),
            ));
        }
        let f = train.features();
        Ok(AugmentedBatch {
            aug,
            seed,
            batch: Dataset {
                pixels: Pixels::U8(vec![0; batch_size * f]),
                labels: vec![0; batch_size],
                rows: train.rows,
                cols: train.cols,
                layout: train.layout,
            },
            all: (0..batch_size).collect(),
            tmp: vec![0; f],
            styled: vec![0; f],
        })
    }

    /// Distorts the images `indices` of `train` for step `global_step`; returns the dataset
    /// and indices the step should read instead. No allocation, except the small buffers of
    /// the images that are scanned (`Augment::scan`).
    pub fn fill(
        &mut self,
        train: &Dataset,
        indices: &[usize],
        global_step: u64,
    ) -> (&Dataset, &[usize]) {
        let (Pixels::U8(src), Pixels::U8(dst)) = (&train.pixels, &mut self.batch.pixels) else {
            unreachable!("checked in new: both hold u8 pixels");
        };
        let f = train.features();
        // Stored by column, an image is the transpose of the picture: distort the transpose
        // (the random ranges are symmetric, so the distribution of distortions is the same).
        let (w, h) = match train.layout {
            PixelLayout::RowMajor => (train.cols, train.rows),
            PixelLayout::ColumnMajor => (train.rows, train.cols),
        };
        for (k, &i) in indices.iter().enumerate() {
            let original = &src[i * f..(i + 1) * f];
            let label = train.labels[i];
            // Styles, allographs, underlines and paper are drawn upright, so only on images
            // stored by row.
            let upright = train.layout == PixelLayout::RowMajor;
            let mut redrawn = false;
            if self.aug.allographs > 0.0 && upright && has_allographs(label) {
                let seed = image_seed(self.seed ^ ALLOGRAPH_STREAM, global_step, k);
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                if rng.gen::<f32>() < self.aug.allographs {
                    redrawn = draw_allograph(label, w, h, &mut rng, &mut self.styled);
                }
            }
            if self.aug.styles > 0.0 && upright && !redrawn {
                let seed = image_seed(self.seed ^ STYLE_STREAM, global_step, k);
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                if rng.gen::<f32>() < self.aug.styles {
                    self.styled.copy_from_slice(original);
                    redrawn = add_style(&mut self.styled, w, h, label, &mut rng);
                }
            }
            let image = if redrawn { &self.styled[..] } else { original };
            let mut rng = ChaCha8Rng::seed_from_u64(image_seed(self.seed, global_step, k));
            augment_image(
                image,
                w,
                h,
                &self.aug,
                &mut rng,
                &mut self.tmp,
                &mut dst[k * f..(k + 1) * f],
            );
            // Put on paper and framed again as a 28x28 picture: MNIST-sized images only.
            if self.aug.paper > 0.0 && upright && (w, h) == (SIDE, SIDE) {
                let seed = image_seed(self.seed ^ PAPER_STREAM, global_step, k);
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                if rng.gen::<f32>() < self.aug.paper {
                    put_on_paper(&mut dst[k * f..(k + 1) * f], &mut rng);
                }
            }
            if self.aug.underlines > 0.0 && upright {
                let seed = image_seed(self.seed ^ UNDERLINE_STREAM, global_step, k);
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                if rng.gen::<f32>() < self.aug.underlines {
                    add_underline(&mut dst[k * f..(k + 1) * f], w, h, &mut rng);
                }
            }
            self.batch.labels[k] = label;
        }
        (&self.batch, &self.all[..indices.len()])
    }
}

/// The 28x28 `image` put on paper and captured ([`digit_on_paper`]), in place; left as it is
/// when nothing was left to read (about 0.6 ms).
fn put_on_paper(image: &mut [u8], rng: &mut ChaCha8Rng) {
    if let Some(x) = digit_on_paper(image, rng) {
        for (o, v) in image.iter_mut().zip(x) {
            *o = (v * 255.0).round().clamp(0.0, 255.0) as u8;
        }
    }
}

/// The seed of image `k` of step `step`: one mixing (splitmix64's finaliser) of all three, so
/// neighbouring steps and images get unrelated streams.
pub fn image_seed(seed: u64, step: u64, k: usize) -> u64 {
    let mut z = seed ^ 0xa06e_0000_0000_0000;
    for v in [step, k as u64] {
        z = z.wrapping_add(v).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
    }
    z
}
