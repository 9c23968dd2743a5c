//! A slash read where no date has one is taken for a 1. A thin straight 1 that leans is the
//! line model's likeliest stroke to take for a `/`; where the reading's slashes do not stand as
//! a date's do (`06/05/1990`, `12/05`, `05/1990`), it was a 1: `9/296` is read `91296`, and
//! `69/28` (no day or month is 69) `69128`.
//!
//! On the shared numbers (whose labels hold no slash) the line model's readings held a slash 9
//! times, none of them a date; 8 outside a date's shape, 7 of them right once read as 1s. Of
//! 1,000 composed MNIST numbers, 5 readings held one, none fitting a date; all 5 were right so.

use super::{class_of, text_of};
use crate::nn::ctc_decode::Decoded;
use std::borrow::Cow;

/// Whether the slashes in `formatted` stand where a date's do: the whole reading is a day and
/// a month (either way round: each 1-31, one of them at most 12), then perhaps a year of two or
/// four digits, or a month and a year of four (`06/05/1990`, `12/31/99`, `12/05`, `5/1990`).
pub fn slashes_fit_a_date(formatted: &str) -> bool {
    let parts: Vec<&str> = formatted.split('/').collect();
    let number = |p: &str, lens: &[usize]| {
        (p.bytes().all(|b| b.is_ascii_digit()) && lens.contains(&p.len()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
    };
    let day_month = |a: &str, b: &str| match (number(a, &[1, 2]), number(b, &[1, 2])) {
        (Some(a), Some(b)) => (1..=31).contains(&a) && (1..=31).contains(&b) && a.min(b) <= 12,
        _ => false,
    };
    match parts.as_slice() {
        [a, b] if b.len() == 4 => number(a, &[1, 2]).is_some_and(|m| (1..=12).contains(&m)),
        [a, b] => day_month(a, b),
        [a, b, c] => day_month(a, b) && number(c, &[2, 4]).is_some(),
        _ => false,
    }
}

/// `decoded` with each slash read as a 1 when its slashes do not fit a date
/// ([`slashes_fit_a_date`]); each such 1 keeps the slash's columns and probability. Borrowed
/// as it is when there is nothing to change (most readings hold no slash).
pub fn slashes_as_ones(decoded: &Decoded) -> Cow<'_, Decoded> {
    let (Some(slash), Some(one)) = (class_of(b'/'), class_of(b'1')) else {
        return Cow::Borrowed(decoded);
    };
    if !decoded.labels.contains(&slash) {
        return Cow::Borrowed(decoded);
    }
    let formatted = text_of(&decoded.labels);
    if slashes_fit_a_date(&formatted) {
        return Cow::Borrowed(decoded);
    }
    let mut ones = decoded.clone();
    for label in ones.labels.iter_mut().filter(|l| **l == slash) {
        *label = one;
    }
    for c in ones.chars.iter_mut().filter(|c| c.label == slash) {
        c.label = one;
    }
    Cow::Owned(ones)
}

/// The other readings of `decoded`, where it holds a slash, that the line model may have meant:
/// its 1s and slashes read either way so as to make a date (one or two slashes), and every
/// slash read as a 1. A look's best path may read one slash of `11/06/01` as a 1
/// (`11/06101`), which fits no date and so became `11106101`, though the model finds the date
/// likelier; weighed by the looks, the likeliest wins (`weighing::likeliest`). Each keeps
/// `decoded`'s columns (a slash and a 1 take the same place). None where `decoded` holds no
/// slash.
pub fn date_readings(decoded: &Decoded) -> Vec<Decoded> {
    let (Some(slash), Some(one)) = (class_of(b'/'), class_of(b'1')) else {
        return Vec::new();
    };
    if !decoded.labels.contains(&slash) {
        return Vec::new();
    }
    let either: Vec<usize> = (0..decoded.labels.len())
        .filter(|&k| decoded.labels[k] == slash || decoded.labels[k] == one)
        .collect();
    let with_slashes_at = |at: &[usize]| {
        let mut d = decoded.clone();
        for &k in &either {
            let label = if at.contains(&k) { slash } else { one };
            d.labels[k] = label;
            d.chars[k].label = label;
        }
        d
    };
    let mut out = vec![with_slashes_at(&[])];
    for (i, &a) in either.iter().enumerate() {
        out.push(with_slashes_at(&[a]));
        for &b in &either[i + 1..] {
            out.push(with_slashes_at(&[a, b]));
        }
    }
    out.retain(|d| {
        let text = text_of(&d.labels);
        d.labels != decoded.labels && (!text.contains('/') || slashes_fit_a_date(&text))
    });
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::nn::ctc_decode::DecodedChar;

    #[test]
    fn dates_keep_their_slashes_and_other_places_do_not_fit() {
        for date in [
            "06/05/1990",
            "6/5/90",
            "12/05",
            "3/4",
            "05/1990",
            "1/12/2024",
            "12/31/99",
            "31/12",
        ] {
            assert!(slashes_fit_a_date(date), "{date}");
        }
        for other in [
            "9/296",
            "046/0",
            "123/45",
            "1/2/3",
            "12/05/199",
            "/12",
            "12/",
            "1//2",
            "12-05/1990",
            "1/2/3/4",
            "1234",
            "69/28",
            "13/13",
            "0/5",
            "32/01",
            "13/1990",
            "00/1990",
        ] {
            assert!(!slashes_fit_a_date(other), "{other}");
        }
    }

    /// `text` as a best path reads it: character k at column 2k, sure by 0.5 + k / 100.
    pub(in crate::vision::line) fn decoded(text: &str) -> Decoded {
        let labels: Vec<u8> = text.bytes().map(|b| class_of(b).unwrap()).collect();
        let chars = labels
            .iter()
            .enumerate()
            .map(|(k, &label)| DecodedChar {
                label,
                first_column: 2 * k,
                last_column: 2 * k,
                prob: 0.5 + k as f32 / 100.0,
            })
            .collect();
        Decoded {
            labels,
            log_prob: -1.0,
            chars,
        }
    }

    /// The characters `d` reads.
    pub(in crate::vision::line) fn text(d: &Decoded) -> String {
        text_of(&d.labels)
    }

    #[test]
    fn the_dates_a_readings_1s_and_slashes_could_make() {
        let texts = |t: &str| -> Vec<String> {
            let mut v: Vec<String> = date_readings(&decoded(t)).iter().map(text).collect();
            v.sort();
            v
        };
        // One slash read as a 1: the date, and every slash as a 1.
        assert_eq!(texts("11/06101"), ["11/06/01", "11106101"]);
        // Each keeps the columns of the character it replaces.
        let d = &date_readings(&decoded("11/06101"))[0];
        assert_eq!(d.chars.len(), 8);
        assert!(d.chars.iter().zip(&d.labels).all(|(c, &l)| c.label == l));
        assert_eq!(d.chars[5].first_column, 10);
        // A date as read: only its slashes read as 1s.
        assert_eq!(texts("12/05"), ["12105"]);
        // No slash: nothing else.
        assert!(texts("11106101").is_empty());
    }

    #[test]
    fn a_slash_outside_a_date_becomes_a_1_with_its_columns_and_probability() {
        let d = slashes_as_ones(&decoded("9/296")).into_owned();
        assert_eq!(text(&d), "91296");
        assert_eq!(d.chars[1].label, class_of(b'1').unwrap());
        assert_eq!((d.chars[1].first_column, d.chars[1].prob), (2, 0.51));
        assert_eq!(d.log_prob, -1.0);
        assert_eq!(text(&slashes_as_ones(&decoded("1/2/3"))), "11213");
        // A date, and a reading without a slash, are left as read.
        for as_read in ["12/05", "12.05"] {
            let d = decoded(as_read);
            assert!(
                matches!(slashes_as_ones(&d), Cow::Borrowed(b) if *b == d),
                "{as_read}"
            );
        }
    }
}
