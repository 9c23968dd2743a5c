//! Buffers for one batch, allocated once: each layer's output and the gradient flowing into it.

use super::kernels::SparseRows;
use super::model::Sequential;

pub struct Workspace {
    /// Largest batch these buffers hold.
    pub capacity: usize,
    /// acts[l]: output of layer l (capacity x out_l).
    pub acts: Vec<Vec<f32>>,
    /// grads[l]: d loss / d output of layer l, turned into d loss / d pre-activation in place.
    pub grads: Vec<Vec<f32>>,
    /// The nonzero inputs of the batch, when the first layer reads its input sparsely.
    pub input: SparseRows,
    /// Room for one layer's transposed weights (backward).
    pub scratch: Vec<f32>,
}

impl Workspace {
    pub fn new(model: &Sequential, capacity: usize) -> Self {
        let acts = model
            .layers()
            .iter()
            .map(|l| vec![0.0; capacity * l.out_dim])
            .collect();
        let grads = model
            .layers()
            .iter()
            .map(|l| vec![0.0; capacity * l.out_dim])
            .collect();
        let input = if model.sparse_input() {
            SparseRows::with_capacity(capacity, model.input_dim())
        } else {
            SparseRows::default()
        };
        let scratch = vec![
            0.0;
            model
                .layers()
                .iter()
                .map(|l| l.in_dim * l.out_dim)
                .max()
                .unwrap_or(0)
        ];
        Workspace {
            capacity,
            acts,
            grads,
            input,
            scratch,
        }
    }

    /// The logits of the last forward pass (n x classes).
    pub fn logits(&self, n: usize, classes: usize) -> &[f32] {
        &self.acts.last().expect("a model has layers")[..n * classes]
    }
}
