//! A picture's ink to a line reader's input: the ink's box cut out and scaled so that the
//! writing is [`INNER`] pixels high, in a line [`HEIGHT`] high with a margin all round
//! ([`TRAILING`] more on the right), its width a multiple of [`COLUMN_STRIDE`]. Training lines
//! go through the same steps (`synth`), so the model sees real pictures as it saw its training
//! lines.

use super::{rules, COLUMN_STRIDE, HEIGHT};
use crate::vision::preprocess::Ink;
use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma};
use std::ops::Range;

/// The writing's height in the line.
pub const INNER: usize = 24;
/// Paper left above, below and on each side of the writing.
pub const MARGIN: usize = (HEIGHT - INNER) / 2;
/// More paper after the writing, on the right: the line model reads a last digit set close
/// to its neighbour better with room after it. With 8 more pixels the built-in reader drops
/// the last 1 of fewer real numbers (the shared numbers that end in 1: 0.846 read exactly
/// against 0.873; all of them 0.9218 against 0.9245; 4 or 16 pixels: 0.9238 and 0.9246), and
/// more paper before the writing does not help.
pub const TRAILING: usize = 8;
/// The widest line: longer writing is squeezed to fit.
pub const MAX_WIDTH: usize = 800;
/// An ink level above which a pixel counts for the writing's box.
pub(super) const BOX_LEVEL: f32 = 0.2;
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

/// Writing further than this many line heights from the rest is a speck or a stray mark.
const FAR: usize = 2;

/// The box (x0, y0, x1, y1 inclusive) of the writing in `px` (w x h): the ink above
/// [`BOX_LEVEL`] within the band of rows holding the most ink ([`main_band`]), in the group of
/// columns holding the most ink ([`column_groups`]). None when there is no ink.
fn writing_bounds(px: &[f32], w: usize, h: usize) -> Option<(usize, usize, usize, usize)> {
    let inked = |v: &f32| *v > BOX_LEVEL;
    let (top, bottom) = main_band(px, w, h)?;
    let groups = column_groups(px, w, top..bottom + 1);
    let (cols, _) = groups.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    let (x0, x1) = (cols.start, cols.end - 1);
    let in_group = |y: &usize| px[y * w + x0..=y * w + x1].iter().any(inked);
    let y0 = (top..=bottom).find(in_group)?;
    let y1 = (top..=bottom).rev().find(in_group)?;
    Some((x0, y0, x1, y1))
}

/// The rows (first, last) of the band of writing holding the most ink: runs of inked rows
/// ([`inked_runs`]), a run joined to the next when the blank rows between them are fewer than
/// half the taller one's height (a digit's strokes may leave a blank row between them). A speck
/// far above or below a small number (a dust mark in the corner of a page) is then not taken
/// for part of its line, which would have shrunk the writing to a few pixels.
fn main_band(px: &[f32], w: usize, h: usize) -> Option<(usize, usize)> {
    let mut joined: Vec<Run> = Vec::new();
    for b in inked_runs(px, w, h) {
        match joined.last_mut() {
            Some(a) if 2 * (b.rows.start - a.rows.end) < a.rows.len().max(b.rows.len()) => {
                a.rows.end = b.rows.end;
                a.ink += b.ink;
            }
            _ => joined.push(b),
        }
    }
    let band = joined.iter().max_by(|a, b| a.ink.total_cmp(&b.ink))?;
    Some((band.rows.start, band.rows.end - 1))
}

/// A run of consecutive rows holding ink, and how much.
pub(super) struct Run {
    pub rows: Range<usize>,
    pub ink: f32,
}

/// The runs of rows of `px` (w x h) holding ink above [`BOX_LEVEL`], top to bottom, each with
/// the sum of that ink.
pub(super) fn inked_runs(px: &[f32], w: usize, h: usize) -> Vec<Run> {
    let per_row: Vec<f32> = (0..h)
        .map(|y| {
            px[y * w..(y + 1) * w]
                .iter()
                .filter(|&&v| v > BOX_LEVEL)
                .sum()
        })
        .collect();
    runs_of(&per_row)
}

/// The runs of consecutive rows whose ink (`per_row`, each row's sum) is not 0, top to bottom.
pub(super) fn runs_of(per_row: &[f32]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for (y, &ink) in per_row.iter().enumerate() {
        if ink == 0.0 {
            continue;
        }
        match runs.last_mut() {
            Some(run) if run.rows.end == y => {
                run.rows.end = y + 1;
                run.ink += ink;
            }
            _ => runs.push(Run {
                rows: y..y + 1,
                ink,
            }),
        }
    }
    runs
}

/// The groups of columns of `px` (w wide) holding ink above [`BOX_LEVEL`] within `rows`, left
/// to right, each with the sum of that ink: parted by blank stretches wider than [`FAR`] times
/// the rows' height.
pub(super) fn column_groups(px: &[f32], w: usize, rows: Range<usize>) -> Vec<(Range<usize>, f32)> {
    let height = rows.len();
    let mut groups: Vec<(Range<usize>, f32)> = Vec::new();
    for x in 0..w {
        let ink: f32 = rows
            .clone()
            .map(|y| px[y * w + x])
            .filter(|&v| v > BOX_LEVEL)
            .sum();
        if ink == 0.0 {
            continue;
        }
        match groups.last_mut() {
            Some((cols, total)) if x - (cols.end - 1) <= FAR * height => {
                cols.end = x + 1;
                *total += ink;
            }
            _ => groups.push((x..x + 1, ink)),
        }
    }
    groups
}

/// The line of `ink`; None when it holds no ink.
pub fn line_of(ink: &Ink) -> Option<LineInput> {
    Writing::of(ink).map(|w| w.line(1.0))
}

/// The writing in a picture's ink, printed lines and far marks left out, cut to its box: found
/// once, then made into lines at any stretch (a reader's several looks).
pub struct Writing {
    /// The box's ink, bw x bh.
    crop: ImageBuffer<Luma<f32>, Vec<f32>>,
    /// The box in the picture's pixels: x, y, width, height.
    ink_box: [u32; 4],
    /// Picture pixels per ink pixel.
    block: usize,
}

impl Writing {
    /// The writing of `ink`; None when it holds no ink.
    pub fn of(ink: &Ink) -> Option<Writing> {
        let clean = rules::without_rules(&ink.px, ink.w, ink.h);
        let (x0, y0, x1, y1) = writing_bounds(&clean, ink.w, ink.h)?;
        let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
        let crop: Vec<f32> = (y0..=y1)
            .flat_map(|y| clean[y * ink.w + x0..=y * ink.w + x1].iter().copied())
            .collect();
        let b = ink.block;
        Some(Writing {
            crop: ImageBuffer::from_raw(bw as u32, bh as u32, crop)
                .expect("the crop holds bw x bh pixels"),
            ink_box: [
                (x0 * b) as u32,
                (y0 * b) as u32,
                ((bw * b) as u32).min(ink.width - (x0 * b) as u32),
                ((bh * b) as u32).min(ink.height - (y0 * b) as u32),
            ],
            block: b,
        })
    }

    /// The line with the writing [`INNER`] pixels high and `stretch` times as wide as that
    /// scale makes it (1: its own proportions; other stretches see the same writing narrower
    /// or wider).
    pub fn line(&self, stretch: f32) -> LineInput {
        let (bw, bh) = (self.crop.width() as usize, self.crop.height() as usize);
        let scale = INNER as f32 / bh.max(bw.div_ceil(FLATTEST)) as f32;
        let room = (MAX_WIDTH - 2 * MARGIN - TRAILING) as f32;
        let scale_x = (scale * stretch).min(room / bw as f32);
        let (out_w, out_h) = (
            ((bw as f32 * scale_x).round() as usize).max(1),
            ((bh as f32 * scale).round() as usize).clamp(1, INNER),
        );
        // Triangle widens with the shrink factor: an area average when shrinking (thin strokes
        // of big writing stay), bilinear when enlarging small writing.
        let scaled = imageops::resize(&self.crop, out_w as u32, out_h as u32, FilterType::Triangle);
        let width = (out_w + 2 * MARGIN + TRAILING).next_multiple_of(COLUMN_STRIDE);
        let mut px = vec![0.0f32; HEIGHT * width];
        let top = MARGIN + (INNER - out_h) / 2;
        for (y, row) in scaled.as_raw().chunks_exact(out_w).enumerate() {
            let start = (top + y) * width + MARGIN;
            for (o, &v) in px[start..start + out_w].iter_mut().zip(row) {
                *o = v.clamp(0.0, 1.0);
            }
        }
        LineInput {
            px,
            width,
            ink_box: self.ink_box,
            scale_x: scale_x / self.block as f32,
        }
    }
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
        let line = line_of(&ink(100, 30, (10, 5, 58, 17))).unwrap();
        assert_eq!(line.width, 96 + 2 * MARGIN + TRAILING);
        assert_eq!(line.px.len(), HEIGHT * line.width);
        assert_eq!(line.ink_box, [10, 5, 48, 12]);
        let at = |x: usize, y: usize| line.px[y * line.width + x];
        assert!(at(MARGIN + 5, HEIGHT / 2) > 0.99);
        assert_eq!(at(MARGIN - 1, HEIGHT / 2), 0.0);
        assert_eq!(at(MARGIN + 5, MARGIN - 1), 0.0);
        assert!((line.picture_x(MARGIN as f32 + 96.0) - 58.0).abs() < 1e-4);
        // After the writing, its margin and the trailing paper are blank.
        assert!(at(MARGIN + 95, HEIGHT / 2) > 0.99);
        assert!((MARGIN + 96..line.width).all(|x| (0..HEIGHT).all(|y| at(x, y) == 0.0)));
        assert!(line.width - MARGIN - 96 >= MARGIN + TRAILING);
        // Stretched: twice as wide, as high, mapping back to the same picture pixels.
        let wide = Writing::of(&ink(100, 30, (10, 5, 58, 17)))
            .unwrap()
            .line(2.0);
        assert_eq!(wide.width, 192 + 2 * MARGIN + TRAILING);
        assert!((wide.picture_x(MARGIN as f32 + 192.0) - 58.0).abs() < 1e-4);
    }

    #[test]
    fn boxes_underlines_and_far_specks_are_not_writing() {
        // Writing 40 x 10 at (20, 10) in a box drawn along the picture's edges, a speck far left.
        let mut k = ink(100, 30, (20, 10, 60, 20));
        for x in 0..100 {
            k.px[x] = 1.0;
            k.px[29 * 100 + x] = 1.0;
        }
        for y in 0..30 {
            k.px[y * 100] = 1.0;
            k.px[y * 100 + 99] = 1.0;
        }
        let line = line_of(&k).unwrap();
        assert_eq!(line.ink_box, [20, 10, 40, 10]);
        let mut speck = ink(200, 30, (120, 10, 160, 20));
        speck.px[15 * 200 + 5] = 1.0;
        assert_eq!(line_of(&speck).unwrap().ink_box, [120, 10, 40, 10]);
        // A leading 1 in a tight crop stays.
        let tight = ink(40, 20, (0, 0, 3, 20));
        assert_eq!(line_of(&tight).unwrap().ink_box, [0, 0, 3, 20]);
    }

    #[test]
    fn a_speck_far_above_or_below_is_not_part_of_the_line() {
        // Writing 40 x 10 at the foot of a page 300 high, a speck in a far corner.
        let mut page = ink(200, 300, (150, 280, 190, 290));
        for y in 2..5 {
            page.px[y * 200 + 3] = 1.0;
        }
        assert_eq!(line_of(&page).unwrap().ink_box, [150, 280, 40, 10]);
        // A digit whose top stroke stands a row above its body is one band.
        let mut five = ink(60, 40, (10, 12, 30, 30));
        for x in 10..30 {
            five.px[10 * 60 + x] = 1.0;
        }
        assert_eq!(line_of(&five).unwrap().ink_box, [10, 10, 20, 20]);
    }

    #[test]
    fn widths_are_whole_columns_and_long_writing_is_squeezed() {
        let line = line_of(&ink(50, 20, (0, 0, 13, 10))).unwrap();
        assert_eq!(line.width % COLUMN_STRIDE, 0);
        // Writing 2000 wide and 50 high: strokes 3 pixels wide every 6.
        let mut strokes = ink(2000, 60, (0, 0, 2000, 50));
        for (i, v) in strokes.px.iter_mut().enumerate() {
            if i % 2000 % 6 >= 3 {
                *v = 0.0;
            }
        }
        let long = line_of(&strokes).unwrap();
        assert_eq!(long.width, MAX_WIDTH);
        assert!(line_of(&ink(10, 10, (0, 0, 0, 0))).is_none());
    }
}
