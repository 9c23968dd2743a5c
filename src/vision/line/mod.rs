//! Lines of writing: a number as people write it, read whole by a sequence model (a
//! convolutional network over the line, one row of scores per column, trained with CTC).
//!
//! - [`normalize`]: a picture's ink to the model's input, a line [`HEIGHT`] pixels high
//!   (printed lines left out by `rules`);
//! - [`compose`] and [`paper`]: training lines made on the fly, seeded: numbers composed from
//!   digit images and drawn separators, then put on paper and photographed or scanned badly;
//! - [`reader`]: the [`crate::vision::reading::NumberReader`] that reads with such a model
//!   ([`slash`]: a slash where no date has one read as a 1);
//! - [`check`]: that reader checked, where it is unsure, by a digit model cutting the ink
//!   (`judge`: the rules by which the two readings are weighed against each other);
//! - [`page`]: a picture of several numbers (lines of writing, numbers far apart on a line)
//!   parted into its numbers, each read alone ([`slant`]: lines of writing on a slant;
//!   [`turn`]: a number turned further than a shear levels).

pub mod check;
pub mod compose;
pub mod joint;
mod judge;
pub mod normalize;
pub mod page;
pub mod paper;
pub mod reader;
mod rules;
mod separator_pieces;
pub mod slant;
pub mod slash;
pub mod synth;
pub mod turn;
mod weighing;

/// The line's height in the model's input.
pub const HEIGHT: usize = 32;
/// Input columns per output column (the model halves the width twice).
pub const COLUMN_STRIDE: usize = 4;
/// What the reader writes: class k + 1 is `CHARS[k]` (class 0 is CTC's blank).
pub const CHARS: &[u8; 14] = b"0123456789.,/-";
/// Blank and characters.
pub const CLASSES: usize = CHARS.len() + 1;

/// The class of a character of [`CHARS`] (None for others).
pub fn class_of(c: u8) -> Option<u8> {
    CHARS.iter().position(|&k| k == c).map(|k| k as u8 + 1)
}

/// The character of class `label` (1..CLASSES).
pub fn char_of(label: u8) -> char {
    CHARS[label as usize - 1] as char
}

/// The characters of `labels` (classes of [`CHARS`]).
pub fn text_of(labels: &[u8]) -> String {
    labels.iter().map(|&c| char_of(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_round_trip_and_skip_the_blank() {
        for &c in CHARS {
            let k = class_of(c).unwrap();
            assert!(k >= 1 && (k as usize) < CLASSES);
            assert_eq!(char_of(k), c as char);
        }
        assert_eq!(class_of(b'0'), Some(1));
        assert_eq!(class_of(b'x'), None);
    }
}
