//! A Conv2d layer: where its weights (k, k, cin, cout) and bias (cout,) live in the flat buffer,
//! and its forward and backward passes over a batch of NHWC images (kernels in
//! `kernels::conv`), with the activation fused after the convolution as Dense fuses it.

use super::kernels::{
    conv2d_backward, conv2d_backward_packed, conv2d_forward, conv2d_forward_packed, ConvShape,
};
use super::Activation;

#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    pub name: String,
    /// Input height, width and channels.
    pub h: usize,
    pub w: usize,
    pub cin: usize,
    /// Kernel side (odd) and zero padding on each side (0 valid, k / 2 same).
    pub k: usize,
    pub pad: usize,
    pub cout: usize,
    pub activation: Activation,
    /// The ReLU is applied by the MaxPool2d above instead (see `layer::defer_relu_past_pools`):
    /// this layer's output is then the pre-activation, and its dy already d loss / d z.
    pub relu_after_pool: bool,
    /// Offset of the weights (k, k, cin, cout), row-major, in the parameter buffer.
    pub w_offset: usize,
    /// Offset of the bias (cout); directly after the weights.
    pub b_offset: usize,
}

impl Conv2d {
    /// The kernels' description of a batch of n images.
    pub fn shape(&self, n: usize) -> ConvShape {
        ConvShape {
            n,
            h: self.h,
            w: self.w,
            cin: self.cin,
            k: self.k,
            pad: self.pad,
            cout: self.cout,
        }
    }

    pub fn weight_len(&self) -> usize {
        self.k * self.k * self.cin * self.cout
    }

    pub fn param_count(&self) -> usize {
        self.weight_len() + self.cout
    }

    /// Fan-in and fan-out as PyTorch and Keras count them for initialisation.
    pub fn fans(&self) -> (usize, usize) {
        (self.k * self.k * self.cin, self.k * self.k * self.cout)
    }

    pub fn w<'a>(&self, params: &'a [f32]) -> &'a [f32] {
        &params[self.w_offset..self.w_offset + self.weight_len()]
    }

    pub fn b<'a>(&self, params: &'a [f32]) -> &'a [f32] {
        &params[self.b_offset..self.b_offset + self.cout]
    }

    /// y (n, oh, ow, cout) = f(conv(x (n, h, w, cin)) + b) (without f when `relu_after_pool`);
    /// `packed`: the weights already packed (`kernels::pack_weights`), else packed here.
    pub fn forward(
        &self,
        params: &[f32],
        packed: Option<&[f32]>,
        x: &[f32],
        n: usize,
        y: &mut [f32],
        scratch: &mut [f32],
    ) {
        let s = self.shape(n);
        let scratch = &mut scratch[..s.scratch_len()];
        match packed {
            Some(p) => conv2d_forward_packed(&s, x, p, self.b(params), y, scratch),
            None => conv2d_forward(&s, x, self.w(params), self.b(params), y, scratch),
        }
        if !self.relu_after_pool {
            self.activation.apply(y);
        }
    }

    /// dy (the output's gradient) becomes dz in place; writes dW and db into `grads` and, when
    /// given, dx (n, h, w, cin). `packed_t`: W^T already packed
    /// (`kernels::pack_weights_transposed_into`), else packed here.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        params: &[f32],
        packed_t: Option<&[f32]>,
        x: &[f32],
        n: usize,
        y: &[f32],
        dy: &mut [f32],
        grads: &mut [f32],
        dx: Option<&mut [f32]>,
        scratch: &mut [f32],
    ) {
        let s = self.shape(n);
        if !self.relu_after_pool {
            self.activation.backward(y, dy);
        }
        let (gw, gb) =
            grads[self.w_offset..self.b_offset + self.cout].split_at_mut(self.weight_len());
        let scratch = &mut scratch[..s.scratch_len()];
        match packed_t {
            Some(p) => conv2d_backward_packed(&s, x, dy, p, gw, gb, dx, scratch),
            None => conv2d_backward(&s, x, dy, self.w(params), gw, gb, dx, scratch),
        }
    }
}
