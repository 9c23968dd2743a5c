//! Max pooling over ph x pw windows with stride (ph, pw), over NHWC batches: the pooling a line
//! reader needs to shrink height and width differently (2x1 keeps the columns, 1x2 the rows).
//! Heights and widths that do not divide drop their last rows/columns (floor), as PyTorch and
//! Keras do. 2x2 windows give what `maxpool2_forward` gives (that kernel is the fast one for
//! them).

use crate::nn::simd::dispatch;

/// The pooled size (h / ph, w / pw), or an error naming what does not fit.
pub fn pooled_size(h: usize, w: usize, ph: usize, pw: usize) -> Result<(usize, usize), String> {
    if ph == 0 || pw == 0 || ph * pw > 256 {
        return Err(format!(
            "a {ph}x{pw} pooling window (each side at least 1, at most 256 values)"
        ));
    }
    if h < ph || w < pw {
        return Err(format!(
            "a {ph}x{pw} pooling window does not fit a {h}x{w} input"
        ));
    }
    Ok((h / ph, w / pw))
}

/// y (n, h/ph, w/pw, c) = max over each ph x pw window of x (n, h, w, c); argmax (same length
/// as y) gets the window position (row-major, 0..ph*pw) of the first maximum.
#[allow(clippy::too_many_arguments)]
pub fn maxpool_forward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    (ph, pw): (usize, usize),
    x: &[f32],
    y: &mut [f32],
    argmax: &mut [u8],
) {
    let (oh, ow) = pooled_size(h, w, ph, pw).expect("pool window fits (checked by the layer)");
    assert_eq!(x.len(), n * h * w * c, "pool input length");
    assert_eq!(y.len(), n * oh * ow * c, "pool output length");
    assert_eq!(argmax.len(), y.len(), "pool argmax length");
    window_forward(h, w, c, (ph, pw), x, y, argmax);
}

/// dx (n, h, w, c) = dy routed to the argmax position of each window, zero elsewhere.
#[allow(clippy::too_many_arguments)]
pub fn maxpool_backward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    (ph, pw): (usize, usize),
    dy: &[f32],
    argmax: &[u8],
    dx: &mut [f32],
) {
    let (oh, ow) = pooled_size(h, w, ph, pw).expect("pool window fits (checked by the layer)");
    assert_eq!(dx.len(), n * h * w * c, "pool dx length");
    assert_eq!(dy.len(), n * oh * ow * c, "pool dy length");
    assert_eq!(argmax.len(), dy.len(), "pool argmax length");
    window_backward(h, w, c, (ph, pw), dy, argmax, dx);
}

dispatch! {
    /// `maxpool_forward` over whole images (n implied by the lengths). The window's first
    /// position initialises the maximum; later ones replace it only when strictly greater, so
    /// the first maximum wins ties. Channels are the inner loop (contiguous, branch-free).
    pub fn window_forward(
        h: usize,
        w: usize,
        c: usize,
        window: (usize, usize),
        x: &[f32],
        y: &mut [f32],
        argmax: &mut [u8],
    ) {
        let (ph, pw) = window;
        let (oh, ow) = (h / ph, w / pw);
        let out_rows = y.chunks_exact_mut(ow * c).zip(argmax.chunks_exact_mut(ow * c));
        for (r, (yr, ar)) in out_rows.enumerate() {
            let (img, oy) = (r / oh, r % oh);
            // Where row wy of this output row's windows starts.
            let row = |wy: usize| (img * h + oy * ph + wy) * w * c;
            for ox in 0..ow {
                let (yv, av) = (&mut yr[ox * c..][..c], &mut ar[ox * c..][..c]);
                yv.copy_from_slice(&x[row(0) + ox * pw * c..][..c]);
                av.fill(0);
                // Window position q = wy * pw + wx in row-major order, each window row's pw
                // positions contiguous (q = 0 compares with itself and changes nothing).
                for wy in 0..ph {
                    let xr = &x[row(wy) + ox * pw * c..][..pw * c];
                    for (wx, xv) in xr.chunks_exact(c).enumerate() {
                        let q = (wy * pw + wx) as u8;
                        for ((yc, ac), &v) in yv.iter_mut().zip(av.iter_mut()).zip(xv) {
                            let better = v > *yc;
                            *yc = if better { v } else { *yc };
                            *ac = if better { q } else { *ac };
                        }
                    }
                }
            }
        }
    }
}

dispatch! {
    /// `maxpool_backward` over whole images: every dx value is written once.
    pub fn window_backward(
        h: usize,
        w: usize,
        c: usize,
        window: (usize, usize),
        dy: &[f32],
        argmax: &[u8],
        dx: &mut [f32],
    ) {
        let (ph, pw) = window;
        let (oh, ow) = (h / ph, w / pw);
        // Rows and columns past the last whole window belong to none.
        dx.fill(0.0);
        for img in 0..dx.len() / (h * w * c).max(1) {
            for oy in 0..oh {
                for ox in 0..ow {
                    let o = ((img * oh + oy) * ow + ox) * c;
                    let (g, a) = (&dy[o..o + c], &argmax[o..o + c]);
                    for q in 0..ph * pw {
                        let (wy, wx) = (q / pw, q % pw);
                        let at = ((img * h + oy * ph + wy) * w + ox * pw + wx) * c;
                        let d = &mut dx[at..at + c];
                        for ch in 0..c {
                            d[ch] = if a[ch] as usize == q { g[ch] } else { 0.0 };
                        }
                    }
                }
            }
        }
    }
}
