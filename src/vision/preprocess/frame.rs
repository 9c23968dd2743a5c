//! Ink map to the MNIST frame: crop, fit 20x20 keeping the aspect ratio, centre of mass at
//! the middle of 28x28.

use super::{stroke, Gray, BOX, SIDE};
use image::imageops::{resize, FilterType};
use image::{ImageBuffer, Luma};

/// `ink` (w x h, 0..1, not all zero) to a 28x28 row-major image.
pub(super) fn frame(ink: &[f32], w: usize, h: usize) -> Vec<f32> {
    let crop = crop_to_ink(ink, w, h);
    let mut small = fit_box(&crop);
    // Strokes are measured in box pixels (MNIST's were measured in its 20x20 box): on the crop
    // itself when it is larger, where a thin line is still many pixels and measures true. Thin
    // ones are grown in the crop, then it is scaled again.
    let per_box = crop.w.max(crop.h) as f32 / BOX as f32;
    let measured = if per_box > 1.0 {
        stroke::width(&crop.px, crop.w, crop.h).map(|w| w / per_box)
    } else {
        stroke::width(&small.px, small.w, small.h)
    };
    // The scaled result is measured again (a line a box pixel wide may fall across two pixels
    // and read thinner), and grown further if still thin.
    let mut grown = 0.0;
    let mut missing = measured.and_then(stroke::missing_radius);
    for _ in 0..3 {
        let Some(r) = missing else { break };
        grown += r * per_box;
        let pad = grown.ceil() as usize + 1;
        let padded = pad_by(&crop, pad);
        let thick = stroke::thicken(&padded.px, padded.w, padded.h, grown);
        small = fit_box(&crop_to_ink(&thick, padded.w, padded.h));
        missing = stroke::width(&small.px, small.w, small.h).and_then(stroke::missing_radius);
    }
    // Pixel centres are at i + 0.5, so the middle of the 28x28 field is (14, 14).
    let (cx, cy) = centre_of_mass(&small.px, small.w);
    let place = |size: usize, c: f32| {
        let ideal = (SIDE as f32 / 2.0 - c).round() as i64;
        ideal.clamp(0, (SIDE - size) as i64) as usize
    };
    let (ox, oy) = (place(small.w, cx), place(small.h, cy));
    let mut out = vec![0.0f32; SIDE * SIDE];
    for y in 0..small.h {
        for x in 0..small.w {
            out[(oy + y) * SIDE + ox + x] = small.px[y * small.w + x];
        }
    }
    out
}

/// The smallest rectangle holding all the ink.
fn crop_to_ink(ink: &[f32], w: usize, h: usize) -> Gray {
    let (x0, y0, x1, y1) = bounding_box(ink, w, h);
    Gray {
        w: x1 - x0,
        h: y1 - y0,
        px: (y0..y1)
            .flat_map(|y| ink[y * w + x0..y * w + x1].iter().copied())
            .collect(),
    }
}

/// `g` with `p` blank pixels added on every side.
fn pad_by(g: &Gray, p: usize) -> Gray {
    let w = g.w + 2 * p;
    let mut px = vec![0.0f32; w * (g.h + 2 * p)];
    for y in 0..g.h {
        px[(y + p) * w + p..(y + p) * w + p + g.w].copy_from_slice(&g.px[y * g.w..(y + 1) * g.w]);
    }
    Gray {
        w,
        h: g.h + 2 * p,
        px,
    }
}

/// Half-open box (x0, y0, x1, y1) of the nonzero pixels.
fn bounding_box(ink: &[f32], w: usize, h: usize) -> (usize, usize, usize, usize) {
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if ink[y * w + x] > 0.0 {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x + 1);
                y1 = y1.max(y + 1);
            }
        }
    }
    (x0, y0, x1, y1)
}

/// Scales so the longer side is `BOX` pixels. The triangle filter widens with the shrink
/// factor, so a big crop is area-averaged (the grey, anti-aliased MNIST edges).
fn fit_box(crop: &Gray) -> Gray {
    let scale = BOX as f32 / crop.w.max(crop.h) as f32;
    let nw = ((crop.w as f32 * scale).round() as u32).clamp(1, BOX as u32);
    let nh = ((crop.h as f32 * scale).round() as u32).clamp(1, BOX as u32);
    let buf: ImageBuffer<Luma<f32>, Vec<f32>> =
        ImageBuffer::from_raw(crop.w as u32, crop.h as u32, crop.px.clone())
            .expect("buffer matches its size");
    let out = resize(&buf, nw, nh, FilterType::Triangle);
    let mut px = out.into_raw();
    // Area-averaging thins very narrow strokes; bring the strongest pixel back to full ink.
    let peak = px.iter().copied().fold(0.0f32, f32::max);
    for v in &mut px {
        *v = if peak > 0.0 {
            (*v / peak).clamp(0.0, 1.0)
        } else {
            0.0
        };
    }
    Gray {
        w: nw as usize,
        h: nh as usize,
        px,
    }
}

/// Ink-weighted mean position, pixel centres at i + 0.5.
pub(super) fn centre_of_mass(px: &[f32], w: usize) -> (f32, f32) {
    let (mut sx, mut sy, mut s) = (0.0f64, 0.0f64, 0.0f64);
    for (i, &v) in px.iter().enumerate() {
        let v = v as f64;
        sx += v * ((i % w) as f64 + 0.5);
        sy += v * ((i / w) as f64 + 0.5);
        s += v;
    }
    if s == 0.0 {
        return (w as f32 / 2.0, (px.len() / w.max(1)) as f32 / 2.0);
    }
    ((sx / s) as f32, (sy / s) as f32)
}
