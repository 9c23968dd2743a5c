//! Drawing primitives on an RGB image; everything is clipped to the image, nothing panics.

use image::{Rgb, RgbImage};

/// Fills the w x h rectangle at (x, y).
pub fn fill_rect(img: &mut RgbImage, x: i64, y: i64, w: u32, h: u32, color: Rgb<u8>) {
    let x0 = x.max(0);
    let y0 = y.max(0);
    let x1 = (x + w as i64).min(img.width() as i64);
    let y1 = (y + h as i64).min(img.height() as i64);
    for py in y0..y1 {
        for px in x0..x1 {
            img.put_pixel(px as u32, py as u32, color);
        }
    }
}

/// Outlines the w x h rectangle at (x, y) with a border `t` pixels thick, drawn inside it.
pub fn stroke_rect(img: &mut RgbImage, x: i64, y: i64, w: u32, h: u32, t: u32, color: Rgb<u8>) {
    fill_rect(img, x, y, w, t, color);
    fill_rect(img, x, y + h as i64 - t as i64, w, t, color);
    fill_rect(img, x, y, t, h, color);
    fill_rect(img, x + w as i64 - t as i64, y, t, h, color);
}

/// Mixes `color` into pixel (x, y) with weight `alpha` in [0, 1].
pub fn blend(img: &mut RgbImage, x: i64, y: i64, color: Rgb<u8>, alpha: f32) {
    if x < 0 || y < 0 || x >= img.width() as i64 || y >= img.height() as i64 || alpha <= 0.0 {
        return;
    }
    let a = alpha.min(1.0);
    let p = img.get_pixel_mut(x as u32, y as u32);
    for k in 0..3 {
        p.0[k] = (p.0[k] as f32 * (1.0 - a) + color.0[k] as f32 * a).round() as u8;
    }
}

/// An anti-aliased segment `width` pixels thick between two points (pixel centres at +0.5).
pub fn line(img: &mut RgbImage, a: (f64, f64), b: (f64, f64), width: f64, color: Rgb<u8>) {
    if ![a.0, a.1, b.0, b.1].iter().all(|v| v.is_finite()) {
        return;
    }
    let r = width / 2.0;
    let (vx, vy) = (b.0 - a.0, b.1 - a.1);
    let len2 = vx * vx + vy * vy;
    let w = img.width() as f64;
    let h = img.height() as f64;
    let x0 = (a.0.min(b.0) - r - 1.0).floor().max(0.0) as i64;
    let x1 = (a.0.max(b.0) + r + 1.0).ceil().min(w) as i64;
    let y0 = (a.1.min(b.1) - r - 1.0).floor().max(0.0) as i64;
    let y1 = (a.1.max(b.1) + r + 1.0).ceil().min(h) as i64;
    for py in y0..y1 {
        for px in x0..x1 {
            let (cx, cy) = (px as f64 + 0.5, py as f64 + 0.5);
            let t = if len2 > 0.0 {
                (((cx - a.0) * vx + (cy - a.1) * vy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let d = ((cx - a.0 - t * vx).powi(2) + (cy - a.1 - t * vy).powi(2)).sqrt();
            blend(img, px, py, color, (r + 0.5 - d).clamp(0.0, 1.0) as f32);
        }
    }
}

/// Draws a side x side grey image (0..1, row-major, 1 = white) at (x, y), each pixel a
/// `scale` x `scale` block. Missing or out-of-range values are drawn black.
pub fn draw_gray(img: &mut RgbImage, x: i64, y: i64, pixels: &[f32], side: usize, scale: u32) {
    for r in 0..side {
        for c in 0..side {
            let v = pixels.get(r * side + c).copied().unwrap_or(0.0);
            let g = if v.is_finite() {
                (v.clamp(0.0, 1.0) * 255.0).round() as u8
            } else {
                0
            };
            let (px, py) = (x + (c as u32 * scale) as i64, y + (r as u32 * scale) as i64);
            fill_rect(img, px, py, scale, scale, Rgb([g, g, g]));
        }
    }
}
