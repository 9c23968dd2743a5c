//! A number read from a picture, in the JSON form `digits read --json` and `POST /api/read`
//! share: `{"text": "90210", "digits": [{"digit", "probability", "box": [x, y, w, h]}, ...]}`.

use super::segment::FoundDigit;
use serde::Serialize;

/// The digits found in one picture, left to right, and the number they spell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reading {
    /// The digits, concatenated ("" when the picture holds none).
    pub text: String,
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
}

impl Reading {
    /// The reading of `found` (as [`super::segment::read_digits`] returns them, left to right).
    pub fn of(found: &[FoundDigit]) -> Self {
        Reading {
            text: found.iter().map(|d| d.digit.to_string()).collect(),
            digits: found
                .iter()
                .map(|d| DigitRead {
                    digit: d.digit,
                    probability: d.probability,
                    bbox: d.bbox,
                })
                .collect(),
        }
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
        };
        let r = Reading::of(&[found(9, 1), found(0, 10)]);
        assert_eq!(r.text, "90");
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["digits"][1]["box"], serde_json::json!([10, 2, 3, 4]));
        assert_eq!(v["digits"][0]["digit"], 9);
        assert_eq!(v["digits"][0]["probability"], 0.5);
        assert_eq!(Reading::of(&[]).text, "");
    }
}
