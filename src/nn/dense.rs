//! One Dense layer: where its W (in, out) and b (out,) live in the flat buffer, and its
//! forward and backward passes over a batch.

use super::kernels::{
    add_bias, matmul, matmul_tn, sparse_matmul, sparse_matmul_tn, sum_rows, transpose, SparseRows,
};
use super::Activation;

#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub name: String,
    pub in_dim: usize,
    pub out_dim: usize,
    pub activation: Activation,
    /// Offset of W (in_dim x out_dim, row-major) in the parameter buffer.
    pub w_offset: usize,
    /// Offset of b (out_dim) in the parameter buffer; directly after W.
    pub b_offset: usize,
    /// The image (h, w, c) its input was flattened from, if any: W's rows are then in that
    /// image's HWC order (PyTorch's Linear after Flatten counts them CHW).
    pub in_image: Option<(usize, usize, usize)>,
}

impl Dense {
    pub fn param_count(&self) -> usize {
        self.in_dim * self.out_dim + self.out_dim
    }

    pub fn w<'a>(&self, params: &'a [f32]) -> &'a [f32] {
        &params[self.w_offset..self.w_offset + self.in_dim * self.out_dim]
    }

    pub fn b<'a>(&self, params: &'a [f32]) -> &'a [f32] {
        &params[self.b_offset..self.b_offset + self.out_dim]
    }

    /// a (n x out) = f(x (n x in) * W + b).
    pub fn forward(&self, params: &[f32], x: &[f32], n: usize, a: &mut [f32]) {
        let a = &mut a[..n * self.out_dim];
        matmul(
            &x[..n * self.in_dim],
            self.w(params),
            a,
            self.in_dim,
            self.out_dim,
        );
        self.bias_and_activation(params, a);
    }

    /// `forward` for an input given by its nonzeros (the first layer, reading images).
    pub fn forward_sparse(&self, params: &[f32], x: &SparseRows, n: usize, a: &mut [f32]) {
        let a = &mut a[..n * self.out_dim];
        sparse_matmul(x, self.w(params), a, self.out_dim);
        self.bias_and_activation(params, a);
    }

    /// `backward` for an input given by its nonzeros; the first layer needs no dx.
    pub fn backward_sparse(
        &self,
        x: &SparseRows,
        n: usize,
        a: &[f32],
        da: &mut [f32],
        grads: &mut [f32],
    ) {
        let (i, o) = (self.in_dim, self.out_dim);
        self.dz_and_db(n, a, da, grads);
        let gw = &mut grads[self.w_offset..self.w_offset + i * o];
        sparse_matmul_tn(x, &da[..n * o], gw, o);
    }

    /// Turns da (n x out) into dz in place (through the activation) and writes db = the sum of
    /// its rows into `grads`.
    pub fn dz_and_db(&self, n: usize, a: &[f32], da: &mut [f32], grads: &mut [f32]) {
        let o = self.out_dim;
        let dz = &mut da[..n * o];
        self.activation.backward(&a[..n * o], dz);
        sum_rows(dz, &mut grads[self.b_offset..self.b_offset + o]);
    }

    /// Bias and activation on z (n x out) in place: the end of `forward`.
    pub fn bias_and_activation(&self, params: &[f32], z: &mut [f32]) {
        add_bias(z, self.b(params));
        self.activation.apply(z);
    }

    /// Given x (n x in), this layer's output a and da (n x out, turned into dz in place), writes
    /// dW and db into `grads` (same layout as the parameters) and, when `dx` is given (with a scratch
    /// buffer of in*out values), dx = dz * W^T.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        params: &[f32],
        x: &[f32],
        n: usize,
        a: &[f32],
        da: &mut [f32],
        grads: &mut [f32],
        dx: Option<(&mut [f32], &mut [f32])>,
    ) {
        let (i, o) = (self.in_dim, self.out_dim);
        let dz = &mut da[..n * o];
        self.activation.backward(&a[..n * o], dz);
        let (gw, gb) = grads[self.w_offset..self.b_offset + o].split_at_mut(i * o);
        // dW (in x out) = x^T (in x n) * dz (n x out)
        matmul_tn(&x[..n * i], dz, gw, i, o);
        sum_rows(dz, gb);
        if let Some((dx, wt)) = dx {
            // dx (n x in) = dz (n x out) * W^T: with W^T (out x in) at hand, each row of dx is a
            // sum of scaled rows of W^T, skipping the zeros ReLU leaves in dz.
            let wt = &mut wt[..o * i];
            transpose(self.w(params), i, o, wt);
            matmul(dz, wt, &mut dx[..n * i], o, i);
        }
    }
}
