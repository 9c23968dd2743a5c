//! MaxPool2d: ph x pw windows (2x2 by default), stride (ph, pw), over NHWC images; the position
//! of each window's maximum is kept for the backward pass. 2x2 windows run the dedicated kernel
//! (the CNN's fast path); other windows the general one.

use super::kernels::{maxpool2_backward, maxpool2_forward, maxpool_backward, maxpool_forward};
use super::Activation;

#[derive(Clone, Debug, PartialEq)]
pub struct MaxPool2d {
    pub name: String,
    /// Input height, width and channels (the output is (h / ph, w / pw, c)).
    pub h: usize,
    pub w: usize,
    pub c: usize,
    /// Window height and width (also the strides).
    pub ph: usize,
    pub pw: usize,
    /// Applies the ReLU of the convolution below to the pooled output (see
    /// `layer::defer_relu_past_pools`).
    pub relu: bool,
}

impl MaxPool2d {
    /// Output height and width.
    pub fn out_hw(&self) -> (usize, usize) {
        (self.h / self.ph, self.w / self.pw)
    }

    fn is_2x2(&self) -> bool {
        (self.ph, self.pw) == (2, 2)
    }

    /// y (n, h/ph, w/pw, c) = each window's maximum; argmax its position in the window.
    pub fn forward(&self, x: &[f32], n: usize, y: &mut [f32], argmax: &mut [u8]) {
        if self.is_2x2() {
            maxpool2_forward(n, self.h, self.w, self.c, x, y, argmax);
        } else {
            let window = (self.ph, self.pw);
            maxpool_forward(n, self.h, self.w, self.c, window, x, y, argmax);
        }
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
        if self.is_2x2() {
            maxpool2_backward(n, self.h, self.w, self.c, dy, argmax, dx);
        } else {
            let window = (self.ph, self.pw);
            maxpool_backward(n, self.h, self.w, self.c, window, dy, argmax, dx);
        }
    }
}
