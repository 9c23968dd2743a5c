//! Softmax, sparse categorical cross-entropy from logits (fused, stable), argmax.

/// Softmax of one row in place, stable for large logits (max subtracted first).
pub fn softmax_in_place(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}

/// Softmax of one row.
pub fn softmax(z: &[f32]) -> Vec<f32> {
    let mut p = z.to_vec();
    softmax_in_place(&mut p);
    p
}

/// Index of the largest value (the first one on ties).
pub fn argmax(z: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = i;
        }
    }
    best
}

/// Sum over the n rows of -log softmax(logits)[label], computed as logsumexp(z) - z[label].
/// When `dlogits` is given it receives (softmax - onehot) * `grad_scale` (1/batch for a mean loss).
pub fn softmax_cross_entropy(
    logits: &[f32],
    labels: &[u8],
    classes: usize,
    dlogits: Option<(&mut [f32], f32)>,
) -> f64 {
    let n = labels.len();
    let mut total = 0.0f64;
    match dlogits {
        Some((d, scale)) => {
            for r in 0..n {
                let z = &logits[r * classes..(r + 1) * classes];
                let g = &mut d[r * classes..(r + 1) * classes];
                let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0.0f32;
                for (gv, &zv) in g.iter_mut().zip(z) {
                    *gv = (zv - max).exp();
                    sum += *gv;
                }
                let y = labels[r] as usize;
                total += (sum.ln() + (max - z[y])) as f64;
                let inv = scale / sum;
                for gv in g.iter_mut() {
                    *gv *= inv;
                }
                g[y] -= scale;
            }
        }
        None => {
            for r in 0..n {
                let z = &logits[r * classes..(r + 1) * classes];
                let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f32 = z.iter().map(|&v| (v - max).exp()).sum();
                total += (sum.ln() + (max - z[labels[r] as usize])) as f64;
            }
        }
    }
    total
}
