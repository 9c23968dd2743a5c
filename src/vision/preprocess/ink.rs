//! Grey levels to an ink map: polarity, background removal, noise threshold, specks.

use super::{background, lines, median, Gray, PreprocessError, PEN_OVER_LINE};

/// Below this contrast between ink and background the image is taken as blank.
const MIN_CONTRAST: f32 = 0.1;
/// Connected ink blobs smaller than this fraction of the largest one are dust, not strokes.
const SPECK_FRACTION: f32 = 0.03;
/// Paper darker than this (as a share of white) is not used to scale the ink up further.
const MIN_PAPER: f32 = 0.2;

/// Ink map of the same size: 0 = background, 1 = solid stroke, grey anti-aliased edges kept.
pub(super) fn ink_map(
    gray: &Gray,
    ink_is_light: Option<bool>,
) -> Result<Vec<f32>, PreprocessError> {
    let light = ink_is_light.unwrap_or_else(|| ink_looks_light(gray));
    let lit = Gray {
        w: gray.w,
        h: gray.h,
        px: gray
            .px
            .iter()
            .map(|&v| if light { v } else { 1.0 - v })
            .collect(),
    };
    // Ink is what stands out from the paper around it, as a share of the paper's brightness
    // (a stroke in a shadow is as dark, relative to its paper, as one in the light).
    // The border is mostly paper: the paper's level is at least that of its lightest tenth (lest
    // a strip of paper narrower than the opening's window be taken for ink). A small picture is
    // taken as evenly lit: its paper is its border's median, or, when the polarity was found
    // from the levels, the level of its lightest tenth if lower (a scanned digit stretched to
    // fill its cell has ink all along the border).
    let paper: Vec<f32> = match background::paper_level(&lit) {
        Some(level) => {
            let least = border_quantile(&lit.px, lit.w, lit.h, 0.1);
            level.into_iter().map(|p| p.max(least)).collect()
        }
        None => {
            let mut p = border_quantile(&lit.px, lit.w, lit.h, 0.5);
            if ink_is_light.is_none() {
                let mut v = lit.px.clone();
                let k = v.len() / 10;
                p = p.min(*v.select_nth_unstable_by(k, f32::total_cmp).1);
            }
            vec![p; lit.px.len()]
        }
    };
    let above: Vec<f32> = lit.px.iter().zip(&paper).map(|(&v, &p)| v - p).collect();
    if above.iter().copied().fold(0.0f32, f32::max) < MIN_CONTRAST {
        return Err(PreprocessError::Blank);
    }
    let mut ink: Vec<f32> = above
        .iter()
        .zip(&paper)
        .map(|(&a, &p)| (a / (1.0 - p).max(MIN_PAPER)).max(0.0))
        .collect();
    let peak = ink.iter().copied().fold(0.0f32, f32::max);
    for v in &mut ink {
        *v /= peak;
    }
    // Otsu separates strokes from paper; below half of it is noise (JPEG ringing, paper
    // texture). Ruled or grid lines are taken out, then the levels are found again without
    // them. The strokes' typical level becomes full ink, as in MNIST, with edges in between.
    let (mut t, mut floor) = levels(&ink);
    let mask: Vec<bool> = ink.iter().map(|&v| v > floor).collect();
    let lines = lines::line_pixels(&mask, gray.w, gray.h);
    if lines.iter().any(|&l| l) {
        // Ink well above the lines' own level, on their pixels, is a pen stroke lying along
        // one (the foot of a 0 or a 6, the base of a 2 written on the line): kept.
        let mut on_lines: Vec<f32> = ink
            .iter()
            .zip(&lines)
            .filter(|(_, &l)| l)
            .map(|(&v, _)| v)
            .collect();
        let printed = median(&mut on_lines);
        for (v, &l) in ink.iter_mut().zip(&lines) {
            if l && *v < printed + PEN_OVER_LINE {
                *v = 0.0;
            }
        }
        (t, floor) = levels(&ink);
    }
    let mut strong: Vec<f32> = ink.iter().copied().filter(|&v| v >= t).collect();
    let core = if strong.is_empty() {
        1.0
    } else {
        median(&mut strong)
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

/// Whether the ink is lighter than the paper. In a small picture (a digit's cell: a scan, a
/// canvas) the border is paper, whatever the digit does: where it is darker than the picture on
/// average, the ink is light. In a photo the border may be in a shadow: there ink is the few
/// pixels far from the paper's level, to one side, so dark ink skews the levels towards dark (a
/// long tail of dark pixels), light ink towards light; levels are taken relative to the light
/// falling on each place, so that a shadow does not decide.
fn ink_looks_light(gray: &Gray) -> bool {
    if gray.w.max(gray.h) < background::MIN_SIDE {
        let mean = gray.px.iter().sum::<f32>() / gray.px.len() as f32;
        return border_quantile(&gray.px, gray.w, gray.h, 0.5) < mean;
    }
    let around = background::illumination(gray);
    let flat: Vec<f64> = gray
        .px
        .iter()
        .zip(&around)
        .map(|(&v, &l)| (v - l) as f64)
        .collect();
    let mean = flat.iter().sum::<f64>() / flat.len() as f64;
    flat.iter().map(|f| (f - mean).powi(3)).sum::<f64>() > 0.0
}

/// Otsu's threshold of the ink levels and the noise floor under it: half of Otsu's, and above
/// the paper's own grain (most pixels are paper: their median plus four robust standard
/// deviations, from the median absolute deviation).
fn levels(ink: &[f32]) -> (f32, f32) {
    let t = otsu(ink);
    let mut v = ink.to_vec();
    let middle = median(&mut v);
    for x in &mut v {
        *x = (*x - middle).abs();
    }
    let mad = median(&mut v);
    let grain = middle + 4.0 * 1.4826 * mad;
    (t, (0.5 * t).max(grain).max(0.05).min(0.9 * t))
}

/// Quantile `q` of the one-pixel frame (two rows and two columns) of the image.
fn border_quantile(px: &[f32], w: usize, h: usize, q: f32) -> f32 {
    let mut v: Vec<f32> = Vec::with_capacity(2 * (w + h));
    for x in 0..w {
        v.push(px[x]);
        v.push(px[(h - 1) * w + x]);
    }
    for y in 0..h {
        v.push(px[y * w]);
        v.push(px[y * w + w - 1]);
    }
    let k = ((v.len() - 1) as f32 * q) as usize;
    *v.select_nth_unstable_by(k, f32::total_cmp).1
}

/// round(255 v) for v clamped to [0, 1] (halves away from zero, as `f32::round`, which is a
/// libm call here: this runs for every pixel). x - trunc(x) is exact for x >= 0.
fn level_of(v: f32) -> usize {
    let x = v.clamp(0.0, 1.0) * 255.0;
    let i = x as usize;
    if x - i as f32 >= 0.5 {
        i + 1
    } else {
        i
    }
}

/// Otsu's threshold of values in [0, 1] (256 bins), as a value in [0, 1].
fn otsu(values: &[f32]) -> f32 {
    let mut hist = [0u64; 256];
    for &v in values {
        hist[level_of(v)] += 1;
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
    fn a_level_is_rounded_as_f32_round_rounds_it() {
        let mut values = vec![f32::NAN, -1.0, -0.0, 0.0, 2.0, f32::INFINITY];
        // Every half level and its neighbouring floats, and a fine sweep.
        for k in 0..256 {
            let half = (k as f32 + 0.5) / 255.0;
            values.extend([
                half,
                f32::from_bits(half.to_bits() - 1),
                f32::from_bits(half.to_bits() + 1),
            ]);
        }
        values.extend((0..=100_000).map(|i| i as f32 / 100_000.0));
        for v in values {
            let want = (v.clamp(0.0, 1.0) * 255.0).round() as usize;
            assert_eq!(level_of(v), want, "{v:e}");
        }
    }

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

    #[test]
    fn a_pen_stroke_along_a_grey_ruled_line_is_kept_and_the_line_goes() {
        // White paper, a grey ruled line (rows 50-51), and in black pen a stem down to the line
        // and a foot lying along it (columns 40-69).
        let (w, h) = (120, 80);
        let mut px = vec![1.0f32; w * h];
        for x in 0..w {
            px[50 * w + x] = 0.6;
            px[51 * w + x] = 0.6;
        }
        for y in 20..52 {
            for x in 40..43 {
                px[y * w + x] = 0.0;
            }
        }
        for y in 49..52 {
            for x in 40..70 {
                px[y * w + x] = 0.0;
            }
        }
        let ink = ink_map(&Gray { w, h, px }, None).unwrap();
        assert!((44..68).all(|x| ink[50 * w + x] > 0.5), "the foot stays");
        assert!(
            [10, 90, 110].iter().all(|&x| ink[50 * w + x] == 0.0),
            "the line goes"
        );
    }
}
