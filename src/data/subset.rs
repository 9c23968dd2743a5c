//! A 20x20 set in the layout of the Keras tutorial (X.npy, y.npy), built from MNIST.
//!
//! MNIST digits are size-normalised into a 20x20 box inside the 28x28 frame. Each image is cut
//! to a square window centred on its ink (side 20, or the ink's extent if larger) and
//! area-averaged down to 20x20, so the digit fills the image like the tutorial's, without
//! clipping. Pixels are scaled to [0, 1] and stored column by column (`X[i].reshape(20,20).T`
//! is the upright image); rows are sorted by label, `per_class` of each digit.

use super::digits5000::SIDE;
use super::{npy, Dataset, PixelLayout, PixelScale, Pixels};
use anyhow::{bail, Context, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// The subset: `per_class` images of each digit 0..9 from `train`, chosen by `seed`.
pub fn build(train: &Dataset, per_class: usize, seed: u64) -> Result<Dataset> {
    let chosen = choose(&train.labels, per_class, seed)?;
    let f = SIDE * SIDE;
    let mut x = vec![0.0f32; chosen.len() * f];
    for (k, &i) in chosen.iter().enumerate() {
        let img = resample_20(&train.display_image(i), train.rows, train.cols);
        let out = &mut x[k * f..(k + 1) * f];
        // Column-major: pixel (r, c) of the upright image goes to c * 20 + r.
        for r in 0..SIDE {
            for c in 0..SIDE {
                out[c * SIDE + r] = img[r * SIDE + c];
            }
        }
    }
    Ok(Dataset {
        pixels: Pixels::F32(x),
        labels: chosen.iter().map(|&i| train.labels[i]).collect(),
        rows: SIDE,
        cols: SIDE,
        layout: PixelLayout::ColumnMajor,
    })
}

/// Indices of `per_class` images of each digit, digit 0 first, ascending within a digit.
pub fn choose(labels: &[u8], per_class: usize, seed: u64) -> Result<Vec<usize>> {
    if per_class == 0 {
        bail!("per-class count must be at least 1");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(per_class * 10);
    for digit in 0..10u8 {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == digit).collect();
        if idx.len() < per_class {
            bail!(
                "only {} images of digit {digit} in the source set, {per_class} needed",
                idx.len()
            );
        }
        idx.shuffle(&mut rng);
        idx.truncate(per_class);
        idx.sort_unstable();
        out.extend(idx);
    }
    Ok(out)
}

/// A row-major `rows x cols` grey image (0..1) as a row-major 20x20 image: the square window
/// centred on the ink (side max(20, ink height, ink width), zero outside the frame),
/// area-averaged to 20x20.
pub fn resample_20(img: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let ink = |r: usize, c: usize| img[r * cols + c] > 0.0;
    let ink_rows: Vec<usize> = (0..rows)
        .filter(|&r| (0..cols).any(|c| ink(r, c)))
        .collect();
    let ink_cols: Vec<usize> = (0..cols)
        .filter(|&c| (0..rows).any(|r| ink(r, c)))
        .collect();
    let (r0, r1, c0, c1) = match (
        ink_rows.first(),
        ink_rows.last(),
        ink_cols.first(),
        ink_cols.last(),
    ) {
        (Some(&a), Some(&b), Some(&c), Some(&d)) => (a, b + 1, c, d + 1),
        _ => (0, rows, 0, cols), // blank: the whole frame
    };
    let side = (r1 - r0).max(c1 - c0).max(SIDE);
    // Window start, possibly negative or past the frame (zeros there).
    let start = |lo: usize, hi: usize| (lo + hi) as i64 / 2 - side as i64 / 2;
    let wy = area_weights(start(r0, r1), side, rows);
    let wx = area_weights(start(c0, c1), side, cols);
    // tmp = img * wx^T (rows x 20), then out = wy * tmp.
    let mut tmp = vec![0.0f32; rows * SIDE];
    for r in 0..rows {
        for (c, w) in wx.iter().enumerate() {
            tmp[r * SIDE + c] = w.iter().map(|&(j, wt)| img[r * cols + j] * wt).sum();
        }
    }
    let mut out = vec![0.0f32; SIDE * SIDE];
    for (r, w) in wy.iter().enumerate() {
        for c in 0..SIDE {
            let v: f32 = w.iter().map(|&(i, wt)| tmp[i * SIDE + c] * wt).sum();
            out[r * SIDE + c] = v.clamp(0.0, 1.0);
        }
    }
    out
}

/// For each of the 20 output pixels, the (source pixel, weight) pairs of the window
/// `[start, start + side)` split into 20 equal parts; pixels outside `0..len` count as zero.
fn area_weights(start: i64, side: usize, len: usize) -> Vec<Vec<(usize, f32)>> {
    let step = side as f64 / SIDE as f64;
    (0..SIDE)
        .map(|o| {
            let a = start as f64 + o as f64 * step;
            let b = a + step;
            let mut w = Vec::new();
            for i in (a.floor() as i64).max(0)..(b.ceil() as i64).min(len as i64) {
                let overlap = (b.min(i as f64 + 1.0) - a.max(i as f64)).max(0.0);
                if overlap > 0.0 {
                    w.push((i as usize, (overlap / step) as f32));
                }
            }
            w
        })
        .collect()
}

/// Writes `dir`/X.npy (`<f8`, (n, 400)) and `dir`/y.npy (`|u1`, (n, 1)) like the tutorial's.
pub fn write_dir(dataset: &Dataset, dir: &Path) -> Result<()> {
    if (dataset.rows, dataset.cols, dataset.layout) != (SIDE, SIDE, PixelLayout::ColumnMajor) {
        bail!(
            "{}: the 20x20 set needs 20x20 column-major images, got {}x{} {:?}",
            dir.display(),
            dataset.rows,
            dataset.cols,
            dataset.layout
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let all: Vec<usize> = (0..dataset.len()).collect();
    let x: Vec<f64> = dataset
        .batch_x(&all, PixelScale::Unit)
        .into_iter()
        .map(f64::from)
        .collect();
    npy::write_f64_matrix(&dir.join("X.npy"), &x, dataset.len(), SIDE * SIDE)?;
    npy::write_u8_column(&dir.join("y.npy"), &dataset.labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_by_twenty_ink_is_copied_unchanged() {
        // Ink filling rows/cols 4..24 of a 28x28 frame: the window is exactly that box.
        let mut img = vec![0.0f32; 28 * 28];
        for r in 4..24 {
            for c in 4..24 {
                img[r * 28 + c] = ((r * 31 + c * 7) % 10 + 1) as f32 / 10.0;
            }
        }
        let out = resample_20(&img, 28, 28);
        for r in 0..20 {
            for c in 0..20 {
                assert_eq!(out[r * 20 + c], img[(r + 4) * 28 + c + 4], "({r}, {c})");
            }
        }
    }

    #[test]
    fn large_ink_is_averaged_keeping_mass() {
        let img = vec![1.0f32; 28 * 28];
        let out = resample_20(&img, 28, 28);
        assert!(out.iter().all(|&v| (v - 1.0).abs() < 1e-5));
        // A 28x28 window onto 20x20 keeps the mean: one lit pixel of 1/784 of the area.
        let mut one = vec![0.0f32; 28 * 28];
        one[0] = 1.0;
        one[27 * 28 + 27] = 1.0; // ink extent 28x28
        let out = resample_20(&one, 28, 28);
        let mean: f32 = out.iter().sum::<f32>() / 400.0;
        assert!((mean - 2.0 / 784.0).abs() < 1e-6, "{mean}");
    }

    #[test]
    fn choose_is_deterministic_and_balanced() {
        let labels: Vec<u8> = (0..300).map(|i| (i % 10) as u8).collect();
        let a = choose(&labels, 7, 1).unwrap();
        assert_eq!(a, choose(&labels, 7, 1).unwrap());
        assert_ne!(a, choose(&labels, 7, 2).unwrap());
        for d in 0..10 {
            assert!(a[d * 7..(d + 1) * 7].iter().all(|&i| labels[i] == d as u8));
        }
        let err = choose(&labels, 31, 1).unwrap_err().to_string();
        assert!(err.contains("only 30 images of digit 0"), "{err}");
    }
}
