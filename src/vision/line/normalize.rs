//! A picture's ink to a line reader's input: the ink's box cut out and scaled so that the
//! writing is [`INNER`] pixels high, in a line [`HEIGHT`] high with a margin all round, its
//! width a multiple of [`COLUMN_STRIDE`]. Training lines go through the same steps
//! (`synth`), so the model sees real pictures as it saw its training lines.

use super::{COLUMN_STRIDE, HEIGHT};
use crate::vision::preprocess::Ink;
use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma};

/// The writing's height in the line.
pub const INNER: usize = 24;
/// Paper left above, below and on each side of the writing.
pub const MARGIN: usize = (HEIGHT - INNER) / 2;
/// The widest line: longer writing is squeezed to fit.
pub const MAX_WIDTH: usize = 800;
/// An ink level above which a pixel counts for the writing's box.
const BOX_LEVEL: f32 = 0.2;
/// A box is taken as at least 1/this of its width high (a lone dash is not stretched into a wall).
const FLATTEST: usize = 40;

/// A line ready for the model, and how its pixels map back to the picture's.
#[derive(Clone, Debug, PartialEq)]
pub struct LineInput {
    /// HEIGHT x width ink levels in [0, 1], row-major.
    pub px: Vec<f32>,
    pub width: usize,
    /// The writing's box in the picture's pixels: x, y, width, height.
    pub ink_box: [u32; 4],
    /// Line pixels per picture pixel, across.
    pub scale_x: f32,
}

impl LineInput {
    /// The picture's x of the line's column x (a fraction of a pixel allowed).
    pub fn picture_x(&self, x: f32) -> f32 {
        self.ink_box[0] as f32 + (x - MARGIN as f32) / self.scale_x
    }
}

/// The box (x0, y0, x1, y1 inclusive) of the ink above [`BOX_LEVEL`]; None when there is none.
fn ink_bounds(ink: &Ink) -> Option<(usize, usize, usize, usize)> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (i, _) in ink.px.iter().enumerate().filter(|(_, &v)| v > BOX_LEVEL) {
        let (x, y) = (i % ink.w, i / ink.w);
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    (x0 != usize::MAX).then_some((x0, y0, x1, y1))
}

/// The line of `ink`; None when it holds no ink.
pub fn line_of(ink: &Ink) -> Option<LineInput> {
    let (x0, y0, x1, y1) = ink_bounds(ink)?;
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
    let scale = INNER as f32 / bh.max(bw.div_ceil(FLATTEST)) as f32;
    let room = (MAX_WIDTH - 2 * MARGIN) as f32;
    let scale_x = scale.min(room / bw as f32);
    let (out_w, out_h) = (
        ((bw as f32 * scale_x).round() as usize).max(1),
        ((bh as f32 * scale).round() as usize).clamp(1, INNER),
    );
    let crop: Vec<f32> = (y0..=y1)
        .flat_map(|y| ink.px[y * ink.w + x0..=y * ink.w + x1].iter().copied())
        .collect();
    let src = ImageBuffer::<Luma<f32>, Vec<f32>>::from_raw(bw as u32, bh as u32, crop)
        .expect("the crop holds bw x bh pixels");
    // Triangle widens with the shrink factor: an area average when shrinking (thin strokes
    // of big writing stay), bilinear when enlarging small writing.
    let scaled = imageops::resize(&src, out_w as u32, out_h as u32, FilterType::Triangle);
    let width = (out_w + 2 * MARGIN).next_multiple_of(COLUMN_STRIDE);
    let mut px = vec![0.0f32; HEIGHT * width];
    let top = MARGIN + (INNER - out_h) / 2;
    for (y, row) in scaled.as_raw().chunks_exact(out_w).enumerate() {
        let start = (top + y) * width + MARGIN;
        for (o, &v) in px[start..start + out_w].iter_mut().zip(row) {
            *o = v.clamp(0.0, 1.0);
        }
    }
    let b = ink.block;
    Some(LineInput {
        px,
        width,
        ink_box: [
            (x0 * b) as u32,
            (y0 * b) as u32,
            ((bw * b) as u32).min(ink.width - (x0 * b) as u32),
            ((bh * b) as u32).min(ink.height - (y0 * b) as u32),
        ],
        scale_x: scale_x / b as f32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ink(w: usize, h: usize, rect: (usize, usize, usize, usize)) -> Ink {
        let mut px = vec![0.0; w * h];
        for y in rect.1..rect.3 {
            for x in rect.0..rect.2 {
                px[y * w + x] = 1.0;
            }
        }
        Ink {
            w,
            h,
            px,
            block: 1,
            width: w as u32,
            height: h as u32,
        }
    }

    #[test]
    fn the_writing_is_scaled_to_the_inner_height_with_margins() {
        // A 48 x 12 block of ink at (10, 5): scaled by 2 to 96 x 24.
        let line = line_of(&ink(80, 30, (10, 5, 58, 17))).unwrap();
        assert_eq!(line.width, 96 + 2 * MARGIN);
        assert_eq!(line.px.len(), HEIGHT * line.width);
        assert_eq!(line.ink_box, [10, 5, 48, 12]);
        let at = |x: usize, y: usize| line.px[y * line.width + x];
        assert!(at(MARGIN + 5, HEIGHT / 2) > 0.99);
        assert_eq!(at(MARGIN - 1, HEIGHT / 2), 0.0);
        assert_eq!(at(MARGIN + 5, MARGIN - 1), 0.0);
        assert!((line.picture_x(MARGIN as f32 + 96.0) - 58.0).abs() < 1e-4);
    }

    #[test]
    fn widths_are_whole_columns_and_long_writing_is_squeezed() {
        let line = line_of(&ink(50, 20, (0, 0, 13, 10))).unwrap();
        assert_eq!(line.width % COLUMN_STRIDE, 0);
        let long = line_of(&ink(2000, 60, (0, 0, 2000, 50))).unwrap();
        assert_eq!(long.width, MAX_WIDTH);
        assert!(line_of(&ink(10, 10, (0, 0, 0, 0))).is_none());
    }
}
