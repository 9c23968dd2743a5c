//! The line model and the digit model weighed together where their readings differ: where a
//! cut of as many digits, each standing apart in the ink, reads some of them otherwise, the
//! string the two find likeliest together (a product of experts), the line model by its
//! probability of the whole string (its looks at the picture: [`Looks`]), the digit model by its
//! probability of each digit cut out.

use super::reader::Looks;
use crate::vision::reading::Reading;

/// How much the digit model's log probabilities count against the line model's in
/// [`joint_reading`]. Under 1: the cut's digits are often certain (0.9999 or more) of a digit
/// the line model reads otherwise, and a product with equal weights let the cut overrule too
/// often. Chosen among 0.3, 0.5 and 1 on composed numbers of seeds 7 and 8 and the shared
/// numbers (see the README, "Two models weighed together").
pub const JOINT_WEIGHT: f64 = 0.5;

/// At most this many differing digits are weighed (2^n strings); readings further apart are
/// left to the other rules.
const MOST_DIFFERING: usize = 4;

/// The probability given to a digit the digit model rules out, so that a log of 0 never
/// decides alone.
const FLOOR: f64 = 1e-9;

/// Where the cut `cut` has as many digits as the line reading `line` (read from `looks`), each
/// with the digit model's probabilities, and the two differ in 1 to [`MOST_DIFFERING`]
/// places: of the strings that take each differing digit from one or the other, the one
/// maximising log P_line(string) + [`JOINT_WEIGHT`] * the sum of log p_cut(digit), in the
/// line's format (its separators kept) and sure by the line's confidence, each digit's
/// probability and box from the reading it came from. None where the rule does not apply.
pub fn joint_reading(line: &Reading, looks: &Looks, cut: &Reading) -> Option<Reading> {
    if cut.digits.len() != line.digits.len() {
        return None;
    }
    let cut_probs: Vec<[f32; 10]> = cut
        .digits
        .iter()
        .map(|d| d.probabilities)
        .collect::<Option<_>>()?;
    let differing: Vec<usize> = (0..line.digits.len())
        .filter(|&k| line.digits[k].digit != cut.digits[k].digit)
        .collect();
    if differing.is_empty() || differing.len() > MOST_DIFFERING {
        return None;
    }
    // Bit b of a choice: the cut's digit at the b-th differing place.
    let from_cut = |choice: usize, k: usize| {
        (differing.iter().position(|&d| d == k)).is_some_and(|b| choice >> b & 1 == 1)
    };
    let digits_of = |choice: usize| -> Vec<usize> {
        (0..line.digits.len())
            .map(|k| {
                if from_cut(choice, k) {
                    cut.digits[k].digit
                } else {
                    line.digits[k].digit
                }
            })
            .collect()
    };
    let score = |digits: &[usize]| {
        let by_line = looks.probability(&with_digits(&line.formatted, digits));
        let by_cut: f64 = (digits.iter().zip(&cut_probs))
            .map(|(&d, p)| (p[d] as f64).max(FLOOR).ln())
            .sum();
        by_line.max(f64::MIN_POSITIVE).ln() + JOINT_WEIGHT * by_cut
    };
    let best = (0..1usize << differing.len())
        .map(|choice| (choice, score(&digits_of(choice))))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(choice, _)| choice)?;
    let chosen = digits_of(best);
    Some(Reading {
        text: chosen.iter().map(|d| d.to_string()).collect(),
        formatted: with_digits(&line.formatted, &chosen),
        confidence: line.confidence,
        digits: (0..chosen.len())
            .map(|k| {
                if from_cut(best, k) {
                    &cut.digits[k]
                } else {
                    &line.digits[k]
                }
                .clone()
            })
            .collect(),
    })
}

/// `formatted` with its digits replaced, in order, by `digits` (as many).
fn with_digits(formatted: &str, digits: &[usize]) -> String {
    let mut next = digits.iter();
    formatted
        .chars()
        .map(
            |c| match c.is_ascii_digit().then(|| next.next()).flatten() {
                Some(&d) => char::from(b'0' + d as u8),
                None => c,
            },
        )
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::vision::line::{class_of, CLASSES};
    use crate::vision::reading::DigitRead;

    /// Looks of one column per character of `columns`, each a list of (character, probability)
    /// with the rest of the column's probability on the blank; a blank column between each.
    fn looks(columns: &[&[(u8, f64)]]) -> Looks {
        Looks::new(vec![look(columns)])
    }

    /// One look's columns' log probabilities, made as [`looks`] makes them.
    pub(in crate::vision::line) fn look(columns: &[&[(u8, f64)]]) -> Vec<f64> {
        let mut lp = Vec::new();
        let mut push = |col: &[(u8, f64)]| {
            let mut p = [0.0f64; CLASSES];
            for &(c, q) in col {
                p[class_of(c).unwrap() as usize] = q;
            }
            p[0] = 1.0 - p.iter().sum::<f64>();
            lp.extend(p.iter().map(|&q| q.max(1e-12).ln()));
        };
        for col in columns {
            push(&[]);
            push(col);
        }
        push(&[]);
        lp
    }

    fn digit(d: usize, p: f32, probabilities: Option<[f32; 10]>) -> DigitRead {
        DigitRead {
            digit: d,
            probability: p,
            bbox: [0, 0, 10, 20],
            probabilities,
        }
    }

    /// The digit model's probabilities: `p` on `d`, the rest spread evenly.
    fn cut_probs(d: usize, p: f32) -> Option<[f32; 10]> {
        let mut v = [(1.0 - p) / 9.0; 10];
        v[d] = p;
        Some(v)
    }

    fn reading(formatted: &str, digits: Vec<DigitRead>) -> Reading {
        Reading {
            text: formatted.chars().filter(char::is_ascii_digit).collect(),
            formatted: formatted.into(),
            confidence: 0.4,
            digits,
        }
    }

    #[test]
    fn the_string_both_models_find_likeliest_wins_each_digit_on_its_own() {
        // The line reads 1/7/3: unsure between 7 and 1 in the middle, sure of the 3 over an 8.
        let l = looks(&[
            &[(b'1', 0.95)],
            &[(b'/', 0.95)],
            &[(b'7', 0.55), (b'1', 0.4)],
            &[(b'3', 0.95), (b'8', 0.04)],
        ]);
        let line = reading(
            "1/73",
            vec![
                digit(1, 0.95, None),
                digit(7, 0.55, None),
                digit(3, 0.95, None),
            ],
        );
        // The cut is sure of a 1 in the middle, and fairly sure of an 8 at the end.
        let cut = reading(
            "118",
            vec![
                digit(1, 0.99, cut_probs(1, 0.99)),
                digit(1, 0.999, cut_probs(1, 0.999)),
                digit(8, 0.6, cut_probs(8, 0.6)),
            ],
        );
        let r = joint_reading(&line, &l, &cut).unwrap();
        assert_eq!((r.text.as_str(), r.formatted.as_str()), ("113", "1/13"));
        assert_eq!(r.confidence, line.confidence);
        assert_eq!(
            r.digits[1].probabilities, cut.digits[1].probabilities,
            "the 1 is the cut's"
        );
        assert_eq!(r.digits[2].probabilities, None, "the 3 is the line's");
        // Agreement, another count, or a cut without probabilities: the rule does not apply.
        assert!(joint_reading(&line, &l, &line).is_none());
        assert!(joint_reading(&line, &l, &reading("11", cut.digits[..2].to_vec())).is_none());
        let bare = reading(
            "118",
            cut.digits
                .iter()
                .map(|d| digit(d.digit, 0.9, None))
                .collect(),
        );
        assert!(joint_reading(&line, &l, &bare).is_none());
    }

    #[test]
    fn digits_are_replaced_in_place_and_separators_kept() {
        assert_eq!(with_digits("12/05", &[1, 7, 0, 6]), "17/06");
        assert_eq!(with_digits("3", &[8]), "8");
    }
}
