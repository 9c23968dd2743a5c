//! Loss and accuracy of a model over a dataset, in blocks (the model's inference buffers).

use crate::data::{Dataset, PixelScale};
use crate::nn::{argmax, softmax_cross_entropy, Sequential};

/// Mean loss and accuracy of `model` over `data`.
pub fn evaluate(model: &Sequential, data: &Dataset, scale: PixelScale) -> (f64, f64) {
    let (loss, correct) = evaluate_counts(model, data, scale, |_, _| {});
    (
        loss / data.len().max(1) as f64,
        correct as f64 / data.len().max(1) as f64,
    )
}

/// Sum of losses and number correct; `each(i, logits)` sees every image's logits.
pub fn evaluate_counts(
    model: &Sequential,
    data: &Dataset,
    scale: PixelScale,
    mut each: impl FnMut(usize, &[f32]),
) -> (f64, usize) {
    let classes = model.output_dim();
    let block = data.len().clamp(1, model.eval_block());
    let mut ws = model.inference_workspace(block);
    let mut x = vec![0.0; block * data.features()];
    let mut y = vec![0u8; block];
    let mut idx = Vec::with_capacity(block);
    let (mut loss, mut correct) = (0.0, 0);
    for start in (0..data.len()).step_by(block) {
        idx.clear();
        idx.extend(start..(start + block).min(data.len()));
        let n = idx.len();
        data.fill_batch(&idx, scale, &mut x[..n * data.features()], &mut y[..n]);
        let logits = model.forward(&x, n, &mut ws);
        loss += softmax_cross_entropy(logits, &y[..n], classes, None);
        for (r, z) in logits.chunks_exact(classes).enumerate() {
            correct += usize::from(argmax(z) == y[r] as usize);
            each(start + r, z);
        }
    }
    (loss, correct)
}
