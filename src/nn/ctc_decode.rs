//! Reading a CTC output: greedy (best path) and prefix beam search decoding, the exact
//! probability of a labelling, and the best alignment of a labelling to the columns (which
//! columns each character came from, for its box and its probability).
//!
//! Every function takes one sequence's logits, t x classes row-major, blank at class 0 (see
//! `ctc.rs`); the softmax is applied here. Log probabilities of columns given as ln(p) are
//! unchanged by it, so a table of probabilities can be passed as their logarithms.

use std::collections::HashMap;

use super::ctc::{
    can_skip, extend_label, forward, log_add, log_softmax_columns, min_columns, BLANK,
};

/// One character of a decoded sequence and where it was read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecodedChar {
    /// The class (1..classes).
    pub label: u8,
    /// The columns that emitted it, first..=last (consecutive, at least one).
    pub first_column: usize,
    pub last_column: usize,
    /// Its largest softmax probability over those columns.
    pub prob: f32,
}

/// A decoded sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// The labels read (blanks and repeats removed); empty when nothing was read.
    pub labels: Vec<u8>,
    /// Greedy: the log probability of the best path. Beam search: its estimate of
    /// log p(labels), the sum over the alignments its beam kept (at most the exact value of
    /// [`labelling_log_prob`]).
    pub log_prob: f64,
    /// Each label with its columns, in order.
    pub chars: Vec<DecodedChar>,
}

/// Best path decoding: the most likely class of each column, repeats merged, blanks dropped.
pub fn greedy_decode(logits: &[f32], classes: usize) -> Decoded {
    let mut out = Decoded {
        labels: Vec::new(),
        log_prob: 0.0,
        chars: Vec::new(),
    };
    let mut prev = BLANK;
    for (col, z) in logits.chunks_exact(classes).enumerate() {
        let (best, log_p) = best_class(z);
        out.log_prob += log_p;
        push_column(&mut out, prev, col, best, log_p.exp() as f32);
        prev = best;
    }
    out
}

/// Column `col` of a path, of class `class` (probability `prob`) after one of class `prev`,
/// added to `out`: a repeat extends the last character, a blank adds nothing, another class
/// starts a character.
pub(super) fn push_column(out: &mut Decoded, prev: usize, col: usize, class: usize, prob: f32) {
    if class != BLANK && class == prev {
        let last = out.chars.last_mut().expect("a repeat follows a character");
        last.last_column = col;
        last.prob = last.prob.max(prob);
    } else if class != BLANK {
        out.labels.push(class as u8);
        out.chars.push(DecodedChar {
            label: class as u8,
            first_column: col,
            last_column: col,
            prob,
        });
    }
}

/// The most likely class of one column (the first on ties) and its log softmax probability.
fn best_class(z: &[f32]) -> (usize, f64) {
    let best = super::argmax(z);
    let max = z[best] as f64;
    let sum: f64 = z.iter().map(|&v| (v as f64 - max).exp()).sum();
    (best, -sum.ln())
}

/// The exact log p(labels | logits): the sum over every alignment (the CTC forward pass);
/// -inf when the labels need more columns than there are.
pub fn labelling_log_prob(logits: &[f32], classes: usize, labels: &[u8]) -> f64 {
    labelling_log_prob_of(&column_log_probs(logits, classes), classes, labels)
}

/// The log softmax of each column of `logits` (columns x classes): what
/// [`labelling_log_prob_of`] reads, made once where one output weighs several labellings.
pub fn column_log_probs(logits: &[f32], classes: usize) -> Vec<f64> {
    let mut log_probs = Vec::with_capacity(logits.len());
    log_softmax_columns(logits, classes, &mut log_probs);
    log_probs
}

/// [`labelling_log_prob`] of the columns' log probabilities ([`column_log_probs`]).
pub fn labelling_log_prob_of(log_probs: &[f64], classes: usize, labels: &[u8]) -> f64 {
    let t = log_probs.len() / classes;
    if t == 0 || t < min_columns(labels) {
        return f64::NEG_INFINITY;
    }
    forward(log_probs, classes, &extend(labels), &mut Vec::new())
}

/// The most likely alignment of `labels` to the columns (Viterbi over the CTC states): each
/// label's columns and peak probability, and the alignment's log probability. `None` when the
/// labels need more columns than there are.
pub fn best_alignment(
    logits: &[f32],
    classes: usize,
    labels: &[u8],
) -> Option<(Vec<DecodedChar>, f64)> {
    let t = logits.len() / classes;
    if t == 0 || t < min_columns(labels) {
        return None;
    }
    let mut log_probs = Vec::new();
    log_softmax_columns(logits, classes, &mut log_probs);
    let ext = extend(labels);
    let states = ext.len();
    let mut score = vec![f64::NEG_INFINITY; t * states];
    // step[col * states + s]: how many states back (0, 1 or 2) the best path came from.
    let mut step = vec![0u8; t * states];
    score[0] = log_probs[BLANK];
    if states > 1 {
        score[1] = log_probs[ext[1] as usize];
    }
    for col in 1..t {
        let (prev, cur) = score[(col - 1) * states..(col + 1) * states].split_at_mut(states);
        let lp = &log_probs[col * classes..(col + 1) * classes];
        for s in 0..states {
            let (mut best, mut back) = (prev[s], 0u8);
            if s >= 1 && prev[s - 1] > best {
                (best, back) = (prev[s - 1], 1);
            }
            if can_skip(&ext, s) && prev[s - 2] > best {
                (best, back) = (prev[s - 2], 2);
            }
            cur[s] = best + lp[ext[s] as usize];
            step[col * states + s] = back;
        }
    }
    let last = &score[(t - 1) * states..];
    let mut s = states - 1;
    if states > 1 && last[states - 2] > last[states - 1] {
        s = states - 2;
    }
    let log_prob = last[s];
    // Walk back, filling each label's columns (state 2i + 1 is label i).
    let mut chars: Vec<DecodedChar> = labels
        .iter()
        .map(|&label| DecodedChar {
            label,
            first_column: usize::MAX,
            last_column: 0,
            prob: 0.0,
        })
        .collect();
    for col in (0..t).rev() {
        if s % 2 == 1 {
            let c = &mut chars[s / 2];
            c.first_column = col;
            c.last_column = c.last_column.max(col);
            let p = log_probs[col * classes + ext[s] as usize].exp() as f32;
            c.prob = c.prob.max(p);
        }
        s -= step[col * states + s] as usize;
    }
    Some((chars, log_prob))
}

/// A prefix in the beam search: log p of its alignments so far that end in a blank (`pb`) and
/// in its last label (`pnb`), and their sum.
#[derive(Clone, Copy, Debug)]
struct Prefix {
    /// Its node in the prefix tree (see `beam_decode`), or `NEW` for an extension not yet kept.
    node: u32,
    /// For an extension: the node it extends and its label.
    parent: u32,
    label: u8,
    pb: f64,
    pnb: f64,
    total: f64,
}

const NEW: u32 = u32::MAX;

/// Prefix beam search (Graves 2012; Hannun et al. 2014, without a language model): keeps the
/// `beam_width` most likely label prefixes, each with the probability of its alignments that
/// end in a blank and in a character, so that "11" (1, blank, 1) and "1" (1, 1) stay apart.
/// The characters' columns come from [`best_alignment`] of the labelling found.
pub fn beam_decode(logits: &[f32], classes: usize, beam_width: usize) -> Decoded {
    let beam_width = beam_width.max(1);
    let neg = f64::NEG_INFINITY;
    let mut log_probs = Vec::new();
    log_softmax_columns(logits, classes, &mut log_probs);
    // The kept prefixes as a tree: node 0 is the empty prefix, node i is (parent, label).
    let mut nodes: Vec<(u32, u8)> = vec![(0, 0)];
    let mut children: HashMap<(u32, u8), u32> = HashMap::new();
    // Before the first column the empty prefix has probability 1.
    let root = Prefix {
        node: 0,
        parent: 0,
        label: 0,
        pb: 0.0,
        pnb: neg,
        total: 0.0,
    };
    let mut beam = vec![root];
    let mut next: Vec<Prefix> = Vec::new();
    // extended_by[i * classes + c]: the beam entry that is entry i extended by c, if any.
    let mut extended_by: Vec<u32> = Vec::new();
    for lp in log_probs.chunks_exact(classes) {
        extended_by.clear();
        extended_by.resize(beam.len() * classes, NEW);
        for (j, e) in beam.iter().enumerate() {
            if e.node != 0 {
                let (parent, label) = nodes[e.node as usize];
                if let Some(i) = beam.iter().position(|p| p.node == parent) {
                    extended_by[i * classes + label as usize] = j as u32;
                }
            }
        }
        // Entry i of `next` continues entry i of the beam (a blank, or its last label again).
        next.clear();
        for e in &beam {
            let last = nodes[e.node as usize].1 as usize;
            let pnb = if e.node != 0 { e.pnb + lp[last] } else { neg };
            next.push(Prefix {
                pb: e.total + lp[BLANK],
                pnb,
                ..*e
            });
        }
        // Two passes over the extensions: first those that are already in the beam, then the new
        // ones, of which only those above the worst entry kept so far can make the beam (exact:
        // the continuing entries alone fill it).
        for new in [false, true] {
            let threshold = if new && next.len() >= beam_width {
                next.iter().map(|p| p.total).fold(f64::INFINITY, f64::min)
            } else {
                neg
            };
            for (i, e) in beam.iter().enumerate() {
                let last = nodes[e.node as usize].1 as usize;
                for (c, &l) in lp.iter().enumerate().skip(1) {
                    // A repeated label needs a blank between (from pb only).
                    let from = if e.node != 0 && c == last {
                        e.pb
                    } else {
                        e.total
                    };
                    let pnb = from + l;
                    match extended_by[i * classes + c] {
                        NEW if new && pnb > threshold => next.push(Prefix {
                            node: NEW,
                            parent: e.node,
                            label: c as u8,
                            pb: neg,
                            pnb,
                            total: pnb,
                        }),
                        NEW => {}
                        j if !new => {
                            let p = &mut next[j as usize];
                            p.pnb = log_add(p.pnb, pnb);
                        }
                        _ => {}
                    }
                }
            }
            if !new {
                for p in next.iter_mut() {
                    p.total = log_add(p.pb, p.pnb);
                }
            }
        }
        // Keep the best; ties go to the earlier candidate, so that the result is repeatable.
        let mut order: Vec<usize> = (0..next.len()).collect();
        let by_total =
            |&a: &usize, &b: &usize| next[b].total.total_cmp(&next[a].total).then(a.cmp(&b));
        if order.len() > beam_width {
            order.select_nth_unstable_by(beam_width - 1, by_total);
            order.truncate(beam_width);
        }
        order.sort_by(by_total);
        beam.clear();
        for &k in &order {
            let mut p = next[k];
            if p.node == NEW {
                // One node per prefix, even one that left the beam and came back, so that the
                // parent lookup above finds it.
                p.node = *children.entry((p.parent, p.label)).or_insert_with(|| {
                    nodes.push((p.parent, p.label));
                    (nodes.len() - 1) as u32
                });
            }
            beam.push(p);
        }
    }
    let best = beam[0];
    let mut labels = Vec::new();
    let mut n = best.node;
    while n != 0 {
        labels.push(nodes[n as usize].1);
        n = nodes[n as usize].0;
    }
    labels.reverse();
    let chars = best_alignment(logits, classes, &labels)
        .map(|(c, _)| c)
        .unwrap_or_default();
    Decoded {
        labels,
        log_prob: best.total,
        chars,
    }
}

fn extend(labels: &[u8]) -> Vec<u8> {
    let mut ext = Vec::new();
    extend_label(labels, &mut ext);
    ext
}
