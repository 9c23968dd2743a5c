//! An ink line put on paper and captured the way real numbers are: paper and ink of any shade
//! (light ink on grey paper, both polarities), a printed security pattern, ruled lines, an
//! underline or a box's top and bottom crossing the ink; then made small (digits 8-40 pixels
//! high), blurred, noisy, saved as JPEG or thresholded by a scanner.
//!
//! No printed line runs up and down (a box's sides, squared paper): where one survived the
//! preprocessing it stood beside the writing with nothing in the label for it, and the model
//! learnt to pass over tall thin strokes, a last 1 most of all (`scripts/train_reader.sh`).

use super::compose::{Canvas, DIGIT_HEIGHT};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::{ExtendedColorType, GrayImage};
use rand::Rng;

/// A grey picture, `w` x `h` row-major, 0 = black.
pub struct Picture {
    pub w: usize,
    pub h: usize,
    pub px: Vec<u8>,
}

/// The box (x0, y0, x1, y1) of the canvas's ink, or the whole canvas when it has none.
fn ink_box(c: &Canvas) -> (f32, f32, f32, f32) {
    match c.ink_bounds(0.3) {
        Some((x0, y0, x1, y1)) => (x0 as f32, y0 as f32, x1 as f32, y1 as f32),
        None => (0.0, 0.0, c.w as f32, c.h as f32),
    }
}

/// Printed lines around the writing (none for most lines): ruled lines, an underline, a box's
/// top and bottom; on a canvas of the writing's size.
fn rules<R: Rng>(ink: &Canvas, baseline: f32, rng: &mut R) -> Option<Canvas> {
    let kind = rng.gen_range(0..100);
    if kind > 40 {
        return None;
    }
    let hd = DIGIT_HEIGHT;
    let w = ink.w as f32;
    let (x0, y0, x1, y1) = ink_box(ink);
    let pen = rng.gen_range(0.8..3.0f32);
    let mut c = Canvas::new(ink.w, ink.h);
    let under = baseline + hd * rng.gen_range(-0.05..0.3);
    let pad = hd * rng.gen_range(0.05..0.4);
    match kind {
        // Ruled paper: lines a line apart, one near the baseline.
        0..=14 => {
            let gap = hd * rng.gen_range(1.3..2.2);
            let mut y = under;
            while y > -gap {
                c.segment((0.0, y), (w, y), pen);
                y -= gap;
            }
            c.segment((0.0, under + gap), (w, under + gap), pen);
        }
        // An underline under the writing, or a line through its foot.
        15..=27 => {
            let (a, b) = (x0 - pad * 2.0, x1 + pad * 2.0);
            c.segment((a, under), (b, under + hd * rng.gen_range(-0.1..0.1)), pen);
        }
        // A box around the field, its top and bottom, sometimes cutting into the ink. (Not
        // its sides, nor a comb of a box per digit: they look like 1s.)
        28..=40 => {
            let (a, b, t, u) = (x0 - pad, x1 + pad, y0 - pad, y1 + pad);
            c.segment((a, t), (b, t), pen);
            c.segment((a, u), (b, u), pen);
        }
        _ => unreachable!("kinds above 40 have no rules"),
    }
    Some(c)
}

/// The paper's level at each pixel: flat, with a printed pattern (a bank check's), a
/// gradient of light, or both.
fn paper_levels<R: Rng>(w: usize, h: usize, level: f32, rng: &mut R) -> Vec<f32> {
    let pattern = rng.gen_bool(0.25);
    let amp = rng.gen_range(4.0..35.0f32);
    let waves: Vec<(f32, f32, f32)> = (0..rng.gen_range(1..=3))
        .map(|_| {
            let (period, angle) = (
                rng.gen_range(5.0..40.0f32),
                rng.gen_range(0.0..std::f32::consts::PI),
            );
            let k = std::f32::consts::TAU / period;
            (k * angle.cos(), k * angle.sin(), rng.gen_range(0.0..6.3))
        })
        .collect();
    let (gx, gy) = (
        rng.gen_range(-0.3..0.3f32) * if rng.gen_bool(0.3) { 1.0 } else { 0.0 },
        rng.gen_range(-0.5..0.5f32) * if rng.gen_bool(0.3) { 1.0 } else { 0.0 },
    );
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f32, y as f32);
            let mut v = level + gx * xf + gy * yf;
            if pattern {
                let s: f32 = waves
                    .iter()
                    .map(|&(a, b, p)| (a * xf + b * yf + p).sin())
                    .sum();
                v += amp * s / waves.len() as f32;
            }
            out.push(v);
        }
    }
    out
}

/// The written line `ink` (its baseline at row `baseline`) as a grey picture, captured badly
/// in one of many ways.
pub fn capture<R: Rng>(ink: &Canvas, baseline: f32, rng: &mut R) -> Picture {
    let (w, h) = (ink.w, ink.h);
    let paper = rng.gen_range(150.0..255.0f32);
    let ink_level = rng.gen_range(0.0..(paper - 60.0).min(120.0));
    let rule_level = paper - rng.gen_range(25.0..(paper - ink_level).max(26.0));
    let printed = rules(ink, baseline, rng);
    let mut levels = paper_levels(w, h, paper, rng);
    if let Some(r) = &printed {
        for (v, &a) in levels.iter_mut().zip(&r.px) {
            *v = *v * (1.0 - a) + rule_level * a;
        }
    }
    for (v, &a) in levels.iter_mut().zip(&ink.px) {
        // Ink over paper darkens it (a felt pen over a printed line is no lighter).
        *v = v.min(*v * (1.0 - a) + ink_level * a);
    }
    let big = grey(w, h, levels);
    // Digits 8 to 40 pixels high, most of them small.
    let digit = (rng.gen_range(8f32.ln()..40f32.ln())).exp();
    let f = digit / DIGIT_HEIGHT;
    // Writing narrower or wider than the composed line, as people's is (0.7x to 1.4x).
    let stretch = rng.gen_range(-0.35f32..0.35).exp();
    let (sw, sh) = (
        ((w as f32 * f * stretch).round() as u32).max(4),
        ((h as f32 * f).round() as u32).max(4),
    );
    let mut img = imageops::resize(&big, sw, sh, FilterType::Triangle);
    if rng.gen_bool(0.3) {
        img = imageops::blur(&img, rng.gen_range(0.3..1.1));
    }
    let noise = rng.gen_range(0.0..10.0f32);
    if noise > 1.0 {
        for p in img.pixels_mut() {
            let n = (rng.gen::<f32>() + rng.gen::<f32>() - 1.0) * noise;
            p.0[0] = (p.0[0] as f32 + n).clamp(0.0, 255.0) as u8;
        }
    }
    if rng.gen_bool(0.08) {
        let cut = (paper + ink_level) / 2.0;
        for p in img.pixels_mut() {
            p.0[0] = if (p.0[0] as f32) < cut { 0 } else { 255 };
        }
    }
    if rng.gen_bool(0.2) {
        img = jpeg(&img, rng.gen_range(30..90)).unwrap_or(img);
    }
    if rng.gen_bool(0.08) {
        imageops::invert(&mut img);
    }
    picture_of(img)
}

/// The written line `ink` on clean paper, captured well: dark ink on light paper or the other
/// way round, with a little grain, digits 20-48 pixels high and sharp, as the numbers composed
/// of MNIST digits in `tests/common/numbers.rs` are.
pub fn capture_plain<R: Rng>(ink: &Canvas, rng: &mut R) -> Picture {
    let paper = rng.gen_range(180.0..250.0f32);
    let ink_level = rng.gen_range(0.0..80.0f32);
    let grain = rng.gen_range(0.0..10.0f32);
    let digit = rng.gen_range(20.0..48.0f32);
    let f = digit / DIGIT_HEIGHT;
    let (sw, sh) = (
        ((ink.w as f32 * f).round() as u32).max(4),
        ((ink.h as f32 * f).round() as u32).max(4),
    );
    let big = grey(
        ink.w,
        ink.h,
        ink.px.iter().map(|&a| paper + (ink_level - paper) * a),
    );
    let mut img = imageops::resize(&big, sw, sh, FilterType::Triangle);
    for p in img.pixels_mut() {
        let n = (rng.gen::<f32>() * 2.0 - 1.0) * grain;
        p.0[0] = (p.0[0] as f32 + n).clamp(0.0, 255.0) as u8;
    }
    if rng.gen_bool(0.5) {
        imageops::invert(&mut img);
    }
    picture_of(img)
}

/// A `w` x `h` grey picture of `levels` (row-major), each clamped to 0-255.
fn grey(w: usize, h: usize, levels: impl IntoIterator<Item = f32>) -> GrayImage {
    let px = levels
        .into_iter()
        .map(|v| v.clamp(0.0, 255.0) as u8)
        .collect();
    GrayImage::from_raw(w as u32, h as u32, px).expect("w x h levels")
}

/// `img` as a [`Picture`].
fn picture_of(img: GrayImage) -> Picture {
    Picture {
        w: img.width() as usize,
        h: img.height() as usize,
        px: img.into_raw(),
    }
}

/// The picture saved as a JPEG of `quality` and read back.
fn jpeg(img: &GrayImage, quality: u8) -> Option<GrayImage> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::L8,
        )
        .ok()?;
    Some(image::load_from_memory(&bytes).ok()?.to_luma8())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn a_capture_keeps_the_ink_darker_than_the_paper_mostly() {
        let mut ink = Canvas::new(120, 70);
        ink.segment((20.0, 20.0), (100.0, 50.0), 4.0);
        let (mut darker, mut tries) = (0, 0);
        for seed in 0..40 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let p = capture(&ink, 50.0, &mut rng);
            assert_eq!(p.px.len(), p.w * p.h);
            assert!(p.h >= 4 && p.h <= 2 * 70 + 1, "{}", p.h);
            // Compare the middle of the stroke to a corner (polarity may be inverted).
            let (sx, sy) = (p.w * 60 / 120, p.h * 35 / 70);
            let stroke = p.px[sy * p.w + sx] as i32;
            let corner = p.px[p.w - 1] as i32;
            tries += 1;
            if (stroke - corner).abs() > 20 {
                darker += 1;
            }
        }
        assert!(darker * 10 >= tries * 7, "{darker} of {tries}");
    }

    #[test]
    fn a_plain_capture_is_sharp_and_clean_in_either_polarity() {
        let mut ink = Canvas::new(120, 70);
        ink.segment((20.0, 20.0), (100.0, 50.0), 4.0);
        let (mut dark_ink, mut light_ink) = (0, 0);
        for seed in 0..40 {
            let p = capture_plain(&ink, &mut ChaCha8Rng::seed_from_u64(seed));
            assert_eq!(p.px.len(), p.w * p.h);
            // Digits 20-48 pixels high: the canvas is scaled by 20/DIGIT_HEIGHT to 48/DIGIT_HEIGHT.
            let (lo, hi) = (70.0 * 20.0 / DIGIT_HEIGHT, 70.0 * 48.0 / DIGIT_HEIGHT);
            assert!((lo - 1.0..=hi + 1.0).contains(&(p.h as f32)), "{}", p.h);
            let (sx, sy) = (p.w * 60 / 120, p.h * 35 / 70);
            let (stroke, corner) = (p.px[sy * p.w + sx] as i32, p.px[p.w - 1] as i32);
            // Paper 180-250 and ink 0-80 are at least 100 apart; the resize may lighten the
            // stroke's middle and the grain moves each side by under 10.
            assert!((stroke - corner).abs() >= 60, "{stroke} against {corner}");
            if stroke < corner {
                dark_ink += 1;
            } else {
                light_ink += 1;
            }
        }
        assert!(
            dark_ink >= 10 && light_ink >= 10,
            "{dark_ink} dark, {light_ink} light"
        );
    }
}
