//! What reading a digit from a picture costs against reading MNIST's tensor: each of MNIST's
//! 10,000 test digits is read by the built-in digit model (or `--digit-model`)
//! - as the tensor it is;
//! - framed again as a picture's ink is framed (cropped to the ink, fitted to 20x20, centred by
//!   its mass, thin strokes grown: `Ink::input`), from the tensor's own levels;
//! - as a PNG, dark on light, through the whole of `preprocess` (paper, noise floor, levels);
//! - composed alone as `tests/vision_read.rs` composes a number's digits (cropped, scaled,
//!   jittered, on paper of either polarity), at three scales.
//!
//! The misread counts show where the composed numbers' single digits (see `composed_ceiling`)
//! lose against MNIST's own figure.
//!
//!     cargo run --release --example framing_cost -- [MNIST_DIR] [--digit-model FILE]

#[allow(dead_code)]
#[path = "../tests/common/numbers.rs"]
mod numbers;

use clap::Parser;
use digits::data::{Dataset, PixelScale};
use digits::nn::Sequential;
use digits::vision::preprocess::{self, Ink, SIDE};
use image::{DynamicImage, GrayImage, ImageFormat, Luma};
use numbers::{compose, mnist_glyph};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::io::Cursor;
use std::path::PathBuf;

#[derive(Parser)]
struct Args {
    /// MNIST's folder (its test digits are read).
    #[arg(default_value = "../shared/data/mnist")]
    mnist_dir: PathBuf,
    /// The digit model (default: the built-in one).
    #[arg(long, value_name = "FILE")]
    digit_model: Option<PathBuf>,
}

/// How many of the test digits `model` misreads from the input `input_of` makes of each
/// (None: no input could be made, counted as misread).
fn misread(
    model: &Sequential,
    test: &Dataset,
    input_of: impl Fn(usize, &[f32]) -> Option<Vec<f32>> + Sync,
) -> usize {
    (0..test.len())
        .into_par_iter()
        .filter(|&i| {
            let tensor = test.batch_x(&[i], PixelScale::Unit);
            input_of(i, &tensor).is_none_or(|x| {
                digits::nn::argmax(&model.predict_proba(&x)) != test.labels[i] as usize
            })
        })
        .count()
}

/// The tensor (ink 0..1) as a PNG, dark ink on white.
fn png_of(tensor: &[f32]) -> Vec<u8> {
    let img = GrayImage::from_fn(SIDE as u32, SIDE as u32, |c, r| {
        Luma([255 - (tensor[r as usize * SIDE + c as usize] * 255.0).round() as u8])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageLuma8(img)
        .write_to(&mut out, ImageFormat::Png)
        .expect("a PNG is written to memory");
    out.into_inner()
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (_, test) = digits::data::mnist::load_dir(&args.mnist_dir)?;
    let model = digits::default_model::load_or_default(args.digit_model.as_deref())?.model;
    println!("MNIST's {} test digits, misread:", test.len());
    let as_tensor = misread(&model, &test, |_, x| Some(x.to_vec()));
    println!("  as tensors                            {as_tensor:5}");
    let framed = misread(&model, &test, |_, x| {
        let ink = Ink {
            w: SIDE,
            h: SIDE,
            px: x.to_vec(),
            block: 1,
            width: SIDE as u32,
            height: SIDE as u32,
        };
        Some(ink.input())
    });
    println!("  framed again                          {framed:5}");
    let as_png = misread(&model, &test, |_, x| {
        preprocess::from_bytes(&png_of(x)).ok()
    });
    println!("  as PNG, through preprocess            {as_png:5}");
    for scale in [1.5f32, 2.5, 3.5] {
        let composed = misread(&model, &test, |i, _| {
            let mut rng = ChaCha8Rng::seed_from_u64(i as u64);
            let png = compose(&[mnist_glyph(&test, i, scale)], &[], i % 2 == 1, &mut rng);
            preprocess::from_bytes(&png).ok()
        });
        println!("  composed alone, scaled {scale:.1}x            {composed:5}");
    }
    Ok(())
}
