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
//!
//! The parts: `params.rs` (a distortion drawn and fitted), `stroke.rs` (stroke width,
//! thickening and thinning), `warp.rs` (the affine map and elastic field, sampled in fixed
//! point); the tests, which share their pictures, in `tests.rs`.

mod params;
mod stroke;
mod warp;

pub use params::Params;
pub use stroke::{ink_box, stroke, stroke_width, STROKE_WIDTH_RANGE};
pub use warp::warp;

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
    /// Chance that a distorted digit is given a bar under or over it, as a printed line leaves
    /// where writing touches it ([`crate::vision::underline`]); off by default.
    #[serde(default)]
    pub underlines: f32,
    /// Chance that a distorted digit is put on paper as the number reader's training lines are
    /// and captured as badly (paper and ink of any shade, a printed pattern, ruled lines, 8-40
    /// pixels high, blur, noise, JPEG, thresholding: [`crate::vision::line::paper`]), then
    /// framed again as a picture is; off by default.
    #[serde(default)]
    pub paper: f32,
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
            underlines: 0.0,
            paper: 0.0,
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
            underlines: 0.0,
            paper: 0.0,
        }
    }

    /// One line naming every range, for help texts and logs.
    pub fn describe(&self) -> String {
        format!(
            "rotation ±{}°, scale ×(1±{}), aspect ×(1±{}), shear ±{}, translation ±{} px, elastic ±{} px, thicken ≤{}, thin ≤{}, scanned {}%, styles {}%, allographs {}%, underlines {}%, on paper {}%",
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
            self.allographs * 100.0,
            self.underlines * 100.0,
            self.paper * 100.0
        )
    }
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
mod tests;
