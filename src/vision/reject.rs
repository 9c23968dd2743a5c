//! The reject option: an answer is accepted when its confidence (a number's `confidence`, a
//! digit's probability) reaches a level the user chose, and otherwise set aside to be checked
//! by hand, as a bank reads by hand the cheques its reader is unsure of. `digits read` and
//! `digits predict` take the level as `--min-confidence`, `digits serve` as `--min-confidence`
//! and `?min_confidence=`, Python as `min_confidence=`; `digits eval` prints the level that
//! sets aside a given share of a labelled folder, and with `--min-confidence` what a level keeps.

use crate::train::calibration::Selective;

/// A probability in [0, 1], parsed from `s` (a flag's or a query's value).
pub fn parse_probability(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        Ok(p) => Err(format!("{p} is not a probability (between 0 and 1)")),
        Err(_) => Err(format!(
            "{s:?} is not a number (a probability between 0 and 1)"
        )),
    }
}

/// Whether an answer as sure as `confidence` is accepted at the level `min`; None when no level
/// was asked for.
pub fn accepted(confidence: f32, min: Option<f32>) -> Option<bool> {
    min.map(|min| confidence >= min)
}

/// One line on what a level keeps of `total` labelled answers (`at.threshold` the level; see
/// `train::calibration::kept_from`), e.g. "at --min-confidence 0.86: 5084 of 6355 numbers
/// accepted (80.0%), 93 wrong among them (0.0183)".
pub fn describe_level(at: &Selective, total: usize, what: &str) -> String {
    format!(
        "at --min-confidence {}: {} of {total} {what} accepted ({:.1}%), {} wrong among them ({:.4})",
        at.threshold.unwrap_or(0.0),
        at.kept,
        100.0 * at.kept as f64 / total.max(1) as f64,
        at.wrong,
        at.error()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_are_numbers_from_0_to_1() {
        assert_eq!(parse_probability("0.8"), Ok(0.8));
        assert_eq!(parse_probability(" 1 "), Ok(1.0));
        assert_eq!(parse_probability("0"), Ok(0.0));
        for bad in ["1.5", "-0.1", "NaN", "inf"] {
            let e = parse_probability(bad).unwrap_err();
            assert!(e.contains("not a probability"), "{bad}: {e}");
        }
        let e = parse_probability("high").unwrap_err();
        assert!(e.contains("\"high\" is not a number"), "{e}");
    }

    #[test]
    fn a_level_is_described_by_what_it_keeps() {
        let at = Selective {
            set_aside: 0.2,
            kept: 8,
            wrong: 1,
            threshold: Some(0.86),
        };
        assert_eq!(
            describe_level(&at, 10, "numbers"),
            "at --min-confidence 0.86: 8 of 10 numbers accepted (80.0%), 1 wrong among them (0.1250)"
        );
    }

    #[test]
    fn an_answer_as_sure_as_the_level_is_accepted() {
        assert_eq!(accepted(0.8, Some(0.8)), Some(true));
        assert_eq!(accepted(0.79, Some(0.8)), Some(false));
        assert_eq!(accepted(0.0, Some(0.0)), Some(true));
        assert_eq!(accepted(0.3, None), None);
    }
}
