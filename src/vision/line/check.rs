//! A second opinion for the line reader: where it is unsure of a number, the digit model reads
//! the same ink cut into digits ([`SegmentReader`]), and the two readings are compared.
//!
//! The two readers fail differently (the line reader mostly on a digit's shape, the cutting
//! reader mostly on where to cut), so a number both read alike is seldom wrong: on the shared
//! numbers, line readings under 0.5 that the cutting reader confirms are right 95% of the time,
//! those it contradicts 62%. The cut is only made below [`CHECK_BELOW`], where it is needed
//! (about a third of real numbers): the cutting reader is about four times slower than the line
//! reader.

use super::reader::LineReader;
use crate::vision::preprocess::{self, Ink, PreprocessError};
use crate::vision::reading::{NumberReader, Reading, SegmentReader};
use image::GrayImage;

/// Line readings less sure than this get the cutting reader's opinion.
pub const CHECK_BELOW: f32 = 0.5;
/// A cutting reading with as many digits as the line's replaces it when, wherever the two
/// differ, the line model gives its digit less than this probability and the digit model gives
/// its own more: the digit model reads a clearly written digit better than the line model, but
/// it is sure of some writers' digits that it reads wrong (one writer's 6s read as 5), and
/// then the line model is sure of its digit.
pub const UNSURE_DIGIT: f32 = 0.95;

/// The line reader with the cutting reader's check (see the module's comment).
pub struct CheckedReader {
    pub line: LineReader,
    pub cut: SegmentReader,
}

impl CheckedReader {
    /// The reading of `ink`:
    /// - the line reader's, as it is, when its confidence is at least [`CHECK_BELOW`];
    /// - else, when the cutting reader reads the same digits: the line's reading, its
    ///   confidence c raised to `CHECK_BELOW + (1 - CHECK_BELOW) c`, so that confirmed readings
    ///   rank above every unconfirmed unsure one (they are right nearly as often as readings of
    ///   0.6-0.8 are) and keep their order among themselves;
    /// - else, when the cutting reading has as many digits and is the surer of every digit
    ///   where they differ, each of which the line model gives less than [`UNSURE_DIGIT`]: its
    ///   digits (in the line's separators), sure by the line's confidence (they disagree);
    /// - else the line's reading as it is.
    pub fn read_ink(&self, ink: &Ink) -> Reading {
        let line = self.line.read_ink(ink);
        if line.confidence >= CHECK_BELOW || line.text.is_empty() {
            return line;
        }
        judge(line, self.cut.read_ink(ink))
    }
}

/// The line reading `line` judged against the cutting reading `cut` of the same ink (see
/// [`CheckedReader::read_ink`]).
fn judge(mut line: Reading, cut: Reading) -> Reading {
    if cut.text == line.text {
        line.confidence = CHECK_BELOW + (1.0 - CHECK_BELOW) * line.confidence;
        return line;
    }
    let overrules = cut.digits.len() == line.digits.len()
        && line.digits.iter().zip(&cut.digits).all(|(l, c)| {
            l.digit == c.digit || (l.probability < UNSURE_DIGIT && c.probability > l.probability)
        });
    if !overrules {
        return line;
    }
    // The cut's digits in the places of the line's, separators kept.
    let mut digits = cut.text.chars();
    let formatted = line
        .formatted
        .chars()
        .map(|c| match c.is_ascii_digit() {
            true => digits.next().unwrap_or(c),
            false => c,
        })
        .collect();
    Reading {
        text: cut.text,
        formatted,
        confidence: line.confidence,
        digits: cut.digits,
    }
}

impl NumberReader for CheckedReader {
    fn read_image(&self, img: &image::DynamicImage) -> Result<Reading, PreprocessError> {
        Ok(preprocess::ink_if_any(img)?.map_or_else(Reading::empty, |ink| self.read_ink(&ink)))
    }

    fn model_inputs(&self, img: &image::DynamicImage) -> Result<Vec<GrayImage>, PreprocessError> {
        self.line.model_inputs(img)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::reading::DigitRead;

    /// A reading of `formatted`, each digit with the probability given in `probs` (in order).
    fn reading(formatted: &str, confidence: f32, probs: &[f32]) -> Reading {
        let text: String = formatted.chars().filter(char::is_ascii_digit).collect();
        Reading {
            digits: text
                .chars()
                .zip(probs)
                .enumerate()
                .map(|(k, (c, &probability))| DigitRead {
                    digit: c.to_digit(10).unwrap() as usize,
                    probability,
                    bbox: [k as u32 * 10, 0, 10, 20],
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
        let r = judge(reading("12/05", 0.4, &p), reading("1205", 0.5, &p));
        assert_eq!(r.formatted, "12/05");
        assert!((r.confidence - 0.7).abs() < 1e-6, "{}", r.confidence);
        let surer = judge(reading("12/05", 0.45, &p), reading("1205", 0.5, &p));
        assert!(surer.confidence > r.confidence && surer.confidence < 0.75);
    }

    #[test]
    fn a_cut_surer_where_the_line_is_unsure_overrules_keeping_the_separators() {
        let line = reading("12/05", 0.3, &[0.99, 0.6, 0.99, 0.8]);
        let r = judge(line, reading("17/06", 0.2, &[0.9, 0.7, 0.9, 0.9]));
        assert_eq!(r.text, "1706");
        assert_eq!(r.formatted, "17/06");
        assert_eq!(r.confidence, 0.3);
        assert_eq!(r.digits[1].digit, 7);
    }

    #[test]
    fn a_cut_of_other_length_or_against_a_sure_or_surer_digit_leaves_the_line_reading() {
        let line = reading("1205", 0.3, &[0.99, 0.6, 0.99, 0.97]);
        let sure = [0.999; 4];
        assert_eq!(judge(line.clone(), reading("120", 0.99, &sure)), line);
        // The 5 differs, and the line model is sure of it.
        assert_eq!(judge(line.clone(), reading("1706", 0.99, &sure)), line);
        // The 2 differs, and the digit model is less sure of its 7.
        assert_eq!(
            judge(line.clone(), reading("1705", 0.5, &[0.99, 0.5, 0.99, 0.99])),
            line
        );
        assert_eq!(judge(line.clone(), reading("", 0.0, &[])), line);
    }
}
