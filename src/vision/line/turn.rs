//! Writing turned further than a shear can level it: a number photographed with the phone held
//! 15 or 30 degrees off. The shears of [`super::slant`] reach about 11 degrees; sheared by
//! more, the digits would lean as far as the line was turned. Where the most level shear is the
//! steepest one tried, or no shear levels the writing, the angles beyond are tried as turns
//! (`slant::choose_level`): the ink is turned level by the one under which its rows bunch most
//! sharply (the same projection-profile measure), and the digits stand as they were written.

use super::normalize::BOX_LEVEL;
use crate::vision::preprocess::Ink;

/// The turns tried, in whole degrees either way: from the steepest shear's angle (about 11.3
/// degrees) to 40. Beyond 45 degrees a line of digits and a column of them look alike.
pub const TURNS: std::ops::RangeInclusive<u32> = 11..=40;

/// Writing that, turned level, is at least this many times as wide as it is high (a line of
/// digits) is read turned. A number of two digits is nearly as high as it is wide, and its rows
/// bunch more sharply than upright under many turns (74 of 5,000 upright composed MNIST
/// numbers, all of two digits, at most 2.44 times as wide as high so turned): shorter writing
/// is read both ways and the surer reading kept (`slant::read_level`).
pub const LINE_ASPECT: f32 = 2.5;

/// A turn of a picture w x h by `degrees` (positive: writing that drifts down to the right is
/// turned level), into a picture just large enough to hold all of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Turn {
    pub degrees: f32,
    cos: f32,
    sin: f32,
    /// Where the turned picture's corner (0, 0) lies in turned coordinates.
    left: f32,
    top: f32,
    /// The turned picture's size.
    pub w: usize,
    pub h: usize,
}

impl Turn {
    /// The turn by `degrees` of a picture `w` x `h`.
    pub fn new(degrees: f32, w: usize, h: usize) -> Turn {
        let (sin, cos) = degrees.to_radians().sin_cos();
        let (wf, hf) = (w as f32, h as f32);
        let corners = [(0.0, 0.0), (wf, 0.0), (0.0, hf), (wf, hf)];
        let turned = corners.map(|(x, y)| (x * cos + y * sin, y * cos - x * sin));
        let min = |f: fn(&(f32, f32)) -> f32| turned.iter().map(f).fold(f32::MAX, f32::min);
        let max = |f: fn(&(f32, f32)) -> f32| turned.iter().map(f).fold(f32::MIN, f32::max);
        let (left, top) = (min(|p| p.0), min(|p| p.1));
        Turn {
            degrees,
            cos,
            sin,
            left,
            top,
            w: (max(|p| p.0) - left).ceil() as usize,
            h: (max(|p| p.1) - top).ceil() as usize,
        }
    }

    /// Where the point (x, y) of the picture lies in the turned one.
    pub fn forward(&self, x: f32, y: f32) -> (f32, f32) {
        (
            x * self.cos + y * self.sin - self.left,
            y * self.cos - x * self.sin - self.top,
        )
    }

    /// Where the point (x, y) of the turned picture lies in the picture.
    pub fn back(&self, x: f32, y: f32) -> (f32, f32) {
        let (u, v) = (x + self.left, y + self.top);
        (u * self.cos - v * self.sin, u * self.sin + v * self.cos)
    }

    /// `ink` turned: each pixel of the turned picture is the ink at its centre's place in the
    /// picture, interpolated between the four pixels around it (paper beyond the edges).
    pub fn ink(&self, ink: &Ink) -> Ink {
        let at = |x: isize, y: isize| {
            let inside = (0..ink.w as isize).contains(&x) && (0..ink.h as isize).contains(&y);
            if inside {
                ink.px[y as usize * ink.w + x as usize]
            } else {
                0.0
            }
        };
        let mut px = vec![0.0; self.w * self.h];
        for ty in 0..self.h {
            for tx in 0..self.w {
                let (x, y) = self.back(tx as f32 + 0.5, ty as f32 + 0.5);
                // Pixel centres lie at half-pixels: interpolate from the four around (x, y).
                let (fx, fy) = (x - 0.5, y - 0.5);
                let (x0, y0) = (fx.floor(), fy.floor());
                let (dx, dy) = (fx - x0, fy - y0);
                let (x0, y0) = (x0 as isize, y0 as isize);
                px[ty * self.w + tx] = (1.0 - dy) * ((1.0 - dx) * at(x0, y0) + dx * at(x0 + 1, y0))
                    + dy * ((1.0 - dx) * at(x0, y0 + 1) + dx * at(x0 + 1, y0 + 1));
            }
        }
        Ink {
            w: self.w,
            h: self.h,
            px,
            block: ink.block,
            width: (self.w * ink.block) as u32,
            height: (self.h * ink.block) as u32,
        }
    }

    /// `bbox` (x, y, width, height in the pixels of a picture `block` times the size of the
    /// turned ink) where it lies in the picture (`width` x `height` pixels): the box around its
    /// four corners turned back.
    pub fn box_back(
        &self,
        [x, y, w, h]: [u32; 4],
        block: usize,
        width: u32,
        height: u32,
    ) -> [u32; 4] {
        let b = block as f32;
        let corners = [(x, y), (x + w, y), (x, y + h), (x + w, y + h)]
            .map(|(cx, cy)| self.back(cx as f32 / b, cy as f32 / b));
        let clamp = |v: f32, end: u32| (v * b).round().clamp(0.0, end as f32) as u32;
        let x0 = clamp(corners.iter().map(|c| c.0).fold(f32::MAX, f32::min), width);
        let x1 = clamp(corners.iter().map(|c| c.0).fold(f32::MIN, f32::max), width);
        let y0 = clamp(corners.iter().map(|c| c.1).fold(f32::MAX, f32::min), height);
        let y1 = clamp(corners.iter().map(|c| c.1).fold(f32::MIN, f32::max), height);
        [x0, y0, x1 - x0, y1 - y0]
    }
}

/// A picture's ink made ready to be tried under turns: its inked points (at their pixels'
/// centres) and how sharply its rows bunch upright, made once for the turns either way.
pub struct TurnSearch {
    inked: Vec<(f32, f32, f32)>,
    w: usize,
    h: usize,
    upright: f32,
}

impl TurnSearch {
    /// The search over `ink`; None for a blank picture.
    pub fn of(ink: &Ink) -> Option<TurnSearch> {
        let inked: Vec<(f32, f32, f32)> = (0..ink.h)
            .flat_map(|y| (0..ink.w).map(move |x| (x, y)))
            .map(|(x, y)| (x as f32 + 0.5, y as f32 + 0.5, ink.px[y * ink.w + x]))
            .filter(|&(_, _, v)| v > BOX_LEVEL)
            .collect();
        let mut search = TurnSearch {
            inked,
            w: ink.w,
            h: ink.h,
            upright: 0.0,
        };
        search.upright = search.sharpness(&Turn::new(0.0, ink.w, ink.h));
        (search.upright > 0.0).then_some(search)
    }

    /// Each row's ink, turned by `turn` (its inked points, each in the row its centre falls in).
    pub fn rows(&self, turn: &Turn) -> Vec<f32> {
        let mut per_row = vec![0.0f32; turn.h + 1];
        for &(x, y, v) in &self.inked {
            let row = turn.forward(x, y).1.max(0.0) as usize;
            per_row[row.min(turn.h)] += v;
        }
        per_row
    }

    /// The sum of each row's ink squared, turned by `turn`.
    fn sharpness(&self, turn: &Turn) -> f32 {
        self.rows(turn).iter().map(|v| v * v).sum::<f32>()
    }

    /// The turn of [`TURNS`], `toward` the side a positive or negative slope drifts, under
    /// which the rows bunch most sharply, how many times as sharply as upright, and how many
    /// times as wide as high the ink is so turned; None where the least of [`TURNS`] (the
    /// steepest shear's reach) bunches them best.
    pub fn most_level(&self, toward: f32) -> Option<(Turn, f32, f32)> {
        let (turn, sharp) = TURNS
            .map(|d| Turn::new(toward.signum() * d as f32, self.w, self.h))
            .map(|turn| (turn, self.sharpness(&turn)))
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        let beyond = turn.degrees.abs() > *TURNS.start() as f32;
        beyond.then(|| (turn, sharp / self.upright, aspect(&self.inked, &turn)))
    }
}

/// How many times as wide as high the `inked` points' box is, turned by `turn`.
fn aspect(inked: &[(f32, f32, f32)], turn: &Turn) -> f32 {
    let (mut x0, mut x1, mut y0, mut y1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for &(x, y, _) in inked {
        let (tx, ty) = turn.forward(x, y);
        (x0, x1, y0, y1) = (x0.min(tx), x1.max(tx), y0.min(ty), y1.max(ty));
    }
    (x1 - x0 + 1.0) / (y1 - y0 + 1.0)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An ink w x h with `n` bars 3 wide and 12 high, 12 apart, standing upright along a line
    /// from (10, y0) turned by `degrees` (drifting down to the right for positive ones).
    pub(in crate::vision::line) fn turned_bars(
        n: usize,
        (w, h): (usize, usize),
        y0: f32,
        degrees: f32,
    ) -> Ink {
        let (sin, cos) = degrees.to_radians().sin_cos();
        let mut px = vec![0.0; w * h];
        for k in 0..n {
            // The bar's foot along the line, then up the bar at right angles to it.
            let along = 10.0 + 12.0 * k as f32;
            for up in 0..12 {
                for across in 0..3 {
                    let (a, u) = (along + across as f32, up as f32);
                    let (x, y) = (a * cos + u * sin, y0 + a * sin - u * cos);
                    let (x, y) = (x.round() as usize, y.round() as usize);
                    if x < w && y < h {
                        px[y * w + x] = 1.0;
                    }
                }
            }
        }
        ink_of(px, w, h)
    }

    /// The ink `px` (w x h) of a picture twice its size.
    pub(in crate::vision::line) fn ink_of(px: Vec<f32>, w: usize, h: usize) -> Ink {
        Ink {
            w,
            h,
            px,
            block: 2,
            width: 2 * w as u32,
            height: 2 * h as u32,
        }
    }

    #[test]
    fn a_point_turned_comes_back() {
        let turn = Turn::new(25.0, 120, 40);
        for (x, y) in [(0.0, 0.0), (119.0, 3.0), (60.5, 39.0)] {
            let (tx, ty) = turn.forward(x, y);
            assert!((0.0..=turn.w as f32).contains(&tx) && (0.0..=turn.h as f32).contains(&ty));
            let (bx, by) = turn.back(tx, ty);
            assert!((bx - x).abs() < 1e-3 && (by - y).abs() < 1e-3, "{bx} {by}");
        }
    }

    #[test]
    fn writing_turned_25_degrees_is_turned_level_either_way() {
        for degrees in [25.0, -25.0] {
            let y0 = if degrees > 0.0 { 30.0 } else { 80.0 };
            let ink = turned_bars(8, (130, 110), y0, degrees);
            let (turn, gain, aspect) = TurnSearch::of(&ink)
                .unwrap()
                .most_level(degrees)
                .expect("a turn");
            assert!(
                (turn.degrees - degrees).abs() <= 1.0,
                "{degrees}: {}",
                turn.degrees
            );
            assert!(gain > 2.0, "{gain}");
            // About 87 columns by 13 rows.
            assert!((5.5..7.5).contains(&aspect), "{aspect}");
            // Turned level, the bars' ink lies in about 12 rows, not the 50 it spans now.
            let level = turn.ink(&ink);
            let rows = (0..level.h)
                .filter(|&y| {
                    level.px[y * level.w..(y + 1) * level.w]
                        .iter()
                        .any(|&v| v > 0.5)
                })
                .count();
            assert!((11..=15).contains(&rows), "{degrees}: {rows} rows");
        }
    }

    #[test]
    fn writing_within_the_shears_reach_is_not_turned() {
        for degrees in [6.0, 0.0] {
            let ink = turned_bars(8, (130, 60), 15.0, degrees);
            assert_eq!(
                TurnSearch::of(&ink).unwrap().most_level(1.0),
                None,
                "{degrees}"
            );
        }
    }

    #[test]
    fn a_box_turned_back_covers_its_corners_in_the_picture() {
        let turn = Turn::new(30.0, 100, 60);
        // A box 10 x 20 at (40, 30) of the turned ink, in pixels two to the ink's.
        let back = turn.box_back([80, 60, 20, 40], 2, 200, 120);
        for (x, y) in [(40.0, 30.0), (50.0, 30.0), (40.0, 50.0), (50.0, 50.0)] {
            let (px, py) = turn.back(x, y);
            let (px, py) = (2.0 * px, 2.0 * py);
            assert!(
                px >= back[0] as f32 - 1.0 && px <= (back[0] + back[2]) as f32 + 1.0,
                "{px} in {back:?}"
            );
            assert!(
                py >= back[1] as f32 - 1.0 && py <= (back[1] + back[3]) as f32 + 1.0,
                "{py} in {back:?}"
            );
        }
        // Turned by 30 degrees, a box 20 x 40 grows to about 37 x 45.
        assert!(
            (35..=39).contains(&back[2]) && (43..=47).contains(&back[3]),
            "{back:?}"
        );
    }
}
