//! Grey levels to an ink map: polarity, background removal, noise threshold, specks.

use super::{Gray, PreprocessError};

/// Below this contrast between ink and background the image is taken as blank.
const MIN_CONTRAST: f32 = 0.1;
/// Connected ink blobs smaller than this fraction of the largest one are dust, not strokes.
const SPECK_FRACTION: f32 = 0.03;

/// Ink map of the same size: 0 = background, 1 = solid stroke, grey anti-aliased edges kept.
pub(super) fn ink_map(
    gray: &Gray,
    ink_is_light: Option<bool>,
) -> Result<Vec<f32>, PreprocessError> {
    let mean = gray.px.iter().sum::<f32>() / gray.px.len() as f32;
    // The border is mostly background, whatever the digit does.
    let light = ink_is_light.unwrap_or_else(|| border_median(&gray.px, gray.w, gray.h) < mean);
    let mut ink: Vec<f32> = gray
        .px
        .iter()
        .map(|&v| if light { v } else { 1.0 - v })
        .collect();
    let bg = border_median(&ink, gray.w, gray.h);
    let mut peak = 0.0f32;
    for v in &mut ink {
        *v = (*v - bg).max(0.0);
        peak = peak.max(*v);
    }
    if peak < MIN_CONTRAST {
        return Err(PreprocessError::Blank);
    }
    for v in &mut ink {
        *v /= peak;
    }
    // Otsu separates strokes from paper; below half of it is noise (JPEG ringing, paper
    // texture). The strokes' typical level becomes full ink, as in MNIST, with edges in between.
    let t = otsu(&ink);
    let floor = (0.5 * t).max(0.05);
    let mut strong: Vec<f32> = ink.iter().copied().filter(|&v| v >= t).collect();
    let core = if strong.is_empty() {
        1.0
    } else {
        let mid = strong.len() / 2;
        *strong.select_nth_unstable_by(mid, f32::total_cmp).1
    };
    let span = if core - floor > 1e-3 {
        core - floor
    } else {
        1.0 - floor
    };
    for v in &mut ink {
        *v = if *v <= floor {
            0.0
        } else {
            ((*v - floor) / span).min(1.0)
        };
    }
    remove_specks(&mut ink, gray.w, gray.h);
    if ink.iter().all(|&v| v == 0.0) {
        return Err(PreprocessError::Blank);
    }
    Ok(ink)
}

/// Median of the one-pixel frame (two rows and two columns) of the image.
fn border_median(px: &[f32], w: usize, h: usize) -> f32 {
    let mut v: Vec<f32> = Vec::with_capacity(2 * (w + h));
    for x in 0..w {
        v.push(px[x]);
        v.push(px[(h - 1) * w + x]);
    }
    for y in 0..h {
        v.push(px[y * w]);
        v.push(px[y * w + w - 1]);
    }
    let mid = v.len() / 2;
    *v.select_nth_unstable_by(mid, f32::total_cmp).1
}

/// Otsu's threshold of values in [0, 1] (256 bins), as a value in [0, 1].
fn otsu(values: &[f32]) -> f32 {
    let mut hist = [0u64; 256];
    for &v in values {
        hist[(v.clamp(0.0, 1.0) * 255.0).round() as usize] += 1;
    }
    let total = values.len() as f64;
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut w0, mut sum0) = (0.0f64, 0.0f64);
    let (mut best, mut best_t) = (-1.0f64, 128usize);
    for (t, &c) in hist.iter().enumerate().take(255) {
        w0 += c as f64;
        sum0 += t as f64 * c as f64;
        let w1 = total - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let (m0, m1) = (sum0 / w0, (sum_all - sum0) / w1);
        let between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            best_t = t + 1;
        }
    }
    best_t as f32 / 255.0
}

/// Clears 8-connected ink blobs much smaller than the largest (dust, dots of noise).
fn remove_specks(ink: &mut [f32], w: usize, h: usize) {
    let mut label = vec![0u32; ink.len()];
    let mut sizes = vec![0usize]; // label 0 = background
    let mut stack = Vec::new();
    for start in 0..ink.len() {
        if ink[start] == 0.0 || label[start] != 0 {
            continue;
        }
        let id = sizes.len() as u32;
        let mut size = 0;
        label[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            size += 1;
            let (x, y) = (i % w, i / w);
            for ny in y.saturating_sub(1)..(y + 2).min(h) {
                for nx in x.saturating_sub(1)..(x + 2).min(w) {
                    let j = ny * w + nx;
                    if ink[j] > 0.0 && label[j] == 0 {
                        label[j] = id;
                        stack.push(j);
                    }
                }
            }
        }
        sizes.push(size);
    }
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let min_size = (largest as f32 * SPECK_FRACTION).ceil() as usize;
    for (v, &l) in ink.iter_mut().zip(&label) {
        if l != 0 && sizes[l as usize] < min_size {
            *v = 0.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otsu_splits_two_levels() {
        let mut v = vec![0.1f32; 100];
        v.extend(vec![0.9f32; 50]);
        let t = otsu(&v);
        assert!(t > 0.1 && t <= 0.9, "{t}");
    }

    #[test]
    fn specks_are_removed_strokes_kept() {
        let (w, h) = (20, 20);
        let mut ink = vec![0.0f32; w * h];
        for y in 2..18 {
            for x in 8..11 {
                ink[y * w + x] = 1.0;
            }
        }
        ink[w + 1] = 1.0; // a lone dot
        remove_specks(&mut ink, w, h);
        assert_eq!(ink[w + 1], 0.0);
        assert_eq!(ink[10 * w + 9], 1.0);
    }
}
