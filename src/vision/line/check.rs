//! A second opinion for the line reader: where it is unsure of a number, the digit model reads
//! the same ink cut into digits ([`SegmentReader`]), and the two readings are compared.
//!
//! The two readers fail differently (the line reader mostly on a digit's shape, the cutting
//! reader mostly on where to cut), so a number both read alike is seldom wrong: on the shared
//! numbers, line readings under 0.5 that the cutting reader confirms are right 95% of the time,
//! those it contradicts 64%. The cut is only made below [`CHECK_BELOW`], where it is needed
//! (about a third of real numbers): the cutting reader is five times slower than the line
//! reader.

use super::reader::LineReader;
use crate::vision::preprocess::{self, Ink, PreprocessError};
use crate::vision::reading::{NumberReader, Reading, SegmentReader};
use image::GrayImage;

/// Line readings less sure than this get the cutting reader's opinion.
pub const CHECK_BELOW: f32 = 0.5;
/// A cutting reading with as many digits as the line's replaces it when it is at least this
/// many times as sure (and at least [`CHECK_BELOW`]): the digit model reads a clearly written
/// digit better than the line model does.
const OVERRULE: f32 = 2.0;

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
    ///   rank above every unconfirmed unsure one (they are right as often as line readings of
    ///   0.6-0.8 are) and keep their order among themselves;
    /// - else, when the cutting reading has as many digits, is at least [`CHECK_BELOW`] and
    ///   [`OVERRULE`] times as sure: its digits (in the line's separators), sure by the line's
    ///   confidence, the lower of the two;
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
    let overrules = cut.text.len() == line.text.len()
        && cut.confidence >= CHECK_BELOW
        && cut.confidence >= OVERRULE * line.confidence;
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

    fn reading(formatted: &str, confidence: f32) -> Reading {
        let text: String = formatted.chars().filter(char::is_ascii_digit).collect();
        Reading {
            digits: text
                .chars()
                .enumerate()
                .map(|(k, c)| DigitRead {
                    digit: c.to_digit(10).unwrap() as usize,
                    probability: confidence,
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
        let r = judge(reading("12/05", 0.4), reading("1205", 0.5));
        assert_eq!(r.formatted, "12/05");
        assert!((r.confidence - 0.7).abs() < 1e-6, "{}", r.confidence);
        let surer = judge(reading("12/05", 0.45), reading("1205", 0.5));
        assert!(surer.confidence > r.confidence && surer.confidence < 0.75);
    }

    #[test]
    fn a_much_surer_cut_of_as_many_digits_overrules_keeping_the_separators() {
        let r = judge(reading("12/05", 0.3), reading("17/06", 0.9));
        assert_eq!(r.text, "1706");
        assert_eq!(r.formatted, "17/06");
        assert_eq!(r.confidence, 0.3);
        assert_eq!(r.digits[1].digit, 7);
    }

    #[test]
    fn a_cut_of_other_length_or_not_sure_enough_leaves_the_line_reading() {
        let line = reading("1205", 0.3);
        assert_eq!(judge(line.clone(), reading("120", 0.99)), line);
        assert_eq!(judge(line.clone(), reading("1206", 0.45)), line);
        assert_eq!(judge(line.clone(), reading("1206", 0.55)), line);
        assert_eq!(judge(line.clone(), reading("", 0.0)), line);
    }
}
