//! 2x2 max pooling, stride 2, over NHWC batches. Odd heights/widths drop the last row/column
//! (floor), as PyTorch and Keras do.

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
    super::reference::maxpool2_forward(n, h, w, c, x, y, argmax);
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
    super::reference::maxpool2_backward(n, h, w, c, dy, argmax, dx);
}
