//! The warp: an image under a distortion's affine map and elastic field, sampled bilinearly in
//! fixed point.

use super::params::{centre, Params};
use super::stroke::ink_box;
use super::ELASTIC_GRID;

/// Writes into `out` the source under the affine map and elastic field of `p` (bilinear
/// sampling; beyond the source's frame is blank). The stroke change is not applied here.
pub fn warp(src: &[u8], w: usize, h: usize, p: &Params, out: &mut [u8]) {
    out[..w * h].fill(0);
    let Some((x0, y0, x1, y1)) = ink_box(src, w, h) else {
        return;
    };
    // Only output pixels whose source lies within a pixel of the ink box can show ink.
    let b = (
        x0 as f32 - 1.0,
        y0 as f32 - 1.0,
        x1 as f32 + 1.0,
        y1 as f32 + 1.0,
    );
    let e = p.extent(b, w, h);
    let span = |lo: f32, hi: f32, shift: f32, n: usize| {
        let first = (lo + shift).floor().max(-1.0) as isize + 1;
        let last = ((hi + shift).ceil().min(n as f32) as isize - 1).min(n as isize - 1);
        first as usize..(last + 1).max(first) as usize
    };
    let (xs, ys) = (span(e.0, e.2, p.shift.0, w), span(e.1, e.3, p.shift.1, h));
    let m = p.matrix();
    let det = m[0] * m[3] - m[1] * m[2];
    // Inverse of M: source - centre = M^-1 (output + displacement - centre - shift).
    let inv = [m[3] / det, -m[1] / det, -m[2] / det, m[0] / det];
    let (cx, cy) = centre(w, h);
    let elastic = p.elastic.iter().any(|&(x, y)| x != 0.0 || y != 0.0);
    // Grid cells per pixel along x and y.
    let cells = (ELASTIC_GRID - 1) as f32;
    let step = |n: usize| if n > 1 { cells / (n - 1) as f32 } else { 0.0 };
    let (step_x, step_y) = (step(w), step(h));
    // The grid cell and weight of each column (the first COLUMNS; wider images compute the
    // rest as they go).
    let mut columns = [(0.0f32, 0usize); COLUMNS];
    for (x, c) in columns.iter_mut().enumerate().take(w) {
        *c = grid_weight(x as f32 * step_x);
    }
    let column = |x: usize| match columns.get(x) {
        Some(&c) => c,
        None => grid_weight(x as f32 * step_x),
    };
    // The field along the current row at each column of control points.
    let mut row = [(0.0f32, 0.0f32); ELASTIC_GRID];
    let (wf, hf) = (w as f32, h as f32);
    for y in ys {
        if elastic {
            let (wy, gy) = grid_weight(y as f32 * step_y);
            for (c, r) in row.iter_mut().enumerate() {
                let (a, b) = (
                    p.elastic[gy * ELASTIC_GRID + c],
                    p.elastic[(gy + 1) * ELASTIC_GRID + c],
                );
                *r = (a.0 + wy * (b.0 - a.0), a.1 + wy * (b.1 - a.1));
            }
        }
        let dy0 = y as f32 - cy - p.shift.1;
        let out_row = &mut out[y * w..(y + 1) * w];
        // Source positions a chunk at a time (vectorisable arithmetic), then the samples.
        let mut x = xs.start;
        while x < xs.end {
            let n = (xs.end - x).min(CHUNK);
            let (mut fx, mut fy) = ([0i32; CHUNK], [0i32; CHUNK]);
            for k in 0..CHUNK {
                let (mut dx, mut dy) = ((x + k) as f32 - cx - p.shift.0, dy0);
                if elastic {
                    let (wx, gx) = column(x + k);
                    let (a, b) = (row[gx], row[gx + 1]);
                    dx += a.0 + wx * (b.0 - a.0);
                    dy += a.1 + wx * (b.1 - a.1);
                }
                let sx = inv[0] * dx + inv[1] * dy + cx;
                let sy = inv[2] * dx + inv[3] * dy + cy;
                // Clamped to [-1, side], where sampling gives blank; then in fixed point, the
                // truncation of a positive value being its floor.
                fx[k] = ((sx.clamp(-1.0, wf) + 1.0) * ONE as f32) as i32 - ONE;
                fy[k] = ((sy.clamp(-1.0, hf) + 1.0) * ONE as f32) as i32 - ONE;
            }
            for k in 0..n {
                out_row[x + k] = bilinear(src, w, h, fx[k], fy[k]);
            }
            x += n;
        }
    }
}

/// Columns whose elastic-grid weights `warp` computes once per image; pixels warped per chunk.
const COLUMNS: usize = 64;
const CHUNK: usize = 8;

/// The cell of the elastic grid that grid position `t` (in cells) falls in, and its smoothstep
/// weight towards the next control point (smooth across the cell borders).
fn grid_weight(t: f32) -> (f32, usize) {
    let cell = (t as usize).min(ELASTIC_GRID - 2);
    let f = t - cell as f32;
    (f * f * (3.0 - 2.0 * f), cell)
}

/// Fractional bits of the sampling position, and one pixel in them.
const FRAC: i32 = 8;
const ONE: i32 = 1 << FRAC;

/// The source at (x, y) in fixed point (1/256 pixel, from -1 to the side) by bilinear
/// interpolation, blank outside the frame; whole positions return the pixel exactly.
fn bilinear(src: &[u8], w: usize, h: usize, x: i32, y: i32) -> u8 {
    let (x0, y0) = ((x >> FRAC) as isize, (y >> FRAC) as isize);
    let (tx, ty) = (x & (ONE - 1), y & (ONE - 1));
    let (a, b, c, d) = if x0 >= 0 && y0 >= 0 && (x0 as usize) + 1 < w && (y0 as usize) + 1 < h {
        let i = y0 as usize * w + x0 as usize;
        (src[i], src[i + 1], src[i + w], src[i + w + 1])
    } else {
        let at = |xx: isize, yy: isize| -> u8 {
            if xx >= 0 && yy >= 0 && (xx as usize) < w && (yy as usize) < h {
                src[yy as usize * w + xx as usize]
            } else {
                0
            }
        };
        (
            at(x0, y0),
            at(x0 + 1, y0),
            at(x0, y0 + 1),
            at(x0 + 1, y0 + 1),
        )
    };
    let (a, b, c, d) = (a as i32, b as i32, c as i32, d as i32);
    let top = (a << FRAC) + tx * (b - a);
    let bottom = (c << FRAC) + tx * (d - c);
    let v = (top << FRAC) + ty * (bottom - top);
    ((v + (1 << (2 * FRAC - 1))) >> (2 * FRAC)) as u8
}
