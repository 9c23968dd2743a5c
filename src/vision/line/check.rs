//! A second opinion for the line reader: where it is unsure of a number, the digit model reads
//! the same ink cut into digits ([`SegmentReader`]), and the two readings are compared.
//!
//! The two readers fail differently (the line reader mostly on a digit's shape, the cutting
//! reader mostly on where to cut), so a number both read alike is seldom wrong: on the shared
//! numbers, line readings under 0.5 that the cutting reader confirms are right 95% of the time,
//! those it contradicts 62%. The cut is only made below [`SURE_CUT_BELOW`], where it is needed
//! (41% of the shared numbers: 26% under [`CHECK_BELOW`], 15% from there to 0.65): the cutting
//! reader is three to four times slower than the line reader. Surer readings get a cheaper
//! look: the digit model reads the pieces of ink standing apart, where they are as many as the
//! line's digits or one more ([`judge_sure`]).

use super::joint::joint_reading;
use super::judge::{dropped_one, judge, judge_sure};
use super::reader::LineReader;
use super::separator_pieces::without_separators;
use super::slant::read_level;
use crate::train::calibration::ReaderCalibration;
use crate::vision::expect::Expected;
use crate::vision::preprocess::Ink;
use crate::vision::reading::{NumberReader, Reading, RememberingCut, SegmentReader};
use image::GrayImage;

/// Line readings less sure than this get the cutting reader's opinion.
pub const CHECK_BELOW: f32 = 0.5;
/// Line readings from [`CHECK_BELOW`] up to this are cut too, but the cut overrules them only
/// when it is sure of the whole number ([`SURE_CUT`]) or its digits stood apart and are sure
/// where they differ ([`APART_SURE`]).
pub const SURE_CUT_BELOW: f32 = 0.65;
/// The cutting reading's confidence (the product of its digits' probabilities) at which it may
/// overrule a line reading of [`CHECK_BELOW`] to [`SURE_CUT_BELOW`].
pub const SURE_CUT: f32 = 0.99;
/// Where every digit the cutting reader read stood apart in the ink (none cut out of ink it
/// touches), a cut digit of at least this probability overrules a line reading's under
/// [`SURE_CUT_BELOW`], however sure the line model is of its own.
pub const APART_SURE: f32 = 0.85;
// The band of fairly sure readings lies above the check and below certainty.
const _: () = assert!(CHECK_BELOW < SURE_CUT_BELOW && SURE_CUT_BELOW < 1.0);
/// A 1 that the cut reads and the line reading lacks is put back when the digit model gives
/// it at least this probability.
pub const SURE_ONE: f32 = 0.95;
/// ... and it is at least this fraction of the tallest other cut digit's height: a 1 is as
/// tall as the digits beside it, a dot or a colon that the digit model takes for one is not.
pub const ONE_HEIGHT: f32 = 0.6;

/// The line reader with the cutting reader's check (see the module's comment).
pub struct CheckedReader {
    pub line: LineReader,
    pub cut: SegmentReader,
    /// What the confidence of each number read becomes once the rules below have used it: the
    /// chance that the number is right (`default_reader::CALIBRATION` for the built-in reader),
    /// by the untold map or, told an exact count of digits, the told one; None leaves it as
    /// the rules made it.
    pub calibration: Option<ReaderCalibration>,
}

impl CheckedReader {
    /// The reading of `ink` by [`Self::read_ink_by_the_rules`], its confidence then mapped by
    /// `calibration`'s untold map (a blank's stays 0).
    pub fn read_ink(&self, ink: &Ink) -> Reading {
        self.read_ink_as(ink, None)
    }

    /// The reading of `ink`:
    /// - the line reader's, as it is, when its confidence is at least [`SURE_CUT_BELOW`] (but
    ///   see the cheap look below), or at least [`CHECK_BELOW`] and the cutting reader reads
    ///   other digits and is not sure of them (see below);
    /// - when the cutting reader reads the same digits: the line's reading, its
    ///   confidence c raised to `CHECK_BELOW + (1 - CHECK_BELOW) c`, so that confirmed readings
    ///   rank above every unconfirmed unsure one (they are right nearly as often as readings of
    ///   0.6-0.8 are) and keep their order among themselves;
    /// - else, when the cutting reading has as many digits and is the surer of every digit
    ///   where they differ, or gives each at least [`APART_SURE`] where its digits all stood
    ///   apart in the ink: its digits (in the line's separators), sure by the line's
    ///   confidence (they disagree). (Digits standing apart are what cutting reads best, and
    ///   the digit model's probabilities are calibrated where the line model is sure of many
    ///   of its mistakes. This rule here and its like in the band below: shared numbers
    ///   0.9411 to 0.9427, the same 98 wrong among the 80% most confident; composed MNIST
    ///   0.977 to 0.980 of 1,000, 288 of 300 as before; 0.75-0.85 read within 3 pictures of
    ///   each other.) (Until the digit model learnt to look past what a ruled line leaves
    ///   under a digit, a line digit of 0.95 or more was kept: that model was sure
    ///   of one writer's 6s as 5s. Now the surer wins: on the shared numbers 0.9267 exact
    ///   against 0.9256, on 1,000 composed MNIST numbers 0.957 against 0.951.)
    /// - else, when the cutting reading is the line's with one more 1, of which the digit model
    ///   is sure ([`SURE_ONE`]), and not where the line read a slash: the line's reading with
    ///   that 1 put back, sure by the line's confidence;
    /// - else the line's reading as it is.
    ///
    /// Where the cut has another number of digits than the line read (and is not the line's
    /// with a 1 put back), the ink is cut again into as many digits as the line read, and that
    /// cut is judged in its place by the rules above, none of its digits counted as standing
    /// apart ([`cut_as_long`]): it confirms the line's reading or overrules some of its
    /// digits where it can, where a cut of another length could do neither. (On the shared
    /// numbers 0.9533 to 0.9547 exact, 83 to 81 wrong among the 80% most confident, 149 to
    /// 143 among the 95%; on 5,000 composed MNIST numbers of each of seeds 41-44, 104, 122,
    /// 118, 129 wrong to 105, 121, 118, 129, the map refitted.)
    ///
    /// A line reading of [`CHECK_BELOW`] to [`SURE_CUT_BELOW`] is cut as well, and the cut's
    /// digits (or its 1 put back) taken by the same rules, but only when the cutting reader
    /// is sure of the whole number ([`SURE_CUT`]), or when its digits all stood apart and it
    /// gives each that differs at least [`APART_SURE`]; agreement raises it as it raises the
    /// readings under [`CHECK_BELOW`] (above those: on the shared numbers 97 to 93 wrong
    /// among the 80% most confident, on 4,000 composed MNIST numbers 51 to 44 among the 95%).
    /// The line model is sometimes fairly sure of a misreading that cutting reads clearly (a 3
    /// taken for an 8, a 6 for a 0); where the cut is less than sure of the whole number it is
    /// wrong more often than the line is. The sure cut alone: on 1,000 composed MNIST numbers
    /// 0.974 to 0.977 exact; on the shared numbers 0.9410 to 0.9411, 99 to 98 wrong among the
    /// 80% most confident; 15% more of the shared numbers are cut (a band up to 0.7 gains no
    /// more).
    ///
    /// The pieces a cut finds where the line read a separator are set aside first
    /// ([`without_separators`]): the digit model reads a date's slash or an amount's comma as
    /// a 1. A cut that then reads the line's digits does not raise its confidence: it cannot
    /// tell a slash from a 1. (Synthesised dates with a 1 beside the slash, `8/12`: 113 to 192
    /// of 200 read right; amounts and phone numbers, `669,14`, `850-2846`: 187 to 196 of 200;
    /// the shared numbers, which hold no separator, as before; composed MNIST numbers 7 fewer
    /// of six seeds' 30,000, at most 3 of one, where the line reads a thin 1 between digits as
    /// a date's slash, `811` as `8/1`, and the cut's 1 was put back: see the README, "Dates,
    /// amounts and phone numbers".)
    ///
    /// A line reading of [`SURE_CUT_BELOW`] or more is not cut; but where its ink is as many
    /// pieces standing apart as it has digits, or one more, each piece is read by the digit
    /// model (cheaply: no cut is sought; [`judge_sure`]). In either band, a cut of as many
    /// digits, all standing apart, that reads some otherwise is weighed by [`joint_reading`].
    fn read_ink_by_the_rules(&self, ink: &Ink, expected: Option<&Expected>) -> Reading {
        let (line, looks) = self.line.read_ink_weighing(ink, expected);
        if line.text.is_empty() {
            return line;
        }
        // With a number of digits expected, the line's reading that fits stands against a cut
        // that does not.
        let kept = expected.filter(|e| e.fits(&line)).map(|_| line.clone());
        // A cut finds a piece where the line read a slash or a comma: it may find that many
        // more than the digits (set aside by `without_separators`), told their count or not.
        let separators = line.formatted.len() - line.text.len();
        let judged = if line.confidence >= SURE_CUT_BELOW {
            let n = line.digits.len();
            match self.cut.read_ink_if_apart(ink, n..=n + 1 + separators) {
                Some(cut) => {
                    let cut = without_separators(&line, cut);
                    joint_reading(&line, &looks, &cut).unwrap_or_else(|| judge_sure(line, cut))
                }
                None => line,
            }
        } else {
            let cutting = self.cut.remembering();
            let pieces = expected.map(|e| e.allowing(separators));
            let (cut, apart) = cutting.read_ink_apart_as(ink, pieces.as_ref());
            let cut = without_separators(&line, cut);
            match cut_as_long(&cutting, ink, &line, &cut) {
                // The cut cannot tell a separator from a digit (a slash from a 1): agreeing on
                // the digits beside it, it does not confirm the separator (composed MNIST
                // numbers `218` read `2/8`).
                _ if separators > 0 && cut.text == line.text => line,
                Some(recut) => judge(line, recut, false),
                None if apart => {
                    joint_reading(&line, &looks, &cut).unwrap_or_else(|| judge(line, cut, true))
                }
                None => judge(line, cut, false),
            }
        };
        match (kept, expected) {
            (Some(line), Some(e)) if !e.fits(&judged) => line,
            _ => judged,
        }
    }
}

/// Where the cutting reading `cut` has another number of digits than the line's `line` (and is
/// not the line's with a 1 put back, [`dropped_one`]): the ink cut again by `cutting` into as
/// many digits as the line read
/// ([`read_digits_counted`](crate::vision::segment::read_digits_counted)), where it can be.
/// The line reading is then judged against a cut of its own length (none of whose digits
/// counts as standing apart: the count made the cut), instead of one that could neither
/// confirm it nor overrule it.
fn cut_as_long(
    cutting: &RememberingCut,
    ink: &Ink,
    line: &Reading,
    cut: &Reading,
) -> Option<Reading> {
    let n = line.digits.len();
    if cut.digits.len() == n || dropped_one(line, cut).is_some() {
        return None;
    }
    cutting.read_ink_counted(ink, n..=n)
}

impl NumberReader for CheckedReader {
    /// [`Self::read_ink`] of a number of as many digits as `expected` says, where it is given:
    /// the line reader reads the best string that fits ([`LineReader::read_ink_weighing`]), a cut
    /// of another length does not overrule it, its confidence is mapped by `calibration`'s told
    /// map where one count is expected, and a reading that still does not fit gets a
    /// confidence of 0. Writing on a slant is read level ([`read_level`]).
    fn read_ink_as(&self, ink: &Ink, expected: Option<&Expected>) -> Reading {
        let mut reading = read_level(ink, |ink| self.read_ink_by_the_rules(ink, expected));
        if let (Some(maps), false) = (&self.calibration, reading.text.is_empty()) {
            let told_exactly = expected.and_then(Expected::exactly).is_some();
            reading.confidence = maps.map(told_exactly).apply(reading.confidence);
        }
        Expected::mark_if(expected, reading)
    }

    fn ink_inputs(&self, ink: &Ink) -> Vec<GrayImage> {
        self.line.ink_inputs(ink)
    }
}
