//! The CTC training pass of a model with per-column output (a sequence reader): forward, the
//! CTC loss over its (n, columns, classes) logits, backward. See `ctc` for the loss itself.

use super::ctc::{CtcBatch, Reduction};
use super::model::Sequential;
use super::workspace::Workspace;

/// The labels of a batch of sequences: all concatenated in `labels` (each in 1..classes; 0 is
/// the blank), with each sequence's length in `lengths`.
#[derive(Clone, Copy, Debug)]
pub struct SequenceLabels<'a> {
    pub labels: &'a [u8],
    pub lengths: &'a [usize],
}

impl SequenceLabels<'_> {
    /// Where the labels of rows `rows` lie in `labels`.
    fn span(&self, rows: &std::ops::Range<usize>) -> std::ops::Range<usize> {
        let start: usize = self.lengths[..rows.start].iter().sum();
        let len: usize = self.lengths[rows.clone()].iter().sum();
        start..start + len
    }
}

impl Sequential {
    /// The same model for inputs `width` wide, sharing this one's parameters (copied only if
    /// either changes them): convolutions and pools keep their input's size, but their
    /// parameters do not depend on it, so a line reader runs on a batch of any one width. An
    /// error when the model has no input shape, or when its parameters would change (a Dense
    /// layer after Flatten) or the width is too small.
    pub fn with_input_width(&self, width: usize) -> Result<Sequential, String> {
        let mut spec = self.spec().clone();
        let shape = spec
            .input_shape
            .as_mut()
            .ok_or("the model has no input shape (h, w, c) to change the width of")?;
        shape.w = width;
        spec.input_dim = shape.h * width * shape.c;
        let mut model = Sequential::zeros(spec).map_err(|e| format!("at width {width}: {e}"))?;
        if model.params().len() != self.params().len() {
            return Err(format!(
                "at width {width} the model has {} parameters instead of {}: its parameters depend on the width",
                model.params().len(),
                self.params().len()
            ));
        }
        model.share_parameters_of(self);
        Ok(model)
    }

    /// Checks that `labels` fit this model: per-column output, one length per row of the n
    /// rows, lengths that add up, labels within 1..classes.
    pub fn check_sequence_labels(&self, n: usize, labels: &SequenceLabels) -> Result<(), String> {
        let (_, classes) = self.sequence_output().ok_or(
            "the model ends in one vector of logits, not one row per column: CTC needs a per-column output",
        )?;
        if labels.lengths.len() != n {
            return Err(format!(
                "{} label lengths for {n} sequences",
                labels.lengths.len()
            ));
        }
        let total: usize = labels.lengths.iter().sum();
        if total != labels.labels.len() {
            return Err(format!(
                "the label lengths add up to {total} but {} labels are given",
                labels.labels.len()
            ));
        }
        if let Some(&bad) = labels
            .labels
            .iter()
            .find(|&&l| l == 0 || l as usize >= classes)
        {
            return Err(format!(
                "label {bad} is out of range: labels are 1..{} (0 is the blank)",
                classes - 1
            ));
        }
        Ok(())
    }

    /// The CTC training pass over the n = `labels.lengths.len()` rows of x (a share of a batch
    /// of `total` sequences): returns the sum over these rows of each row's loss divided by its
    /// label length (the convention of `loss_and_grads`: summed here, the gradient that of the
    /// batch mean), and writes the parameter gradients of the batch's mean loss (PyTorch's
    /// `ctc_loss` with `reduction='mean'`) into `grads`. A sequence too short for its label
    /// counts as loss 0 with no gradient (`zero_infinity`).
    pub fn ctc_loss_and_grads(
        &self,
        x: &[f32],
        labels: &SequenceLabels,
        total: usize,
        ws: &mut Workspace,
        grads: &mut [f32],
    ) -> Result<f64, String> {
        let n = labels.lengths.len();
        self.check_sequence_labels(n, labels)?;
        let (t, classes) = self.sequence_output().expect("checked above");
        let mut ctc = std::mem::take(&mut ws.ctc);
        let mut losses = std::mem::take(&mut ws.ctc_losses);
        let result = self.loss_and_grads_with(x, n, ws, grads, |logits, dlogits, rows| {
            losses.resize(rows.len(), 0.0);
            let batch = CtcBatch {
                logits,
                n: rows.len(),
                t,
                classes,
                input_lengths: None,
                targets: &labels.labels[labels.span(&rows)],
                target_lengths: &labels.lengths[rows],
            };
            let summary =
                ctc.compute(&batch, Reduction::MeanOf(total), &mut losses, Some(dlogits))?;
            Ok(summary.loss * total as f64)
        });
        ws.ctc = ctc;
        ws.ctc_losses = losses;
        result
    }
}
