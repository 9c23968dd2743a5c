//! CTC decoding on hand-made score tables: greedy (repeats merged, blanks dropped, "11" kept
//! apart by a blank, empty output), beam search beating greedy where the most likely path is not
//! the most likely labelling, the columns each character came from, and beam search against a
//! brute-force search over every labelling on tiny random tables.

use digits::nn::ctc_decode::{
    beam_decode, best_alignment, greedy_decode, labelling_log_prob, DecodedChar,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A table of per-column probabilities as logits (ln p: the softmax gives p back).
fn table(rows: &[&[f32]]) -> (Vec<f32>, usize) {
    let classes = rows[0].len();
    let logits = rows
        .iter()
        .flat_map(|r| {
            assert_eq!(r.len(), classes);
            r.iter().map(|p| p.ln())
        })
        .collect();
    (logits, classes)
}

fn spans(chars: &[DecodedChar]) -> Vec<(u8, usize, usize)> {
    chars
        .iter()
        .map(|c| (c.label, c.first_column, c.last_column))
        .collect()
}

#[test]
fn greedy_merges_repeats_and_drops_blanks() {
    // Classes: blank, 1, 2. Best path: 1 1 - 2 2 - 1 -> "121".
    let (logits, c) = table(&[
        &[0.1, 0.8, 0.1],
        &[0.2, 0.7, 0.1],
        &[0.6, 0.2, 0.2],
        &[0.1, 0.1, 0.8],
        &[0.3, 0.1, 0.6],
        &[0.9, 0.05, 0.05],
        &[0.2, 0.5, 0.3],
    ]);
    let d = greedy_decode(&logits, c);
    assert_eq!(d.labels, vec![1, 2, 1]);
    assert_eq!(spans(&d.chars), vec![(1, 0, 1), (2, 3, 4), (1, 6, 6)]);
    let probs: Vec<f32> = d.chars.iter().map(|c| c.prob).collect();
    for (got, want) in probs.iter().zip([0.8f32, 0.8, 0.5]) {
        assert!((got - want).abs() < 1e-6, "{probs:?}");
    }
    let path: f64 = [0.8f64, 0.7, 0.6, 0.8, 0.6, 0.9, 0.5]
        .iter()
        .map(|p| p.ln())
        .sum();
    assert!((d.log_prob - path).abs() < 1e-6);
}

#[test]
fn a_blank_between_equal_characters_keeps_both() {
    // 1 - 1 is "11"; 1 1 1 is "1".
    let (logits, c) = table(&[&[0.1, 0.9], &[0.8, 0.2], &[0.3, 0.7]]);
    let d = greedy_decode(&logits, c);
    assert_eq!(d.labels, vec![1, 1]);
    assert_eq!(spans(&d.chars), vec![(1, 0, 0), (1, 2, 2)]);
    let b = beam_decode(&logits, c, 8);
    assert_eq!(b.labels, vec![1, 1]);
    assert_eq!(spans(&b.chars), vec![(1, 0, 0), (1, 2, 2)]);

    let (logits, c) = table(&[&[0.1, 0.9], &[0.3, 0.7], &[0.3, 0.7]]);
    assert_eq!(greedy_decode(&logits, c).labels, vec![1]);
    assert_eq!(beam_decode(&logits, c, 8).labels, vec![1]);
}

#[test]
fn all_blank_reads_nothing() {
    let (logits, c) = table(&[&[0.9, 0.05, 0.05], &[0.6, 0.3, 0.1], &[0.7, 0.1, 0.2]]);
    let d = greedy_decode(&logits, c);
    assert!(d.labels.is_empty() && d.chars.is_empty());
    let b = beam_decode(&logits, c, 4);
    assert!(b.labels.is_empty() && b.chars.is_empty());
    // The empty labelling's probability is the all-blank path's, its only alignment.
    let blank: f64 = [0.9f64, 0.6, 0.7].iter().map(|p| p.ln()).sum();
    assert!((b.log_prob - blank).abs() < 1e-6);
    assert!((labelling_log_prob(&logits, c, &[]) - blank).abs() < 1e-6);
    // No columns at all: nothing read either.
    assert!(greedy_decode(&[], c).labels.is_empty());
    assert!(beam_decode(&[], c, 4).labels.is_empty());
}

#[test]
fn beam_finds_the_labelling_that_the_best_path_misses() {
    // Blank 0.6 in both columns: the best path (blank, blank) reads nothing with p = 0.36, but
    // "1" has three paths (1 -, - 1, 1 1) worth 0.24 + 0.24 + 0.16 = 0.64.
    let (logits, c) = table(&[&[0.6, 0.4], &[0.6, 0.4]]);
    let g = greedy_decode(&logits, c);
    assert!(g.labels.is_empty());
    assert!((g.log_prob - 0.36f64.ln()).abs() < 1e-6);
    let b = beam_decode(&logits, c, 4);
    assert_eq!(b.labels, vec![1]);
    assert!(
        (b.log_prob - 0.64f64.ln()).abs() < 1e-6,
        "{}",
        b.log_prob.exp()
    );
    // Its character is aligned to the column where 1 and its path are likeliest (a tie of
    // 0.24 here: either single column).
    assert_eq!(b.chars.len(), 1);
    assert_eq!(b.chars[0].first_column, b.chars[0].last_column);
    // A beam of one is greedy over prefixes: here it too keeps the empty prefix first.
    assert!(beam_decode(&logits, c, 1).labels.is_empty());

    // Three classes: the best path (blank, 2, blank; 0.064) reads "2", whose paths add up to
    // 0.219, but the paths of "1" add up to 0.266875.
    let (logits, c) = table(&[&[0.4, 0.35, 0.25], &[0.25, 0.35, 0.4], &[0.4, 0.35, 0.25]]);
    let g = greedy_decode(&logits, c);
    assert_eq!(g.labels, vec![2]);
    assert!((g.log_prob - 0.064f64.ln()).abs() < 1e-6);
    assert!((labelling_log_prob(&logits, c, &[2]) - 0.219f64.ln()).abs() < 1e-6);
    let b = beam_decode(&logits, c, 10);
    assert_eq!(b.labels, vec![1]);
    assert!((b.log_prob - 0.266875f64.ln()).abs() < 1e-6);
}

#[test]
fn alignment_gives_each_character_its_columns() {
    // "31" over 8 columns: 3 in columns 1-3, 1 in columns 5-6.
    let rows: Vec<[f32; 4]> = vec![
        [0.9, 0.03, 0.03, 0.04],
        [0.1, 0.05, 0.05, 0.8],
        [0.2, 0.05, 0.05, 0.7],
        [0.3, 0.05, 0.05, 0.6],
        [0.9, 0.03, 0.03, 0.04],
        [0.1, 0.85, 0.02, 0.03],
        [0.4, 0.55, 0.02, 0.03],
        [0.9, 0.03, 0.03, 0.04],
    ];
    let refs: Vec<&[f32]> = rows.iter().map(|r| &r[..]).collect();
    let (logits, c) = table(&refs);
    let (chars, log_prob) = best_alignment(&logits, c, &[3, 1]).unwrap();
    assert_eq!(spans(&chars), vec![(3, 1, 3), (1, 5, 6)]);
    assert!((chars[0].prob - 0.8).abs() < 1e-6 && (chars[1].prob - 0.85).abs() < 1e-6);
    let g = greedy_decode(&logits, c);
    assert_eq!(g.chars, chars);
    assert!((g.log_prob - log_prob).abs() < 1e-9);
    // A labelling the columns cannot hold has no alignment.
    assert!(best_alignment(&logits, c, &[1, 1, 1, 1, 1]).is_none());
    // Forced onto another labelling, the alignment still covers each character once, in order.
    let (chars, _) = best_alignment(&logits, c, &[2, 2, 1]).unwrap();
    assert_eq!(chars.len(), 3);
    for w in chars.windows(2) {
        assert!(w[0].last_column < w[1].first_column);
    }
}

/// Every labelling's exact probability on a tiny table, best first (by brute force over the
/// labellings that fit in t columns).
fn best_labelling(logits: &[f32], classes: usize, t: usize) -> (Vec<u8>, f64) {
    let mut best = (Vec::new(), labelling_log_prob(logits, classes, &[]));
    let mut frontier: Vec<Vec<u8>> = vec![Vec::new()];
    while let Some(prefix) = frontier.pop() {
        for c in 1..classes as u8 {
            let mut l = prefix.clone();
            l.push(c);
            let lp = labelling_log_prob(logits, classes, &l);
            if lp == f64::NEG_INFINITY {
                continue;
            }
            if lp > best.1 {
                best = (l.clone(), lp);
            }
            if l.len() < t {
                frontier.push(l);
            }
        }
    }
    best
}

#[test]
fn a_wide_beam_finds_the_most_likely_labelling() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (t, c) = (5, 3);
    let mut beam_beat_greedy = 0;
    for _ in 0..60 {
        // Flat-ish columns, where paths and labellings disagree most.
        let logits: Vec<f32> = (0..t * c).map(|_| rng.gen_range(-0.7..0.7)).collect();
        let (label, lp) = best_labelling(&logits, c, t);
        // Wider than the number of prefixes of 5 columns: nothing is pruned, the search is exact.
        let b = beam_decode(&logits, c, 64);
        assert_eq!(b.labels, label, "{logits:?}");
        assert!((b.log_prob - lp).abs() < 1e-9);
        // Narrow beams estimate from below.
        let narrow = beam_decode(&logits, c, 2);
        assert!(narrow.log_prob <= labelling_log_prob(&logits, c, &narrow.labels) + 1e-12);
        if greedy_decode(&logits, c).labels != label {
            beam_beat_greedy += 1;
        }
    }
    assert!(beam_beat_greedy > 0, "no table where greedy missed");
}

/// Prefix beam search written plainly: prefixes as vectors, every extension scored, the
/// candidates sorted whole. The engine's prunes extensions that cannot make the beam.
fn reference_beam(logits: &[f32], classes: usize, width: usize) -> (Vec<u8>, f64) {
    let add = |a: f64, b: f64| {
        let m = a.max(b);
        if m == f64::NEG_INFINITY {
            m
        } else {
            m + ((a - m).exp() + (b - m).exp()).ln()
        }
    };
    let neg = f64::NEG_INFINITY;
    let mut beam: Vec<(Vec<u8>, f64, f64)> = vec![(vec![], 0.0, neg)];
    for z in logits.chunks(classes) {
        let lse = z.iter().map(|&v| (v as f64).exp()).sum::<f64>().ln();
        let lp: Vec<f64> = z.iter().map(|&v| v as f64 - lse).collect();
        let mut next: Vec<(Vec<u8>, f64, f64)> = beam
            .iter()
            .map(|(l, pb, pnb)| {
                let repeat = l.last().map_or(neg, |&c| pnb + lp[c as usize]);
                (l.clone(), add(*pb, *pnb) + lp[0], repeat)
            })
            .collect();
        for (l, pb, pnb) in &beam {
            for (c, &lpc) in lp.iter().enumerate().skip(1) {
                let from = if l.last() == Some(&(c as u8)) {
                    *pb
                } else {
                    add(*pb, *pnb)
                };
                let mut ext = l.clone();
                ext.push(c as u8);
                match next.iter_mut().find(|e| e.0 == ext) {
                    Some(e) => e.2 = add(e.2, from + lpc),
                    None => next.push((ext, neg, from + lpc)),
                }
            }
        }
        let mut order: Vec<usize> = (0..next.len()).collect();
        let total = |e: &(Vec<u8>, f64, f64)| add(e.1, e.2);
        order.sort_by(|&a, &b| total(&next[b]).total_cmp(&total(&next[a])).then(a.cmp(&b)));
        beam = order.iter().take(width).map(|&k| next[k].clone()).collect();
    }
    (beam[0].0.clone(), add(beam[0].1, beam[0].2))
}

#[test]
fn pruned_beam_search_equals_the_plain_one() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    for trial in 0..40 {
        let (t, c) = (rng.gen_range(1..16), rng.gen_range(2..7));
        let spread = if trial % 2 == 0 { 1.0 } else { 6.0 };
        let logits: Vec<f32> = (0..t * c).map(|_| rng.gen_range(-spread..spread)).collect();
        for width in [1, 2, 3, 5, 8] {
            let (labels, lp) = reference_beam(&logits, c, width);
            let b = beam_decode(&logits, c, width);
            assert_eq!(b.labels, labels, "trial {trial} width {width}");
            assert!(
                (b.log_prob - lp).abs() < 1e-9,
                "trial {trial} width {width}"
            );
        }
    }
}
