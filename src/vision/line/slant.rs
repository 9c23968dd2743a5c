//! Writing on a slant: a photo of a page is seldom held square.
//!
//! - Lines of writing tilted a few degrees overlap in rows, so that no blank row parts them (two
//!   lines ten times as wide as their gap is high overlap past a tilt of about 3 degrees).
//!   Sheared so that the lines run level (each column moved up or down in proportion to how
//!   far along it lies), they are parted by blank rows again: where the picture's rows part
//!   no lines, `page` shears it by the slope of [`SLOPES`] that runs its lines most level
//!   ([`slant_parting`]).
//! - One number on a slant is read level ([`read_level`]): the line reader scales the
//!   writing's box to a fixed height, and a tilted number's box is taller than its digits.
//!
//! [`Shear`] is the map; the most level slope is the one under which the rows' ink is most
//! sharply bunched (the sum of each sheared row's ink squared, largest where the lines run
//! level: the classic projection-profile measure of skew).

use super::normalize::{runs_of, Run, BOX_LEVEL};
use super::turn::{Turn, TurnSearch, LINE_ASPECT};
use crate::vision::preprocess::Ink;
use crate::vision::reading::Reading;
use std::ops::Range;

/// A number is read level when its rows' ink bunches at least this much more sharply under
/// the most level slope than upright (on the shared numbers 0.9500 exact read as they are,
/// 0.9526 levelled at 1.05, 1.1 or 1.2, 0.9517 at 1.3, 0.9506 at every slope that bunches
/// them more; 1.2 shears 3% of them, and no composed number of seeds 7 and 8 reads otherwise).
pub const LEVEL_GAIN: f32 = 1.2;

/// The slopes tried (rows per column, either way): up to 0.2, a tilt of about 11 degrees, in
/// steps of 0.02 (half a row's drift over 25 columns).
pub const SLOPES: [f32; 20] = [
    0.02, -0.02, 0.04, -0.04, 0.06, -0.06, 0.08, -0.08, 0.1, -0.1, 0.12, -0.12, 0.14, -0.14, 0.16,
    -0.16, 0.18, -0.18, 0.2, -0.2,
];

/// Where no shear levels the writing, a short number (less wide than a line, [`LINE_ASPECT`])
/// is read turned as well only under a turn that bunches its rows at least this many times as
/// sharply as upright: they bunch under some turn by chance. Chosen on composed numbers of
/// seeds 7 and 8 and the shared numbers (at 1.4 as many read right as before, the shared ones
/// picture for picture; at 1.3 three of seed 7's upright numbers are lost) and seed 7's
/// turned 30-35 degrees (at 1.4, 2-8 more of 1,000 right).
const SHORT_TURN_GAIN: f32 = 1.4;

/// The steepest slope of [`SLOPES`].
const STEEPEST: f32 = 0.2;

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

    /// `bbox` (x, y, width, height in the pixels of a picture `block` times the size of the
    /// ink that was sheared, `height` high) where it lay before the shear: as high again as
    /// the shear moves its two sides apart.
    pub fn box_back(&self, [x, y, w, h]: [u32; 4], block: usize, height: u32) -> [u32; 4] {
        let moved =
            |col: u32| (self.drift(col as usize / block) - self.lift as isize) * block as isize;
        let (a, b) = (moved(x), moved(x + w.saturating_sub(1)));
        let top = (y as isize + a.min(b)).clamp(0, height as isize);
        let bottom = (y as isize + h as isize + a.max(b)).clamp(top, height as isize);
        [x, top as u32, w, (bottom - top) as u32]
    }

    /// `ink` sheared.
    pub fn ink(&self, ink: &Ink) -> Ink {
        Ink {
            w: ink.w,
            h: self.height(ink.h),
            px: self.apply(&ink.px, ink.w, ink.h),
            block: ink.block,
            width: ink.width,
            height: ink.height + (self.grow * ink.block) as u32,
        }
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

/// How the lines of a picture's writing lie, where no blank row parts them upright
/// ([`slant_parting`]).
pub(super) struct Slant {
    /// The shear that runs them most level.
    pub shear: Shear,
    /// The lines it parts them into (runs of inked rows, sheared), where at least two; else
    /// none.
    pub lines: Vec<Run>,
}

impl Slant {
    /// Whether the most level shear is the steepest of [`SLOPES`]: lines turned further than
    /// a shear reaches may lie that way.
    pub fn steepest(&self) -> bool {
        self.shear.slope.abs() >= STEEPEST
    }
}

/// How the lines of `px` (w x h) lie ([`Slant`]): the shear that runs them most level, and the
/// lines it parts them into by `lines_of(runs)` where at least two and it runs them more level
/// than upright; None for a blank picture. Only the most level slope is tried for parting:
/// another might part a stray mark or a slanting stroke from a line of writing that runs
/// level.
pub(super) fn slant_parting(
    px: &[f32],
    w: usize,
    h: usize,
    lines_of: impl Fn(Vec<Run>) -> Vec<Run>,
) -> Option<Slant> {
    let (shear, gain, per_row) = most_level(px, w, h)?;
    let lines = lines_of(runs_of(&per_row));
    let parted = gain > 1.0 && lines.len() >= 2;
    Some(Slant {
        shear,
        lines: if parted { lines } else { Vec::new() },
    })
}

/// How [`read_level`] levels a number on a slant: sheared within [`SLOPES`], turned beyond.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Levelling {
    Shear(Shear),
    Turn(Turn),
}

impl Levelling {
    /// `ink` levelled.
    pub fn ink(&self, ink: &Ink) -> Ink {
        match self {
            Levelling::Shear(shear) => shear.ink(ink),
            Levelling::Turn(turn) => turn.ink(ink),
        }
    }

    /// `bbox`, in the pixels of the picture `ink` was made from once levelled, where it lies in
    /// that picture.
    pub fn box_back(&self, bbox: [u32; 4], ink: &Ink) -> [u32; 4] {
        match self {
            Levelling::Shear(shear) => shear.box_back(bbox, ink.block, ink.height),
            Levelling::Turn(turn) => turn.box_back(bbox, ink.block, ink.width, ink.height),
        }
    }
}

/// `read(ink)`, of `ink` levelled where its writing lies on a slant ([`level`]), the digits'
/// boxes put back where they lie in the picture. Where a short number might be turned
/// ([`Level::Either`]), it is read both ways and the surer reading kept.
pub fn read_level(ink: &Ink, read: impl Fn(&Ink) -> Reading) -> Reading {
    let read_by = |levelling: Option<Levelling>| match levelling {
        None => read(ink),
        Some(levelling) => {
            let mut reading = read(&levelling.ink(ink));
            for d in &mut reading.digits {
                d.bbox = levelling.box_back(d.bbox, ink);
            }
            reading
        }
    };
    match choose_level(ink) {
        Level::One(levelling) => read_by(levelling),
        Level::Either(levelling, turn) => {
            let (as_it_is, turned) = (read_by(levelling), read_by(Some(Levelling::Turn(turn))));
            if turned.confidence > as_it_is.confidence {
                turned
            } else {
                as_it_is
            }
        }
    }
}

/// How [`read_level`] levels a picture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Level {
    /// So (None: as it is).
    One(Option<Levelling>),
    /// So, or turned: a short number, whose rows may bunch under a turn by chance.
    Either(Option<Levelling>, Turn),
}

/// How [`read_level`] levels `ink`, where it reads it one way only; None where it reads it as it
/// is.
pub fn level(ink: &Ink) -> Option<Levelling> {
    match choose_level(ink) {
        Level::One(levelling) | Level::Either(levelling, _) => levelling,
    }
}

/// How [`read_level`] levels `ink`: sheared by the slope under which its rows' ink bunches
/// most sharply, where that is [`LEVEL_GAIN`] times as sharply as upright; but turned by a turn
/// beyond the shears ([`TurnSearch::most_level`]) that gains as much, where the writing may lie
/// further turned:
/// - where the steepest slope of [`SLOPES`] is the most level, by the turn that way; writing
///   that, turned level, is shorter than a line ([`LINE_ASPECT`]) is read both ways;
/// - where no shear levels it, by the better turn either way, but only a line, or short
///   writing that a turn bunches at least [`SHORT_TURN_GAIN`] times as sharply (read both
///   ways): short writing bunches under some turn by chance too often (tried at any gain, on
///   seed 7's 5,000 upright composed numbers 3 more read wrong; on the shared numbers 2).
///
/// Where a shear within reach levels the writing it is kept: handwriting whose baseline drifts
/// keeps its digits upright, and turning would tilt them.
fn choose_level(ink: &Ink) -> Level {
    let Some((shear, gain, _)) = most_level(&ink.px, ink.w, ink.h) else {
        return Level::One(None);
    };
    // Made once, and only where a turn is sought.
    let turns = std::cell::OnceCell::new();
    choose(shear, gain, |side| {
        turns
            .get_or_init(|| TurnSearch::of(ink))
            .as_ref()?
            .most_level(side)
    })
}

/// [`choose_level`]'s choice, given the most level shear, how many times as sharply as upright
/// it bunches the rows, and `turn_toward(side)`: [`TurnSearch::most_level`] toward a side.
fn choose(shear: Shear, gain: f32, turn_toward: impl Fn(f32) -> Option<(Turn, f32, f32)>) -> Level {
    let sheared = (gain >= LEVEL_GAIN).then_some(Levelling::Shear(shear));
    let turned = if shear.slope.abs() >= STEEPEST {
        turn_toward(shear.slope)
    } else if sheared.is_none() {
        [1.0, -1.0]
            .into_iter()
            .filter_map(&turn_toward)
            .filter(|&(_, gain, aspect)| aspect >= LINE_ASPECT || gain >= SHORT_TURN_GAIN)
            .max_by(|a, b| a.1.total_cmp(&b.1))
    } else {
        None
    };
    match turned {
        Some((turn, gain, aspect)) if gain >= LEVEL_GAIN => {
            if aspect >= LINE_ASPECT {
                Level::One(Some(Levelling::Turn(turn)))
            } else {
                Level::Either(sheared, turn)
            }
        }
        _ => Level::One(sheared),
    }
}

/// The slope of [`SLOPES`] under which the ink of `px` (w x h) bunches most sharply in rows,
/// how many times as sharply as upright, and its rows' ink, sheared; None for a blank picture.
fn most_level(px: &[f32], w: usize, h: usize) -> Option<(Shear, f32, Vec<f32>)> {
    let inked: Vec<(usize, usize, f32)> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| (x, y, px[y * w + x]))
        .filter(|&(_, _, v)| v > BOX_LEVEL)
        .collect();
    let per_row = |shear: &Shear| {
        // Each column's move down, so that the row is y + down[x] (`Shear::row`).
        let down: Vec<usize> = (0..w)
            .map(|x| (shear.lift as isize - shear.drift(x)) as usize)
            .collect();
        let mut per_row = vec![0.0f32; shear.height(h)];
        for &(x, y, v) in &inked {
            per_row[y + down[x]] += v;
        }
        per_row
    };
    let sharpness = |per_row: &[f32]| per_row.iter().map(|v| v * v).sum::<f32>();
    let upright = sharpness(&per_row(&Shear::UPRIGHT));
    if upright == 0.0 {
        return None;
    }
    let (shear, sharp) = SLOPES
        .iter()
        .map(|&slope| {
            let shear = Shear::new(slope, w);
            (shear, sharpness(&per_row(&shear)))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    Some((shear, sharp / upright, per_row(&shear)))
}

#[cfg(test)]
mod tests {
    use super::super::turn::tests::{ink_of, turned_bars};
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

    /// An ink w x h with bars 3 wide and 16 high every 10 columns from column 10, their tops
    /// at row `top` dropping `slope` rows a column.
    fn bars(w: usize, h: usize, top: usize, slope: f32) -> Ink {
        let mut px = vec![0.0; w * h];
        for x0 in (10..w - 10).step_by(10) {
            let y0 = top + (slope * x0 as f32).round() as usize;
            for y in y0..y0 + 16 {
                px[y * w + x0..y * w + x0 + 3].fill(1.0);
            }
        }
        ink_of(px, w, h)
    }

    #[test]
    fn writing_on_a_slant_is_read_level_and_boxed_where_it_lies() {
        assert_eq!(level(&bars(120, 50, 10, 0.0)), None, "level already");
        let ink = bars(120, 50, 10, 0.1);
        assert_eq!(level(&ink), Some(Levelling::Shear(Shear::new(0.1, ink.w))));
        // The reader is given the writing level: 16 inked rows, not 16 + 10. Its box of the
        // last bar (column 100) is put back where that bar lies: rows 20-35, 40-71 in the
        // picture's pixels, two of them to each of the ink's.
        let reading = read_level(&ink, |level| {
            let rows = (0..level.h)
                .filter(|&y| level.px[y * level.w..(y + 1) * level.w].contains(&1.0))
                .collect::<Vec<_>>();
            assert_eq!(rows.len(), 16, "{rows:?}");
            let bar = crate::vision::reading::DigitRead {
                digit: 1,
                probability: 1.0,
                bbox: [200, 2 * rows[0] as u32, 6, 32],
                probabilities: None,
            };
            Reading {
                text: "1".into(),
                formatted: "1".into(),
                confidence: 1.0,
                digits: vec![bar],
            }
        });
        assert_eq!(reading.digits[0].bbox, [200, 40, 6, 32]);
    }

    fn reading_of(confidence: f32) -> Reading {
        Reading {
            text: String::new(),
            formatted: String::new(),
            confidence,
            digits: vec![],
        }
    }

    /// How many rows of `ink` hold ink.
    fn inked_rows(ink: &Ink) -> usize {
        (0..ink.h)
            .filter(|&y| ink.px[y * ink.w..(y + 1) * ink.w].iter().any(|&v| v > 0.5))
            .count()
    }

    #[test]
    fn a_line_turned_beyond_the_shears_is_read_turned_level() {
        let ink = turned_bars(8, (130, 110), 30.0, 25.0);
        let Some(Levelling::Turn(turn)) = level(&ink) else {
            panic!("{:?}", level(&ink));
        };
        assert!((turn.degrees - 25.0).abs() <= 1.0, "{}", turn.degrees);
        let reads = std::cell::Cell::new(0);
        read_level(&ink, |level| {
            reads.set(reads.get() + 1);
            assert!(inked_rows(level) <= 15, "{}", inked_rows(level));
            reading_of(0.5)
        });
        assert_eq!(reads.get(), 1);
    }

    #[test]
    fn lines_turned_20_to_35_degrees_either_way_are_turned_and_drifting_ones_sheared() {
        for degrees in [20.0f32, -20.0, 30.0, -30.0, 35.0, -35.0] {
            let y0 = if degrees > 0.0 { 20.0 } else { 100.0 };
            let ink = turned_bars(8, (140, 130), y0, degrees);
            match level(&ink) {
                Some(Levelling::Turn(turn)) => {
                    assert!((turn.degrees - degrees).abs() <= 2.0, "{degrees}: {turn:?}")
                }
                other => panic!("{degrees}: {other:?}"),
            }
        }
        // Upright bars whose feet drift down 0.18 rows a column are sheared, not turned.
        let ink = bars(120, 60, 10, 0.18);
        assert_eq!(level(&ink), Some(Levelling::Shear(Shear::new(0.18, ink.w))));
    }

    #[test]
    fn a_turn_is_sought_beside_the_steepest_shear_or_either_way_where_no_shear_levels() {
        let turn = |degrees: f32| Turn::new(degrees, 100, 40);
        let shear = |slope: f32| Shear::new(slope, 100);
        let found = |gain: f32, aspect: f32| {
            move |side: f32| Some((turn(side.signum() * 30.0), gain, aspect))
        };
        // The steepest shear the most level: the turn that way, a line's alone, a short
        // number's beside the shear; one gaining too little is not taken.
        assert_eq!(
            choose(shear(0.2), 1.5, found(1.6, 4.0)),
            Level::One(Some(Levelling::Turn(turn(30.0))))
        );
        let either = choose(shear(-0.2), 1.5, found(1.6, 1.5));
        assert_eq!(
            either,
            Level::Either(Some(Levelling::Shear(shear(-0.2))), turn(-30.0))
        );
        let weak = choose(shear(0.2), 1.1, found(1.15, 4.0));
        assert_eq!(weak, Level::One(None));
        // A shear within reach that levels it is kept; no turn is sought.
        let sought = |_: f32| -> Option<(Turn, f32, f32)> { panic!("a turn sought") };
        assert_eq!(
            choose(shear(0.1), 1.5, sought),
            Level::One(Some(Levelling::Shear(shear(0.1))))
        );
        // No shear levels it: the better turn either way, of a line, or of a short number
        // only where it bunches the rows SHORT_TURN_GAIN times as sharply (read both ways).
        let sides = |plus: (f32, f32), minus: (f32, f32)| {
            move |side: f32| {
                let (gain, aspect) = if side > 0.0 { plus } else { minus };
                Some((turn(side.signum() * 30.0), gain, aspect))
            }
        };
        let better = choose(shear(0.02), 1.05, sides((1.3, 3.0), (1.8, 3.5)));
        assert_eq!(better, Level::One(Some(Levelling::Turn(turn(-30.0)))));
        let long_one = choose(shear(0.02), 1.05, sides((1.3, 3.0), (1.35, 2.0)));
        assert_eq!(long_one, Level::One(Some(Levelling::Turn(turn(30.0)))));
        let short = choose(shear(0.02), 1.05, sides((1.3, 2.0), (1.8, 2.0)));
        assert_eq!(short, Level::Either(None, turn(-30.0)));
        let short_weak = choose(shear(0.02), 1.05, sides((1.3, 2.0), (1.35, 2.0)));
        assert_eq!(short_weak, Level::One(None));
    }

    #[test]
    fn a_short_number_turned_beyond_the_shears_is_read_both_ways_and_the_surer_kept() {
        let ink = turned_bars(3, (60, 60), 10.0, 25.0);
        assert!(
            matches!(choose_level(&ink), Level::Either(_, _)),
            "{:?}",
            choose_level(&ink)
        );
        // A reader surer of the writing the fewer rows it spans keeps it turned level (about
        // 13 rows, against 22 as it is), one surer of it as it is keeps that; each reads it
        // twice.
        for turned_surer in [true, false] {
            let reads = std::cell::Cell::new(0);
            let reading = read_level(&ink, |level| {
                reads.set(reads.get() + 1);
                let rows = inked_rows(level);
                let mut reading = reading_of(if turned_surer {
                    1.0 / rows as f32
                } else {
                    rows as f32 / 100.0
                });
                reading.text = rows.to_string();
                reading
            });
            assert_eq!(reads.get(), 2);
            let rows: usize = reading.text.parse().unwrap();
            assert_eq!(rows <= 15, turned_surer, "{rows} rows");
        }
    }
}
