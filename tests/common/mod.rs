//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub mod numbers;

/// Runs the built `digits` binary with `args`.
pub fn digits(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_digits"))
        .args(args)
        .output()
        .expect("run digits")
}

/// The largest |a_i - b_i| of two slices of the same length.
pub fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A command's output as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The MNIST directory: $DIGITS_MNIST_DIR, else ../shared/data/mnist beside the repository,
/// else data/mnist (where `digits data download` puts it).
pub fn mnist_dir() -> PathBuf {
    if let Ok(d) = std::env::var("DIGITS_MNIST_DIR") {
        return d.into();
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/data/mnist");
    if shared.is_dir() {
        shared
    } else {
        root.join("data/mnist")
    }
}

/// MNIST's training and test sets from [`mnist_dir`], or None (the test is then skipped, and
/// says why) where they are not available.
pub fn mnist() -> Option<(digits::data::Dataset, digits::data::Dataset)> {
    let dir = mnist_dir();
    match digits::data::mnist::load_dir(&dir) {
        Ok(sets) => Some(sets),
        Err(e) => {
            eprintln!("SKIPPED: no MNIST at {}: {e}", dir.display());
            None
        }
    }
}

/// The names of the entries of `dir`, sorted.
pub fn sorted_names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
