//! Handwriting-like digits for testing the photo reader on images that are not MNIST: each digit
//! is a few pen strokes (polylines in a unit box), drawn with a random pen width, slant, rotation,
//! size, position, wobble, ink and paper colours, and paper noise, at a random image size.

use image::{Rgb, RgbImage};
use rand::Rng;
use std::f32::consts::PI;

type Stroke = Vec<(f32, f32)>;

/// Points on an elliptical arc centred (cx, cy) with radii (rx, ry), from angle a0 to a1 (radians,
/// 0 = right, y grows downwards).
fn arc(cx: f32, cy: f32, rx: f32, ry: f32, a0: f32, a1: f32) -> Stroke {
    let n = 24;
    (0..=n)
        .map(|k| {
            let a = a0 + (a1 - a0) * k as f32 / n as f32;
            (cx + rx * a.cos(), cy + ry * a.sin())
        })
        .collect()
}

/// The pen strokes of a digit in a unit box (x right, y down).
pub fn strokes(digit: u8) -> Vec<Stroke> {
    match digit {
        0 => vec![arc(0.5, 0.5, 0.3, 0.45, 0.0, 2.0 * PI)],
        1 => vec![vec![(0.35, 0.2), (0.55, 0.05), (0.55, 0.95)]],
        2 => {
            let mut s = arc(0.5, 0.3, 0.3, 0.25, PI, 2.25 * PI);
            s.extend([(0.18, 0.95), (0.85, 0.95)]);
            vec![s]
        }
        3 => {
            let mut s = arc(0.48, 0.28, 0.28, 0.23, 1.1 * PI, 2.5 * PI);
            s.extend(arc(0.48, 0.73, 0.32, 0.23, 1.5 * PI, 2.9 * PI));
            vec![s]
        }
        4 => vec![
            vec![(0.6, 0.05), (0.15, 0.65), (0.85, 0.65)],
            vec![(0.65, 0.35), (0.65, 0.95)],
        ],
        5 => {
            let mut s = vec![(0.8, 0.05), (0.3, 0.05), (0.25, 0.45)];
            s.extend(arc(0.5, 0.68, 0.3, 0.27, 1.25 * PI, 2.8 * PI));
            vec![s]
        }
        6 => {
            let mut s = arc(0.62, 0.45, 0.4, 0.42, 1.45 * PI, 0.95 * PI);
            s.extend(arc(0.5, 0.7, 0.27, 0.24, PI, 3.0 * PI));
            vec![s]
        }
        7 => vec![vec![(0.15, 0.08), (0.85, 0.08), (0.4, 0.95)]],
        8 => vec![
            arc(0.5, 0.27, 0.24, 0.22, 0.5 * PI, 2.5 * PI),
            arc(0.5, 0.72, 0.3, 0.24, 1.5 * PI, 3.5 * PI),
        ],
        _ => {
            let mut s = arc(0.48, 0.3, 0.28, 0.25, 0.0, 2.0 * PI);
            s.extend([(0.76, 0.3), (0.7, 0.95)]);
            vec![s]
        }
    }
}

/// One digit drawn as a person might on paper or a screen: returns the picture.
pub fn render(digit: u8, rng: &mut impl Rng) -> RgbImage {
    let (w, h) = (rng.gen_range(60..220), rng.gen_range(60..220));
    let dark_on_light = rng.gen_bool(0.7);
    let shade = |base: u8, spread: u8, rng: &mut dyn rand::RngCore| {
        base.saturating_add((rng.next_u32() % spread as u32) as u8)
    };
    let (paper, ink) = if dark_on_light {
        let p = shade(200, 55, rng);
        let tint = rng.gen_range(0..3usize);
        let mut ink = [shade(10, 60, rng), shade(10, 60, rng), shade(10, 60, rng)];
        ink[tint] = ink[tint].saturating_add(80);
        (
            [
                p,
                p.saturating_sub(rng.gen_range(0..20)),
                p.saturating_sub(rng.gen_range(0..30)),
            ],
            ink,
        )
    } else {
        let p = shade(0, 50, rng);
        let i = shade(190, 65, rng);
        ([p, p, p], [i, i, i])
    };
    let mut img = RgbImage::from_pixel(w, h, Rgb(paper));
    // Paper noise.
    for px in img.pixels_mut() {
        let n = rng.gen_range(-12i16..=12);
        for c in px.0.iter_mut() {
            *c = (*c as i16 + n).clamp(0, 255) as u8;
        }
    }
    // The digit's box: 45-85% of the shorter side, somewhere inside the image.
    let side = (w.min(h) as f32) * rng.gen_range(0.45..0.85);
    let (bw, bh) = (side * rng.gen_range(0.55..0.8), side);
    let (ox, oy) = (
        rng.gen_range(0.0..(w as f32 - bw).max(1.0)),
        rng.gen_range(0.0..(h as f32 - bh).max(1.0)),
    );
    let (slant, turn) = (rng.gen_range(-0.3..0.3f32), rng.gen_range(-0.2..0.2f32));
    let pen = (side * rng.gen_range(0.06..0.14)).max(1.5);
    let wobble = rng.gen_range(0.0..0.03f32);
    let (cx, cy) = (0.5f32, 0.5f32);
    for stroke in strokes(digit) {
        let pts: Vec<(f32, f32)> = stroke
            .iter()
            .map(|&(x, y)| {
                let (x, y) = (
                    x + rng.gen_range(-wobble..=wobble),
                    y + rng.gen_range(-wobble..=wobble),
                );
                let x = x + slant * (0.5 - y);
                let (dx, dy) = (x - cx, y - cy);
                let (xr, yr) = (
                    cx + dx * turn.cos() - dy * turn.sin(),
                    cy + dx * turn.sin() + dy * turn.cos(),
                );
                (ox + xr * bw, oy + yr * bh)
            })
            .collect();
        for seg in pts.windows(2) {
            draw_segment(&mut img, seg[0], seg[1], pen, ink);
        }
    }
    img
}

/// A round pen of diameter `pen` dragged from a to b (anti-aliased edge).
fn draw_segment(img: &mut RgbImage, a: (f32, f32), b: (f32, f32), pen: f32, ink: [u8; 3]) {
    let r = pen / 2.0;
    let (x0, x1) = (
        (a.0.min(b.0) - r - 1.0).max(0.0) as u32,
        ((a.0.max(b.0) + r + 1.0) as u32).min(img.width() - 1),
    );
    let (y0, y1) = (
        (a.1.min(b.1) - r - 1.0).max(0.0) as u32,
        ((a.1.max(b.1) + r + 1.0) as u32).min(img.height() - 1),
    );
    let (vx, vy) = (b.0 - a.0, b.1 - a.1);
    let len2 = (vx * vx + vy * vy).max(1e-6);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (px, py) = (x as f32 + 0.5 - a.0, y as f32 + 0.5 - a.1);
            let t = ((px * vx + py * vy) / len2).clamp(0.0, 1.0);
            let d = ((px - t * vx).powi(2) + (py - t * vy).powi(2)).sqrt();
            let cover = (r + 0.5 - d).clamp(0.0, 1.0);
            if cover > 0.0 {
                let p = img.get_pixel_mut(x, y);
                for (c, &i) in p.0.iter_mut().zip(&ink) {
                    *c = (*c as f32 * (1.0 - cover) + i as f32 * cover) as u8;
                }
            }
        }
    }
}
