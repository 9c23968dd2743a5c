//! The pieces a cut finds where the line model read a separator. The digit model reads
//! every piece of ink as a digit, so a cut of a date, an amount or a phone number reads its
//! separators as digits, and the check ([`super::check`]) must set them aside before it
//! compares the cut with the line's reading.

use crate::vision::reading::{DigitRead, Reading};

/// The cutting reading `cut` without the pieces it read where the line reading `line` read a
/// separator. The digit model reads every piece as a digit: the `/` of a date as a 1, a comma
/// as a 1, a dash as a 2. So a cut of `6/10` read `6110`, one digit more than the line, and
/// was cut again into three (`410`), and the 1 of `669,114` was put back after the comma.
/// The pieces that go are those whose middle lies in the gap between the line's digits where
/// it read a separator (for a slash, only a piece read as a 1), where that leaves as many
/// digits as the line's; its confidence is then the product of the others', as a cut's is.
/// (A dot is often no piece at all: `4.462,18` cut into seven.) Else `cut` as it is.
pub(super) fn without_separators(line: &Reading, mut cut: Reading) -> Reading {
    // Each separator with how many of the line's digits come before it.
    let (mut separators, mut digits_before) = (Vec::new(), 0);
    for c in line.formatted.chars() {
        if c.is_ascii_digit() {
            digits_before += 1;
        } else {
            separators.push((c, digits_before));
        }
    }
    let n = line.digits.len();
    let middle = |d: &DigitRead| d.bbox[0] as f32 + d.bbox[2] as f32 / 2.0;
    let right_edge = |d: &DigitRead| (d.bbox[0] + d.bbox[2]) as f32;
    let in_gap = |piece: &DigitRead, &(c, before): &(char, usize)| {
        let x = middle(piece);
        (before == 0 || x >= right_edge(&line.digits[before - 1]))
            && (before == n || x <= line.digits[before].bbox[0] as f32)
            && (c != '/' || piece.digit == 1)
    };
    let kept: Vec<DigitRead> = (cut.digits.iter())
        .filter(|piece| !separators.iter().any(|s| in_gap(piece, s)))
        .cloned()
        .collect();
    if separators.is_empty() || kept.len() != n || cut.digits.len() == n {
        return cut;
    }
    cut.digits = kept;
    cut.confidence = cut.digits.iter().map(|d| d.probability).product();
    cut.text = cut.digits.iter().map(|d| d.digit.to_string()).collect();
    cut.formatted = cut.text.clone();
    cut
}

#[cfg(test)]
mod tests {
    use super::super::judge::tests::reading;
    use super::*;

    #[test]
    fn the_pieces_a_cut_read_for_the_lines_separators_are_dropped_from_it() {
        let line = reading("6/10/99", 0.3, &[0.9; 5]);
        let cut = reading("6110199", 0.5, &[0.9, 0.5, 0.9, 0.8, 0.4, 0.9, 0.9]);
        let dropped = without_separators(&line, cut);
        assert_eq!(
            (dropped.text.as_str(), dropped.formatted.as_str()),
            ("61099", "61099")
        );
        assert_eq!(dropped.digits.len(), 5);
        assert_eq!(dropped.digits[1].probability, 0.9, "the 1 of 10 stays");
        assert!((dropped.confidence - 0.9f32.powi(4) * 0.8).abs() < 1e-6);
        // A comma read as a 1, a dash as a 2.
        let line = reading("669,14", 0.3, &[0.9; 5]);
        assert_eq!(
            without_separators(&line, reading("669114", 0.5, &[0.9; 6])).text,
            "66914"
        );
        let line = reading("850-2846", 0.3, &[0.9; 7]);
        assert_eq!(
            without_separators(&line, reading("85022846", 0.5, &[0.9; 8])).text,
            "8502846"
        );
        // A dot that left no piece, and a comma read as a 1.
        let line = reading("4.462,18", 0.3, &[0.9; 6]);
        let mut cut = reading("4.462,18", 0.5, &[0.9; 6]);
        let comma = DigitRead {
            digit: 1,
            ..cut.digits[0].clone()
        };
        cut.digits.insert(
            4,
            DigitRead {
                bbox: [50, 0, 4, 8],
                ..comma
            },
        );
        assert_eq!(without_separators(&line, cut).text, "446218");
        // As it is: a piece where a slash was that is not a 1; a piece too many that lies in
        // a digit's place; no separator; a piece in a separator's place that lies beyond the
        // line's next digit.
        let line = reading("6/10/99", 0.3, &[0.9; 5]);
        let mut beyond = reading("6110199", 0.5, &[0.9; 7]);
        beyond.digits[1].bbox[0] = 25;
        let mut split = reading("610199", 0.5, &[0.9; 6]);
        split.digits[1].bbox[0] = 2;
        for (line, cut) in [
            (line.clone(), reading("6710199", 0.5, &[0.9; 7])),
            (line.clone(), split),
            (
                reading("6110", 0.3, &[0.9; 4]),
                reading("6110", 0.5, &[0.9; 4]),
            ),
            (line.clone(), beyond),
        ] {
            assert_eq!(without_separators(&line, cut.clone()), cut);
        }
    }
}
