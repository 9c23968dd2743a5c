//! Pictures holding several numbers: lines of writing one above the other (a date above a phone
//! number, a column of amounts), or numbers far apart on one line (a date and an amount on a
//! cheque's line): the part of the picture each fills, so that each is read as a number of its
//! own. A line reader reads one band of writing, and in it the group of columns holding the
//! most ink (`normalize`); read whole, a picture of two numbers gave one of them, as sure as if
//! the other were not there.
//!
//! Lines are told apart only where blank rows part them: a run of inked rows is a line of its
//! own when it is at least `LINE_HEIGHT` of the tallest run's height, holds at least
//! `LINE_INK` of the most ink a run holds, and is at least `LINE_GAP` of its height away
//! from the line before it. Within one line of writing no such parting is found (every row of
//! the line holds ink somewhere along it; a 5's bar written apart is too low to count, a dot
//! holds too little ink). On a line, numbers are told apart where blank columns wider than
//! twice the line's height part them (`normalize::column_groups`: what the line reader takes
//! for the gap before a far mark), each at least `LINE_HEIGHT` of the line's height high and holding at least
//! `LINE_INK` of the most ink a number holds. Lines on a slant, which no blank row parts, are
//! found as these are once the picture is sheared level ([`super::slant`]); lines turned further
//! than a shear reaches (a page photographed 15-40 degrees off), once it is turned level
//! ([`super::turn`]), where each line then holds digits. So a picture of
//! one number is read as it always was: whole. Of the 6,355 shared numbers none is parted; of
//! 30,000 composed ones, one (an 86 whose 6 is broken in pieces, turned 40 degrees into two
//! lines of pieces).

mod turned;

use super::normalize::{column_groups, inked_runs, Run, BOX_LEVEL};
use super::rules;
use super::slant::{slant_parting, Shear};
use super::turn::Turn;
use crate::vision::preprocess::Ink;
use std::ops::Range;
use turned::{hold_numbers, sheared_parts, turned_parts};

/// A run of inked rows is a line of writing when it is at least this share of the tallest
/// run's height (a full stop, a bar written apart or what is left of a ruled line is not), and
/// a group of columns on a line is a number when it is at least this share of the line's
/// height high ...
const LINE_HEIGHT: f32 = 0.35;
/// ... and holds at least this share of the most ink a line, or a number, holds (a stray mark
/// is not one).
const LINE_INK: f32 = 0.1;
/// Two lines are parted only by blank rows at least this share of the shorter one's height
/// (faint or broken strokes may leave a blank row or two across one line of writing).
const LINE_GAP: f32 = 0.25;

/// The part of a picture's ink one number is read from: half-open rows and columns of the ink
/// sheared by `shear` (upright, unless the lines of writing were found on a slant).
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub rows: Range<usize>,
    pub cols: Range<usize>,
    pub shear: Shear,
}

impl Part {
    /// The ink's rows the part holds pixels of.
    fn picture_rows(&self, h: usize) -> Range<usize> {
        let each = self
            .cols
            .clone()
            .map(|x| self.shear.rows_at(x, &self.rows, h));
        let top = each.clone().map(|r| r.start).min().unwrap_or(0);
        let bottom = each.map(|r| r.end).max().unwrap_or(0);
        top..bottom.max(top)
    }

    /// The top left corner (column, row) of [`ink_of`]'s ink in the whole ink's pixels.
    pub fn origin(&self, h: usize) -> (usize, usize) {
        (self.cols.start, self.picture_rows(h).start)
    }
}

/// The numbers in a picture's ink.
#[derive(Clone, Debug, PartialEq)]
pub struct Parts {
    /// The part each number is read from, line by line from the top, left to right on a line,
    /// parted halfway between numbers; the whole ink, once, when it holds one number or none.
    pub parts: Vec<Part>,
    /// The part holding the most ink (the first of equals): the number a line reader reads
    /// when it reads the picture whole.
    pub main: usize,
    /// Where the lines were found turned further than a shear reaches: the turn that runs them
    /// level, and the ink so turned, which the parts are parts of.
    pub turned: Option<(Turn, Ink)>,
}

/// Where the ink of one number of a picture ([`each_number`]) lies in the picture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placement {
    /// Its top left corner in the picture's pixels (in the turned picture's, if turned).
    corner: [u32; 2],
    /// The turn the number's lines were found under, and the picture's block and size.
    turn: Option<(Turn, usize, u32, u32)>,
}

impl Placement {
    /// A picture of one number: its ink is the picture's.
    pub const WHOLE: Placement = Placement {
        corner: [0, 0],
        turn: None,
    };

    /// `bbox` (x, y, width, height in the pixels of the number's own picture) where it lies in
    /// the whole picture.
    pub fn place(&self, [x, y, w, h]: [u32; 4]) -> [u32; 4] {
        let bbox = [x + self.corner[0], y + self.corner[1], w, h];
        match self.turn {
            None => bbox,
            Some((turn, block, width, height)) => turn.box_back(bbox, block, width, height),
        }
    }
}

/// The numbers in `ink` (see the module's comment). Printed lines (a box's sides, ruled lines)
/// are left out first, as the line reader leaves them out. Where no blank rows part lines of
/// writing, the slopes of [`super::slant::SLOPES`] are tried: lines on a slant are parted
/// along it; lines turned further are parted once the ink is turned level
/// ([`turned_parts`]).
pub fn parts_of(ink: &Ink) -> Parts {
    parts_within(ink, true)
}

/// [`parts_of`], the turns tried only where `may_turn`.
fn parts_within(ink: &Ink, may_turn: bool) -> Parts {
    let (w, h) = (ink.w, ink.h);
    let whole = Parts {
        parts: vec![Part {
            rows: 0..h,
            cols: 0..w,
            shear: Shear::UPRIGHT,
        }],
        main: 0,
        turned: None,
    };
    let clean = rules::without_rules(&ink.px, w, h);
    let mut lines = lines_of(inked_runs(&clean, w, h));
    let mut shear = Shear::UPRIGHT;
    if lines.len() < 2 {
        if let Some(slant) = slant_parting(&clean, w, h, lines_of) {
            if let Some(turned) = may_turn
                .then(|| turned_parts(ink, &clean, &slant))
                .flatten()
            {
                return turned;
            }
            if !slant.lines.is_empty() {
                (shear, lines) = (slant.shear, slant.lines);
            }
        }
    }
    if lines.is_empty() {
        return whole;
    }
    let sheared;
    let px = if shear == Shear::UPRIGHT {
        &clean
    } else {
        sheared = shear.apply(&clean, w, h);
        &sheared
    };
    // Each line's groups of columns, with their ink.
    let groups: Vec<Vec<Group>> = lines
        .iter()
        .map(|line| groups_on(px, w, line.rows.clone()))
        .collect();
    let most = groups.iter().flatten().map(|g| g.ink).fold(0.0, f32::max);
    let row_cuts = halfway(lines.iter().map(|l| l.rows.clone()), shear.height(h));
    let (mut parts, mut inks) = (Vec::new(), Vec::new());
    for (rows, groups) in row_cuts.into_iter().zip(groups) {
        // The line's largest group is a number whatever the others hold.
        let largest = groups.iter().map(|g| g.ink).fold(0.0, f32::max);
        let numbers: Vec<&Group> = groups
            .iter()
            .filter(|g| g.ink == largest || (g.tall && g.ink >= LINE_INK * most))
            .collect();
        let col_cuts = halfway(numbers.iter().map(|g| g.cols.clone()), w);
        for (cols, g) in col_cuts.into_iter().zip(numbers) {
            parts.push(Part {
                rows: rows.clone(),
                cols,
                shear,
            });
            inks.push(g.ink);
        }
    }
    if parts.len() < 2 {
        return whole;
    }
    // Lines found only on a slant must each hold digits.
    if shear != Shear::UPRIGHT && !hold_numbers(&sheared_parts(px, ink, &parts)) {
        return whole;
    }
    let main = (0..inks.len())
        .rev()
        .max_by(|&a, &b| inks[a].total_cmp(&inks[b]))
        .unwrap_or(0);
    Parts {
        parts,
        main,
        turned: None,
    }
}

/// `f(number's ink, where it lies)` for each number in `ink` ([`parts_of`]), with which of
/// them holds the most ink: `ink` itself, [`Placement::WHOLE`], when it holds one number; else
/// each part's own ink ([`ink_of`], of the ink turned level where the lines were found turned)
/// and where that lies in the picture.
pub fn each_number<T>(ink: &Ink, f: impl Fn(&Ink, Placement) -> T) -> (Vec<T>, usize) {
    let found = parts_of(ink);
    if found.parts.len() == 1 {
        return (vec![f(ink, Placement::WHOLE)], 0);
    }
    let (page, turn) = match &found.turned {
        None => (ink, None),
        Some((turn, turned)) => (turned, Some(*turn)),
    };
    let each = found
        .parts
        .iter()
        .map(|part| {
            let (left, top) = part.origin(page.h);
            let placement = Placement {
                corner: [(left * page.block) as u32, (top * page.block) as u32],
                turn: turn.map(|t| (t, ink.block, ink.width, ink.height)),
            };
            f(&ink_of(page, part), placement)
        })
        .collect();
    (each, found.main)
}

/// The ink of `part` of `ink` alone, as the ink of a picture of its own (paper where the
/// part's box holds pixels of another part, on a slant): what lies in it is
/// [`Part::origin`] further right and down in the whole ink, times `ink.block` in the picture.
pub fn ink_of(ink: &Ink, part: &Part) -> Ink {
    let rows = part.picture_rows(ink.h);
    let (left, top) = (
        (part.cols.start * ink.block) as u32,
        (rows.start * ink.block) as u32,
    );
    let upright = part.shear == Shear::UPRIGHT;
    let px = rows
        .clone()
        .flat_map(|y| part.cols.clone().map(move |x| (x, y)))
        .map(
            |(x, y)| match upright || part.rows.contains(&part.shear.row(x, y)) {
                true => ink.px[y * ink.w + x],
                false => 0.0,
            },
        )
        .collect();
    Ink {
        w: part.cols.len(),
        h: rows.len(),
        px,
        block: ink.block,
        width: ((part.cols.len() * ink.block) as u32).min(ink.width.saturating_sub(left)),
        height: ((rows.len() * ink.block) as u32).min(ink.height.saturating_sub(top)),
    }
}

/// The ranges parted halfway between consecutive `spans` (in order, apart), covering 0..end.
fn halfway(spans: impl Iterator<Item = Range<usize>>, end: usize) -> Vec<Range<usize>> {
    let spans: Vec<Range<usize>> = spans.collect();
    let mut cuts = vec![0];
    cuts.extend(spans.windows(2).map(|p| (p[0].end + p[1].start) / 2));
    cuts.push(end);
    cuts.windows(2).map(|c| c[0]..c[1]).collect()
}

/// The lines of writing among `runs` of inked rows, top to bottom: the runs that are lines (see
/// the module's comment), a run too close to the line before joined to it.
fn lines_of(runs: Vec<Run>) -> Vec<Run> {
    let tallest = runs.iter().map(|r| r.rows.len()).max().unwrap_or(0);
    let most = runs.iter().map(|r| r.ink).fold(0.0, f32::max);
    let mut lines: Vec<Run> = Vec::new();
    for run in runs
        .into_iter()
        .filter(|r| r.rows.len() as f32 >= LINE_HEIGHT * tallest as f32 && r.ink >= LINE_INK * most)
    {
        match lines.last_mut() {
            Some(last) if !parted(&last.rows, &run.rows) => {
                last.rows.end = run.rows.end;
                last.ink += run.ink;
            }
            _ => lines.push(run),
        }
    }
    lines
}

/// Whether the lines of rows `above` and `below` are far enough apart to be two ([`LINE_GAP`]).
fn parted(above: &Range<usize>, below: &Range<usize>) -> bool {
    let shorter = above.len().min(below.len());
    (below.start - above.end) as f32 >= (LINE_GAP * shorter as f32).max(2.0)
}

/// A group of inked columns on a line: its columns, its ink, and whether its ink is at least
/// [`LINE_HEIGHT`] of the line's height high.
struct Group {
    cols: Range<usize>,
    ink: f32,
    tall: bool,
}

/// The groups of inked columns of `px` (w wide) within `rows` ([`column_groups`]), each
/// marked tall or not.
fn groups_on(px: &[f32], w: usize, rows: Range<usize>) -> Vec<Group> {
    let height = rows.len();
    column_groups(px, w, rows.clone())
        .into_iter()
        .map(|(cols, ink)| {
            let holds = |y: &usize| cols.clone().any(|x| px[*y * w + x] > BOX_LEVEL);
            let high = match (rows.clone().find(holds), rows.clone().rev().find(holds)) {
                (Some(a), Some(b)) => b - a + 1,
                _ => 0,
            };
            Group {
                tall: high as f32 >= LINE_HEIGHT * height as f32,
                cols,
                ink,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ink w x h with the rectangles (x0, y0, x1, y1) filled.
    pub(super) fn ink_with(w: usize, h: usize, rects: &[(usize, usize, usize, usize)]) -> Ink {
        let mut px = vec![0.0; w * h];
        for &(x0, y0, x1, y1) in rects {
            for y in y0..y1 {
                px[y * w + x0..y * w + x1].fill(1.0);
            }
        }
        Ink {
            w,
            h,
            px,
            block: 2,
            width: 2 * w as u32,
            height: 2 * h as u32,
        }
    }

    /// The rows of each part, where every part spans all the columns.
    fn rows_of(parts: &Parts, w: usize) -> Vec<Range<usize>> {
        assert!(parts.parts.iter().all(|p| p.cols == (0..w)), "{parts:?}");
        parts.parts.iter().map(|p| p.rows.clone()).collect()
    }

    #[test]
    fn two_lines_are_parted_halfway_between_them() {
        // Digits (bars 3 wide) in rows 5-24 and 40-59, a gap of 15 rows.
        let digits = |y0, y1| (0..6).map(move |k| (10 + 8 * k, y0, 13 + 8 * k, y1));
        let rects: Vec<_> = digits(5, 25).chain(digits(40, 60)).collect();
        let ink = ink_with(80, 70, &rects);
        let parts = parts_of(&ink);
        assert_eq!(rows_of(&parts, 80), vec![0..32, 32..70]);
        assert_eq!(parts.main, 0, "as much ink in each: the first");
        let second = ink_of(&ink, &parts.parts[1]);
        assert_eq!((second.w, second.h, second.block), (80, 38, 2));
        assert_eq!((second.width, second.height), (160, 76));
        assert_eq!(
            second.px[8 * 80 + 10],
            1.0,
            "row 40 is row 8 of the second line"
        );
    }

    #[test]
    fn the_main_line_is_the_one_holding_the_most_ink() {
        // A short line above (two digits, rows 5-16) and a longer, taller one below.
        let mut rects = vec![(10, 5, 13, 17), (20, 5, 23, 17)];
        rects.extend((0..6).map(|k| (10 + 8 * k, 30, 13 + 8 * k, 55)));
        let parts = parts_of(&ink_with(80, 60, &rects));
        assert_eq!(rows_of(&parts, 80), vec![0..23, 23..60]);
        assert_eq!(parts.main, 1);
    }

    #[test]
    fn numbers_far_apart_on_a_line_are_parted_halfway_between_them() {
        // Two digits at columns 10-22 and three at 100-122, rows 10-29: a gap of 78 columns,
        // more than twice the line's height (20).
        let mut rects = vec![(10, 10, 13, 30), (19, 10, 22, 30)];
        rects.extend((0..3).map(|k| (100 + 9 * k, 10, 103 + 9 * k, 30)));
        let ink = ink_with(140, 40, &rects);
        let parts = parts_of(&ink);
        let cols: Vec<Range<usize>> = parts.parts.iter().map(|p| p.cols.clone()).collect();
        assert_eq!(cols, vec![0..61, 61..140]);
        assert!(parts.parts.iter().all(|p| p.rows == (0..40)));
        assert_eq!(parts.main, 1);
        let right = ink_of(&ink, &parts.parts[1]);
        assert_eq!((right.w, right.h, right.width), (79, 40, 158));
        assert_eq!(right.px[10 * 79 + 100 - 61], 1.0, "column 100 is column 39");
        // Twice the height apart or less: one number (a wide gap between groups of digits).
        let near = [(10, 10, 13, 30), (50, 10, 53, 30)];
        assert_eq!(parts_of(&ink_with(80, 40, &near)).parts.len(), 1);
        // Far, but a thin mark holding under a tenth of the ink, or a dash not a third as high.
        let mut mark = rects[2..].to_vec();
        mark.push((10, 12, 11, 28));
        assert_eq!(parts_of(&ink_with(140, 40, &mark)).parts.len(), 1);
        let mut dash = rects[2..].to_vec();
        dash.push((10, 20, 40, 22));
        assert_eq!(parts_of(&ink_with(140, 40, &dash)).parts.len(), 1);
    }

    #[test]
    fn two_lines_on_a_slant_are_parted_along_it() {
        // Eleven digits (bars 3 wide, 16 high) on each of two lines drifting down a row every
        // 10 columns, 24 rows apart: their rows overlap (11-36 and 35-60), no blank row parts
        // them.
        let digit = |x: usize, top: usize| {
            let y = top + (x as f32 * 0.1).round() as usize;
            (x, y, x + 3, y + 16)
        };
        let line = |top| (0..11).map(move |k| digit(10 + 10 * k, top));
        let rects: Vec<_> = line(10).chain(line(34)).collect();
        let ink = ink_with(120, 80, &rects);
        let parts = parts_of(&ink);
        assert_eq!(parts.parts.len(), 2, "{parts:?}");
        let each_line = 11.0 * 16.0 * 3.0;
        for (k, part) in parts.parts.iter().enumerate() {
            assert_eq!(part.shear.slope, 0.1);
            assert_eq!(part.cols, 0..120);
            // Each part holds its line's ink, and only its line's.
            let alone = ink_of(&ink, part);
            assert_eq!(alone.px.iter().sum::<f32>(), each_line, "part {k}");
            let (_, top) = part.origin(ink.h);
            let (first, _, _, _) = rects[11 * k];
            let row = (rects[11 * k].1 - top) * alone.w + first;
            assert_eq!(alone.px[row], 1.0, "part {k}: its first digit's top left");
            assert_eq!(alone.height, 2 * alone.h as u32);
        }
        // One line alone on the same slant: whole.
        let one = parts_of(&ink_with(120, 80, &line(10).collect::<Vec<_>>()));
        assert_eq!(one.parts.len(), 1);
        assert_eq!(one.parts[0].shear, Shear::UPRIGHT);
    }

    #[test]
    fn one_line_and_what_is_not_a_line_are_read_whole() {
        let whole = |ink: &Ink| {
            let parts = parts_of(ink);
            parts.parts.len() == 1
                && parts.parts[0].rows == (0..ink.h)
                && parts.parts[0].cols == (0..ink.w)
                && parts.main == 0
        };
        // One line of digits, a bar written apart above them (a 5's).
        let bar = [(10, 10, 13, 30), (20, 10, 23, 30), (30, 4, 38, 6)];
        assert!(whole(&ink_with(80, 40, &bar)));
        // Faint strokes leaving a blank row across the line (rows 5-12, then 14-29).
        let broken = [(10, 5, 13, 13), (10, 14, 13, 30), (20, 14, 23, 30)];
        assert!(whole(&ink_with(80, 40, &broken)));
        // A full stop below.
        let dot = ink_with(
            80,
            40,
            &[(10, 5, 13, 25), (20, 5, 23, 25), (30, 32, 33, 35)],
        );
        assert!(whole(&dot));
        // A faint mark as tall as the line, holding under a tenth of its ink.
        let mut faint = ink_with(80, 60, &[(10, 5, 40, 25)]);
        faint.px[45 * 80 + 10] = 1.0;
        for y in 35..55 {
            faint.px[y * 80 + 60] = 0.5;
        }
        assert!(whole(&faint));
        assert!(whole(&ink_with(8, 8, &[])));
    }
}
