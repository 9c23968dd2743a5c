//! Buffers for one batch, allocated once: each layer's output, the gradient flowing into it and
//! its cache (pool argmax, dropout mask), and scratch. Made by `Sequential::workspace`.

use super::ctc::CtcLoss;
use super::dropout::DropoutKey;
use super::kernels::SparseRows;
use super::layer::Layer;
use std::cell::RefCell;

/// Inference workspaces kept per thread for the next forward pass of a model of the same
/// shapes: reading a picture of a number runs two small models many times, and making and
/// zeroing their buffers each time took about a tenth of it.
const SPARES_KEPT: usize = 4;
/// Only workspaces up to this many floats are kept (4 MB: a line of 800 pixels through the
/// number reader, or a few dozen digits), so that a thread holds at most 16 MB of them after
/// a large batch.
const SPARE_FLOATS: usize = 1 << 20;

thread_local! {
    static SPARES: RefCell<Vec<Workspace>> = const { RefCell::new(Vec::new()) };
}

pub struct Workspace {
    /// Largest batch these buffers hold.
    pub capacity: usize,
    /// acts[l]: output of layer l (capacity x out_l).
    pub acts: Vec<Vec<f32>>,
    /// grads[l]: d loss / d output of layer l, turned into d loss / d pre-activation in place
    /// (empty in a workspace for inference).
    pub grads: Vec<Vec<f32>>,
    /// caches[l]: what layer l keeps from forward to backward (capacity x its cache_len).
    pub caches: Vec<Vec<u8>>,
    /// The nonzero inputs of the batch, when the first layer reads its input sparsely.
    pub input: SparseRows,
    /// Room for the largest layer's scratch (a Dense layer's transposed weights, a
    /// convolution's unrolled image).
    pub scratch: Vec<f32>,
    /// What the next training pass draws its dropout masks from (set by the training step).
    pub dropout: DropoutKey,
    /// The parameter gradient of one pass over part of the rows, when a training step runs its
    /// rows through the layers in several passes (`Sequential::rows_per_pass`); else empty.
    pub pass_grads: Vec<f32>,
    /// The CTC loss's buffers and one pass's per-sequence losses, for a model with per-column
    /// output (`Sequential::ctc_loss_and_grads`); they grow on first use.
    pub ctc: CtcLoss,
    pub ctc_losses: Vec<f64>,
    /// A training step's convolution weights, packed once for all its passes; empty unless
    /// the step runs in several passes.
    pub step_weights: StepWeights,
}

/// Each Conv2d layer's W and W^T packed for its kernel (empty for other layers), filled at the
/// start of a training step that runs its rows through the layers in several passes
/// (`Sequential::rows_per_pass`: a line reader's, one line a pass), rather than packed again
/// for every pass (about 4% of a line reader's step).
#[derive(Default)]
pub struct StepWeights {
    pub w: Vec<Vec<f32>>,
    pub wt: Vec<Vec<f32>>,
    /// Whether `w` and `wt` hold the parameters of the step now running.
    pub ready: bool,
}

impl Workspace {
    /// Buffers for `layers` reading `input_dim` values per example (listed as nonzeros first
    /// when `sparse_input`); without `for_training` no gradient buffers are made.
    pub fn new(
        layers: &[Layer],
        input_dim: usize,
        sparse_input: bool,
        capacity: usize,
        for_training: bool,
    ) -> Self {
        let acts = layers
            .iter()
            .map(|l| vec![0.0; capacity * l.out_len()])
            .collect();
        let grads = layers
            .iter()
            .map(|l| {
                vec![
                    0.0;
                    if for_training {
                        capacity * l.out_len()
                    } else {
                        0
                    }
                ]
            })
            .collect();
        let caches = layers
            .iter()
            .map(|l| vec![0u8; capacity * l.cache_len()])
            .collect();
        let input = if sparse_input {
            SparseRows::with_capacity(capacity, input_dim)
        } else {
            SparseRows::default()
        };
        let scratch = scratch_len(layers, capacity);
        Workspace {
            capacity,
            acts,
            grads,
            caches,
            input,
            scratch: vec![0.0; scratch],
            dropout: DropoutKey::default(),
            pass_grads: Vec::new(),
            ctc: CtcLoss::new(),
            ctc_losses: Vec::new(),
            step_weights: StepWeights::default(),
        }
    }

    /// The logits of the last forward pass (n x classes).
    pub fn logits(&self, n: usize, classes: usize) -> &[f32] {
        &self.acts.last().expect("a model has layers")[..n * classes]
    }

    /// Runs `f` on an inference workspace for `layers` (as `new` makes it without gradients):
    /// one this thread kept from an earlier call when one fits, else a new one; kept afterwards.
    /// Its buffers hold whatever the last pass left, which a forward pass overwrites.
    pub fn with_spare<R>(
        layers: &[Layer],
        input_dim: usize,
        sparse_input: bool,
        capacity: usize,
        f: impl FnOnce(&mut Workspace) -> R,
    ) -> R {
        let new = || Workspace::new(layers, input_dim, sparse_input, capacity, false);
        if sparse_input {
            // Its list of nonzero inputs is sized by input_dim, which the check below leaves out.
            return f(&mut new());
        }
        // One that fits as it is; else one for as many layers, its buffers resized (a line
        // model reads each picture at several widths, each a model of other sizes, and zeroing
        // new buffers for each had cost 2% of reading a number).
        let kept = SPARES.with(|s| {
            let mut s = s.borrow_mut();
            let at = s
                .iter()
                .position(|w| w.fits_inference(layers, capacity))
                .or_else(|| s.iter().position(|w| w.refits_inference(layers)))?;
            Some(s.remove(at))
        });
        let mut ws = kept.map_or_else(new, |mut ws| {
            ws.refit_inference(layers, capacity);
            ws
        });
        debug_assert!(ws.fits_inference(layers, capacity));
        let out = f(&mut ws);
        if ws.floats() <= SPARE_FLOATS {
            SPARES.with(|s| {
                let mut s = s.borrow_mut();
                s.insert(0, ws);
                s.truncate(SPARES_KEPT);
            });
        }
        out
    }

    /// Floats (and bytes of caches) allocated for the activations, caches and scratch.
    fn floats(&self) -> usize {
        let acts: usize = self.acts.iter().map(Vec::capacity).sum();
        let caches: usize = self.caches.iter().map(Vec::capacity).sum();
        acts + caches + self.scratch.capacity()
    }

    /// Whether this is an inference workspace (dense input) for as many layers as `layers`,
    /// which [`Self::refit_inference`] can make theirs.
    fn refits_inference(&self, layers: &[Layer]) -> bool {
        self.acts.len() == layers.len()
            && self.grads.iter().all(Vec::is_empty)
            && self.pass_grads.is_empty()
    }

    /// Resizes the buffers to those `new` makes for inference through `layers` at `capacity`
    /// rows, keeping their allocations (what they hold is overwritten by a forward pass, which
    /// writes every output and pads its convolutions' inputs afresh).
    fn refit_inference(&mut self, layers: &[Layer], capacity: usize) {
        for ((l, a), c) in layers.iter().zip(&mut self.acts).zip(&mut self.caches) {
            a.resize(capacity * l.out_len(), 0.0);
            c.resize(capacity * l.cache_len(), 0);
        }
        self.scratch.resize(scratch_len(layers, capacity), 0.0);
        self.capacity = capacity;
    }

    /// Whether these are the buffers `new` makes for inference through `layers` (dense input).
    fn fits_inference(&self, layers: &[Layer], capacity: usize) -> bool {
        self.capacity == capacity
            && self.refits_inference(layers)
            && layers
                .iter()
                .zip(&self.acts)
                .zip(&self.caches)
                .all(|((l, a), c)| {
                    a.len() == capacity * l.out_len() && c.len() == capacity * l.cache_len()
                })
            && self.scratch.len() == scratch_len(layers, capacity)
    }
}

/// Scratch for the layer that needs the most, at `capacity` rows.
fn scratch_len(layers: &[Layer], capacity: usize) -> usize {
    layers
        .iter()
        .map(|l| l.scratch_len(capacity))
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Init, ModelSpec, Sequential};

    fn spares() -> usize {
        SPARES.with(|s| s.borrow().len())
    }

    #[test]
    fn small_workspaces_are_kept_for_the_next_call_and_large_ones_are_not() {
        let model = Sequential::new(ModelSpec::mnist_convnet(784, 10), Init::KaimingUniform, 1);
        let layers = model.layers();
        let first = Workspace::with_spare(layers, 784, false, 1, |ws| ws.acts[0].as_ptr());
        let again = Workspace::with_spare(layers, 784, false, 1, |ws| ws.acts[0].as_ptr());
        assert_eq!(first, again, "the same buffers");
        assert_eq!(spares(), 1);
        // Another capacity for the same layers: the spare, refitted (and refitted back, in
        // the buffers it had grown to).
        let two = Workspace::with_spare(layers, 784, false, 2, |ws| {
            assert!(ws.fits_inference(layers, 2));
            ws.acts[0].as_ptr()
        });
        assert_eq!(spares(), 1);
        let one = Workspace::with_spare(layers, 784, false, 1, |ws| {
            assert!(ws.fits_inference(layers, 1));
            ws.acts[0].as_ptr()
        });
        assert_eq!(one, two, "shrunk in place");
        // Fewer layers: another workspace; both are kept.
        Workspace::with_spare(&layers[..3], 784, false, 1, |ws| {
            assert_eq!(ws.acts.len(), 3)
        });
        assert_eq!(spares(), 2);
        // 256 images of this model are over SPARE_FLOATS: the spare grown to them is used,
        // then dropped.
        Workspace::with_spare(layers, 784, false, 256, |ws| {
            assert!(ws.floats() > SPARE_FLOATS);
        });
        assert_eq!(spares(), 1);
        // No more than SPARES_KEPT are kept, the latest first.
        for count in 1..layers.len() {
            Workspace::with_spare(&layers[..count], 784, false, 1, |_| ());
        }
        assert!(layers.len() - 1 > SPARES_KEPT);
        assert_eq!(spares(), SPARES_KEPT);
        let latest = SPARES.with(|s| s.borrow()[0].acts.len());
        assert_eq!(latest, layers.len() - 1);
    }
}
