//! Which of the strings a line's looks read is the reading: each weighed by every look, as it
//! would be read.

use super::slash;
use super::CLASSES;
use crate::nn::ctc_decode::{labelling_log_prob_of, Decoded};
use std::borrow::Cow;

/// Of the strings the looks read (`read`: each look's, None where it read none that fits),
/// the likeliest: the one with the highest probability averaged over the looks (`log_probs`:
/// each look's columns' log probabilities, the CTC forward score of each), with that mean and
/// the look that gives it the highest probability among those that read it.
///
/// Each string is weighed as it would be read: its slashes where no date has them read as 1s
/// ([`slash::slashes_as_ones`]); and where it holds a slash, the dates its 1s and slashes could
/// make are weighed too ([`slash::date_readings`]), as read by its look, where they `fit`. A
/// look may read one slash of `11/06/01` as a 1: `11/06101` fits no date and was read
/// `11106101`, weighed by the probability of `11/06101` (0.11, the date's 0.05), though
/// `11106101` has 0.004. (Synthesised dates full of 1s: 222 to 232 of 240 read right.)
pub(super) fn likeliest(
    read: &[Option<Decoded>],
    log_probs: &[&[f64]],
    fits: impl Fn(&Decoded) -> bool,
) -> Option<(f64, usize, Decoded)> {
    // Borrowed where the look's string is read as it is (most readings hold no slash).
    let candidates: Vec<(usize, Cow<'_, Decoded>)> = (read.iter().enumerate())
        .filter_map(|(k, d)| Some((k, d.as_ref()?)))
        .flat_map(|(k, d)| {
            let dates = slash::date_readings(d).into_iter().filter(|v| fits(v));
            let read_as = slash::slashes_as_ones(d);
            std::iter::once(read_as)
                .chain(dates.map(Cow::Owned))
                .map(move |v| (k, v))
        })
        .collect();
    let mut best: Option<(f64, usize)> = None; // (mean probability, candidate)
    for (i, (_, d)) in candidates.iter().enumerate() {
        let same = |e: &Decoded| e.labels == d.labels;
        if d.labels.is_empty() || candidates[..i].iter().any(|(_, e)| same(e)) {
            continue;
        }
        let p: Vec<f64> = (log_probs.iter())
            .map(|lp| labelling_log_prob_of(lp, CLASSES, &d.labels).exp())
            .collect();
        let mean = p.iter().sum::<f64>() / p.len() as f64;
        // The look that reads this string and gives it the highest probability.
        let from = (i..candidates.len())
            .filter(|&j| same(&candidates[j].1))
            .max_by(|&a, &b| p[candidates[a].0].total_cmp(&p[candidates[b].0]))
            .unwrap_or(i);
        if best.is_none_or(|(m, _)| mean > m) {
            best = Some((mean, from));
        }
    }
    let (mean, from) = best?;
    let (look, d) = candidates.into_iter().nth(from)?;
    Some((mean, look, d.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::super::joint::tests::look;
    use super::super::slash::tests::{decoded, text};
    use super::*;

    #[test]
    fn a_date_its_looks_find_likeliest_wins_over_its_slashes_read_as_1s() {
        // 1/7/88: the first slash unsure between / and 1, the second sure. The look's best
        // path reads `117/88`, which fits no date and so would be read `117188`, a string
        // its columns make unlikely.
        let unsure = [(b'/', 0.45), (b'1', 0.55)];
        let columns: Vec<&[(u8, f64)]> = vec![
            &[(b'1', 0.99)],
            &unsure,
            &[(b'7', 0.99)],
            &[(b'/', 0.99)],
            &[(b'8', 0.99)],
            &[(b'8', 0.99)],
        ];
        let lp = look(&columns);
        let read = [Some(decoded("117/88"))];
        let (p, look_of, best) = likeliest(&read, &[&lp], |_| true).unwrap();
        assert_eq!(text(&best), "1/7/88");
        assert_eq!(look_of, 0);
        let date = labelling_log_prob_of(&lp, CLASSES, &best.labels).exp();
        assert!((p - date).abs() < 1e-9, "weighed as read: {p} {date}");
        // Without the dates among the candidates, the look's string would be read `117188`
        // (no date has its slash), which is far less likely than the date.
        let ones = slash::slashes_as_ones(read[0].as_ref().unwrap()).into_owned();
        assert_eq!(text(&ones), "117188");
        assert!(labelling_log_prob_of(&lp, CLASSES, &ones.labels).exp() < date / 10.0);
        // Where dates do not fit (told another count of digits), the string as read wins.
        let (_, _, best) = likeliest(&read, &[&lp], |d| !text(d).contains('/')).unwrap();
        assert_eq!(text(&best), "117188");
    }

    #[test]
    fn the_look_giving_a_string_the_highest_probability_is_the_one_kept() {
        let sure = look(&[&[(b'4', 0.99)], &[(b'2', 0.99)]]);
        let unsure = look(&[&[(b'4', 0.6)], &[(b'2', 0.6)]]);
        let read = [Some(decoded("42")), Some(decoded("42")), None];
        let (p, look_of, best) = likeliest(&read, &[&unsure, &sure, &sure], |_| true).unwrap();
        assert_eq!((text(&best).as_str(), look_of), ("42", 1));
        assert!(p > 0.6 && p < 0.99);
        assert!(likeliest(&[None], &[&sure], |_| true).is_none());
    }
}
