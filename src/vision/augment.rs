//! Random distortions of digit images for training (`digits train --augment`): an affine map
//! (rotation, scale, aspect change, shear, translation), an elastic distortion and a change of
//! stroke thickness, on u8 images, written into a caller's buffer with no allocation; and, for a
//! share of the images, a low-resolution black-and-white scan ([`crate::vision::scan`], which
//! allocates a few small buffers).
//!
//! [`Augment`] holds the ranges; [`Params::sample`] draws one image's distortion from them,
//! which is then fitted to the picture: the stroke change so that strokes stay between
//! [`STROKE_WIDTH_RANGE`] ([`Params::fit_stroke`]), the scale and shift so that no ink leaves the
//! frame, the digit moved back (and shrunk if need be) rather than cut off
//! ([`Params::fit_in_frame`]); [`apply`] distorts an image as the parameters say.
//! [`augment_image`] does all of it for one image (about 13 µs on one core for 28x28, about 23 µs
//! on average with the default share of scans).

use super::scan::{box_scan, ScanSettings};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Control points per side of the elastic displacement field (a smooth field interpolated
/// between them: on 28x28, one every 9 pixels, a correlation length like Simard et al.'s
/// Gaussian-smoothed field with sigma 4, at a fraction of its cost).
pub const ELASTIC_GRID: usize = 4;

/// Ranges of the random distortions; each image draws its own values uniformly from them.
/// The defaults (`Augment::default()`, what `--augment` uses) keep MNIST digits readable.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    /// Rotation, up to this many degrees either way.
    pub rotation_deg: f32,
    /// Scale factor between 1/(1 + scale) and 1 + scale (log-uniform).
    pub scale: f32,
    /// Width to height ratio between 1/(1 + aspect) and 1 + aspect (log-uniform).
    pub aspect: f32,
    /// Horizontal shear: x moves by up to this many pixels per pixel of y, either way.
    pub shear: f32,
    /// Translation, up to this many pixels in x and in y.
    pub translate: f32,
    /// Elastic distortion: control points move by up to this many pixels in x and in y.
    pub elastic: f32,
    /// Stroke thickening (grey dilation), strength up to this (1 = one pixel all round).
    pub thicken: f32,
    /// Stroke thinning (grey erosion), strength up to this.
    pub thin: f32,
    /// Chance that a distorted image is then scanned as low-resolution form readers scan digits:
    /// stretched to fill a square of 14 to 20 pixels whatever its shape, thresholded to black and
    /// white at 40-65% ink, and framed again as `digits predict` frames a picture
    /// ([`crate::vision::scan`]).
    #[serde(default)]
    pub scan: f32,
    /// Chance that a 1 or a 7 is first given a style MNIST hardly has (a long flag, a barred
    /// stem: [`crate::vision::styles`]); off by default.
    #[serde(default)]
    pub styles: f32,
    /// Chance that a 1, 4, 7 or 9 is replaced by one drawn from pen strokes in a shape MNIST
    /// hardly has ([`crate::vision::allographs`]); off by default.
    #[serde(default)]
    pub allographs: f32,
}

impl Default for Augment {
    fn default() -> Self {
        Augment {
            rotation_deg: 12.0,
            scale: 0.12,
            aspect: 0.15,
            shear: 0.25,
            translate: 2.5,
            elastic: 1.5,
            thicken: 1.0,
            thin: 0.6,
            scan: 0.25,
            styles: 0.0,
            allographs: 0.0,
        }
    }
}

impl Augment {
    /// No distortion at all (every range zero): `apply` then copies the image.
    pub fn none() -> Self {
        Augment {
            rotation_deg: 0.0,
            scale: 0.0,
            aspect: 0.0,
            shear: 0.0,
            translate: 0.0,
            elastic: 0.0,
            thicken: 0.0,
            thin: 0.0,
            scan: 0.0,
            styles: 0.0,
            allographs: 0.0,
        }
    }

    /// One line naming every range, for help texts and logs.
    pub fn describe(&self) -> String {
        format!(
            "rotation ±{}°, scale ×(1±{}), aspect ×(1±{}), shear ±{}, translation ±{} px, elastic ±{} px, thicken ≤{}, thin ≤{}, scanned {}%, styles {}%, allographs {}%",
            self.rotation_deg,
            self.scale,
            self.aspect,
            self.shear,
            self.translate,
            self.elastic,
            self.thicken,
            self.thin,
            self.scan * 100.0,
            self.styles * 100.0,
            self.allographs * 100.0
        )
    }
}

/// One image's distortion.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Radians, counter-clockwise on screen (y pointing down).
    pub rotation: f32,
    /// Horizontal and vertical scale factors.
    pub scale: (f32, f32),
    /// x += shear * (y - centre).
    pub shear: f32,
    /// Pixels, applied last.
    pub shift: (f32, f32),
    /// Displacement (dx, dy) of the control points, row by row: an output pixel shows the
    /// (affine-mapped) source at its own position plus the interpolated displacement.
    pub elastic: [(f32, f32); ELASTIC_GRID * ELASTIC_GRID],
    /// > 0: dilate with this strength (1 = the full 3x3-cross dilation); < 0: erode.
    pub stroke: f32,
}

impl Params {
    /// The distortion that leaves every image as it is.
    pub fn identity() -> Self {
        Params {
            rotation: 0.0,
            scale: (1.0, 1.0),
            shear: 0.0,
            shift: (0.0, 0.0),
            elastic: [(0.0, 0.0); ELASTIC_GRID * ELASTIC_GRID],
            stroke: 0.0,
        }
    }

    /// Draws a distortion from the ranges of `aug` (the same `rng` state gives the same one).
    pub fn sample<R: Rng>(aug: &Augment, rng: &mut R) -> Self {
        let mut sym = |r: f32| if r > 0.0 { rng.gen_range(-r..=r) } else { 0.0 };
        let rotation = sym(aug.rotation_deg).to_radians();
        let log_scale = sym((1.0 + aug.scale).ln());
        let log_aspect = sym((1.0 + aug.aspect).ln());
        let shear = sym(aug.shear);
        let shift = (sym(aug.translate), sym(aug.translate));
        let mut elastic = [(0.0, 0.0); ELASTIC_GRID * ELASTIC_GRID];
        for e in &mut elastic {
            *e = (sym(aug.elastic), sym(aug.elastic));
        }
        // Thicker or thinner with equal chance, then a strength up to the range's.
        let stroke = {
            let u = sym(1.0);
            if u >= 0.0 {
                u * aug.thicken
            } else {
                u * aug.thin
            }
        };
        let (s, a) = (log_scale.exp(), (log_aspect / 2.0).exp());
        Params {
            rotation,
            scale: (s * a, s / a),
            shear,
            shift,
            elastic,
            stroke,
        }
    }

    /// Limits the stroke change so that the strokes of `src` end between the widths of
    /// [`STROKE_WIDTH_RANGE`] (a full dilation widens them by about 2 pixels, a full erosion
    /// narrows them by as much), or stay as they are if already beyond.
    pub fn fit_stroke(&mut self, src: &[u8], w: usize, h: usize) {
        if self.stroke == 0.0 {
            return;
        }
        let width = stroke_width(src, w, h);
        let (lo, hi) = STROKE_WIDTH_RANGE;
        self.stroke = if self.stroke > 0.0 {
            self.stroke.min((hi - width) / 2.0).max(0.0)
        } else {
            self.stroke.max(-(width - lo) / 2.0).min(0.0)
        };
    }

    /// The forward affine matrix [a b; c d]: output - centre - shift = M (source - centre).
    /// M = rotation * shear * scale.
    fn matrix(&self) -> [f32; 4] {
        let (sin, cos) = self.rotation.sin_cos();
        let (sx, sy) = self.scale;
        let k = self.shear;
        // shear * scale = [sx, k*sy; 0, sy]; rotation [cos, sin; -sin, cos] turns it
        // counter-clockwise on screen, where y points down.
        [
            cos * sx,
            cos * k * sy + sin * sy,
            -sin * sx,
            -sin * k * sy + cos * sy,
        ]
    }

    /// Largest elastic displacement in x and in y (the field interpolates the control points
    /// with convex weights, so it never exceeds them).
    fn elastic_bound(&self) -> (f32, f32) {
        self.elastic
            .iter()
            .fold((0.0f32, 0.0f32), |(mx, my), &(x, y)| {
                (mx.max(x.abs()), my.max(y.abs()))
            })
    }

    /// Adjusts the scale and shift so that the ink of `src` (the `w` x `h` image to be warped,
    /// that is after the stroke change) stays inside the frame, with the outer ring of pixels left blank: the
    /// digit is moved back inside and shrunk if it cannot fit. An image whose ink already
    /// reaches the ring may keep it there (the identity is never changed).
    pub fn fit_in_frame(&mut self, src: &[u8], w: usize, h: usize) {
        let Some((x0, y0, x1, y1)) = ink_box(src, w, h) else {
            return;
        };
        // An output pixel can show ink only if its source position lies within 1 pixel of an
        // ink pixel (bilinear sampling).
        let (bx0, by0) = (x0 as f32 - 1.0, y0 as f32 - 1.0);
        let (bx1, by1) = (x1 as f32 + 1.0, y1 as f32 + 1.0);
        // The allowed region (open interval of output positions): inside the blank ring, or
        // wherever the source's own ink already reaches.
        // The frame's bounds are taken a hair inside, so sampling at 1/256 pixel cannot
        // leave a trace of ink on the ring.
        let allowed = (
            bx0.min(0.02),
            by0.min(0.02),
            bx1.max(w as f32 - 1.02),
            by1.max(h as f32 - 1.02),
        );
        let bx = (bx0, by0, bx1, by1);
        let extent = |p: &Params| p.extent(bx, w, h);
        let (ex, ey) = self.elastic_bound();
        let e = extent(self);
        let fits = |span: f32, room: f32, bound: f32| {
            if span <= room {
                1.0
            } else {
                // The affine part of the span shrinks with the scale; the elastic part does not.
                ((room - 2.0 * bound) / (span - 2.0 * bound)).clamp(0.05, 1.0)
            }
        };
        let f = fits(e.2 - e.0, allowed.2 - allowed.0, ex).min(fits(
            e.3 - e.1,
            allowed.3 - allowed.1,
            ey,
        ));
        if f < 1.0 {
            // A hair under, so rounding cannot push the span back over the room.
            let f = f * (1.0 - 1e-4);
            self.scale = (self.scale.0 * f, self.scale.1 * f);
        }
        let e = extent(self);
        let clamp = |shift: f32, lo: f32, hi: f32, alo: f32, ahi: f32| {
            if lo + shift < alo {
                alo - lo
            } else if hi + shift > ahi {
                ahi - hi
            } else {
                shift
            }
        };
        self.shift = (
            clamp(self.shift.0, e.0, e.2, allowed.0, allowed.2),
            clamp(self.shift.1, e.1, e.3, allowed.1, allowed.3),
        );
    }

    /// Where the source box `b` (x0, y0, x1, y1) lands in the output under the affine map
    /// (before the shift), widened by the largest elastic displacement: (x0, y0, x1, y1).
    fn extent(&self, b: (f32, f32, f32, f32), w: usize, h: usize) -> (f32, f32, f32, f32) {
        let (cx, cy) = centre(w, h);
        let (ex, ey) = self.elastic_bound();
        let m = self.matrix();
        let mut e = (
            f32::INFINITY,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
        );
        for (x, y) in [(b.0, b.1), (b.2, b.1), (b.0, b.3), (b.2, b.3)] {
            let (dx, dy) = (x - cx, y - cy);
            let (ox, oy) = (m[0] * dx + m[1] * dy + cx, m[2] * dx + m[3] * dy + cy);
            e = (e.0.min(ox), e.1.min(oy), e.2.max(ox), e.3.max(oy));
        }
        (e.0 - ex, e.1 - ey, e.2 + ex, e.3 + ey)
    }
}

/// Strokes are thickened up to about this width at most, and thinned down to about this
/// width at least (pixels by [`stroke_width`], by which 90% of MNIST's training digits measure
/// 1.3 to 3.0, half of them under 2.0): a thick 8 thickened further fills its loops, a thin 1
/// thinned fades away.
pub const STROKE_WIDTH_RANGE: (f32, f32) = (1.4, 3.6);

/// Mean stroke width in pixels: twice the ink (in whole pixels) over the length of its edges
/// (the grey-level change between neighbours, summed): a long bar of width w measures w.
pub fn stroke_width(src: &[u8], w: usize, h: usize) -> f32 {
    let Some((x0, y0, x1, y1)) = ink_box(src, w, h) else {
        return 0.0;
    };
    // Beyond the ink box everything is blank: its pairs count nothing, and those across its
    // border count the pixel inside.
    let (mut ink, mut edge) = (0u32, 0u32);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let v = src[y * w + x] as i32;
            ink += v as u32;
            // Each pair once: this pixel with the one on its right and the one below.
            let right = if x < x1 { src[y * w + x + 1] as i32 } else { 0 };
            let below = if y < y1 {
                src[(y + 1) * w + x] as i32
            } else {
                0
            };
            edge += (v - right).unsigned_abs() + (v - below).unsigned_abs();
            if x == x0 {
                edge += v as u32;
            }
            if y == y0 {
                edge += v as u32;
            }
        }
    }
    // For a bar of width w and length L, ink = w L and edge = 2 (L + w), about 2 L.
    2.0 * ink as f32 / edge.max(1) as f32
}

/// The centre the affine map turns and scales about.
fn centre(w: usize, h: usize) -> (f32, f32) {
    ((w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0)
}

/// The smallest box (x0, y0, x1, y1, inclusive) holding every nonzero pixel, if any.
pub fn ink_box(src: &[u8], w: usize, h: usize) -> Option<(usize, usize, usize, usize)> {
    let mut b: Option<(usize, usize, usize, usize)> = None;
    for (y, row) in src[..w * h].chunks_exact(w).enumerate() {
        let Some(first) = row.iter().position(|&v| v != 0) else {
            continue;
        };
        let last = row.iter().rposition(|&v| v != 0).unwrap_or(first);
        b = Some(match b {
            None => (first, y, last, y),
            Some((x0, y0, x1, _)) => (x0.min(first), y0, x1.max(last), y),
        });
    }
    b
}

/// Grey dilation (`amount` > 0) or erosion (< 0) with the 3x3 cross, blended with the image by
/// |amount| (at most 1): out = src + |amount| * (max or min of the cross - src). Pixels beyond
/// the frame count as blank.
pub fn stroke(src: &[u8], w: usize, h: usize, amount: f32, out: &mut [u8]) {
    // The blend in fixed point: 8 fractional bits.
    let t = (amount.abs().min(1.0) * 256.0).round() as i32;
    let dilate = amount > 0.0;
    let at = |x: usize, y: usize, dx: isize, dy: isize| -> u8 {
        let (xx, yy) = (x as isize + dx, y as isize + dy);
        if xx >= 0 && yy >= 0 && (xx as usize) < w && (yy as usize) < h {
            src[yy as usize * w + xx as usize]
        } else {
            0
        }
    };
    out[..w * h].fill(0);
    let Some((x0, y0, x1, y1)) = ink_box(src, w, h) else {
        return;
    };
    // Only pixels within one of the ink box can change from blank.
    let (x0, y0, x1, y1) = (
        x0.saturating_sub(1),
        y0.saturating_sub(1),
        (x1 + 1).min(w - 1),
        (y1 + 1).min(h - 1),
    );
    let blend = |v: u8, m: u8| (v as i32 + ((t * (m as i32 - v as i32) + 128) >> 8)) as u8;
    let slow = |x: usize, y: usize| {
        let v = src[y * w + x];
        let n = [
            at(x, y, -1, 0),
            at(x, y, 1, 0),
            at(x, y, 0, -1),
            at(x, y, 0, 1),
        ];
        let m = if dilate {
            n.into_iter().fold(v, u8::max)
        } else {
            n.into_iter().fold(v, u8::min)
        };
        // Between v and m, rounded half up.
        blend(v, m)
    };
    for y in y0..=y1 {
        // Pixels with all four neighbours inside the frame, a row's run at a time (which the
        // compiler vectorises); the frame's edge pixels one by one.
        let (xa, xb) = (x0.max(1), x1.min(w.saturating_sub(2)));
        if y == 0 || y + 1 >= h || xa > xb {
            for x in x0..=x1 {
                out[y * w + x] = slow(x, y);
            }
            continue;
        }
        for x in (x0..xa).chain(xb + 1..=x1) {
            out[y * w + x] = slow(x, y);
        }
        let i = y * w;
        let (c, l, r) = (
            &src[i + xa..=i + xb],
            &src[i + xa - 1..i + xb],
            &src[i + xa + 1..=i + xb + 1],
        );
        let (u, d) = (&src[i - w + xa..=i - w + xb], &src[i + w + xa..=i + w + xb]);
        let o = &mut out[i + xa..=i + xb];
        for k in 0..o.len() {
            let m = if dilate {
                c[k].max(l[k]).max(r[k]).max(u[k]).max(d[k])
            } else {
                c[k].min(l[k]).min(r[k]).min(u[k]).min(d[k])
            };
            o[k] = blend(c[k], m);
        }
    }
}

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

/// Distorts the `w` x `h` image `src` into `out` as `p` says: the stroke change (into `tmp`),
/// then the warp. `p` should have been fitted with [`Params::fit_in_frame`] for the ink to stay
/// in the frame. `tmp` and `out` hold at least w * h pixels.
pub fn apply(src: &[u8], w: usize, h: usize, p: &Params, tmp: &mut [u8], out: &mut [u8]) {
    let n = w * h;
    if p.stroke != 0.0 {
        stroke(src, w, h, p.stroke, &mut tmp[..n]);
        warp(&tmp[..n], w, h, p, &mut out[..n]);
    } else {
        warp(&src[..n], w, h, p, &mut out[..n]);
    }
}

/// Draws a distortion from `aug` with `rng`, fits it to `src` and applies it, then scans the
/// result with chance `aug.scan`: one augmented image in `out`.
pub fn augment_image<R: Rng>(
    src: &[u8],
    w: usize,
    h: usize,
    aug: &Augment,
    rng: &mut R,
    tmp: &mut [u8],
    out: &mut [u8],
) {
    let mut p = Params::sample(aug, rng);
    let n = w * h;
    p.fit_stroke(&src[..n], w, h);
    if p.stroke != 0.0 {
        stroke(&src[..n], w, h, p.stroke, &mut tmp[..n]);
        p.fit_in_frame(&tmp[..n], w, h);
        warp(&tmp[..n], w, h, &p, &mut out[..n]);
    } else {
        p.fit_in_frame(&src[..n], w, h);
        warp(&src[..n], w, h, &p, &mut out[..n]);
    }
    if aug.scan > 0.0 && rng.gen::<f32>() < aug.scan {
        let settings = ScanSettings {
            side: rng.gen_range(14..=20),
            level: rng.gen_range(0.4..0.65),
        };
        if box_scan(&out[..n], w, h, settings, &mut tmp[..n]) {
            out[..n].copy_from_slice(&tmp[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const W: usize = 28;

    /// A 28x28 image with the rectangle [x0, x1) x [y0, y1) at 255.
    fn rect(x0: usize, y0: usize, x1: usize, y1: usize) -> Vec<u8> {
        let mut v = vec![0u8; W * W];
        for y in y0..y1 {
            for x in x0..x1 {
                v[y * W + x] = 255;
            }
        }
        v
    }

    /// A digit-like image: a ring of radius 6 and width about 2.5 around (13, 14), with soft edges.
    fn ring() -> Vec<u8> {
        let mut v = vec![0u8; W * W];
        for y in 0..W {
            for x in 0..W {
                let r = ((x as f32 - 13.0).powi(2) + (y as f32 - 14.0).powi(2)).sqrt();
                v[y * W + x] = ((1.8 - (r - 6.0).abs()) * 200.0).clamp(0.0, 255.0) as u8;
            }
        }
        v
    }

    fn ink(v: &[u8]) -> f64 {
        v.iter().map(|&p| p as f64).sum()
    }

    /// Centre of mass (x, y) of the ink.
    fn com(v: &[u8]) -> (f64, f64) {
        let (mut sx, mut sy) = (0.0, 0.0);
        for (i, &p) in v.iter().enumerate() {
            sx += (i % W) as f64 * p as f64;
            sy += (i / W) as f64 * p as f64;
        }
        (sx / ink(v), sy / ink(v))
    }

    /// Variance of the ink along x and y, and the covariance.
    fn spread(v: &[u8]) -> (f64, f64, f64) {
        let (cx, cy) = com(v);
        let (mut xx, mut yy, mut xy) = (0.0, 0.0, 0.0);
        for (i, &p) in v.iter().enumerate() {
            let (dx, dy) = ((i % W) as f64 - cx, (i / W) as f64 - cy);
            xx += dx * dx * p as f64;
            yy += dy * dy * p as f64;
            xy += dx * dy * p as f64;
        }
        let n = ink(v);
        (xx / n, yy / n, xy / n)
    }

    fn warped(src: &[u8], p: &Params) -> Vec<u8> {
        let mut out = vec![7u8; W * W];
        warp(src, W, W, p, &mut out);
        out
    }

    #[test]
    fn the_identity_leaves_every_image_as_it_is() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let noise: Vec<u8> = (0..W * W).map(|_| rng.gen()).collect();
        for src in [ring(), rect(0, 0, 28, 3), noise] {
            let (mut tmp, mut out) = (vec![0; W * W], vec![9; W * W]);
            let mut p = Params::identity();
            p.fit_in_frame(&src, W, W);
            assert_eq!(p, Params::identity(), "fitting never changes the identity");
            apply(&src, W, W, &p, &mut tmp, &mut out);
            assert_eq!(out, src);
            // Ranges of zero draw the identity.
            augment_image(&src, W, W, &Augment::none(), &mut rng, &mut tmp, &mut out);
            assert_eq!(out, src);
        }
    }

    #[test]
    fn a_translation_moves_the_centre_of_mass_by_the_shift() {
        let src = ring();
        let (x, y) = com(&src);
        for shift in [(3.0, 0.0), (-2.0, 4.0), (1.5, -2.5)] {
            let out = warped(
                &src,
                &Params {
                    shift,
                    ..Params::identity()
                },
            );
            let (nx, ny) = com(&out);
            assert!(
                (nx - x - shift.0 as f64).abs() < 0.05 && (ny - y - shift.1 as f64).abs() < 0.05,
                "shift {shift:?}: centre ({x}, {y}) -> ({nx}, {ny})"
            );
            assert!((ink(&out) / ink(&src) - 1.0).abs() < 0.02, "ink kept");
        }
    }

    #[test]
    fn a_rotation_turns_counter_clockwise_about_the_centre() {
        // A bar right of the centre (its centre 6.5 to the right): turned 90 degrees, 6.5 above.
        let src = rect(17, 13, 24, 15);
        let out = warped(
            &src,
            &Params {
                rotation: 90f32.to_radians(),
                ..Params::identity()
            },
        );
        let (x, y) = com(&out);
        assert!(
            (x - 13.5).abs() < 0.1 && (y - (13.5 - 6.5)).abs() < 0.1,
            "({x}, {y})"
        );
        let (xx, yy, _) = spread(&out);
        assert!(yy > 3.0 * xx, "now vertical: var x {xx}, var y {yy}");
        // 20 degrees: the spread's axis turns by 20 degrees (towards the top right).
        let bar = rect(6, 13, 22, 15);
        let out = warped(
            &bar,
            &Params {
                rotation: 20f32.to_radians(),
                ..Params::identity()
            },
        );
        let (xx, yy, xy) = spread(&out);
        let angle = (0.5 * (-2.0 * xy).atan2(xx - yy)).to_degrees();
        assert!((angle - 20.0).abs() < 1.5, "axis at {angle} degrees");
    }

    #[test]
    fn scale_aspect_and_shear_change_the_shape_as_they_say() {
        let src = ring();
        let (xx, yy, _) = spread(&src);
        let big = warped(
            &src,
            &Params {
                scale: (1.2, 1.2),
                ..Params::identity()
            },
        );
        let (bxx, byy, _) = spread(&big);
        assert!((bxx / xx - 1.44).abs() < 0.06 && (byy / yy - 1.44).abs() < 0.06);
        let wide = warped(
            &src,
            &Params {
                scale: (1.2, 1.0 / 1.2),
                ..Params::identity()
            },
        );
        let (wxx, wyy, _) = spread(&wide);
        assert!(
            wxx > 1.3 * xx && wyy < 0.8 * yy,
            "{wxx} {wyy} from {xx} {yy}"
        );
        // Shear: a vertical bar leans, its x moving by shear * (y - centre).
        let bar = rect(13, 4, 15, 24);
        let leaning = warped(
            &bar,
            &Params {
                shear: 0.25,
                ..Params::identity()
            },
        );
        let row_x = |y: usize| {
            com(&leaning[..]
                .iter()
                .enumerate()
                .map(|(i, &v)| if i / W == y { v } else { 0 })
                .collect::<Vec<_>>())
            .0
        };
        let (top, bottom) = (row_x(6), row_x(21));
        assert!(
            ((bottom - top) - 0.25 * 15.0).abs() < 0.2,
            "top {top}, bottom {bottom}"
        );
    }

    #[test]
    fn a_uniform_elastic_field_is_a_translation_and_a_field_moves_ink_no_further_than_it_says() {
        let src = ring();
        let p = Params {
            elastic: [(2.0, -1.0); ELASTIC_GRID * ELASTIC_GRID],
            ..Params::identity()
        };
        // Output pixel p shows the source at p + (2, -1): the picture moves by (-2, 1).
        let moved = warped(
            &src,
            &Params {
                shift: (-2.0, 1.0),
                ..Params::identity()
            },
        );
        assert_eq!(warped(&src, &p), moved);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let aug = Augment {
            elastic: 2.0,
            ..Augment::none()
        };
        for _ in 0..20 {
            let p = Params::sample(&aug, &mut rng);
            assert!(p.elastic.iter().any(|&(x, _)| x != 0.0));
            let out = warped(&src, &p);
            assert_ne!(out, src);
            let ((x, y), (nx, ny)) = (com(&src), com(&out));
            assert!((nx - x).abs() <= 2.0 && (ny - y).abs() <= 2.0);
            assert!((ink(&out) / ink(&src) - 1.0).abs() < 0.2);
        }
    }

    #[test]
    fn dilation_adds_ink_and_thickens_erosion_removes_it() {
        let src = ring();
        let width = stroke_width(&src, W, W);
        let mut out = vec![0; W * W];
        stroke(&src, W, W, 1.0, &mut out);
        assert!(ink(&out) > 1.3 * ink(&src));
        assert!(
            out.iter().zip(&src).all(|(a, b)| a >= b),
            "dilation never removes ink"
        );
        let thick = stroke_width(&out, W, W);
        assert!(thick > width + 1.0, "width {width} -> {thick}");
        stroke(&src, W, W, -1.0, &mut out);
        assert!(ink(&out) < 0.7 * ink(&src));
        assert!(
            out.iter().zip(&src).all(|(a, b)| a <= b),
            "erosion never adds ink"
        );
        stroke(&src, W, W, 0.0, &mut out);
        assert_eq!(out, src);
        // One pixel dilates into the 3x3 cross.
        let dot = rect(5, 5, 6, 6);
        stroke(&dot, W, W, 1.0, &mut out);
        assert_eq!(
            out,
            [rect(4, 5, 7, 6), rect(5, 4, 6, 7)]
                .iter()
                .fold(vec![0; W * W], |a, r| a
                    .iter()
                    .zip(r)
                    .map(|(x, y)| *x.max(y))
                    .collect())
        );
    }

    #[test]
    fn stroke_width_measures_bars() {
        for w in [1usize, 2, 3, 4] {
            let measured = stroke_width(&rect(10, 4, 10 + w, 24), W, W);
            // w, but for the bar's two ends: w L / (L + w).
            let expected = w as f32 * 20.0 / (20.0 + w as f32);
            assert!((measured - expected).abs() < 1e-4, "bar {w}: {measured}");
        }
        assert_eq!(stroke_width(&[0; W * W], W, W), 0.0);
    }

    #[test]
    fn thickening_and_thinning_stop_at_the_width_range() {
        let mut p = Params {
            stroke: 1.0,
            ..Params::identity()
        };
        // A bar measuring 2.6 wide may widen by 1 at most (to 3.6): a strength of a half.
        let bar = rect(10, 2, 13, 26);
        assert!((stroke_width(&bar, W, W) - 2.667).abs() < 0.01);
        p.fit_stroke(&bar, W, W);
        assert!((p.stroke - 0.467).abs() < 0.01, "{}", p.stroke);
        let mut p = Params {
            stroke: -1.0,
            ..Params::identity()
        };
        p.fit_stroke(&rect(10, 2, 11, 26), W, W);
        assert_eq!(p.stroke, 0.0, "a 1-pixel stroke is not thinned");
    }

    #[test]
    fn ink_is_pulled_back_inside_the_frame() {
        let src = ring();
        for shift in [(20.0, 0.0), (0.0, -20.0), (-9.0, 9.0)] {
            let mut p = Params {
                shift,
                scale: (1.1, 1.1),
                ..Params::identity()
            };
            p.fit_in_frame(&src, W, W);
            let out = warped(&src, &p);
            assert!(border_blank(&out), "shift {shift:?} became {:?}", p.shift);
            assert!(
                (ink(&out) / ink(&src) - 1.21).abs() < 0.1,
                "nothing cut off"
            );
            let ((x, y), (nx, ny)) = (com(&src), com(&out));
            assert!(
                (nx - x) * shift.0 as f64 >= 0.0 && (ny - y) * shift.1 as f64 >= 0.0,
                "moved as far as it fits"
            );
        }
        // Too big to fit: shrunk.
        let mut p = Params {
            scale: (2.0, 2.0),
            ..Params::identity()
        };
        p.fit_in_frame(&src, W, W);
        assert!(p.scale.0 < 2.0 && p.scale.0 > 1.3);
        assert!(border_blank(&warped(&src, &p)));
    }

    /// Whether the outer ring of pixels is blank.
    pub(crate) fn border_blank(v: &[u8]) -> bool {
        (0..W)
            .all(|k| v[k] == 0 && v[(W - 1) * W + k] == 0 && v[k * W] == 0 && v[k * W + W - 1] == 0)
    }

    #[test]
    fn sampled_distortions_keep_the_ink_inside_the_frame() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        // Strong ranges, so fitting has work to do.
        let aug = Augment {
            translate: 6.0,
            scale: 0.3,
            elastic: 2.5,
            ..Augment::default()
        };
        let (mut tmp, mut out) = (vec![0; W * W], vec![0; W * W]);
        for k in 0..2000 {
            // A rectangle of random size and place, its ink box at least 2 from the edges.
            let (x0, y0) = (rng.gen_range(2..14), rng.gen_range(2..14));
            let (x1, y1) = (rng.gen_range(x0 + 1..=26), rng.gen_range(y0 + 1..=26));
            let src = rect(x0, y0, x1, y1);
            augment_image(&src, W, W, &aug, &mut rng, &mut tmp, &mut out);
            assert!(
                border_blank(&out),
                "image {k}: ({x0}, {y0}) to ({x1}, {y1})"
            );
            assert!(ink(&out) > 0.0);
        }
    }

    #[test]
    fn the_same_rng_state_gives_the_same_distortion() {
        let src = ring();
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (mut tmp, mut out) = (vec![0; W * W], vec![0; W * W]);
            augment_image(
                &src,
                W,
                W,
                &Augment::default(),
                &mut rng,
                &mut tmp,
                &mut out,
            );
            out
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
        assert_ne!(run(5), src);
    }
}
