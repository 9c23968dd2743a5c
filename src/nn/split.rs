//! A training step whose first layer is split by input columns (pixels) across threads.
//!
//! The first layer holds nearly all the weights of these networks (784 x 25 of 20,175). Thread t
//! owns the rows `cols_t` of W1 (the weights of its pixels): it computes the part of every
//! image's first-layer sum that comes from its pixels, and later dW1 for those rows alone, so W1,
//! dW1 and their Adam state never move between cores. Only small n x out1 blocks are exchanged:
//! the partial sums, and d loss / d z1. The layers above are split by batch rows as usual.
//!
//! The three pieces, in order, with a barrier between them:
//! 1. `first_layer_part`: z_t = x[:, cols_t] W1[cols_t] for all rows;
//! 2. `loss_and_grads_above_first`: for the thread's rows, z1 = sum_t z_t + b1, the layers above,
//!    the loss and the backward pass down to dz1, with db1 and the upper layers' gradients;
//! 3. `first_layer_grad_part`: dW1[cols_t] = x[:, cols_t]^T dz1 for all rows.

use super::kernels::{sparse_matmul, sparse_matmul_tn, SparseRows};
use super::loss::softmax_cross_entropy;
use super::model::Sequential;
use super::workspace::Workspace;
use std::ops::Range;

impl Sequential {
    /// The range of the parameter buffer holding W1's rows `cols` (the weights of those inputs).
    pub fn first_layer_rows(&self, cols: Range<usize>) -> Range<usize> {
        let l = self.first_dense().expect("the first layer is Dense");
        l.w_offset + cols.start * l.out_dim..l.w_offset + cols.end * l.out_dim
    }

    /// z (rows x out1) = x * W1[cols], where x lists each row's nonzeros among the input columns
    /// `cols` (column numbers counted from `cols.start`). No bias: the parts are summed first.
    pub fn first_layer_part(&self, x: &SparseRows, cols: Range<usize>, z: &mut [f32]) {
        let o = self
            .first_dense()
            .expect("the first layer is Dense")
            .out_dim;
        let w = &self.params()[self.first_layer_rows(cols)];
        sparse_matmul(x, w, &mut z[..x.rows() * o], o);
    }

    /// The step above the first layer's weights for n = y.len() rows, given their first-layer
    /// sums as `parts` (each n x out1, added in order, then b1): the forward pass, the loss (sum
    /// over the rows, returned), and the backward pass. Writes the gradients of the mean loss
    /// over `total` rows for b1 and every layer above into `grads` (same layout as the
    /// parameters; W1's rows are left alone) and dz1 (n x out1, d loss / d first-layer sum).
    pub fn loss_and_grads_above_first(
        &self,
        parts: &[&[f32]],
        y: &[u8],
        total: usize,
        ws: &mut Workspace,
        grads: &mut [f32],
        dz1: &mut [f32],
    ) -> f64 {
        let n = y.len();
        let first = self.first_dense().expect("the first layer is Dense");
        let o = first.out_dim;
        let z1 = &mut ws.acts[0][..n * o];
        z1.copy_from_slice(&parts[0][..n * o]);
        for part in &parts[1..] {
            for (z, &p) in z1.iter_mut().zip(&part[..n * o]) {
                *z += p;
            }
        }
        first.bias_and_activation(self.params(), z1);
        self.forward_layers(&[], n, ws, 1, true);
        let last = self.layers().len() - 1;
        let classes = self.output_dim();
        let loss = softmax_cross_entropy(
            &ws.acts[last][..n * classes],
            y,
            classes,
            Some((&mut ws.grads[last][..n * classes], 1.0 / total as f32)),
        );
        // Down to d loss / d a1 (nothing to do when the first layer is the only one).
        self.backward_layers(&[], n, ws, grads, 1);
        first.dz_and_db(n, &ws.acts[0], &mut ws.grads[0], grads);
        dz1[..n * o].copy_from_slice(&ws.grads[0][..n * o]);
        loss
    }

    /// dW1's rows `cols` (`dw`, cols.len() x out1) = x^T dz1, for x as in `first_layer_part`
    /// and dz1 (rows x out1) from `loss_and_grads_above_first` for all the rows.
    pub fn first_layer_grad_part(&self, x: &SparseRows, dz1: &[f32], dw: &mut [f32]) {
        let o = self
            .first_dense()
            .expect("the first layer is Dense")
            .out_dim;
        sparse_matmul_tn(x, &dz1[..x.rows() * o], dw, o);
    }
}
