//! Helpers shared by the reliability tests: a small synthetic 20x20 set written the way the
//! course's X.npy / y.npy are, and running the `digits` binary.
#![allow(dead_code)]

use digits::data::{npy, Dataset, PixelLayout, Pixels};
use std::path::Path;
use std::process::Command;

/// `n` 20x20 images (400 values in [0, 1]) whose label decides which rows and columns are
/// bright, plus deterministic noise; optionally one pixel of one image replaced (NaN, inf).
#[derive(Clone, Debug)]
pub struct Set {
    pub n: usize,
    pub bad_pixel: Option<(usize, f64)>,
}

impl Set {
    pub fn new(n: usize) -> Self {
        Set { n, bad_pixel: None }
    }

    pub fn labels(&self) -> Vec<u8> {
        (0..self.n).map(|i| (i * 7 % 10) as u8).collect()
    }

    /// Row-major (n, 400) values.
    pub fn values(&self) -> Vec<f64> {
        let mut state = 12345u32;
        let mut out = Vec::with_capacity(self.n * 400);
        for (i, label) in self.labels().into_iter().enumerate() {
            for p in 0..400 {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (state >> 24) as f64 / 255.0 * 0.25;
                let (r, c) = (p / 20, p % 20);
                let bright = r == 2 + 2 * label as usize || c == 19 - 2 * label as usize;
                out.push(if bright { 0.75 + noise } else { noise });
            }
            if let Some((k, v)) = self.bad_pixel {
                if k == i {
                    out[i * 400 + 123] = v;
                }
            }
        }
        out
    }

    pub fn dataset(&self) -> Dataset {
        Dataset {
            pixels: Pixels::F32(self.values().into_iter().map(|v| v as f32).collect()),
            labels: self.labels(),
            rows: 20,
            cols: 20,
            layout: PixelLayout::ColumnMajor,
        }
    }
}

/// Writes `dir`/X.npy and `dir`/y.npy for `--dataset digits5000 --data-dir dir`.
pub fn write_set(dir: &Path, set: &Set) {
    std::fs::create_dir_all(dir).unwrap();
    npy::write_f64_matrix(&dir.join("X.npy"), &set.values(), set.n, 400).unwrap();
    npy::write_u8_column(&dir.join("y.npy"), &set.labels()).unwrap();
}

pub struct Out {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `digits` binary to completion.
pub fn digits<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_digits"))
        .args(args)
        .output()
        .unwrap();
    Out {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `digits train` on a synthetic 20x20 set with fixed, deterministic settings.
pub fn train_args<'a>(
    data: &'a Path,
    epochs: &'a str,
    seed: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut a = vec![
        "train",
        "--dataset",
        "digits5000",
        "--data-dir",
        s(data),
        "--epochs",
        epochs,
        "--batch-size",
        "16",
        "--seed",
        seed,
        "--threads",
        "1",
    ];
    a.extend_from_slice(extra);
    a
}
