//! 2-D convolution over NHWC batches, stride 1, `valid` or `same` padding.
//!
//! Layouts (row-major): x (n, h, w, cin), weights (k, k, cin, cout) as Keras stores them,
//! bias (cout), z and dz (n, oh, ow, cout). Single-threaded: callers split the batch by images.

/// The shape of one convolution call: a batch of n images h x w with cin channels, a k x k
/// kernel (odd k), `pad` zero rows/columns on each side (0 = valid, (k-1)/2 = same), cout outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub cin: usize,
    pub k: usize,
    pub pad: usize,
    pub cout: usize,
}

impl ConvShape {
    /// Output height: h + 2 pad - k + 1.
    pub fn oh(&self) -> usize {
        self.h + 2 * self.pad + 1 - self.k
    }

    /// Output width: w + 2 pad - k + 1.
    pub fn ow(&self) -> usize {
        self.w + 2 * self.pad + 1 - self.k
    }

    /// n * h * w * cin.
    pub fn in_len(&self) -> usize {
        self.n * self.h * self.w * self.cin
    }

    /// n * oh * ow * cout.
    pub fn out_len(&self) -> usize {
        self.n * self.oh() * self.ow() * self.cout
    }

    /// k * k * cin * cout.
    pub fn weight_len(&self) -> usize {
        self.k * self.k * self.cin * self.cout
    }

    /// Floats of caller-allocated scratch that `conv2d_forward` and `conv2d_backward` need.
    pub fn scratch_len(&self) -> usize {
        // One image's im2col matrix (oh*ow rows of k*k*cin) plus room for packed operands.
        self.oh() * self.ow() * self.k * self.k * self.cin + self.weight_len() + 64
    }

    pub(crate) fn check(&self, x: &[f32], w: &[f32], b: &[f32], z: &[f32]) {
        assert!(
            self.k % 2 == 1 && self.h + 2 * self.pad >= self.k && self.w + 2 * self.pad >= self.k
        );
        assert_eq!(x.len(), self.in_len(), "conv input length");
        assert_eq!(w.len(), self.weight_len(), "conv weight length");
        assert_eq!(b.len(), self.cout, "conv bias length");
        assert_eq!(z.len(), self.out_len(), "conv output length");
    }
}

/// z (n, oh, ow, cout) = conv(x) + b, no activation.
pub fn conv2d_forward(
    s: &ConvShape,
    x: &[f32],
    w: &[f32],
    b: &[f32],
    z: &mut [f32],
    scratch: &mut [f32],
) {
    s.check(x, w, b, z);
    assert!(scratch.len() >= s.scratch_len(), "conv scratch length");
    super::reference::conv2d_forward(s, x, w, b, z);
}

/// Gradients of `conv2d_forward` given dz = dL/dz: dw (k, k, cin, cout) and db (cout) are
/// overwritten with this batch's sums, dx (n, h, w, cin) is overwritten when given.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_backward(
    s: &ConvShape,
    x: &[f32],
    dz: &[f32],
    w: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    dx: Option<&mut [f32]>,
    scratch: &mut [f32],
) {
    s.check(x, w, db, dz);
    assert_eq!(dw.len(), s.weight_len(), "conv dw length");
    assert!(scratch.len() >= s.scratch_len(), "conv scratch length");
    super::reference::conv2d_backward(s, x, dz, w, dw, db, dx);
}
