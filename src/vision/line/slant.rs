//! Lines of writing on a slant: a photo of a page is seldom held square, and lines of writing
//! tilted a few degrees overlap in rows, so that no blank row parts them (two lines ten times as
//! wide as their gap is high overlap past a tilt of about 3 degrees). Sheared so that the lines
//! run level (each column moved up or down in proportion to how far along it lies), they are
//! parted by blank rows again. [`Shear`] is that map; where the picture's rows part no lines,
//! `page` shears it by the slope of [`SLOPES`] that runs its lines most level
//! ([`slant_parting`]).

use super::normalize::{runs_of, Run, BOX_LEVEL};
use std::ops::Range;

/// The slopes tried (rows per column, either way): up to 0.2, a tilt of about 11 degrees, in
/// steps of 0.02 (half a row's drift over 25 columns).
pub const SLOPES: [f32; 20] = [
    0.02, -0.02, 0.04, -0.04, 0.06, -0.06, 0.08, -0.08, 0.1, -0.1, 0.12, -0.12, 0.14, -0.14, 0.16,
    -0.16, 0.18, -0.18, 0.2, -0.2,
];

/// A vertical shear of a picture w wide: the pixel at column x, row y goes to row
/// `y - round(slope * x) + lift`, `lift` keeping every row at 0 or more. A line of writing
/// drifting down by `slope` rows per column runs level once sheared.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shear {
    pub slope: f32,
    lift: usize,
    /// Rows the shear adds to the picture's height.
    grow: usize,
}

impl Shear {
    /// No shear: rows stay where they are.
    pub const UPRIGHT: Shear = Shear {
        slope: 0.0,
        lift: 0,
        grow: 0,
    };

    /// The shear by `slope` of a picture `w` wide.
    pub fn new(slope: f32, w: usize) -> Shear {
        let last = (slope * w.saturating_sub(1) as f32).round() as isize;
        Shear {
            slope,
            lift: last.max(0) as usize,
            grow: last.unsigned_abs(),
        }
    }

    fn drift(&self, x: usize) -> isize {
        (self.slope * x as f32).round() as isize
    }

    /// The row, sheared, of the pixel at column `x`, row `y`.
    pub fn row(&self, x: usize, y: usize) -> usize {
        (y as isize - self.drift(x) + self.lift as isize) as usize
    }

    /// The height, sheared, of a picture `h` high.
    pub fn height(&self, h: usize) -> usize {
        h + self.grow
    }

    /// The picture's rows (within `0..h`) at column `x` that lie in the sheared `rows`.
    pub fn rows_at(&self, x: usize, rows: &Range<usize>, h: usize) -> Range<usize> {
        let back =
            |r: usize| (r as isize + self.drift(x) - self.lift as isize).clamp(0, h as isize);
        back(rows.start) as usize..back(rows.end) as usize
    }

    /// `px` (w x h) sheared: w x [`Self::height`], paper (0) where no pixel lands.
    pub fn apply(&self, px: &[f32], w: usize, h: usize) -> Vec<f32> {
        let mut out = vec![0.0; w * self.height(h)];
        for y in 0..h {
            for x in 0..w {
                out[self.row(x, y) * w + x] = px[y * w + x];
            }
        }
        out
    }
}

/// The shear that runs the lines of `px` (w x h) level, where it parts them into at least two
/// lines by `lines_of(runs)` (runs of inked rows, sheared); None where it does not, or where
/// the lines run level upright. The slope is the one of [`SLOPES`] (or none) under which the
/// rows' ink is most sharply bunched: the sum of each sheared row's ink squared, largest where
/// the lines run level (the classic projection-profile measure of skew). Only that slope is
/// tried for parting: another might part a stray mark or a slanting stroke from a line of
/// writing that runs level.
pub(super) fn slant_parting(
    px: &[f32],
    w: usize,
    h: usize,
    lines_of: impl Fn(Vec<Run>) -> Vec<Run>,
) -> Option<(Shear, Vec<Run>)> {
    let inked: Vec<(usize, usize, f32)> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| (x, y, px[y * w + x]))
        .filter(|&(_, _, v)| v > BOX_LEVEL)
        .collect();
    let per_row = |shear: &Shear| {
        let mut per_row = vec![0.0f32; shear.height(h)];
        for &(x, y, v) in &inked {
            per_row[shear.row(x, y)] += v;
        }
        per_row
    };
    let sharpness = |per_row: &[f32]| per_row.iter().map(|v| v * v).sum::<f32>();
    let upright = sharpness(&per_row(&Shear::UPRIGHT));
    let (best, _) = SLOPES
        .iter()
        .map(|&slope| {
            let shear = Shear::new(slope, w);
            (shear, sharpness(&per_row(&shear)))
        })
        .filter(|&(_, sharp)| sharp > upright)
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let lines = lines_of(runs_of(&per_row(&best)));
    (lines.len() >= 2).then_some((best, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shear_maps_rows_and_back() {
        for slope in [0.1, -0.1] {
            let (w, h) = (50, 20);
            let shear = Shear::new(slope, w);
            assert_eq!(shear.height(h), 25);
            // Every pixel lands within the sheared picture, and comes back from its row.
            for x in 0..w {
                for y in 0..h {
                    let r = shear.row(x, y);
                    assert!(r < shear.height(h));
                    assert_eq!(shear.rows_at(x, &(r..r + 1), h), y..y + 1);
                }
            }
        }
        // A line drifting down 0.1 rows a column runs level once sheared by 0.1.
        let (w, h) = (50, 20);
        let mut px = vec![0.0; w * h];
        for x in 0..w {
            px[(5 + (0.1 * x as f32).round() as usize) * w + x] = 1.0;
        }
        let sheared = Shear::new(0.1, w).apply(&px, w, h);
        let rows: Vec<usize> = (0..25)
            .filter(|&r| sheared[r * w..(r + 1) * w].contains(&1.0))
            .collect();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(Shear::UPRIGHT.apply(&px, w, h), px);
    }
}
