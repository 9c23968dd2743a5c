//! MaxPool2d: 2x2 windows, stride 2, over NHWC images; the position of each window's maximum
//! is kept for the backward pass.

use super::kernels::{maxpool2_backward, maxpool2_forward};
use super::Activation;

#[derive(Clone, Debug, PartialEq)]
pub struct MaxPool2d {
    pub name: String,
    /// Input height, width and channels (the output is (h / 2, w / 2, c)).
    pub h: usize,
    pub w: usize,
    pub c: usize,
    /// Applies the ReLU of the convolution below to the pooled output (see
    /// `layer::defer_relu_past_pools`).
    pub relu: bool,
}

impl MaxPool2d {
    /// y (n, h/2, w/2, c) = each window's maximum; argmax its position 0..4 in the window.
    pub fn forward(&self, x: &[f32], n: usize, y: &mut [f32], argmax: &mut [u8]) {
        maxpool2_forward(n, self.h, self.w, self.c, x, y, argmax);
        if self.relu {
            Activation::Relu.apply(y);
        }
    }

    /// dx (n, h, w, c): dy at each window's maximum, zero elsewhere. With `relu`, dy is first
    /// masked by the output y (in place), so that dx is d loss / d the convolution's z.
    pub fn backward(&self, n: usize, y: &[f32], dy: &mut [f32], argmax: &[u8], dx: &mut [f32]) {
        if self.relu {
            Activation::Relu.backward(y, dy);
        }
        maxpool2_backward(n, self.h, self.w, self.c, dy, argmax, dx);
    }
}
