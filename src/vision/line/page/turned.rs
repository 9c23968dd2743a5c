//! Lines of writing turned further than a shear reaches (a page photographed 15-40 degrees
//! off): parted once the ink is turned level, where each line then holds digits. Parted along
//! a shear instead, a line turned 30 degrees would be cut through its digits.

use super::super::normalize::{runs_of, BOX_LEVEL};
use super::super::slant::{Slant, LEVEL_GAIN};
use super::super::turn::{TurnSearch, LINE_ASPECT};
use super::{ink_of, lines_of, parts_within, Part, Parts};
use crate::vision::preprocess::Ink;
use crate::vision::segment::piece_count;

/// The numbers in `ink` where its lines lie turned further than a shear reaches, given how the
/// shears found them lying (`slant`): parted as [`super::parts_of`] parts them, in the ink
/// turned by the turn under which the rows of `clean` (its ink without printed lines) bunch
/// most sharply, where they bunch at least [`LEVEL_GAIN`] times as sharply as upright, blank
/// rows part them into at least two lines so turned, and each part holds a number
/// ([`hold_numbers`]); None elsewhere. The turns are tried toward the steepest shear where it
/// runs the writing most level; elsewhere either way, but only where no shear parts the writing
/// and it is not as wide as a line (most pictures are of one line, and the turns cost as much
/// again as the parting).
pub(super) fn turned_parts(ink: &Ink, clean: &[f32], slant: &Slant) -> Option<Parts> {
    let one_way = slant.steepest();
    // The block's aspect is looked at only where it matters (a scan of the whole ink).
    let block = || slant.lines.is_empty() && ink_aspect(clean, ink.w, ink.h) < LINE_ASPECT;
    if !(one_way || block()) {
        return None;
    }
    let toward = slant.shear.slope.signum();
    let clean = Ink {
        w: ink.w,
        h: ink.h,
        px: clean.to_vec(),
        block: ink.block,
        width: ink.width,
        height: ink.height,
    };
    let search = TurnSearch::of(&clean)?;
    let sides: &[f32] = if one_way { &[1.0] } else { &[1.0, -1.0] };
    let (turn, _) = sides
        .iter()
        .filter_map(|side| search.most_level(side * toward))
        .filter(|(turn, gain, _)| {
            *gain >= LEVEL_GAIN && lines_of(runs_of(&search.rows(turn))).len() >= 2
        })
        .map(|(turn, gain, _)| (turn, gain))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let turned = turn.ink(ink);
    let found = parts_within(&turned, false);
    let parts: Vec<Ink> = found.parts.iter().map(|p| ink_of(&turned, p)).collect();
    (found.parts.len() >= 2 && hold_numbers(&parts)).then_some(Parts {
        turned: Some((turn, turned)),
        ..found
    })
}

/// How many times as wide as high the box around the ink above [`BOX_LEVEL`] of `px` (w x h)
/// is; 0 for a blank picture.
fn ink_aspect(px: &[f32], w: usize, h: usize) -> f32 {
    let inked = |x: usize, y: usize| px[y * w + x] > BOX_LEVEL;
    let cols = || (0..w).filter(|&x| (0..h).any(|y| inked(x, y)));
    let rows = || (0..h).filter(|&y| (0..w).any(|x| inked(x, y)));
    match (
        cols().next(),
        cols().next_back(),
        rows().next(),
        rows().next_back(),
    ) {
        (Some(x0), Some(x1), Some(y0), Some(y1)) => (x1 - x0 + 1) as f32 / (y1 - y0 + 1) as f32,
        _ => 0.0,
    }
}

/// Whether each of the inks of the `parts` of a picture holds a number: at least two pieces of
/// ink (digits; [`piece_count`]), at least as wide as high. Under a steep turn or shear the
/// digits of a short number may part as lines of their own: a 3, and a 1 leaning far lying
/// flat; two 1s; an 8, and a 6 broken in pieces.
pub(super) fn hold_numbers(parts: &[Ink]) -> bool {
    parts
        .iter()
        .all(|part| ink_aspect(&part.px, part.w, part.h) >= 1.0 && piece_count(part) >= 2)
}

/// The band of each of `parts` in `sheared` (the ink of a picture, `ink`, sheared by the parts'
/// shear), as an ink of its own: its lines run level there.
pub(super) fn sheared_parts(sheared: &[f32], ink: &Ink, parts: &[Part]) -> Vec<Ink> {
    parts
        .iter()
        .map(|part| Ink {
            w: part.cols.len(),
            h: part.rows.len(),
            px: part
                .rows
                .clone()
                .flat_map(|y| part.cols.clone().map(move |x| sheared[y * ink.w + x]))
                .collect(),
            block: ink.block,
            width: (part.cols.len() * ink.block) as u32,
            height: (part.rows.len() * ink.block) as u32,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::super::turn::tests::{self as turn_tests, turned_bars};
    use super::super::tests::ink_with;
    use super::super::{each_number, parts_of};
    use super::*;

    /// Two lines of six bars (digits) each, turned by `degrees`, the second `apart` rows
    /// below the first where they start.
    fn turned_lines(degrees: f32, apart: f32) -> Ink {
        let y0 = if degrees > 0.0 { 20.0 } else { 80.0 };
        let (first, second) = (
            turned_bars(6, (110, 150), y0, degrees),
            turned_bars(6, (110, 150), y0 + apart, degrees),
        );
        let px = first.px.iter().zip(&second.px).map(|(a, b)| a.max(*b));
        turn_tests::ink_of(px.collect(), 110, 150)
    }

    #[test]
    fn lines_turned_beyond_the_shears_are_parted_once_turned_level() {
        for degrees in [25.0, -30.0] {
            let ink = turned_lines(degrees, 32.0);
            let parts = parts_of(&ink);
            assert_eq!(parts.parts.len(), 2, "{degrees}: {parts:?}");
            let (turn, turned) = parts.turned.as_ref().expect("parted turned");
            assert!((turn.degrees - degrees).abs() <= 2.0, "{degrees}: {turn:?}");
            assert_eq!(turned, &turn.ink(&ink));
            // Each part holds one line's ink (about half of it: the turn interpolates).
            let all = ink.px.iter().sum::<f32>();
            for part in &parts.parts {
                let held = ink_of(turned, part).px.iter().sum::<f32>() / all;
                assert!((0.4..0.6).contains(&held), "{degrees}: {held}");
            }
            // Each part's box, placed in the picture, holds its line's first bar's foot.
            let (boxes, _) = each_number(&ink, |part, placement| {
                placement.place([0, 0, part.width, part.height])
            });
            let (sin, cos) = degrees.to_radians().sin_cos();
            let y0 = if degrees > 0.0 { 20.0 } else { 80.0 };
            for (k, [x, y, w, h]) in boxes.into_iter().enumerate() {
                let foot = (2.0 * 11.0 * cos, 2.0 * (y0 + 32.0 * k as f32 + 11.0 * sin));
                let within = (x as f32..(x + w) as f32).contains(&foot.0)
                    && (y as f32..(y + h) as f32).contains(&foot.1);
                assert!(
                    within,
                    "{degrees}, line {k}: {:?} in {:?}",
                    foot,
                    [x, y, w, h]
                );
            }
        }
        // The same lines close enough to touch: read whole.
        assert_eq!(parts_of(&turned_lines(25.0, 12.0)).parts.len(), 1);
    }

    #[test]
    fn parts_hold_numbers_only_where_each_holds_two_digits_or_more_side_by_side() {
        // Bars 3 wide, `high` rows high, 10 apart, on a picture 60 x 30 of its own.
        let line = |bars: usize, high: usize| {
            let rects: Vec<_> = (0..bars)
                .map(|k| (5 + 10 * k, 5, 8 + 10 * k, 5 + high))
                .collect();
            ink_with(60, 30, &rects)
        };
        let flat_stroke = ink_with(60, 30, &[(5, 10, 45, 14)]);
        assert!(hold_numbers(&[line(4, 16), line(3, 14)]));
        assert!(!hold_numbers(&[line(4, 16), flat_stroke.clone()]));
        assert!(!hold_numbers(&[flat_stroke.clone(), flat_stroke]));
        assert!(!hold_numbers(&[line(4, 16), line(1, 16)]), "one digit");
        // Two pieces higher than they are wide together: a digit broken in two.
        assert!(!hold_numbers(&[line(4, 16), line(2, 24)]));
    }
}
