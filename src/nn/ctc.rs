//! CTC loss (Graves, Fernández, Gomez and Schmidhuber, 2006) over per-column logits, with the
//! softmax fused as in the cross-entropy of `loss.rs`, computed in log space.
//!
//! Conventions:
//! - Class 0 is the blank ([`BLANK`]); labels are 1..classes.
//! - A batch is (n, t, classes) row-major: sequence-major, the columns of one sequence
//!   contiguous (the layout of the engine's NHWC activations; PyTorch's `ctc_loss` takes
//!   (t, n, classes) instead). Every sequence has t columns; `input_lengths` may use fewer.
//! - Labels of all sequences are concatenated in `targets`, with their lengths in
//!   `target_lengths`.
//! - [`Reduction::Mean`] is PyTorch's `mean`: each loss divided by its label length (at least
//!   1), then the mean over the batch. [`Reduction::Sum`] is the plain sum.
//! - An impossible alignment (a label that needs more columns than the sequence has: its length
//!   plus one blank between each pair of equal neighbours) has probability 0. Its loss is
//!   reported as +inf in the per-sequence losses, counted as 0 in the reduced loss and given a
//!   zero gradient, like PyTorch's `zero_infinity=True`; [`CtcSummary::impossible`] counts them
//!   so that the caller can see that it happened.
//!
//! The recursions run in f64 (the logits are f32): alpha_t(s) is the log probability of the
//! prefixes that end in state s of the blank-extended label at column t (its emission included),
//! beta_t(s) that of the suffixes after column t from state s (column t's emission excluded), so
//! that alpha_t(s) + beta_t(s) is the log probability of the alignments through (t, s). The
//! gradient with respect to the logits is softmax - occupancy, where occupancy_t(k) is the
//! posterior probability that column t emits class k.

/// The blank's class index in every column's scores.
pub const BLANK: usize = 0;

/// How the per-sequence losses are combined into the batch loss (and scaled in the gradient).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// The sum of the sequences' losses.
    Sum,
    /// PyTorch's `mean`: each loss divided by max(label length, 1), then averaged over the batch.
    Mean,
    /// `Mean` for a share of a batch of this many sequences (a thread's part of a step): each
    /// loss divided by max(label length, 1) and by the whole batch's size, so that the shares'
    /// losses and gradients add up to the batch's `Mean`.
    MeanOf(usize),
}

/// One batch for [`CtcLoss::compute`].
#[derive(Clone, Copy, Debug)]
pub struct CtcBatch<'a> {
    /// (n, t, classes) logits, row-major.
    pub logits: &'a [f32],
    pub n: usize,
    pub t: usize,
    pub classes: usize,
    /// Columns used by each sequence (1..=t); `None`: all t.
    pub input_lengths: Option<&'a [usize]>,
    /// The labels of all sequences, concatenated (each in 1..classes).
    pub targets: &'a [u8],
    /// Each sequence's label length; they sum to `targets.len()`.
    pub target_lengths: &'a [usize],
}

/// What [`CtcLoss::compute`] reports besides the per-sequence losses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CtcSummary {
    /// The reduced loss (impossible sequences counted as 0).
    pub loss: f64,
    /// How many sequences had no possible alignment.
    pub impossible: usize,
}

/// The CTC loss with its buffers, which grow to the largest sequence seen and are then reused
/// (no allocation per step). One per thread.
#[derive(Clone, Debug, Default)]
pub struct CtcLoss {
    /// log softmax of one sequence's columns (t x classes).
    log_probs: Vec<f64>,
    /// alpha and beta of one sequence (t x states).
    alpha: Vec<f64>,
    beta: Vec<f64>,
    /// The blank-extended label (states = 2 * label length + 1).
    extended: Vec<u8>,
    /// One column's gradient in f64 (classes).
    column: Vec<f64>,
}

impl CtcLoss {
    pub fn new() -> Self {
        Self::default()
    }

    /// Buffers for sequences of up to `t` columns, `classes` classes and labels of up to
    /// `max_label` characters, so that even the first step allocates nothing.
    pub fn with_capacity(t: usize, classes: usize, max_label: usize) -> Self {
        let states = 2 * max_label + 1;
        CtcLoss {
            log_probs: Vec::with_capacity(t * classes),
            alpha: Vec::with_capacity(t * states),
            beta: Vec::with_capacity(t * states),
            extended: Vec::with_capacity(states),
            column: Vec::with_capacity(classes),
        }
    }

    /// The loss of each sequence into `losses` (n; +inf where impossible) and the reduced loss.
    /// With `dlogits` (n x t x classes) it also writes d reduced loss / d logits (zero on the
    /// columns past a sequence's input length).
    pub fn compute(
        &mut self,
        batch: &CtcBatch,
        reduction: Reduction,
        losses: &mut [f64],
        mut dlogits: Option<&mut [f32]>,
    ) -> Result<CtcSummary, String> {
        validate(batch, losses.len(), dlogits.as_deref().map(|d| d.len()))?;
        let (t, c) = (batch.t, batch.classes);
        let mut start = 0;
        let mut summary = CtcSummary {
            loss: 0.0,
            impossible: 0,
        };
        for i in 0..batch.n {
            let len = batch.target_lengths[i];
            let label = &batch.targets[start..start + len];
            start += len;
            let t_i = batch.input_lengths.map_or(t, |l| l[i]);
            let weight = match reduction {
                Reduction::Sum => 1.0,
                Reduction::Mean => 1.0 / (len.max(1) * batch.n) as f64,
                Reduction::MeanOf(total) => 1.0 / (len.max(1) * total.max(1)) as f64,
            };
            let z = &batch.logits[i * t * c..][..t_i * c];
            let grad = dlogits
                .as_deref_mut()
                .map(|d| &mut d[i * t * c..(i + 1) * t * c]);
            let loss = self.sequence(z, c, label, grad, weight);
            losses[i] = loss;
            if loss == f64::INFINITY {
                summary.impossible += 1;
            } else {
                // NaN logits give a NaN loss here, for the step's finiteness check to see.
                summary.loss += weight * loss;
            }
        }
        Ok(summary)
    }

    /// -log p(label | z) for one sequence (z: t_i x classes); with `grad` (t x classes, t >= t_i)
    /// writes `weight` * d loss / d z, zero past t_i and everywhere when impossible.
    fn sequence(
        &mut self,
        z: &[f32],
        classes: usize,
        label: &[u8],
        grad: Option<&mut [f32]>,
        weight: f64,
    ) -> f64 {
        let t = z.len() / classes;
        if t < min_columns(label) {
            if let Some(g) = grad {
                g.fill(0.0);
            }
            return f64::INFINITY;
        }
        log_softmax_columns(z, classes, &mut self.log_probs);
        extend_label(label, &mut self.extended);
        let log_p = forward(&self.log_probs, classes, &self.extended, &mut self.alpha);
        let Some(g) = grad else {
            return -log_p;
        };
        backward(&self.log_probs, classes, &self.extended, &mut self.beta);
        let states = self.extended.len();
        for (col, g_col) in g.chunks_exact_mut(classes).enumerate() {
            if col >= t {
                g_col.fill(0.0);
                continue;
            }
            let lp = &self.log_probs[col * classes..(col + 1) * classes];
            // softmax, minus each state's posterior on its class, in f64 until the end.
            self.column.clear();
            self.column.extend(lp.iter().map(|l| l.exp()));
            let a = &self.alpha[col * states..(col + 1) * states];
            let b = &self.beta[col * states..(col + 1) * states];
            for s in 0..states {
                self.column[self.extended[s] as usize] -= (a[s] + b[s] - log_p).exp();
            }
            for (gv, &v) in g_col.iter_mut().zip(&self.column) {
                *gv = (weight * v) as f32;
            }
        }
        -log_p
    }
}

/// The fewest columns that can emit `label`: one per character plus a blank between equal
/// neighbours.
pub fn min_columns(label: &[u8]) -> usize {
    label.len() + label.windows(2).filter(|w| w[0] == w[1]).count()
}

/// The label with a blank before, between and after its characters, into `out`.
pub(super) fn extend_label(label: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.push(BLANK as u8);
    for &l in label {
        out.extend_from_slice(&[l, BLANK as u8]);
    }
}

/// log softmax of each column of z (t x classes) into `out`, in f64.
pub fn log_softmax_columns(z: &[f32], classes: usize, out: &mut Vec<f64>) {
    out.clear();
    for col in z.chunks_exact(classes) {
        let max = col.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        let sum: f64 = col.iter().map(|&v| (v as f64 - max).exp()).sum();
        let lse = max + sum.ln();
        out.extend(col.iter().map(|&v| v as f64 - lse));
    }
}

/// log(e^a + e^b), exact for -inf operands.
#[inline]
pub fn log_add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        hi
    } else {
        hi + (lo - hi).exp().ln_1p()
    }
}

/// Whether state s of an extended label may be reached from s - 2 (skipping the blank between
/// two different characters).
#[inline]
pub(super) fn can_skip(extended: &[u8], s: usize) -> bool {
    s >= 2 && extended[s] != BLANK as u8 && extended[s] != extended[s - 2]
}

/// alpha (t x states) over log_probs (t x classes); returns log p(label).
pub(super) fn forward(
    log_probs: &[f64],
    classes: usize,
    extended: &[u8],
    alpha: &mut Vec<f64>,
) -> f64 {
    let states = extended.len();
    let t = log_probs.len() / classes;
    alpha.clear();
    alpha.resize(t * states, f64::NEG_INFINITY);
    alpha[0] = log_probs[BLANK];
    if states > 1 {
        alpha[1] = log_probs[extended[1] as usize];
    }
    for col in 1..t {
        let (prev, cur) = alpha[(col - 1) * states..(col + 1) * states].split_at_mut(states);
        let lp = &log_probs[col * classes..(col + 1) * classes];
        for s in 0..states {
            let mut a = prev[s];
            if s >= 1 {
                a = log_add(a, prev[s - 1]);
            }
            if can_skip(extended, s) {
                a = log_add(a, prev[s - 2]);
            }
            cur[s] = a + lp[extended[s] as usize];
        }
    }
    let last = &alpha[(t - 1) * states..];
    if states > 1 {
        log_add(last[states - 1], last[states - 2])
    } else {
        last[0]
    }
}

/// beta (t x states): the log probability of emitting the rest of the label after column `col`
/// from state s (column col's emission excluded).
fn backward(log_probs: &[f64], classes: usize, extended: &[u8], beta: &mut Vec<f64>) {
    let states = extended.len();
    let t = log_probs.len() / classes;
    beta.clear();
    beta.resize(t * states, f64::NEG_INFINITY);
    let last = (t - 1) * states;
    beta[last + states - 1] = 0.0;
    if states > 1 {
        beta[last + states - 2] = 0.0;
    }
    for col in (0..t - 1).rev() {
        let (cur, next) = beta[col * states..(col + 2) * states].split_at_mut(states);
        let lp = &log_probs[(col + 1) * classes..(col + 2) * classes];
        for s in 0..states {
            let mut b = next[s] + lp[extended[s] as usize];
            if s + 1 < states {
                b = log_add(b, next[s + 1] + lp[extended[s + 1] as usize]);
            }
            if s + 2 < states && can_skip(extended, s + 2) {
                b = log_add(b, next[s + 2] + lp[extended[s + 2] as usize]);
            }
            cur[s] = b;
        }
    }
}

/// Checks the batch's sizes, lengths and labels; errors say which sequence is wrong.
fn validate(b: &CtcBatch, losses: usize, dlogits: Option<usize>) -> Result<(), String> {
    if b.classes < 2 || b.classes > 256 {
        return Err(format!(
            "CTC: {} classes (need 2..=256: the blank and at least one label)",
            b.classes
        ));
    }
    let len = b.n * b.t * b.classes;
    if b.logits.len() != len {
        return Err(format!(
            "CTC: {} logits for {} sequences x {} columns x {} classes = {len}",
            b.logits.len(),
            b.n,
            b.t,
            b.classes
        ));
    }
    if let Some(d) = dlogits.filter(|&d| d != len) {
        return Err(format!(
            "CTC: gradient buffer of {d} values for {len} logits"
        ));
    }
    if b.target_lengths.len() != b.n || losses != b.n {
        return Err(format!(
            "CTC: {} sequences but {} target lengths and room for {losses} losses",
            b.n,
            b.target_lengths.len()
        ));
    }
    let total: usize = b.target_lengths.iter().sum();
    if total != b.targets.len() {
        return Err(format!(
            "CTC: target lengths add up to {total} but there are {} targets",
            b.targets.len()
        ));
    }
    if let Some(l) = b.input_lengths {
        if l.len() != b.n {
            return Err(format!(
                "CTC: {} sequences but {} input lengths",
                b.n,
                l.len()
            ));
        }
        if let Some((i, &v)) = l.iter().enumerate().find(|(_, &v)| v == 0 || v > b.t) {
            return Err(format!(
                "CTC: sequence {i} has input length {v} (need 1..={})",
                b.t
            ));
        }
    }
    let mut start = 0;
    for (i, &n) in b.target_lengths.iter().enumerate() {
        if let Some(&bad) = b.targets[start..start + n]
            .iter()
            .find(|&&l| l as usize == BLANK || l as usize >= b.classes)
        {
            return Err(format!(
                "CTC: sequence {i} has label {bad} (labels are 1..{}; {BLANK} is the blank)",
                b.classes
            ));
        }
        start += n;
    }
    Ok(())
}
