//! Pictures holding several lines of writing (a date above a phone number, a column of amounts,
//! two fields of a form): the rows each line fills, so that each is read as a number of its
//! own. A line reader reads one band of writing (the one holding the most ink: `normalize`);
//! read whole, a picture of two numbers gave one of them, as sure as if the other were not
//! there.
//!
//! Lines are told apart only where blank rows part them: a run of inked rows is a line of its
//! own when it is at least [`LINE_HEIGHT`] of the tallest run's height, holds at least
//! [`LINE_INK`] of the most ink a run holds, and is at least [`LINE_GAP`] of its height away
//! from the line before it. Within one line of writing no such parting is found (every row of
//! the line holds ink somewhere along it; a 5's bar written apart is too low to count, a dot
//! holds too little ink), so a picture of one line is read as it always was: whole. Of the
//! 6,355 shared numbers and 10,000 composed ones (all of one line), none is parted.

use super::rules;
use crate::vision::preprocess::Ink;
use std::ops::Range;

/// A run of inked rows is a line of writing when it is at least this share of the tallest
/// run's height (a full stop, a bar written apart or what is left of a ruled line is not) ...
const LINE_HEIGHT: f32 = 0.35;
/// ... and holds at least this share of the most ink a run holds (a stray mark is not).
const LINE_INK: f32 = 0.1;
/// Two lines are parted only by blank rows at least this share of the shorter one's height
/// (faint or broken strokes may leave a blank row or two across one line of writing).
const LINE_GAP: f32 = 0.25;
/// A pixel above this level counts as ink in a row (as for the writing's box in `normalize`).
const INK_LEVEL: f32 = 0.2;

/// The lines of writing in a picture's ink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lines {
    /// The rows each line is read from, top to bottom, parted halfway between lines; all the
    /// ink's rows, once, when it holds one line of writing or none.
    pub rows: Vec<Range<usize>>,
    /// The line holding the most ink: the one a line reader reads when it reads the picture
    /// whole.
    pub main: usize,
}

/// The lines of writing in `ink` (see the module's comment). Printed lines (a box's sides,
/// ruled lines) are left out first, as the line reader leaves them out.
pub fn lines_of(ink: &Ink) -> Lines {
    let clean = rules::without_rules(&ink.px, ink.w, ink.h);
    let runs = inked_runs(&clean, ink.w, ink.h);
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
    if lines.len() < 2 {
        return Lines {
            rows: std::iter::once(0..ink.h).collect(),
            main: 0,
        };
    }
    let mut cuts = vec![0];
    cuts.extend(
        lines
            .windows(2)
            .map(|pair| (pair[0].rows.end + pair[1].rows.start) / 2),
    );
    cuts.push(ink.h);
    // The first of lines holding as much ink.
    let main = (0..lines.len())
        .rev()
        .max_by(|&a, &b| lines[a].ink.total_cmp(&lines[b].ink))
        .unwrap_or(0);
    Lines {
        rows: cuts.windows(2).map(|c| c[0]..c[1]).collect(),
        main,
    }
}

/// The ink of `rows` of `ink` alone, as the ink of a picture of its own: what lies in it is
/// `rows.start * ink.block` picture pixels higher than in the whole picture.
pub fn ink_of_rows(ink: &Ink, rows: Range<usize>) -> Ink {
    let top = (rows.start * ink.block) as u32;
    Ink {
        w: ink.w,
        h: rows.len(),
        px: ink.px[rows.start * ink.w..rows.end * ink.w].to_vec(),
        block: ink.block,
        width: ink.width,
        height: ((rows.len() * ink.block) as u32).min(ink.height.saturating_sub(top)),
    }
}

/// Whether the lines of rows `above` and `below` are far enough apart to be two ([`LINE_GAP`]).
fn parted(above: &Range<usize>, below: &Range<usize>) -> bool {
    let shorter = above.len().min(below.len());
    (below.start - above.end) as f32 >= (LINE_GAP * shorter as f32).max(2.0)
}

/// A run of consecutive rows holding ink, and how much.
struct Run {
    rows: Range<usize>,
    ink: f32,
}

/// The runs of rows of `px` (w x h) holding ink above [`INK_LEVEL`], top to bottom.
fn inked_runs(px: &[f32], w: usize, h: usize) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for y in 0..h {
        let ink: f32 = px[y * w..(y + 1) * w]
            .iter()
            .filter(|&&v| v > INK_LEVEL)
            .sum();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An ink w x h with the rectangles (x0, y0, x1, y1) filled.
    fn ink_with(w: usize, h: usize, rects: &[(usize, usize, usize, usize)]) -> Ink {
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

    #[test]
    fn two_lines_are_parted_halfway_between_them() {
        // Digits (bars 3 wide) in rows 5-24 and 40-59, a gap of 15 rows.
        let digits = |y0, y1| (0..6).map(move |k| (10 + 8 * k, y0, 13 + 8 * k, y1));
        let rects: Vec<_> = digits(5, 25).chain(digits(40, 60)).collect();
        let ink = ink_with(80, 70, &rects);
        let lines = lines_of(&ink);
        assert_eq!(lines.rows, vec![0..32, 32..70]);
        assert_eq!(lines.main, 0, "as much ink in each: the first");
        let second = ink_of_rows(&ink, 32..70);
        assert_eq!((second.w, second.h, second.block), (80, 38, 2));
        assert_eq!(second.height, 76);
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
        let lines = lines_of(&ink_with(80, 60, &rects));
        assert_eq!(lines.rows, vec![0..23, 23..60]);
        assert_eq!(lines.main, 1);
    }

    #[test]
    fn one_line_and_what_is_not_a_line_are_read_whole() {
        let whole = |ink: &Ink| {
            let lines = lines_of(ink);
            lines.rows.len() == 1 && lines.rows[0] == (0..ink.h) && lines.main == 0
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
        // A faint mark as tall as the line, holding under a fifth of its ink.
        let mut faint = ink_with(80, 60, &[(10, 5, 40, 25)]);
        faint.px[45 * 80 + 10] = 1.0;
        for y in 35..55 {
            faint.px[y * 80 + 60] = 0.5;
        }
        assert!(whole(&faint));
        assert!(whole(&ink_with(8, 8, &[])));
    }
}
