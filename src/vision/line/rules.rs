//! Printed lines in a picture of writing: ruled lines, underlines, a box's top and bottom and
//! its sides are not writing, and are erased before the writing's box is found, except under
//! the pen strokes that cross or meet them.

use super::normalize::BOX_LEVEL;
use crate::vision::preprocess::{median, PEN_OVER_LINE};

/// A run of ink across at least this share of the picture's width is a printed line (an
/// underline, a ruled line, a box's side), not writing.
const RULE_SHARE: f32 = 0.6;
/// Printed lines are often fainter than the writing, and broken.
const RULE_LEVEL: f32 = 0.1;
const RULE_GAP: usize = 3;
/// A box's side is at least this share of the picture's height...
const SIDE_SHARE: f32 = 0.3;
/// ... and meets a printed line within this many pixels.
const CORNER: usize = 3;
/// Ink above this level next to a printed line is a pen stroke crossing or meeting it, not
/// the line's blurred edge.
const STROKE_LEVEL: f32 = 0.5;
/// A printed line is at least this many times as long as the writing is high.
const RULE_LENGTH: usize = 2;

/// The runs (row, first, end) of ink at least `min` long along the rows of `px` (w x h),
/// gaps of up to [`RULE_GAP`] pixels bridged.
fn long_runs(px: &[f32], w: usize, h: usize, min: usize) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    for y in 0..h {
        let row = &px[y * w..(y + 1) * w];
        let mut x = 0;
        while x < w {
            if row[x] <= RULE_LEVEL {
                x += 1;
                continue;
            }
            let (start, mut end) = (x, x);
            while x < w && x <= end + RULE_GAP {
                if row[x] > RULE_LEVEL {
                    end = x;
                }
                x += 1;
            }
            x = end + 1;
            if x - start >= min {
                out.push((y, start, x));
            }
        }
    }
    out
}

/// The height of the ink in `px` (w x h) away from the left and right edges and off the rows
/// `skip`: the writing's, when rules and a box's sides are left out.
fn writing_height(px: &[f32], w: usize, h: usize, skip: &[bool]) -> usize {
    let edge = (w / 10).max(2);
    let rows: Vec<usize> = (0..h)
        .filter(|&y| {
            !skip[y]
                && px[y * w + edge.min(w)..y * w + w.saturating_sub(edge)]
                    .iter()
                    .any(|&v| v > BOX_LEVEL)
        })
        .collect();
    match (rows.first(), rows.last()) {
        (Some(a), Some(b)) => b - a + 1,
        _ => 0,
    }
}

/// `px` (w x h) with printed lines erased: horizontal runs across most of the picture and at least
/// [`RULE_LENGTH`] times as long as the writing is high (underlines, ruled lines, a box's top
/// and bottom; not the bar of a 7) and, when there are such, a box's sides.
pub(super) fn without_rules(px: &[f32], w: usize, h: usize) -> Vec<f32> {
    let mut px = px.to_vec();
    let runs = long_runs(&px, w, h, ((w as f32 * RULE_SHARE) as usize).max(8));
    if runs.is_empty() {
        return px;
    }
    let mut skip = vec![false; h];
    for &(y, ..) in &runs {
        skip[y] = true;
    }
    let height = writing_height(&px, w, h, &skip);
    let rules: Vec<_> = runs
        .into_iter()
        .filter(|&(_, a, b)| b - a >= RULE_LENGTH * height)
        .collect();
    if rules.is_empty() {
        return px;
    }
    erase_rules(&mut px, w, h, &rules);
    let t: Vec<f32> = (0..w * h).map(|i| px[(i % h) * w + i / h]).collect();
    let edge = (w / 10).max(2);
    let near = |p: usize, q: usize| p.abs_diff(q) <= CORNER;
    // A box's side: from a printed line to another, at an end of one (a box's corners); or
    // near the picture's left or right edge, across most of its height and longer than the
    // writing is high (a box cut by the picture's edge). A 1 written first or last, standing
    // on an underline or at the edge of a tight crop, is neither.
    let at_rule = |y: usize| rules.iter().any(|&(ry, ..)| near(ry, y));
    let at_rule_end = |x: usize| {
        rules
            .iter()
            .any(|&(_, ra, rb)| near(x, ra) || near(x, rb - 1))
    };
    for (x, a, b) in long_runs(&t, h, w, ((h as f32 * SIDE_SHARE) as usize).max(6)) {
        let boxed = at_rule(a) && at_rule(b - 1) && at_rule_end(x);
        let cut = (x < edge || x + edge >= w)
            && b - a >= (h as f32 * RULE_SHARE) as usize
            && b - a >= height + CORNER;
        if boxed || cut {
            for y in a..b {
                px[y * w + x] = 0.0;
            }
        }
    }
    px
}

/// Erases the rows of `rules` (row, first, end) from `px` (w x h) and the faint rows next to
/// them (a line's blurred edge), column by column, except where a pen stroke crosses or meets
/// the rule: strong ink within two rows above or below its rows in that column. (Erasing there
/// too cut a gap through every digit written across a ruled line: 6s read as 5, 7s as 2.)
fn erase_rules(px: &mut [f32], w: usize, h: usize, rules: &[(usize, usize, usize)]) {
    // Each rule pixel's printed level (the median of its row's run); None off the rules.
    let mut printed: Vec<Option<f32>> = vec![None; w * h];
    for &(y, a, b) in rules {
        let level = median(&mut px[y * w + a..y * w + b].to_vec());
        printed[y * w + a..y * w + b].fill(Some(level));
    }
    let on_rule = |i: usize| printed[i].is_some();
    let stroke_at = |px: &[f32], x: usize, y: usize| {
        y < h && !on_rule(y * w + x) && px[y * w + x] > STROKE_LEVEL
    };
    for x in 0..w {
        let mut y = 0;
        while y < h {
            if !on_rule(y * w + x) {
                y += 1;
                continue;
            }
            let top = y;
            while y < h && on_rule(y * w + x) {
                y += 1;
            }
            let (above, below) = ([top.wrapping_sub(1), top.wrapping_sub(2)], [y, y + 1]);
            if above.into_iter().chain(below).any(|r| stroke_at(px, x, r)) {
                continue;
            }
            for r in top..y {
                // Ink well darker than the printed line is a pen stroke lying along it (the
                // base of a 2, the foot of a 6 or a 0 written on the line).
                if printed[r * w + x].is_some_and(|level| px[r * w + x] < level + PEN_OVER_LINE) {
                    px[r * w + x] = 0.0;
                }
            }
            for r in [top.wrapping_sub(1), y] {
                if r < h && px[r * w + x] <= STROKE_LEVEL {
                    px[r * w + x] = 0.0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ink(w: usize, h: usize, rect: (usize, usize, usize, usize)) -> Vec<f32> {
        let mut px = vec![0.0; w * h];
        for y in rect.1..rect.3 {
            for x in rect.0..rect.2 {
                px[y * w + x] = 1.0;
            }
        }
        px
    }

    #[test]
    fn a_ruled_line_goes_but_not_under_the_strokes_that_cross_it() {
        // A faint ruled line across row 20 (blurred onto row 21); a stroke down through it
        // (columns 40-42) and one resting on it (columns 60-62, rows 8-19).
        let mut k = ink(100, 30, (40, 6, 43, 27));
        for x in 0..100 {
            k[20 * 100 + x] = k[20 * 100 + x].max(0.4);
            k[21 * 100 + x] = k[21 * 100 + x].max(0.2);
        }
        for y in 8..20 {
            for x in 60..63 {
                k[y * 100 + x] = 1.0;
            }
        }
        let px = without_rules(&k, 100, 30);
        let at = |x: usize, y: usize| px[y * 100 + x];
        assert_eq!((at(10, 20), at(10, 21), at(80, 20)), (0.0, 0.0, 0.0));
        assert!(
            (19..=22).all(|y| at(41, y) == 1.0),
            "the crossing stroke is whole"
        );
        assert!(
            at(61, 20) > 0.0,
            "the stroke resting on the line keeps its foot"
        );
    }

    #[test]
    fn a_one_first_on_an_underline_is_not_a_box_side() {
        // "1" at the left edge and writing beside it, all standing on an underline (row 26).
        let (w, h) = (80, 30);
        let mut px = ink(w, h, (1, 6, 3, 26));
        for y in 6..26 {
            for x in (15..60).filter(|x| x % 9 < 3) {
                px[y * w + x] = 1.0;
            }
        }
        for x in 0..w {
            px[26 * w + x] = 1.0;
        }
        let clean = without_rules(&px, w, h);
        assert!((6..26).all(|y| clean[y * w + 2] == 1.0), "the 1 stays");
        assert!(
            [10, 40, 70].iter().all(|&x| clean[26 * w + x] == 0.0),
            "the underline goes"
        );
        // Inside a box (lines above and below, sides joining them), the sides go.
        let mut boxed = ink(w, h, (20, 8, 50, 22));
        for x in 10..70 {
            boxed[3 * w + x] = 1.0;
            boxed[26 * w + x] = 1.0;
        }
        for y in 3..27 {
            boxed[y * w + 10] = 1.0;
            boxed[y * w + 69] = 1.0;
        }
        let clean = without_rules(&boxed, w, h);
        assert!((5..25).all(|y| clean[y * w + 10] == 0.0 && clean[y * w + 69] == 0.0));
        assert!((8..22).all(|y| clean[y * w + 20] == 1.0));
    }

    #[test]
    fn a_stroke_lying_along_a_faint_line_stays() {
        // A grey line (0.4) along row 20 and, on it, the base of a 2 in pen (1.0), columns
        // 30-45: nothing above or below it there to tell it from the line but its darkness.
        let (w, h) = (100, 30);
        let mut px = ink(w, h, (30, 6, 33, 20));
        for x in 0..w {
            px[20 * w + x] = if (30..46).contains(&x) { 1.0 } else { 0.4 };
        }
        let clean = without_rules(&px, w, h);
        assert!(
            (30..46).all(|x| clean[20 * w + x] == 1.0),
            "the pen stroke stays"
        );
        assert!((0..w)
            .filter(|x| !(28..48).contains(x))
            .all(|x| clean[20 * w + x] == 0.0));
    }
}
