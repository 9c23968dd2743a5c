//! A second opinion on a picture of one digit (`digits predict --second-opinion`, `digits eval
//! --images --second-opinion`): the built-in number reader's line model reads the same ink as a
//! one-digit number, and each digit's probability becomes the geometric mean of the digit
//! model's and the line model's (normalised: a product of experts with equal weights).
//!
//! The two models learnt from different pictures (single MNIST digits distorted and scanned;
//! whole lines of them on paper, with ruled lines and pen-drawn digits in other styles), so
//! they fail on different shapes, and where they disagree the answer is less sure. Measured
//! with the built-in models (the weights set equal before any test set was read):
//!
//! | pictures | digit model alone | with the second opinion |
//! |---|---|---|
//! | digits cut out of the shared numbers (20,812): right | 0.9490 | 0.9641 |
//! | ... wrong among the 95% most confident | 0.0241 | 0.0136 |
//! | MNIST's test set, as PNG pictures | 0.9952 | 0.9958 |
//! | MNIST's test digits box-scanned 16x16, as PNG pictures | 0.9900 | 0.9886 |
//! | Semeion, looked at once: right | 0.9366 | 0.9391 |
//! | ... wrong among the 95% most confident | 0.0449 | 0.0357 |
//!
//! It is off by default: box-filling black-and-white scans, which the line model never saw in
//! training, read worse, and each picture costs about 1.1 ms more on one core (five looks of
//! the line model) on top of the 0.2 ms of reading it with the digit model alone.

use super::line::reader::LineReader;
use super::preprocess::Ink;

/// The line model, asked about pictures of one digit.
pub struct SecondOpinion {
    line: LineReader,
}

impl SecondOpinion {
    pub fn new(line: LineReader) -> Self {
        SecondOpinion { line }
    }

    /// The built-in number reader's line model.
    pub fn built_in() -> anyhow::Result<Self> {
        Ok(SecondOpinion::new(crate::default_reader::line_reader()?))
    }

    /// The line model's probability of each one-digit reading of `ink`; None when the ink
    /// makes no line.
    pub fn opinion(&self, ink: &Ink) -> Option<[f64; 10]> {
        self.line.one_digit_probabilities(ink)
    }

    /// `digit_model`'s ten probabilities for the digit in `ink`, combined with the line model's
    /// ([`geometric_mean`]); as they are when the ink makes no line.
    pub fn combine(&self, digit_model: &[f32], ink: &Ink) -> Vec<f32> {
        match self.opinion(ink) {
            Some(line) => geometric_mean(digit_model, &line),
            None => digit_model.to_vec(),
        }
    }
}

/// No probability counts as less than this (a zero would veto a digit outright).
const FLOOR: f64 = 1e-9;

/// The normalised geometric mean of `a` and `b`, digit by digit: sqrt(a b) / sum of sqrt(a b).
/// `b` need not sum to 1 (a scale on it cancels out). `a` as it is when every product is zero.
pub fn geometric_mean(a: &[f32], b: &[f64; 10]) -> Vec<f32> {
    let g: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| ((x as f64).max(FLOOR) * y.max(FLOOR)).sqrt())
        .collect();
    let sum: f64 = g.iter().sum();
    if sum <= 0.0 || !sum.is_finite() {
        return a.to_vec();
    }
    g.iter().map(|&v| (v / sum) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot_ish(digit: usize, p: f64) -> [f64; 10] {
        let mut v = [(1.0 - p) / 9.0; 10];
        v[digit] = p;
        v
    }

    #[test]
    fn agreement_makes_surer_and_disagreement_less_sure() {
        let a: Vec<f32> = one_hot_ish(3, 0.9).iter().map(|&v| v as f32).collect();
        // The same opinion leaves the answer as it was.
        let same = geometric_mean(&a, &one_hot_ish(3, 0.9));
        for (x, y) in same.iter().zip(&a) {
            assert!((x - y).abs() < 1e-6, "{same:?}");
        }
        // The same digit with other doubts (8 against 5) is surer than either.
        let mut doubts_8 = [1e-4; 10];
        (doubts_8[3], doubts_8[8]) = (0.9, 0.1);
        let mut doubts_5 = [1e-4; 10];
        (doubts_5[3], doubts_5[5]) = (0.9, 0.1);
        let d8: Vec<f32> = doubts_8.iter().map(|&v| v as f32).collect();
        let agree = geometric_mean(&d8, &doubts_5);
        assert!((agree.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert_eq!(crate::nn::argmax(&agree), 3);
        assert!(agree[3] > 0.95, "{agree:?}");
        let disagree = geometric_mean(&a, &one_hot_ish(8, 0.6));
        assert_eq!(crate::nn::argmax(&disagree), 3);
        assert!(disagree[3] < 0.8 && disagree[8] > 0.1, "{disagree:?}");
        let overruled = geometric_mean(&a, &one_hot_ish(8, 0.999));
        assert_eq!(crate::nn::argmax(&overruled), 8, "{overruled:?}");
    }

    #[test]
    fn a_scale_on_the_line_model_cancels_and_zeros_do_not_veto() {
        let a = [0.0f32, 0.7, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let b = one_hot_ish(2, 0.5);
        let half = b.map(|v| v / 2.0);
        for (x, y) in geometric_mean(&a, &b).iter().zip(geometric_mean(&a, &half)) {
            assert!((x - y).abs() < 1e-6);
        }
        let zeros = geometric_mean(&a, &[0.0; 10]);
        assert_eq!(crate::nn::argmax(&zeros), 1);
        assert!((zeros.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}
