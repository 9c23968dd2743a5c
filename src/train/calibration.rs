//! How far a model's probabilities can be trusted, from (confidence, correct) pairs: the error
//! left among the answers kept when the least confident are set aside (selective error), and
//! the expected calibration error; a softmax temperature fitted to held-out logits; and a map
//! from any confidence to the chance of being right, fitted to held-out answers ([`Platt`]).

use crate::nn::{argmax, softmax};

/// Bins of the expected calibration error: 15 of equal width over [0, 1], as in Guo et al.,
/// "On Calibration of Modern Neural Networks" (2017).
pub const ECE_BINS: usize = 15;

/// Shares of the least confident answers `digits eval --images` sets aside.
pub const SET_ASIDE: [f64; 4] = [0.0, 0.01, 0.05, 0.10];

/// One answer: the probability the model gave its digit, and whether the digit was right.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Answer {
    pub confidence: f32,
    pub correct: bool,
}

impl Answer {
    /// The answer `probabilities` (one row) give for `label`.
    pub fn of(probabilities: &[f32], label: usize) -> Self {
        let digit = argmax(probabilities);
        Answer {
            confidence: probabilities[digit],
            correct: digit == label,
        }
    }
}

/// The answers kept after setting aside the least confident share `set_aside` (rounded to the
/// nearest count; ties in confidence are set aside in the order given).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Selective {
    pub set_aside: f64,
    pub kept: usize,
    pub wrong: usize,
    /// The least confidence among the kept answers (None when none is kept): a reader that
    /// accepts answers of this probability or more keeps about as many (ties aside).
    pub threshold: Option<f32>,
}

impl Selective {
    /// The error among the kept answers (0 when none is kept).
    pub fn error(&self) -> f64 {
        if self.kept == 0 {
            0.0
        } else {
            self.wrong as f64 / self.kept as f64
        }
    }
}

/// [`Selective`] for each share of `set_aside` (each in [0, 1]).
pub fn selective(answers: &[Answer], set_aside: &[f64]) -> Vec<Selective> {
    let mut by_confidence: Vec<&Answer> = answers.iter().collect();
    by_confidence.sort_by(|a, b| a.confidence.total_cmp(&b.confidence));
    set_aside
        .iter()
        .map(|&share| {
            let dropped = ((answers.len() as f64 * share).round() as usize).min(answers.len());
            let kept = &by_confidence[dropped..];
            Selective {
                set_aside: share,
                kept: kept.len(),
                wrong: kept.iter().filter(|a| !a.correct).count(),
                threshold: kept.first().map(|a| a.confidence),
            }
        })
        .collect()
}

/// The answers of confidence `min` or more, as a [`Selective`]: `set_aside` is the share below
/// `min` (what a reader told to accept from `min`, as `--min-confidence` does, leaves to be
/// checked by hand) and `threshold` is `min`.
pub fn kept_from(answers: &[Answer], min: f32) -> Selective {
    let kept: Vec<&Answer> = answers.iter().filter(|a| a.confidence >= min).collect();
    Selective {
        set_aside: 1.0 - kept.len() as f64 / answers.len().max(1) as f64,
        kept: kept.len(),
        wrong: kept.iter().filter(|a| !a.correct).count(),
        threshold: Some(min),
    }
}

/// Expected calibration error over `bins` equal-width bins of confidence (the last one holds
/// 1.0): the mean over answers of |accuracy - mean confidence| of their bin. 0 when empty.
pub fn expected_calibration_error(answers: &[Answer], bins: usize) -> f64 {
    let mut count = vec![0usize; bins];
    let mut correct = vec![0usize; bins];
    let mut confidence = vec![0.0f64; bins];
    for a in answers {
        let b = ((a.confidence as f64 * bins as f64) as usize).min(bins - 1);
        count[b] += 1;
        correct[b] += usize::from(a.correct);
        confidence[b] += a.confidence as f64;
    }
    let n = answers.len().max(1) as f64;
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (correct[b] as f64 - confidence[b]).abs() / n)
        .sum()
}

/// The accuracy of `answers` (0 when empty).
pub fn accuracy(answers: &[Answer]) -> f64 {
    let right = answers.iter().filter(|a| a.correct).count();
    right as f64 / answers.len().max(1) as f64
}

/// Softmax of `logits / temperature`, one row.
pub fn softmax_at(logits: &[f32], temperature: f32) -> Vec<f32> {
    let scaled: Vec<f32> = logits.iter().map(|z| z / temperature).collect();
    softmax(&scaled)
}

/// Mean negative log-likelihood of `labels` under softmax(`logits` / `temperature`), `logits`
/// row-major with `classes` a row.
pub fn nll_at(logits: &[f32], labels: &[u8], classes: usize, temperature: f32) -> f64 {
    let total: f64 = logits
        .chunks_exact(classes)
        .zip(labels)
        .map(|(z, &y)| {
            let p = softmax_at(z, temperature)[y as usize] as f64;
            -p.max(1e-30).ln()
        })
        .sum();
    total / labels.len().max(1) as f64
}

/// The temperature in [0.05, 20] with the least [`nll_at`] on `logits` (the held-out set's).
/// The loss is convex in 1/temperature, so a golden-section search on it finds the minimum.
pub fn fit_temperature(logits: &[f32], labels: &[u8], classes: usize) -> f32 {
    let loss = |inverse: f64| nll_at(logits, labels, classes, (1.0 / inverse) as f32);
    let (mut lo, mut hi) = (1.0 / 20.0, 1.0 / 0.05);
    let golden = (5f64.sqrt() - 1.0) / 2.0;
    let mut a = hi - golden * (hi - lo);
    let mut b = lo + golden * (hi - lo);
    let (mut la, mut lb) = (loss(a), loss(b));
    while hi - lo > 1e-4 {
        if la < lb {
            hi = b;
            b = a;
            lb = la;
            a = hi - golden * (hi - lo);
            la = loss(a);
        } else {
            lo = a;
            a = b;
            la = lb;
            b = lo + golden * (hi - lo);
            lb = loss(b);
        }
    }
    (2.0 / (lo + hi)) as f32
}

/// A confidence mapped to the chance that the answer is right: sigma(a * logit(c) + b) (Platt,
/// 1999), fitted to held-out answers by [`fit_platt`]. For a > 0 it is increasing, so answers
/// keep their order: a level on the mapped confidence accepts what some level on the raw one
/// did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Platt {
    pub a: f32,
    pub b: f32,
}

/// Confidences are held this far inside (0, 1) before their logit is taken.
const LOGIT_EDGE: f64 = 1e-6;

fn logit(c: f32) -> f64 {
    let c = (c as f64).clamp(LOGIT_EDGE, 1.0 - LOGIT_EDGE);
    (c / (1.0 - c)).ln()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Platt {
    /// The map that changes nothing (a = 1, b = 0), up to the clamp at the ends.
    pub const IDENTITY: Platt = Platt { a: 1.0, b: 0.0 };

    pub fn apply(&self, confidence: f32) -> f32 {
        sigmoid(self.a as f64 * logit(confidence) + self.b as f64) as f32
    }

    /// `answers` with their confidence mapped.
    pub fn apply_to(&self, answers: &[Answer]) -> Vec<Answer> {
        answers
            .iter()
            .map(|a| Answer {
                confidence: self.apply(a.confidence),
                ..*a
            })
            .collect()
    }
}

/// A number reader's two maps ([`Platt`]): one for numbers read untold, one for numbers it was
/// told the exact count of digits of. Held to the count it was told, a reader gets more numbers
/// right at each confidence as its rules make it than untold (the built-in reader's told
/// readings of the shared numbers were under-confident by 0.07 under the untold map), so the
/// two are fitted apart. A range of counts (`--digits 2-4`) tells less and keeps the untold map.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReaderCalibration {
    pub untold: Platt,
    pub told: Platt,
}

impl ReaderCalibration {
    /// The map for a reading told an exact count of digits, or not.
    pub fn map(&self, told_exactly: bool) -> &Platt {
        if told_exactly {
            &self.told
        } else {
            &self.untold
        }
    }
}

/// The [`Platt`] map with the least log loss on `answers`, by Newton's method. The targets are
/// Platt's: (N+ + 1) / (N+ + 2) for a right answer and 1 / (N- + 2) for a wrong one, so that a
/// set with no mistake (or no right answer) still gives a finite map.
pub fn fit_platt(answers: &[Answer]) -> Platt {
    let right = answers.iter().filter(|a| a.correct).count() as f64;
    let wrong = answers.len() as f64 - right;
    let (hi, lo) = ((right + 1.0) / (right + 2.0), 1.0 / (wrong + 2.0));
    let data: Vec<(f64, f64)> = answers
        .iter()
        .map(|a| (logit(a.confidence), if a.correct { hi } else { lo }))
        .collect();
    let loss = |a: f64, b: f64| -> f64 {
        data.iter()
            .map(|&(x, t)| {
                let z = a * x + b;
                // -t ln sigma(z) - (1 - t) ln(1 - sigma(z)), written to stay finite.
                z.max(0.0) - t * z + (-z.abs()).exp().ln_1p()
            })
            .sum()
    };
    let (mut a, mut b) = (1.0f64, 0.0f64);
    let mut current = loss(a, b);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for &(x, t) in &data {
            let p = sigmoid(a * x + b);
            let (g, w) = (p - t, (p * (1.0 - p)).max(1e-12));
            ga += g * x;
            gb += g;
            haa += w * x * x;
            hab += w * x;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-12 {
            break;
        }
        let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
        // Newton's step, halved until the loss does not rise.
        let mut step = 1.0;
        let (next_a, next_b, next) = loop {
            let (na, nb) = (a - step * da, b - step * db);
            let l = loss(na, nb);
            if l <= current || step < 1e-6 {
                break (na, nb, l);
            }
            step /= 2.0;
        };
        let moved = (next_a - a).abs() + (next_b - b).abs();
        (a, b, current) = (next_a, next_b, next);
        if moved < 1e-9 {
            break;
        }
    }
    Platt {
        a: a as f32,
        b: b as f32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(f32, bool)]) -> Vec<Answer> {
        pairs
            .iter()
            .map(|&(confidence, correct)| Answer {
                confidence,
                correct,
            })
            .collect()
    }

    #[test]
    fn answer_of_probabilities() {
        let a = Answer::of(&[0.1, 0.7, 0.2], 1);
        assert_eq!((a.confidence, a.correct), (0.7, true));
        assert!(!Answer::of(&[0.1, 0.7, 0.2], 2).correct);
    }

    #[test]
    fn setting_aside_the_least_confident() {
        // 20 answers: the two least confident are wrong, and one confident one.
        let mut pairs: Vec<(f32, bool)> = (0..20).map(|i| (0.5 + i as f32 * 0.02, true)).collect();
        pairs[0].1 = false;
        pairs[1].1 = false;
        pairs[15].1 = false;
        pairs.reverse(); // the order given does not matter
        let s = selective(&answers(&pairs), &[0.0, 0.05, 0.10, 0.5, 1.0]);
        let kept_wrong: Vec<(usize, usize)> = s.iter().map(|s| (s.kept, s.wrong)).collect();
        assert_eq!(kept_wrong, [(20, 3), (19, 2), (18, 1), (10, 1), (0, 0)]);
        // The least confident kept: 0.5 + 0.02 i for the i set aside; none when none is kept.
        for (s, want) in s.iter().zip([0.5, 0.52, 0.54, 0.7]) {
            assert!((s.threshold.unwrap() - want).abs() < 1e-6, "{s:?}");
        }
        assert_eq!(s[4].threshold, None);
        assert!((s[0].error() - 0.15).abs() < 1e-12);
        assert!((s[2].error() - 1.0 / 18.0).abs() < 1e-12);
        assert_eq!(s[4].error(), 0.0);
        // 1% of 20 rounds to none set aside.
        assert_eq!(selective(&answers(&pairs), &[0.01])[0].kept, 20);
        // From a level: 0.56 keeps 0.56 to 0.88 (17 answers), one of them wrong.
        let at = kept_from(&answers(&pairs), 0.56);
        assert_eq!((at.kept, at.wrong, at.threshold), (17, 1, Some(0.56)));
        assert!((at.set_aside - 0.15).abs() < 1e-12);
        assert_eq!(kept_from(&answers(&pairs), 0.95).kept, 0);
    }

    #[test]
    fn calibration_error_by_hand() {
        // Perfectly calibrated: in the 0.8 bin 4 of 5 are right.
        let good = answers(&[
            (0.8, true),
            (0.8, true),
            (0.8, true),
            (0.8, true),
            (0.8, false),
        ]);
        assert!(expected_calibration_error(&good, ECE_BINS) < 1e-6);
        // Overconfident: 0.99 claimed, half right -> 0.49.
        let over = answers(&[(0.99, true), (0.99, false)]);
        assert!((expected_calibration_error(&over, ECE_BINS) - 0.49).abs() < 1e-6);
        // Two bins, weighted by their counts: bin of 1.0 (3 answers, 2 right): |2/3 - 1| = 1/3;
        // bin of 0.5 (1 answer, right): |1 - 0.5| = 0.5. ECE = 3/4 * 1/3 + 1/4 * 0.5 = 0.375.
        let two = answers(&[(1.0, true), (1.0, true), (1.0, false), (0.5, true)]);
        assert!((expected_calibration_error(&two, ECE_BINS) - 0.375).abs() < 1e-6);
        // 0.5 and 0.52 share a bin of 1/15 (0.4667..0.5333): their mean confidence is compared.
        let shared = answers(&[(0.5, true), (0.52, false)]);
        assert!((expected_calibration_error(&shared, ECE_BINS) - 0.01).abs() < 1e-6);
        assert_eq!(expected_calibration_error(&[], ECE_BINS), 0.0);
        assert!((accuracy(&two) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn temperature_recovers_the_one_that_made_the_labels() {
        // Labels drawn from softmax(z / 2) by a fixed sequence: the fitted temperature is near 2.
        let classes = 3;
        let mut logits = Vec::new();
        let mut labels = Vec::new();
        let mut seed = 12345u64;
        for i in 0..3000 {
            let z = [
                (i % 7) as f32,
                ((i * 3) % 5) as f32 * 1.5,
                ((i * 5) % 11) as f32 * 0.7,
            ];
            let p = softmax_at(&z, 2.0);
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (seed >> 11) as f32 / (1u64 << 53) as f32;
            let label = if u < p[0] {
                0
            } else if u < p[0] + p[1] {
                1
            } else {
                2
            };
            logits.extend_from_slice(&z);
            labels.push(label);
        }
        let t = fit_temperature(&logits, &labels, classes);
        assert!((t - 2.0).abs() < 0.25, "fitted {t}");
        let at = |t| nll_at(&logits, &labels, classes, t);
        assert!(at(t) <= at(1.0) && at(t) <= at(4.0));
        // Probabilities sum to 1 at any temperature; a high one flattens them.
        let p = softmax_at(&[1.0, 2.0, 3.0], 10.0);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[2] - p[0] < 0.25);
    }

    #[test]
    fn platt_recovers_the_map_that_made_the_answers() {
        // At each raw confidence c, a share sigma(0.8 logit(c) + 1.5) of 1,000 answers is right:
        // the fit finds a = 0.8, b = 1.5, and then the mapped confidences are calibrated.
        let truth = Platt { a: 0.8, b: 1.5 };
        let mut answers = Vec::new();
        for k in 1..20 {
            let c = k as f32 / 20.0;
            let right = (truth.apply(c) * 1000.0).round() as usize;
            answers.extend((0..1000).map(|i| Answer {
                confidence: c,
                correct: i < right,
            }));
        }
        let fit = fit_platt(&answers);
        assert!(
            (fit.a - 0.8).abs() < 0.01 && (fit.b - 1.5).abs() < 0.01,
            "{fit:?}"
        );
        let raw = expected_calibration_error(&answers, ECE_BINS);
        let mapped = fit.apply_to(&answers);
        assert!(raw > 0.1, "{raw}");
        assert!(expected_calibration_error(&mapped, ECE_BINS) < 0.005);
        // It keeps the order, and the identity changes nothing.
        assert!(fit.apply(0.3) < fit.apply(0.31) && fit.apply(0.99) < fit.apply(0.999));
        assert!((Platt::IDENTITY.apply(0.37) - 0.37).abs() < 1e-6);
    }

    #[test]
    fn platt_stays_finite_when_every_answer_is_right() {
        let all_right = answers(&[(0.2, true), (0.6, true), (0.9, true)]);
        let fit = fit_platt(&all_right);
        assert!(fit.a.is_finite() && fit.b.is_finite(), "{fit:?}");
        let p = fit.apply(0.6);
        assert!(p > 0.5 && p < 1.0, "{p}");
    }
}
