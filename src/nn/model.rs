//! Sequential: a stack of layers (see `layer`) over one flat parameter buffer.

use super::ctc::CtcLoss;
use super::dense::Dense;
use super::kernels::{flush_denormals, pack_weights_into, pack_weights_transposed_into, ConvShape};
use super::layer::{build, Layer, Shape};
use super::loss::{argmax, softmax_cross_entropy, softmax_in_place};
use super::params::Params;
use super::workspace::{StepWeights, Workspace};
use super::{Init, ModelSpec};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::ops::Range;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub struct Sequential {
    spec: ModelSpec,
    layers: Vec<Layer>,
    /// With the convolutions' weights packed for reading (`params`); shared by the model's
    /// copies at other input widths (a line reader's) and its clones until one of them
    /// changes them (copied on write: `params_mut`).
    params: Arc<Params>,
}

/// Inputs from which a first Dense layer reads them sparsely (see `sparse_input`).
const SPARSE_INPUT_MIN: usize = 64;

/// Rows per thread below which predicting is not split across threads.
const PARALLEL_ROWS: usize = 2048;

/// Most rows per block when predicting or evaluating many images.
const EVAL_BLOCK: usize = 1024;

/// Bytes of outputs and gradients one training pass over a convolutional model's rows keeps
/// (see `Sequential::rows_per_pass`): about a core's L2 cache.
/// Measured on the Keras convnet (about 3 rows a pass): 10% faster than all 64 rows of a thread at
/// once, 7% faster than one row a pass.
const PASS_BYTES: usize = 1 << 20;

/// Activation floats of one block (bounds the buffers of convolutional models, whose
/// activations per image are large: 16 MB).
const EVAL_FLOATS: usize = 4 << 20;

impl Sequential {
    /// Builds the layers and initialises the weights from `seed`.
    /// Panics on an invalid spec; use [`Sequential::try_new`] for outside input.
    pub fn new(spec: ModelSpec, init: Init, seed: u64) -> Self {
        Self::try_new(spec, init, seed).unwrap_or_else(|e| panic!("invalid model: {e}"))
    }

    pub fn try_new(spec: ModelSpec, init: Init, seed: u64) -> Result<Self, String> {
        let mut model = Self::zeros(spec)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for l in &model.layers {
            init.fill(l, Arc::make_mut(&mut model.params).values_mut(), &mut rng);
        }
        Ok(model)
    }

    /// The layers with all parameters zero (to be filled, e.g. from a checkpoint).
    pub fn zeros(spec: ModelSpec) -> Result<Self, String> {
        let (layers, count) = build(&spec)?;
        Ok(Sequential {
            spec,
            layers,
            params: Arc::new(Params::new(vec![0.0; count])),
        })
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    pub fn input_dim(&self) -> usize {
        self.spec.input_dim
    }

    pub fn output_dim(&self) -> usize {
        self.layers.last().map_or(0, Layer::out_len)
    }

    /// (columns, classes) of a model whose last layer gives one row of logits per column (an
    /// image of height 1: a sequence reader's output, trained with CTC); None for a model that
    /// ends in one vector of logits.
    pub fn sequence_output(&self) -> Option<(usize, usize)> {
        match self.layers.last()?.output_shape() {
            Shape::Image { w, c, .. } => Some((w, c)),
            Shape::Flat(_) => None,
        }
    }

    /// Every parameter, layer after layer, weights then bias.
    pub fn params(&self) -> &[f32] {
        self.params.values()
    }

    /// The parameters to change (copied first if another model shares them).
    pub fn params_mut(&mut self) -> &mut [f32] {
        Arc::make_mut(&mut self.params).values_mut()
    }

    /// Takes `other`'s parameters, and its packed convolution weights, as they are, shared
    /// (not copied): for a copy of it at another input width, whose parameters are laid out
    /// the same.
    pub(crate) fn share_parameters_of(&mut self, other: &Sequential) {
        debug_assert_eq!(self.params().len(), other.params().len());
        self.params = other.params.clone();
    }

    /// Layer `i`'s weights and bias: Dense W (in, out) row-major and b (out,); Conv2d W
    /// (k, k, cin, cout) and b (cout,). Empty for layers without parameters.
    pub fn weights(&self, i: usize) -> (&[f32], &[f32]) {
        match &self.layers[i] {
            Layer::Dense(l) => (l.w(self.params()), l.b(self.params())),
            Layer::Conv2d(l) => (l.w(self.params()), l.b(self.params())),
            _ => (&[], &[]),
        }
    }

    /// Replaces layer `i`'s weights and bias (in the layouts of [`Sequential::weights`]).
    pub fn set_weights(&mut self, i: usize, w: &[f32], b: &[f32]) -> Result<(), String> {
        let l = &self.layers[i];
        let (wo, wl, bo, bl) = match l {
            Layer::Dense(d) => (d.w_offset, d.in_dim * d.out_dim, d.b_offset, d.out_dim),
            Layer::Conv2d(c) => (c.w_offset, c.weight_len(), c.b_offset, c.cout),
            _ => return Err(format!("layer {} has no weights", l.name())),
        };
        if w.len() != wl || b.len() != bl {
            return Err(format!(
                "layer {} expects {wl} weights and {bl} biases, got {} and {}",
                l.name(),
                w.len(),
                b.len()
            ));
        }
        let params = self.params_mut();
        params[wo..wo + wl].copy_from_slice(w);
        params[bo..bo + bl].copy_from_slice(b);
        Ok(())
    }

    /// Whether the first layer is Dense and reads its input as a list of nonzeros (images:
    /// mostly background). Worth it for wide inputs, where skipping the zeros saves more than
    /// listing them costs.
    pub fn sparse_input(&self) -> bool {
        self.input_dim() >= SPARSE_INPUT_MIN && self.first_dense().is_some()
    }

    /// The first layer, when it is Dense.
    pub fn first_dense(&self) -> Option<&Dense> {
        self.layers.first().and_then(Layer::as_dense)
    }

    /// Buffers to train on batches of up to `capacity` rows.
    pub fn workspace(&self, capacity: usize) -> Workspace {
        let mut ws = Workspace::new(
            &self.layers,
            self.input_dim(),
            self.sparse_input(),
            capacity,
            true,
        );
        if self.rows_per_pass() < capacity {
            ws.pass_grads = vec![0.0; self.params().len()];
            let room = |len: fn(&ConvShape) -> usize| -> Vec<Vec<f32>> {
                let of = |l: &Layer| l.as_conv2d().map_or(0, |c| len(&c.shape(1)));
                self.layers.iter().map(|l| vec![0.0; of(l)]).collect()
            };
            ws.step_weights = StepWeights {
                w: room(ConvShape::packed_len),
                wt: room(ConvShape::packed_t_len),
                ready: false,
            };
        }
        if let Some((t, classes)) = self.sequence_output() {
            // Labels longer than t columns cannot be aligned: CTC needs no more room.
            ws.ctc = CtcLoss::with_capacity(t, classes, t);
            ws.ctc_losses = Vec::with_capacity(capacity);
        }
        ws
    }

    /// Buffers to run `forward` on batches of up to `capacity` rows (no gradients).
    pub fn inference_workspace(&self, capacity: usize) -> Workspace {
        Workspace::new(
            &self.layers,
            self.input_dim(),
            self.sparse_input(),
            capacity,
            false,
        )
    }

    /// Rows per block when running many examples forward: at most 1024, fewer when the
    /// activations of one example are large.
    pub fn eval_block(&self) -> usize {
        let per_row: usize = self.layers.iter().map(Layer::out_len).sum();
        (EVAL_FLOATS / per_row.max(1)).clamp(1, EVAL_BLOCK)
    }

    /// Forward pass (inference: no dropout) of n rows of `x` into the workspace; returns the
    /// logits (n x classes).
    pub fn forward<'w>(&self, x: &[f32], n: usize, ws: &'w mut Workspace) -> &'w [f32] {
        debug_assert!(n <= ws.capacity && x.len() >= n * self.input_dim());
        let x = &x[..n * self.input_dim()];
        if self.sparse_input() {
            ws.input.fill(x, self.input_dim());
        }
        self.forward_layers(x, n, ws, 0, false)
    }

    /// The forward pass through layers `first..`, reading `ws.acts[first - 1]` (or the input;
    /// a sparse first layer reads `ws.input`). `training` applies dropout (keyed by `ws.dropout`).
    pub(crate) fn forward_layers<'w>(
        &self,
        x: &[f32],
        n: usize,
        ws: &'w mut Workspace,
        first: usize,
        training: bool,
    ) -> &'w [f32] {
        let key = training.then_some(ws.dropout);
        // Reading packs the convolutions' weights once; training, whose weights change every
        // step, once a step (`StepWeights`) or on every pass.
        let packed = if training {
            ws.step_weights.ready.then_some(&ws.step_weights.w[..])
        } else {
            Some(self.params.packed(&self.layers))
        };
        for (k, l) in self.layers.iter().enumerate().skip(first) {
            let (before, rest) = ws.acts.split_at_mut(k);
            match l {
                Layer::Dense(d) if k == 0 && self.sparse_input() => {
                    d.forward_sparse(self.params(), &ws.input, n, &mut rest[0])
                }
                _ => {
                    let input = if k == 0 { x } else { &before[k - 1][..] };
                    l.forward(
                        self.params(),
                        packed.map(|p| &p[k][..]),
                        input,
                        n,
                        &mut rest[0],
                        &mut ws.caches[k],
                        &mut ws.scratch,
                        key,
                    );
                }
            }
        }
        ws.logits(n, self.output_dim())
    }

    /// Backward pass after a training forward pass on the same x, with d loss / d logits
    /// already in `ws.grads[last]`; writes the parameter gradients into `grads` (same layout as
    /// params).
    pub fn backward(&self, x: &[f32], n: usize, ws: &mut Workspace, grads: &mut [f32]) {
        self.backward_layers(x, n, ws, grads, 0);
    }

    /// `backward` through the layers from the last down to `lowest` (the parameter gradients of
    /// each, and d loss / d input of each above the lowest layer with parameters).
    pub(crate) fn backward_layers(
        &self,
        x: &[f32],
        n: usize,
        ws: &mut Workspace,
        grads: &mut [f32],
        lowest: usize,
    ) {
        // Below the first layer with parameters no gradient is needed.
        let needs_dx_above = self
            .layers
            .iter()
            .position(|l| l.param_count() > 0)
            .unwrap_or(self.layers.len());
        for k in (lowest..self.layers.len()).rev() {
            let l = &self.layers[k];
            let (g_before, g_rest) = ws.grads.split_at_mut(k);
            match l {
                Layer::Dense(d) if k == 0 && self.sparse_input() => {
                    d.backward_sparse(&ws.input, n, &ws.acts[0], &mut g_rest[0], grads)
                }
                _ => {
                    let input = if k == 0 { x } else { &ws.acts[k - 1][..] };
                    let dx = (k > needs_dx_above).then(|| &mut g_before[k - 1][..]);
                    let packed_t = ws.step_weights.ready.then(|| &ws.step_weights.wt[k][..]);
                    l.backward(
                        self.params(),
                        packed_t,
                        input,
                        n,
                        &ws.acts[k],
                        &mut g_rest[0],
                        grads,
                        dx,
                        &ws.caches[k],
                        &mut ws.scratch,
                    );
                }
            }
            if k <= needs_dx_above && k > lowest {
                break;
            }
        }
    }

    /// Loss (sum over rows) and parameter gradients of the mean loss over `total` rows, for the
    /// n rows given here (a share of a batch of `total`); the core of a training step. Dropout
    /// masks are keyed by `ws.dropout`.
    ///
    /// A convolutional model runs its rows through the layers a few at a time
    /// ([`Sequential::rows_per_pass`]), so that each layer's output is still in the core's cache
    /// when the next layer reads it (a batch's conv outputs are megabytes); each pass's gradient
    /// is added to the total.
    pub fn loss_and_grads(
        &self,
        x: &[f32],
        y: &[u8],
        total: usize,
        ws: &mut Workspace,
        grads: &mut [f32],
    ) -> f64 {
        let classes = self.output_dim();
        let scale = 1.0 / total as f32;
        self.loss_and_grads_with(x, y.len(), ws, grads, |logits, dlogits, rows| {
            let ys = &y[rows];
            Ok(softmax_cross_entropy(
                logits,
                ys,
                classes,
                Some((dlogits, scale)),
            ))
        })
        .expect("the cross-entropy accepts any logits")
    }

    /// The training pass behind every loss: n rows of x forward (in passes of
    /// [`Sequential::rows_per_pass`] rows), `loss(logits, dlogits, rows)` gives a pass's summed
    /// loss and writes d loss / d logits, then backward, the passes' gradients added up.
    pub(super) fn loss_and_grads_with(
        &self,
        x: &[f32],
        n: usize,
        ws: &mut Workspace,
        grads: &mut [f32],
        mut loss_of: impl FnMut(&[f32], &mut [f32], Range<usize>) -> Result<f64, String>,
    ) -> Result<f64, String> {
        let d = self.input_dim();
        let x = &x[..n * d];
        if self.sparse_input() {
            ws.input.fill(x, d);
        }
        let outputs = self.output_dim();
        let last = self.layers.len() - 1;
        let per_pass = self.rows_per_pass().min(n.max(1));
        let key = ws.dropout;
        self.pack_for_step(ws, per_pass < n);
        let mut pass_grads = std::mem::take(&mut ws.pass_grads);
        let mut loss = Ok(0.0);
        for start in (0..n).step_by(per_pass) {
            let m = per_pass.min(n - start);
            let xs = &x[start * d..(start + m) * d];
            ws.dropout.row0 = key.row0 + start;
            self.forward_layers(xs, m, ws, 0, true);
            let pass = loss_of(
                &ws.acts[last][..m * outputs],
                &mut ws.grads[last][..m * outputs],
                start..start + m,
            );
            loss = loss.and_then(|l| pass.map(|p| l + p));
            if loss.is_err() {
                break;
            }
            if start == 0 {
                self.backward(xs, m, ws, grads);
            } else {
                self.backward(xs, m, ws, &mut pass_grads);
                for (g, &p) in grads.iter_mut().zip(pass_grads.iter()) {
                    *g += p;
                }
            }
        }
        ws.dropout = key;
        ws.pass_grads = pass_grads;
        ws.step_weights.ready = false;
        loss
    }

    /// Packs every convolution's W and W^T into `ws.step_weights` for the passes of the step
    /// about to run, when it runs in `several` and the workspace has room for them (a
    /// training workspace of this model: `Sequential::workspace`); else they stay unused.
    fn pack_for_step(&self, ws: &mut Workspace, several: bool) {
        let step = &mut ws.step_weights;
        step.ready = several && step.w.len() == self.layers.len();
        if !step.ready {
            return;
        }
        let packed = step.w.iter_mut().zip(step.wt.iter_mut());
        for (l, (w, wt)) in self.layers.iter().zip(packed) {
            if let Some(c) = l.as_conv2d() {
                let (s, weights) = (c.shape(1), c.w(self.params()));
                pack_weights_into(&s, weights, w);
                pack_weights_transposed_into(&s, weights, wt);
            }
        }
    }

    /// Rows that `loss_and_grads` runs through the layers at once: all of them for a model
    /// without convolutions, else as many as keep one pass's outputs and gradients within
    /// [`PASS_BYTES`] (at least 1).
    pub fn rows_per_pass(&self) -> usize {
        if !self.layers.iter().any(|l| matches!(l, Layer::Conv2d(_))) {
            return usize::MAX;
        }
        let per_row: usize = self.layers.iter().map(Layer::out_len).sum();
        let bytes = 2 * per_row * std::mem::size_of::<f32>();
        (PASS_BYTES / bytes.max(1)).max(1)
    }

    /// Logits of the n = x.len() / input_dim rows of `x`, (n x classes) row-major.
    pub fn predict(&self, x: &[f32]) -> Vec<f32> {
        let (d, classes) = (self.input_dim(), self.output_dim());
        let n = x.len() / d;
        let mut out = vec![0.0; n * classes];
        // Large batches are split across the cores (asking how many there are reads files, so
        // small ones do not ask).
        let threads = if n >= 2 * PARALLEL_ROWS {
            std::thread::available_parallelism()
                .map_or(1, |t| t.get())
                .min(n / PARALLEL_ROWS)
        } else {
            1
        };
        if threads == 1 {
            self.predict_part(&x[..n * d], &mut out);
            return out;
        }
        let share = n.div_ceil(threads);
        std::thread::scope(|scope| {
            let mut parts = x[..n * d]
                .chunks(share * d)
                .zip(out.chunks_mut(share * classes));
            let last = parts.next_back();
            for (xs, os) in parts {
                scope.spawn(move || self.predict_part(xs, os));
            }
            if let Some((xs, os)) = last {
                self.predict_part(xs, os); // the last part on this thread
            }
        });
        out
    }

    /// Logits of the rows of `xs` into `out`, in blocks of `eval_block` rows, on this thread.
    fn predict_part(&self, xs: &[f32], out: &mut [f32]) {
        flush_denormals();
        let (d, classes, block) = (self.input_dim(), self.output_dim(), self.eval_block());
        let capacity = (xs.len() / d).clamp(1, block);
        Workspace::with_spare(&self.layers, d, self.sparse_input(), capacity, |ws| {
            for (xb, ob) in xs.chunks(block * d).zip(out.chunks_mut(block * classes)) {
                ob.copy_from_slice(self.forward(xb, xb.len() / d, ws));
            }
        });
    }

    /// Softmax probabilities of each row of `x`.
    pub fn predict_proba(&self, x: &[f32]) -> Vec<f32> {
        let mut p = self.predict(x);
        p.chunks_exact_mut(self.output_dim())
            .for_each(softmax_in_place);
        p
    }

    /// The most likely digit of each row of `x`.
    pub fn predict_digits(&self, x: &[f32]) -> Vec<usize> {
        self.predict(x)
            .chunks_exact(self.output_dim())
            .map(argmax)
            .collect()
    }
}
