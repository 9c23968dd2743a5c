//! A number read from a picture, in the JSON form `digits read --json` and `POST /api/read`
//! share: `{"text": "90210", "formatted": "90210", "confidence": 0.97, "digits": [{"digit",
//! "probability", "box": [x, y, w, h]}, ...]}`, with `"numbers"` for a picture of several
//! ([`PictureReading`]); and [`NumberReader`], what reads one.

use super::expect::Expected;
use super::line::page::each_number;
use super::line::slant::{level, read_level};
use super::preprocess::{self, PreprocessError};
use super::reject::accepted;
pub use super::remembering_cut::RememberingCut;
use super::segment::{read_digits, read_digits_apart, FoundDigit};
use crate::nn::Sequential;
use image::GrayImage;
use serde::Serialize;

/// The digits found in one picture, left to right, and the number they spell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reading {
    /// The digits alone, concatenated ("" when the picture holds none).
    pub text: String,
    /// The number as read, separators (`.` `,` `/` `-`) kept; equal to `text` for a reader
    /// that reads digits only.
    pub formatted: String,
    /// How sure the reader is of the whole number, in [0, 1] (0 when nothing was read).
    pub confidence: f32,
    pub digits: Vec<DigitRead>,
}

/// One digit of a [`Reading`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DigitRead {
    pub digit: usize,
    /// The network's probability for `digit`.
    pub probability: f32,
    /// x, y, width, height in the pixels of the picture read.
    #[serde(rename = "box")]
    pub bbox: [u32; 4],
    /// The probability of each digit 0-9 where the reader has them all (a digit model's, for
    /// a digit cut out of the ink); None where it has only `probability` (a line model's).
    #[serde(skip)]
    pub probabilities: Option<[f32; 10]>,
}

impl Reading {
    /// The reading of nothing: a blank picture.
    pub fn empty() -> Self {
        Reading {
            text: String::new(),
            formatted: String::new(),
            confidence: 0.0,
            digits: Vec::new(),
        }
    }

    /// The reading of `found` (as [`super::segment::read_digits`] returns them, left to right):
    /// its confidence is the product of the digits' probabilities.
    pub fn of(found: &[FoundDigit]) -> Self {
        if found.is_empty() {
            return Reading::empty();
        }
        let text: String = found.iter().map(|d| d.digit.to_string()).collect();
        Reading {
            formatted: text.clone(),
            text,
            confidence: found.iter().map(|d| d.probability).product(),
            digits: found
                .iter()
                .map(|d| DigitRead {
                    digit: d.digit,
                    probability: d.probability,
                    bbox: d.bbox,
                    probabilities: d.probabilities.as_slice().try_into().ok(),
                })
                .collect(),
        }
    }

    /// [`Self::of`] a cut's digits, and whether every one stood apart in the ink (none was
    /// cut out of ink it touches).
    pub fn of_cut(found: &[FoundDigit]) -> (Self, bool) {
        let apart = found.iter().all(|d| !d.cut_from_wider);
        (Reading::of(found), apart)
    }
}

/// The numbers in a picture, each read ([`NumberReader::read_numbers_as`]).
#[derive(Clone, Debug, PartialEq)]
pub struct NumbersRead {
    /// Line by line from the top, left to right on a line: one, the picture's reading, for a
    /// picture of one number; none for a blank picture.
    pub numbers: Vec<Reading>,
    /// Which of `numbers` holds the most ink: the number the picture is read as when it is read
    /// as one ([`NumberReader::read_image_as`]).
    pub main: usize,
}

/// A picture's answer, as `digits read --json`, `POST /api/read` and Python give it: its
/// number (the main one's reading: `text`, `formatted`, `confidence`, `digits`), `accepted`
/// where a level of confidence is asked for, and, where the picture holds several numbers
/// (lines of writing one above the other, numbers far apart on a line), `numbers`: each one's
/// reading and `accepted`, line by line from the top.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PictureReading {
    #[serde(flatten)]
    pub reading: Reading,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<NumberReading>,
}

/// One number of a [`PictureReading`] of several.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NumberReading {
    #[serde(flatten)]
    pub reading: Reading,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
}

impl PictureReading {
    /// The answer for the numbers `read`, each accepted or not at the level `min` where one is
    /// given; a blank picture's is [`Reading::empty`].
    pub fn of(read: NumbersRead, min: Option<f32>) -> Self {
        let reading = read
            .numbers
            .get(read.main)
            .cloned()
            .unwrap_or_else(Reading::empty);
        let numbers = match read.numbers.len() {
            0 | 1 => Vec::new(),
            _ => read
                .numbers
                .into_iter()
                .map(|reading| NumberReading {
                    accepted: accepted(reading.confidence, min),
                    reading,
                })
                .collect(),
        };
        PictureReading {
            accepted: accepted(reading.confidence, min),
            reading,
            numbers,
        }
    }
}

/// Something that reads the number in a picture. A blank picture reads as
/// [`Reading::empty`]; other errors (a picture too large) are returned.
pub trait NumberReader: Send + Sync {
    /// The reading of a picture's ink as a number of as many digits as `expected` says, where
    /// it is given (a line reader reads the best number that fits; a reading that still does
    /// not fit gets a confidence of 0). A picture of several numbers is read by the one holding
    /// the most ink, as one: [`Self::read_numbers_as`] reads each.
    fn read_ink_as(&self, ink: &preprocess::Ink, expected: Option<&Expected>) -> Reading;

    /// [`Self::read_image_as`], no count of digits expected.
    fn read_image(&self, img: &image::DynamicImage) -> Result<Reading, PreprocessError> {
        self.read_image_as(img, None)
    }

    /// [`Self::read_ink_as`] of the ink in `img` (a blank picture reads as [`Reading::empty`]).
    fn read_image_as(
        &self,
        img: &image::DynamicImage,
        expected: Option<&Expected>,
    ) -> Result<Reading, PreprocessError> {
        read_ink_of(img, |ink| self.read_ink_as(ink, expected))
    }

    /// Each number in `img` ([`each_number`]: lines of writing one above the other, numbers far
    /// apart on a line), line by line from the top, read as a number of its own by
    /// [`Self::read_ink_as`], its digits' boxes in the whole picture's pixels; one reading, the
    /// picture's, when it holds one number; none when it is blank.
    fn read_numbers_as(
        &self,
        img: &image::DynamicImage,
        expected: Option<&Expected>,
    ) -> Result<NumbersRead, PreprocessError> {
        let Some(ink) = preprocess::ink_if_any(img)? else {
            return Ok(NumbersRead {
                numbers: Vec::new(),
                main: 0,
            });
        };
        let (numbers, main) = each_number(&ink, |part, placement| {
            let mut reading = self.read_ink_as(part, expected);
            for d in &mut reading.digits {
                d.bbox = placement.place(d.bbox);
            }
            reading
        });
        Ok(NumbersRead { numbers, main })
    }

    /// What the model is given for `ink`, as pictures, ink light on black: the line a line
    /// reader reads (its first look), or each digit cut out (28x28).
    fn ink_inputs(&self, ink: &preprocess::Ink) -> Vec<GrayImage>;

    /// [`Self::ink_inputs`] of each number in `img` ([`each_number`]), as
    /// [`Self::read_numbers_as`] reads them: one list for a picture of one number, none for a
    /// blank picture.
    fn model_inputs(
        &self,
        img: &image::DynamicImage,
    ) -> Result<Vec<Vec<GrayImage>>, PreprocessError> {
        let Some(ink) = preprocess::ink_if_any(img)? else {
            return Ok(Vec::new());
        };
        Ok(each_number(&ink, |part, _| self.ink_inputs(part)).0)
    }
}

/// `read(ink)` of the ink in `img`; [`Reading::empty`] for a blank picture.
pub fn read_ink_of(
    img: &image::DynamicImage,
    read: impl FnOnce(&preprocess::Ink) -> Reading,
) -> Result<Reading, PreprocessError> {
    Ok(preprocess::ink_if_any(img)?.map_or_else(Reading::empty, |ink| read(&ink)))
}

/// `px` (w x h values in [0, 1], row-major) as a grey picture.
pub fn gray_picture(px: &[f32], w: usize, h: usize) -> GrayImage {
    GrayImage::from_fn(w as u32, h as u32, |x, y| {
        image::Luma([(px[y as usize * w + x as usize].clamp(0.0, 1.0) * 255.0).round() as u8])
    })
}

/// The reader that cuts the ink into digits and classifies each with a 28x28 digit model
/// (`vision::segment`).
pub struct SegmentReader {
    pub model: Sequential,
    /// Whether the model was trained on raw 0..255 pixels (else 0..1).
    pub raw: bool,
}

impl SegmentReader {
    pub fn classify(&self, x: &[f32]) -> Vec<f32> {
        if self.raw {
            let scaled: Vec<f32> = x.iter().map(|v| v * 255.0).collect();
            self.model.predict_proba(&scaled)
        } else {
            self.model.predict_proba(x)
        }
    }

    /// The reading of an already made ink map.
    pub fn read_ink(&self, ink: &preprocess::Ink) -> Reading {
        self.read_ink_apart(ink).0
    }

    /// The reading of an already made ink map, and whether every digit read stood apart in
    /// the ink (none was cut out of ink it touches).
    pub fn read_ink_apart(&self, ink: &preprocess::Ink) -> (Reading, bool) {
        Reading::of_cut(&read_digits(ink, &|x| self.classify(x)))
    }

    /// The reading of an already made ink map when its ink is a number of pieces in `counts`,
    /// each a digit standing apart ([`read_digits_apart`]); else None, at little cost.
    pub fn read_ink_if_apart(
        &self,
        ink: &preprocess::Ink,
        counts: std::ops::RangeInclusive<usize>,
    ) -> Option<Reading> {
        read_digits_apart(ink, counts, &|x| self.classify(x)).map(|found| Reading::of(&found))
    }

    /// A cutter of one ink that classifies each part it frames once, however many cuts ask
    /// for it ([`RememberingCut`]).
    pub fn remembering(&self) -> RememberingCut<'_> {
        RememberingCut::new(self)
    }
}

impl NumberReader for SegmentReader {
    /// The cut as it comes ([`Self::read_ink`]); told a count, the best cut of as many digits
    /// as `expected` says ([`RememberingCut::read_ink_apart_as`]), one that still does not fit
    /// getting a confidence of 0. Writing on a slant or turned is cut once levelled
    /// ([`read_level`]), as the number reader reads it.
    fn read_ink_as(&self, ink: &preprocess::Ink, expected: Option<&Expected>) -> Reading {
        read_level(ink, |ink| match expected {
            None => self.read_ink(ink),
            Some(e) => e.mark(self.remembering().read_ink_apart_as(ink, expected).0),
        })
    }

    fn ink_inputs(&self, ink: &preprocess::Ink) -> Vec<GrayImage> {
        let side = preprocess::SIDE;
        let levelled = level(ink).map(|levelling| levelling.ink(ink));
        let ink = levelled.as_ref().unwrap_or(ink);
        read_digits(ink, &|x| self.classify(x))
            .iter()
            .map(|d| gray_picture(&d.input, side, side))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_and_order() {
        let found = |digit, x| FoundDigit {
            digit,
            probability: 0.5,
            bbox: [x, 2, 3, 4],
            input: Vec::new(),
            cut_from_wider: false,
            probabilities: Vec::new(),
        };
        let r = Reading::of(&[found(9, 1), found(0, 10)]);
        assert_eq!(r.text, "90");
        assert_eq!(r.formatted, "90");
        assert_eq!(r.confidence, 0.25);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["digits"][1]["box"], serde_json::json!([10, 2, 3, 4]));
        assert_eq!(v["digits"][0]["digit"], 9);
        assert_eq!(v["digits"][0]["probability"], 0.5);
        assert_eq!(v["confidence"], 0.25);
        assert_eq!(Reading::of(&[]), Reading::empty());
    }
}
