//! Best-path decoding under a count: the most likely path (one class per column) whose
//! labelling holds between `min` and `max` of the labels that count. A reader told how many
//! digits a field holds (a zip code's 5, a phone number's 10) reads the best string of that
//! many digits, separators (labels that do not count) free as they are read.
//!
//! Viterbi over states (labels counted so far, the previous column's class): a column of the
//! previous column's class continues its character (CTC merges repeats), a blank ends it, any
//! other class starts a new character. Paths that count more than `max` are dropped. For each
//! count, the best and second best previous states (of different classes) are kept, so a
//! column costs O((max + 1) x classes).

use std::ops::RangeInclusive;

use super::ctc::BLANK;
use super::ctc_decode::{push_column, Decoded};

/// The most likely path through `log_probs` (columns x classes, log softmax: see
/// `ctc_decode::column_log_probs`) whose labelling holds a number of labels `c` with
/// `counted[c]` within `counts`; None when no path does (too few columns, or an empty range).
/// Its `log_prob` is the path's, its characters' `prob` their peak over their columns (as in
/// `greedy_decode`).
pub fn best_path_counted(
    log_probs: &[f64],
    classes: usize,
    counts: RangeInclusive<usize>,
    counted: &[bool],
) -> Option<Decoded> {
    assert_eq!(counted.len(), classes, "one flag per class");
    let t = log_probs.len() / classes;
    let (min, max) = (*counts.start(), *counts.end());
    if t == 0 || min > max {
        return None;
    }
    let states = (max + 1) * classes; // state k * classes + c
    let neg = f64::NEG_INFINITY;
    let mut score = vec![neg; states];
    let mut next = vec![neg; states];
    // back[col * states + s]: the state of column col - 1 on the best path to s (u32::MAX:
    // unreachable, or column 0).
    let mut back = vec![u32::MAX; t * states];
    for (c, &lp) in log_probs[..classes].iter().enumerate() {
        let k = usize::from(counted[c]);
        if k <= max {
            score[k * classes + c] = lp;
        }
    }
    for col in 1..t {
        let lp = &log_probs[col * classes..(col + 1) * classes];
        let col_back = &mut back[col * states..(col + 1) * states];
        next.fill(neg);
        for k in 0..=max {
            let row = &score[k * classes..(k + 1) * classes];
            let (first, second) = best_two(row);
            for (c, &p) in lp.iter().enumerate() {
                // c == prev continues the character (counted already) ...
                let same = k * classes + c;
                if c != BLANK && row[c] + p > next[same] {
                    next[same] = row[c] + p;
                    col_back[same] = same as u32;
                }
                // ... a blank, or another class than prev, starts anew.
                let to = k + usize::from(c != BLANK && counted[c]);
                if to > max {
                    continue;
                }
                let from = if c == BLANK || first.1 != c {
                    first
                } else {
                    second
                };
                let s = to * classes + c;
                if from.0 + p > next[s] {
                    next[s] = from.0 + p;
                    col_back[s] = (k * classes + from.1) as u32;
                }
            }
        }
        std::mem::swap(&mut score, &mut next);
    }
    let (mut s, log_prob) = (min * classes..states)
        .map(|s| (s, score[s]))
        .filter(|&(_, v)| v > neg)
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let mut path = vec![0usize; t];
    for col in (0..t).rev() {
        path[col] = s % classes;
        s = back[col * states + s] as usize;
    }
    Some(decoded_path(&path, log_probs, classes, log_prob))
}

/// The best and second best (value, class) of a row of scores, the second of another class
/// (value -inf when there is none).
fn best_two(row: &[f64]) -> ((f64, usize), (f64, usize)) {
    let (mut first, mut second) = ((f64::NEG_INFINITY, 0), (f64::NEG_INFINITY, 0));
    for (c, &v) in row.iter().enumerate() {
        if v > first.0 {
            second = first;
            first = (v, c);
        } else if v > second.0 {
            second = (v, c);
        }
    }
    (first, second)
}

/// The labelling a path (one class per column) spells, with each character's columns.
fn decoded_path(path: &[usize], log_probs: &[f64], classes: usize, log_prob: f64) -> Decoded {
    let mut out = Decoded {
        labels: Vec::new(),
        log_prob,
        chars: Vec::new(),
    };
    let mut prev = BLANK;
    for (col, &c) in path.iter().enumerate() {
        push_column(
            &mut out,
            prev,
            col,
            c,
            log_probs[col * classes + c].exp() as f32,
        );
        prev = c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::ctc_decode::{column_log_probs, greedy_decode};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Classes: blank, "1", "2", "3", "/" (which does not count).
    const CLASSES: usize = 5;
    const COUNTED: [bool; CLASSES] = [false, true, true, true, false];

    /// Log probabilities of columns given as probabilities (each row sums to 1).
    fn table(rows: &[[f64; CLASSES]]) -> Vec<f64> {
        rows.iter().flatten().map(|p| p.ln()).collect()
    }

    /// Every path of `t` columns, by brute force: the best whose labelling counts within
    /// `counts`, and its log probability.
    fn brute_force(lp: &[f64], counts: RangeInclusive<usize>) -> Option<(Vec<u8>, f64)> {
        let t = lp.len() / CLASSES;
        let mut best: Option<(Vec<u8>, f64)> = None;
        for code in 0..CLASSES.pow(t as u32) {
            let path: Vec<usize> = (0..t)
                .map(|col| code / CLASSES.pow(col as u32) % CLASSES)
                .collect();
            let d = decoded_path(&path, lp, CLASSES, 0.0);
            let n = d.labels.iter().filter(|&&l| COUNTED[l as usize]).count();
            let score: f64 = path
                .iter()
                .enumerate()
                .map(|(col, &c)| lp[col * CLASSES + c])
                .sum();
            if counts.contains(&n) && best.as_ref().is_none_or(|b| score > b.1) {
                best = Some((d.labels, score));
            }
        }
        best
    }

    #[test]
    fn a_slash_becomes_the_one_a_count_asks_for() {
        // "2", "/" (or a 1 after it), "3": greedy reads 2/3.
        let lp = table(&[
            [0.05, 0.02, 0.9, 0.02, 0.01],
            [0.1, 0.3, 0.05, 0.05, 0.5],
            [0.05, 0.02, 0.02, 0.9, 0.01],
        ]);
        let logits: Vec<f32> = lp.iter().map(|&v| v as f32).collect();
        assert_eq!(greedy_decode(&logits, CLASSES).labels, vec![2, 4, 3]);
        let two = best_path_counted(&lp, CLASSES, 2..=2, &COUNTED).unwrap();
        assert_eq!(two.labels, vec![2, 4, 3]);
        let three = best_path_counted(&lp, CLASSES, 3..=3, &COUNTED).unwrap();
        assert_eq!(three.labels, vec![2, 1, 3]);
        assert!((three.log_prob - (0.9f64 * 0.3 * 0.9).ln()).abs() < 1e-9);
        let one = &three.chars[1];
        assert_eq!((one.first_column, one.last_column), (1, 1));
        assert!((one.prob - 0.3).abs() < 1e-6);
    }

    #[test]
    fn repeats_need_a_blank_between_and_too_few_columns_read_nothing() {
        // Three columns sure of "1": best path "1" (merged); "11" needs 1, blank, 1.
        let lp = table(&[[0.1, 0.85, 0.02, 0.02, 0.01]; 3]);
        let one = best_path_counted(&lp, CLASSES, 1..=1, &COUNTED).unwrap();
        assert_eq!(one.labels, vec![1]);
        assert_eq!(
            (one.chars[0].first_column, one.chars[0].last_column),
            (0, 2)
        );
        let two = best_path_counted(&lp, CLASSES, 2..=2, &COUNTED).unwrap();
        assert_eq!(two.labels, vec![1, 1]);
        assert!(best_path_counted(&lp, CLASSES, 4..=4, &COUNTED).is_none());
        #[allow(clippy::reversed_empty_ranges)] // an empty range, on purpose
        let empty = 3..=2;
        assert!(best_path_counted(&lp, CLASSES, empty, &COUNTED).is_none());
        assert!(best_path_counted(&[], CLASSES, 0..=1, &COUNTED).is_none());
    }

    #[test]
    fn the_best_counted_path_is_the_brute_forces() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for trial in 0..200 {
            let t = 1 + trial % 6;
            let logits: Vec<f32> = (0..t * CLASSES)
                .map(|_| rng.gen_range(-3.0f32..3.0))
                .collect();
            let lp = column_log_probs(&logits, CLASSES);
            let lo = rng.gen_range(0..4);
            let counts = lo..=lo + rng.gen_range(0..3);
            let got = best_path_counted(&lp, CLASSES, counts.clone(), &COUNTED);
            let want = brute_force(&lp, counts.clone());
            match (got, want) {
                (None, None) => {}
                (Some(g), Some((labels, score))) => {
                    assert!((g.log_prob - score).abs() < 1e-9, "trial {trial}");
                    let n = g.labels.iter().filter(|&&l| COUNTED[l as usize]).count();
                    assert!(counts.contains(&n), "trial {trial}: {:?}", g.labels);
                    // (Random scores: no two paths tie.)
                    assert_eq!(g.labels, labels, "trial {trial}");
                }
                (g, w) => panic!("trial {trial}: {g:?} against {w:?}"),
            }
        }
    }
}
