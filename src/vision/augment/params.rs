//! One image's distortion: drawn from an [`Augment`]'s ranges, then fitted to the picture (the
//! stroke change to the strokes' width, the scale and shift to the frame).

use super::stroke::{ink_box, stroke_width, STROKE_WIDTH_RANGE};
use super::{Augment, ELASTIC_GRID};
use rand::Rng;

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
    pub(super) fn matrix(&self) -> [f32; 4] {
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
    pub(super) fn extent(
        &self,
        b: (f32, f32, f32, f32),
        w: usize,
        h: usize,
    ) -> (f32, f32, f32, f32) {
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

/// The centre the affine map turns and scales about.
pub(super) fn centre(w: usize, h: usize) -> (f32, f32) {
    ((w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0)
}
