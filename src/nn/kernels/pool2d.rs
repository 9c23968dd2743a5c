//! 2x2 max pooling, stride 2, over NHWC batches. Odd heights/widths drop the last row/column
//! (floor), as PyTorch and Keras do.
//!
//! Channels are contiguous, so each window is four channel vectors: the loops over channels
//! compare and select without branches and vectorise at every SIMD level.

use crate::nn::simd::dispatch;

/// y (n, h/2, w/2, c) = max over each 2x2 window of x (n, h, w, c); argmax (same length as y)
/// gets the window index 0..4 (row-major: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right)
/// of the first maximum.
pub fn maxpool2_forward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    x: &[f32],
    y: &mut [f32],
    argmax: &mut [u8],
) {
    assert_eq!(x.len(), n * h * w * c, "pool input length");
    assert_eq!(y.len(), n * (h / 2) * (w / 2) * c, "pool output length");
    assert_eq!(argmax.len(), y.len(), "pool argmax length");
    pool_forward(h, w, c, x, y, argmax);
}

/// dx (n, h, w, c) = dy routed to the argmax position of each window, zero elsewhere.
pub fn maxpool2_backward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    dy: &[f32],
    argmax: &[u8],
    dx: &mut [f32],
) {
    assert_eq!(dx.len(), n * h * w * c, "pool dx length");
    assert_eq!(dy.len(), n * (h / 2) * (w / 2) * c, "pool dy length");
    assert_eq!(argmax.len(), dy.len(), "pool argmax length");
    pool_backward(h, w, c, dy, argmax, dx);
}

dispatch! {
    /// `maxpool2_forward` over whole images (n implied by the lengths).
    pub fn pool_forward(h: usize, w: usize, c: usize, x: &[f32], y: &mut [f32], argmax: &mut [u8]) {
        let (ph, pw) = (h / 2, w / 2);
        let out_rows = y.chunks_exact_mut(pw * c).zip(argmax.chunks_exact_mut(pw * c));
        for (r, (yr, ar)) in out_rows.enumerate() {
            let (img, py) = (r / ph, r % ph);
            let top = &x[(img * h + 2 * py) * w * c..][..w * c];
            let bottom = &x[(img * h + 2 * py + 1) * w * c..][..w * c];
            for px in 0..pw {
                let at = 2 * px * c;
                let (q0, q1) = (&top[at..at + c], &top[at + c..at + 2 * c]);
                let (q2, q3) = (&bottom[at..at + c], &bottom[at + c..at + 2 * c]);
                let (yv, av) = (&mut yr[px * c..][..c], &mut ar[px * c..][..c]);
                for ch in 0..c {
                    // Strictly greater: the first maximum wins ties.
                    let (mut m, mut q) = (q0[ch], 0u8);
                    if q1[ch] > m {
                        (m, q) = (q1[ch], 1);
                    }
                    if q2[ch] > m {
                        (m, q) = (q2[ch], 2);
                    }
                    if q3[ch] > m {
                        (m, q) = (q3[ch], 3);
                    }
                    yv[ch] = m;
                    av[ch] = q;
                }
            }
        }
    }
}

dispatch! {
    /// `maxpool2_backward` over whole images: every dx value is written once.
    pub fn pool_backward(h: usize, w: usize, c: usize, dy: &[f32], argmax: &[u8], dx: &mut [f32]) {
        let (ph, pw) = (h / 2, w / 2);
        for (img, dxi) in dx.chunks_exact_mut(h * w * c).enumerate() {
            // An odd last row or column belongs to no window.
            dxi[2 * ph * w * c..].fill(0.0);
            for py in 0..ph {
                let (top, bottom) = dxi[2 * py * w * c..][..2 * w * c].split_at_mut(w * c);
                if w % 2 == 1 {
                    top[2 * pw * c..].fill(0.0);
                    bottom[2 * pw * c..].fill(0.0);
                }
                for px in 0..pw {
                    let o = ((img * ph + py) * pw + px) * c;
                    let (g, a) = (&dy[o..o + c], &argmax[o..o + c]);
                    let at = 2 * px * c;
                    let (q0, q1) = top[at..at + 2 * c].split_at_mut(c);
                    let (q2, q3) = bottom[at..at + 2 * c].split_at_mut(c);
                    for ch in 0..c {
                        let (v, q) = (g[ch], a[ch]);
                        q0[ch] = if q == 0 { v } else { 0.0 };
                        q1[ch] = if q == 1 { v } else { 0.0 };
                        q2[ch] = if q == 2 { v } else { 0.0 };
                        q3[ch] = if q == 3 { v } else { 0.0 };
                    }
                }
            }
        }
    }
}
