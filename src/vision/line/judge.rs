//! The rules by which [`CheckedReader`](super::check::CheckedReader) judges a line reading
//! against the digit model's reading of the same ink cut into digits: which digits the cut may
//! overrule, when a 1 the line let go is put back, and the confidence of a reading both agree on.

use super::check::{APART_SURE, CHECK_BELOW, ONE_HEIGHT, SURE_CUT, SURE_ONE};
use crate::vision::reading::{DigitRead, Reading};

/// The line reading `line`, of [`SURE_CUT_BELOW`](super::check::SURE_CUT_BELOW) or more, judged
/// against the digits `cut` read in pieces of ink standing apart: where they differ the cut's
/// digits win if the digit model gives each at least [`APART_SURE`], and a sure 1 the line let go
/// is put back ([`dropped_one`]); it keeps its confidence. The line model is sometimes sure of
/// taking an open 6 for a 0 or a 2 for a 7, or of letting a 1 go: with [`ONE_HEIGHT`], composed
/// MNIST numbers read 0.980 to 0.982 of 1,000 and 0.967 to 0.972 of 2,000 (the sets these rules
/// were chosen on), 0.9736 to 0.9750 of 5,000 made afterwards; on the shared numbers only a dropped
/// 1 is put back here, twice (0.9430 to 0.9432, 98 to 97 wrong among the 80% most confident).
pub(super) fn judge_sure(line: Reading, cut: Reading) -> Reading {
    if cut.text == line.text {
        return line;
    }
    overruled(line, cut, sure_apart)
}

/// The line reading `line` judged against the cutting reading `cut` of the same ink, whose
/// digits all stood `apart` or not (see
/// [`CheckedReader::read_ink`](super::check::CheckedReader::read_ink)).
pub(super) fn judge(mut line: Reading, cut: Reading, apart: bool) -> Reading {
    if cut.text == line.text {
        line.confidence = CHECK_BELOW + (1.0 - CHECK_BELOW) * line.confidence;
        return line;
    }
    if line.confidence >= CHECK_BELOW {
        if apart && cut_wins_where_they_differ(&line, &cut, sure_apart) {
            return in_line_format(line, cut, None);
        }
        if cut.confidence >= SURE_CUT {
            return overruled(line, cut, surer);
        }
        return line;
    }
    overruled(line, cut, |l, c| surer(l, c) || (apart && sure_apart(l, c)))
}

/// Whether the cut's digit `c` is surer than the line's `l`.
fn surer(l: &DigitRead, c: &DigitRead) -> bool {
    c.probability > l.probability
}

/// Whether the cut's digit `c`, standing apart in the ink, is sure enough to win whatever the
/// line's: at least [`APART_SURE`].
fn sure_apart(_: &DigitRead, c: &DigitRead) -> bool {
    c.probability >= APART_SURE
}

/// Whether `cut` has as many digits as `line` and `wins(line's digit, cut's digit)` at every
/// place where they differ.
fn cut_wins_where_they_differ(
    line: &Reading,
    cut: &Reading,
    wins: impl Fn(&DigitRead, &DigitRead) -> bool,
) -> bool {
    cut.digits.len() == line.digits.len()
        && line
            .digits
            .iter()
            .zip(&cut.digits)
            .all(|(l, c)| l.digit == c.digit || wins(l, c))
}

/// The line reading `line` where the cutting reading `cut` (other digits) overrules it: the
/// cut's digits where it has as many and `wins` at every one that differs (see
/// [`cut_wins_where_they_differ`]); the line's reading with a sure 1 put back where the cut
/// has just that more; else `line` as it is.
fn overruled(
    line: Reading,
    cut: Reading,
    wins: impl Fn(&DigitRead, &DigitRead) -> bool,
) -> Reading {
    if cut_wins_where_they_differ(&line, &cut, wins) {
        return in_line_format(line, cut, None);
    }
    match dropped_one(&line, &cut) {
        Some(at) => in_line_format(line, cut, Some(at)),
        None => line,
    }
}

/// Where the cut reads a 1 that the line reading lacks, the digit model being sure of it
/// ([`SURE_ONE`]), and the two otherwise read the same digits: its place among the cut's
/// digits. The line model sometimes lets a thin 1 go between its neighbours (on composed MNIST
/// numbers and real ones alike); a 1 standing apart is what cutting sees best. Not where the
/// line read a slash: cutting takes the `/` of `12/05` for a 1; nor where the 1 is much
/// lower than the other digits ([`ONE_HEIGHT`]): a dot or a colon beside MNIST digits
/// (composed: 4 of the 8 put back in 2,000 were wrong, all under 0.4 of the tallest digit's
/// height, the right ones 1 or more; on the shared numbers 3 of 13, 0.28-0.33, the right
/// ones 0.83 or more).
pub(super) fn dropped_one(line: &Reading, cut: &Reading) -> Option<usize> {
    if cut.digits.len() != line.digits.len() + 1 {
        return None;
    }
    // The first place where they differ; the cut's digit there must be the extra 1.
    let at = line
        .digits
        .iter()
        .zip(&cut.digits)
        .position(|(l, c)| l.digit != c.digit)
        .unwrap_or(line.digits.len());
    let one = &cut.digits[at];
    let rest_same = line.digits[at..]
        .iter()
        .zip(&cut.digits[at + 1..])
        .all(|(l, c)| l.digit == c.digit);
    let sure = one.digit == 1 && one.probability >= SURE_ONE && rest_same;
    // Among 1s side by side, any one of them may be the extra: the first difference is only
    // the last place it could be. A slash before any of those places is what the cut read as
    // the 1 (`8/12` cut as `8112` differs first at the second 1, after the slash).
    let first = (0..at)
        .rev()
        .take_while(|&k| cut.digits[k].digit == 1)
        .last()
        .unwrap_or(at);
    let at_slash = (first..=at).any(|k| slash_before(&line.formatted, k));
    (sure && tall_enough(cut, at) && !at_slash).then_some(at)
}

/// Whether the cut's digit `at` is at least [`ONE_HEIGHT`] of the tallest of its others.
fn tall_enough(cut: &Reading, at: usize) -> bool {
    let height = |d: &DigitRead| d.bbox[3] as f32;
    let tallest = cut
        .digits
        .iter()
        .enumerate()
        .filter(|&(k, _)| k != at)
        .map(|(_, d)| height(d))
        .fold(0.0, f32::max);
    height(&cut.digits[at]) >= ONE_HEIGHT * tallest
}

/// Whether `formatted` holds a `/` between its digits `at - 1` and `at` (before the first when
/// `at` is 0, after the last when `at` is past it).
fn slash_before(formatted: &str, at: usize) -> bool {
    let mut digits = 0;
    for c in formatted.chars() {
        if c.is_ascii_digit() {
            if digits == at {
                return false;
            }
            digits += 1;
        } else if digits == at && c == '/' {
            return true;
        }
    }
    false
}

/// The cut's reading in the line's format: the cut's digits in the places of the line's, the
/// separators kept; with `extra` at Some(at), the cut's digit `at` (one the line lacks) put
/// before the line's digit `at`, or after its last. Sure by the line's confidence.
fn in_line_format(line: Reading, cut: Reading, extra: Option<usize>) -> Reading {
    let mut digits = cut.text.chars();
    let mut formatted = String::with_capacity(cut.text.len() + line.formatted.len());
    let mut seen = 0;
    for c in line.formatted.chars() {
        if !c.is_ascii_digit() {
            formatted.push(c);
            continue;
        }
        if extra == Some(seen) {
            formatted.extend(digits.next());
        }
        formatted.push(digits.next().unwrap_or(c));
        seen += 1;
    }
    if extra == Some(seen) {
        // After the last digit, before any separator that ends the line.
        let end = formatted
            .rfind(|c: char| c.is_ascii_digit())
            .map_or(0, |i| i + 1);
        formatted.insert_str(end, &digits.collect::<String>());
    }
    Reading {
        text: cut.text,
        formatted,
        confidence: line.confidence,
        digits: cut.digits,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::check::SURE_CUT_BELOW;
    use super::*;

    /// `judge` where some of the cut's digits were cut out of ink they touch.
    fn judge_touching(line: Reading, cut: Reading) -> Reading {
        judge(line, cut, false)
    }

    /// A reading of `formatted`, each digit with the probability given in `probs` (in order),
    /// 10 pixels wide at its place among the characters of `formatted`.
    pub(in crate::vision::line) fn reading(
        formatted: &str,
        confidence: f32,
        probs: &[f32],
    ) -> Reading {
        let text: String = formatted.chars().filter(char::is_ascii_digit).collect();
        Reading {
            digits: (formatted.chars().enumerate())
                .filter(|(_, c)| c.is_ascii_digit())
                .zip(probs)
                .map(|((k, c), &probability)| DigitRead {
                    digit: c.to_digit(10).unwrap() as usize,
                    probability,
                    bbox: [k as u32 * 10, 0, 10, 20],
                    probabilities: None,
                })
                .collect(),
            text,
            formatted: formatted.into(),
            confidence,
        }
    }

    #[test]
    fn agreement_raises_the_confidence_above_the_check_keeping_the_order() {
        let p = [0.9; 4];
        let r = judge_touching(reading("12/05", 0.4, &p), reading("1205", 0.5, &p));
        assert_eq!(r.formatted, "12/05");
        assert!((r.confidence - 0.7).abs() < 1e-6, "{}", r.confidence);
        let surer = judge_touching(reading("12/05", 0.45, &p), reading("1205", 0.5, &p));
        assert!(surer.confidence > r.confidence && surer.confidence < 0.75);
    }

    #[test]
    fn a_cut_surer_where_the_line_is_unsure_overrules_keeping_the_separators() {
        let line = reading("12/05", 0.3, &[0.99, 0.6, 0.99, 0.8]);
        let r = judge_touching(line, reading("17/06", 0.2, &[0.9, 0.7, 0.9, 0.9]));
        assert_eq!(r.text, "1706");
        assert_eq!(r.formatted, "17/06");
        assert_eq!(r.confidence, 0.3);
        assert_eq!(r.digits[1].digit, 7);
    }

    #[test]
    fn a_surer_cut_overrules_even_a_sure_line_digit() {
        let line = reading("1205", 0.3, &[0.99, 0.99, 0.99, 0.97]);
        let r = judge_touching(line, reading("1206", 0.99, &[0.999; 4]));
        assert_eq!(r.text, "1206");
        assert_eq!(r.confidence, 0.3);
    }

    #[test]
    fn digits_standing_apart_overrule_the_line_where_the_digit_model_is_fairly_sure() {
        let cut = reading("2661", 0.8, &[0.9, 0.99, 0.99, 0.99]);
        for confidence in [0.42, 0.6] {
            let line = reading("7661", confidence, &[0.98, 0.99, 0.99, 0.95]);
            // The line model is surer of its 7 than the digit model of its 2: only where the
            // cut's digits stood apart does the 2 win.
            assert_eq!(judge(line.clone(), cut.clone(), false), line);
            let r = judge(line.clone(), cut.clone(), true);
            assert_eq!((r.text.as_str(), r.confidence), ("2661", confidence));
            // Under APART_SURE, the surer still wins.
            let unsure = reading("2661", 0.7, &[0.8, 0.99, 0.99, 0.99]);
            assert_eq!(judge(line.clone(), unsure, true), line);
        }
        // Above 0.5, digits apart but less sure than the line's do not overrule (under 0.5
        // the surer digit wins, apart or not).
        let line = reading("7661", 0.6, &[0.7, 0.99, 0.99, 0.95]);
        let surer = reading("2661", 0.7, &[0.8, 0.99, 0.99, 0.99]);
        assert_eq!(judge(line.clone(), surer.clone(), true), line);
        let line = reading("7661", 0.4, &[0.7, 0.99, 0.99, 0.95]);
        assert_eq!(judge(line, surer, false).text, "2661");
    }

    #[test]
    fn a_fairly_sure_line_reading_yields_only_to_a_cut_sure_of_the_whole_number() {
        let line = reading("7/8", 0.6, &[0.99, 0.9]);
        // Agreement raises its confidence as under CHECK_BELOW, above every reading there.
        let agreed = judge_touching(line.clone(), reading("78", 0.95, &[0.99; 2]));
        assert_eq!(agreed.formatted, line.formatted);
        assert!(
            (agreed.confidence - 0.8).abs() < 1e-6,
            "{}",
            agreed.confidence
        );
        // Other digits, the cut surer of each but not of the whole number.
        let fairly = reading("72", 0.98, &[0.99, 0.99]);
        assert_eq!(judge_touching(line.clone(), fairly), line);
        let sure = judge_touching(line.clone(), reading("72", 0.995, &[0.999, 0.996]));
        assert_eq!((sure.formatted.as_str(), sure.confidence), ("7/2", 0.6));
        // A sure cut's 1 that the line let go is put back (not in place of a slash).
        let line = reading("78", 0.6, &[0.99, 0.99]);
        let r = judge_touching(line.clone(), reading("718", 0.995, &[0.999, 0.997, 0.999]));
        assert_eq!(r.text, "718");
        // A sure cut still cannot overrule a line digit surer than its own.
        let line = reading("78", 0.6, &[0.99, 0.999]);
        let r = judge_touching(line.clone(), reading("79", 0.99, &[0.9999, 0.995]));
        assert_eq!(r, line);
    }

    #[test]
    fn a_cut_of_other_length_or_against_a_surer_digit_leaves_the_line_reading() {
        let line = reading("1205", 0.3, &[0.99, 0.6, 0.99, 0.97]);
        let sure = [0.999; 4];
        assert_eq!(
            judge_touching(line.clone(), reading("120", 0.99, &sure)),
            line
        );
        // The 2 and the 5 differ, and the line model is the surer of the 5.
        assert_eq!(
            judge_touching(
                line.clone(),
                reading("1706", 0.9, &[0.999, 0.999, 0.999, 0.9])
            ),
            line
        );
        // The 2 differs, and the digit model is less sure of its 7.
        assert_eq!(
            judge_touching(line.clone(), reading("1705", 0.5, &[0.99, 0.5, 0.99, 0.99])),
            line
        );
        assert_eq!(judge_touching(line.clone(), reading("", 0.0, &[])), line);
    }

    #[test]
    fn a_sure_1_that_the_line_dropped_is_put_back_among_its_separators() {
        let line = reading("12.05", 0.3, &[0.99, 0.6, 0.99, 0.97]);
        let r = judge_touching(
            line.clone(),
            reading("12105", 0.2, &[0.99, 0.9, 0.97, 0.99, 0.9]),
        );
        assert_eq!((r.text.as_str(), r.formatted.as_str()), ("12105", "12.105"));
        assert_eq!(r.confidence, 0.3);
        assert_eq!(r.digits.len(), 5);
        let last = judge_touching(
            reading("12/05", 0.3, &[0.99, 0.6, 0.99, 0.97]),
            reading("12051", 0.2, &[0.9, 0.9, 0.9, 0.9, 0.99]),
        );
        assert_eq!(last.formatted, "12/051");
        let first = judge_touching(
            reading("(20)", 0.3, &[0.9, 0.9]),
            reading("120", 0.9, &[0.96; 3]),
        );
        assert_eq!(first.formatted, "(120)");
    }

    #[test]
    fn a_sure_line_reading_yields_to_sure_digits_standing_apart() {
        let line = reading("09/38", 0.9, &[0.9998, 1.0, 1.0, 1.0]);
        // The digit model gives the 6 it reads at least APART_SURE: it wins, in the line's
        // format, and the confidence stays.
        let r = judge_sure(
            line.clone(),
            reading("6938", 0.99, &[0.9999, 1.0, 1.0, 1.0]),
        );
        assert_eq!((r.formatted.as_str(), r.confidence), ("69/38", 0.9));
        // Less sure than APART_SURE, or another number of digits: the line stays.
        let unsure = reading("6938", 0.8, &[0.8, 1.0, 1.0, 1.0]);
        assert_eq!(judge_sure(line.clone(), unsure), line);
        let longer = reading("69738", 0.99, &[1.0; 5]);
        assert_eq!(judge_sure(line.clone(), longer), line);
        // Agreement changes nothing.
        let same = reading("0938", 0.99, &[0.99; 4]);
        assert_eq!(judge_sure(line.clone(), same), line);
    }

    #[test]
    fn a_1_as_tall_as_its_neighbours_is_put_back_and_a_dot_read_as_1_is_not() {
        let cut = reading("1981", 0.99, &[0.9999; 4]);
        let mut dot = cut.clone();
        dot.digits[3].bbox = [30, 14, 4, 6];
        for line in [
            reading("198", 0.7, &[0.99; 3]),
            reading("198", 0.3, &[0.99; 3]),
        ] {
            let judged = |cut: &Reading| {
                if line.confidence >= SURE_CUT_BELOW {
                    judge_sure(line.clone(), cut.clone())
                } else {
                    judge_touching(line.clone(), cut.clone())
                }
            };
            assert_eq!(judged(&cut).text, "1981");
            assert_eq!(judged(&dot), line);
        }
        assert!(tall_enough(&cut, 3) && !tall_enough(&dot, 3));
    }

    #[test]
    fn a_1_cut_where_the_line_read_a_slash_is_that_slash() {
        let line = reading("12/05", 0.3, &[0.99, 0.9, 0.99, 0.97]);
        let cut = reading("12105", 0.2, &[0.99, 0.9, 0.99, 0.99, 0.9]);
        assert_eq!(judge_touching(line.clone(), cut), line);
        // The 1 the cut reads beside the slash, not in its place, is still put back.
        let cut = reading("12015", 0.2, &[0.99, 0.9, 0.99, 0.99, 0.9]);
        assert_eq!(judge_touching(line, cut).formatted, "12/015");
        assert!(slash_before("/20", 0) && slash_before("12/05", 2) && slash_before("12/", 2));
        assert!(!slash_before("12.05", 2) && !slash_before("12/05", 1));
        assert!(!slash_before("1205", 2) && !slash_before("12/05", 4));
    }

    #[test]
    fn a_1_cut_from_a_slash_beside_a_1_is_that_slash() {
        // The cut reads the slash of 8/12 as a 1: its digits first differ from the line's at
        // the second 1, after the slash, but either 1 could be the extra one.
        let line = reading("8/12", 0.3, &[0.99, 0.9, 0.99]);
        let cut = reading("8112", 0.9, &[0.99, 0.99, 0.99, 0.99]);
        assert_eq!(judge_touching(line.clone(), cut.clone()), line);
        assert_eq!(dropped_one(&line, &cut), None);
        // Without the slash, the extra 1 is put back.
        let plain = reading("812", 0.3, &[0.99, 0.9, 0.99]);
        assert_eq!(dropped_one(&plain, &cut), Some(2));
    }

    #[test]
    fn an_unsure_extra_1_another_extra_digit_or_other_digits_leave_the_line_reading() {
        let line = reading("12/05", 0.3, &[0.99, 0.6, 0.99, 0.97]);
        // The digit model is unsure of its 1.
        let unsure = reading("12105", 0.2, &[0.99, 0.9, 0.8, 0.99, 0.9]);
        assert_eq!(judge_touching(line.clone(), unsure), line);
        // The extra digit is a 7.
        let seven = reading("12705", 0.9, &[0.99; 5]);
        assert_eq!(judge_touching(line.clone(), seven), line);
        // One more 1, but another digit differs too.
        let other = reading("12106", 0.9, &[0.99; 5]);
        assert_eq!(judge_touching(line.clone(), other), line);
        // The cut lacks a 1 the line read: the line's reading stays.
        assert_eq!(
            judge_touching(
                reading("121", 0.3, &[0.9; 3]),
                reading("12", 0.99, &[0.99; 2])
            )
            .text,
            "121"
        );
    }
}
