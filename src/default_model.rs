//! The model built into the binary, so that reading photos and the drawing page work right after
//! install: a CNN (Conv 32 3x3, pool, Conv 64 3x3 same, Conv 64 3x3, pool, Dense 128, dropout
//! 0.5, Dense 10; 261,962 parameters, 1.05 MB) trained by the project on MNIST with augmentation
//! (half of it scanned as box-filling black-and-white digits, 15% of the 1s, 4s, 7s and 9s drawn
//! in shapes MNIST lacks, 40% of the digits with a bar under or over them as a ruled line
//! leaves), then briefly on the plain images and once more augmented, at low rates:
//! `scripts/train_builtin.sh` (MNIST test accuracy 0.9960, Semeion 0.9366).

use crate::train::checkpoint::{self, Checkpoint};
use std::path::Path;

const BYTES: &[u8] = include_bytes!("../assets/default-cnn.safetensors");

/// Inputs per image of the built-in model: 28x28 grey levels.
pub const INPUTS: usize = 784;

/// What errors and summaries call the built-in model.
pub const NAME: &str = "(built-in CNN)";

/// The built-in model.
pub fn load() -> anyhow::Result<Checkpoint> {
    checkpoint::load_bytes(BYTES.to_vec(), Path::new(NAME))
}

/// The checkpoint at `path`, or the built-in model when there is none.
pub fn load_or_default(path: Option<&Path>) -> anyhow::Result<Checkpoint> {
    match path {
        Some(p) => checkpoint::load(p),
        None => load(),
    }
}
