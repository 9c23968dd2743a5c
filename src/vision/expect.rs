//! What a field is known to hold, for a reader told so: how many digits. A form's zip code
//! has 5, a phone number 10, a date 4 to 8; `digits read --digits 5` reads the best number of
//! that many digits (separators are not counted), and gives a reading that still does not fit
//! a confidence of 0, so that `--min-confidence` sends it to be checked by hand.

use super::reading::Reading;
use std::ops::RangeInclusive;
use std::str::FromStr;

/// The most digits a field may be said to hold (a line reader reads at most a few dozen).
pub const MOST_DIGITS: usize = 64;

/// How many digits the number read must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    digits: RangeInclusive<usize>,
}

impl Expected {
    /// A number of `digits` digits (1 to [`MOST_DIGITS`]); errors say what is wrong.
    pub fn digits(digits: RangeInclusive<usize>) -> Result<Self, String> {
        let (lo, hi) = (*digits.start(), *digits.end());
        if lo == 0 || hi > MOST_DIGITS || lo > hi {
            let asked = if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            };
            return Err(format!(
                "a number of digits from 1 to {MOST_DIGITS}, the smaller first (N or N-M), \
                 not {asked}"
            ));
        }
        Ok(Expected { digits })
    }

    /// The same count with up to `extra` more allowed: the pieces a cut of the number finds,
    /// where `extra` of its characters are separators the cut reads as digits.
    pub fn allowing(&self, extra: usize) -> Self {
        Expected {
            digits: *self.digits.start()..=self.digits.end() + extra,
        }
    }

    /// How many digits the number may have.
    pub fn range(&self) -> RangeInclusive<usize> {
        self.digits.clone()
    }

    /// The one count of digits expected, where the range holds one.
    pub fn exactly(&self) -> Option<usize> {
        (self.digits.start() == self.digits.end()).then_some(*self.digits.start())
    }

    /// Whether a number of `digits` digits fits.
    pub fn fits_count(&self, digits: usize) -> bool {
        self.digits.contains(&digits)
    }

    /// Whether `reading` has as many digits as expected.
    pub fn fits(&self, reading: &Reading) -> bool {
        self.fits_count(reading.text.len())
    }

    /// `reading`, its confidence 0 when it does not fit.
    pub fn mark(&self, mut reading: Reading) -> Reading {
        if !self.fits(&reading) {
            reading.confidence = 0.0;
        }
        reading
    }

    /// `reading` marked by `expected` where one is given ([`Self::mark`]), else as it is.
    pub fn mark_if(expected: Option<&Expected>, reading: Reading) -> Reading {
        match expected {
            Some(e) => e.mark(reading),
            None => reading,
        }
    }
}

impl FromStr for Expected {
    type Err = String;

    /// "5" (exactly five digits) or "4-8" (four to eight).
    fn from_str(s: &str) -> Result<Self, String> {
        let number = |t: &str| {
            t.trim().parse::<usize>().map_err(|_| {
                format!("expected a number of digits, N or N-M (for example 5 or 4-8), not {s:?}")
            })
        };
        match s.split_once('-') {
            Some((lo, hi)) => Expected::digits(number(lo)?..=number(hi)?),
            None => {
                let n = number(s)?;
                Expected::digits(n..=n)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(text: &str, confidence: f32) -> Reading {
        Reading {
            text: text.into(),
            formatted: text.into(),
            confidence,
            digits: Vec::new(),
        }
    }

    #[test]
    fn a_count_allowing_more_keeps_its_least() {
        let e = Expected::digits(6..=6).unwrap();
        assert_eq!(e.allowing(2).range(), 6..=8);
        assert_eq!(e.allowing(0), e);
    }

    #[test]
    fn counts_are_parsed_and_bad_ones_named() {
        assert_eq!("5".parse::<Expected>().unwrap().range(), 5..=5);
        assert_eq!(" 4-8 ".parse::<Expected>().unwrap().range(), 4..=8);
        for bad in ["", "0", "x", "8-4", "3-", "-3", "65", "1-2-3"] {
            let e = bad.parse::<Expected>().unwrap_err();
            assert!(e.contains("digits"), "{bad:?}: {e}");
        }
        assert!("8-4".parse::<Expected>().unwrap_err().contains("not 8-4"));
        assert_eq!("5".parse::<Expected>().unwrap().exactly(), Some(5));
        assert_eq!("5-5".parse::<Expected>().unwrap().exactly(), Some(5));
        assert_eq!("4-8".parse::<Expected>().unwrap().exactly(), None);
        assert!("0".parse::<Expected>().unwrap_err().ends_with("not 0"));
    }

    #[test]
    fn a_reading_of_another_length_is_marked_unsure() {
        let zip: Expected = "5".parse().unwrap();
        assert_eq!(zip.mark(reading("90210", 0.9)).confidence, 0.9);
        assert_eq!(zip.mark(reading("9021", 0.9)).confidence, 0.0);
        assert_eq!(zip.mark(reading("", 0.0)).confidence, 0.0);
        assert!(!zip.fits(&reading("902101", 0.9)));
    }
}
