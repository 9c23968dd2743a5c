//! Sequential: a stack of Dense layers over one flat parameter buffer.

use super::dense::Dense;
use super::kernels::flush_denormals;
use super::loss::{argmax, softmax_cross_entropy, softmax_in_place};
use super::workspace::Workspace;
use super::{Init, ModelSpec};
use crate::data::{Dataset, PixelScale};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct Sequential {
    spec: ModelSpec,
    layers: Vec<Dense>,
    params: Vec<f32>,
}

/// Inputs from which the first layer reads them sparsely (see `sparse_input`).
const SPARSE_INPUT_MIN: usize = 64;

/// Rows per thread below which predicting is not split across threads.
const PARALLEL_ROWS: usize = 2048;

/// Rows per block when predicting or evaluating many images (bounds the buffers).
const EVAL_BLOCK: usize = 1024;

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
            init.fill(l, &mut model.params, &mut rng);
        }
        Ok(model)
    }

    /// The layers with all parameters zero (to be filled, e.g. from a checkpoint).
    pub fn zeros(spec: ModelSpec) -> Result<Self, String> {
        spec.validate()?;
        let mut layers = Vec::with_capacity(spec.layers.len());
        let mut offset = 0;
        let mut fan_in = spec.input_dim;
        for (k, l) in spec.layers.iter().enumerate() {
            let name = l.name.clone().unwrap_or_else(|| {
                if k == 0 {
                    "dense".into()
                } else {
                    format!("dense_{k}")
                }
            });
            let w_offset = offset;
            let b_offset = w_offset + fan_in * l.units;
            offset = b_offset + l.units;
            layers.push(Dense {
                name,
                in_dim: fan_in,
                out_dim: l.units,
                activation: l.activation,
                w_offset,
                b_offset,
            });
            fan_in = l.units;
        }
        Ok(Sequential {
            spec,
            layers,
            params: vec![0.0; offset],
        })
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    pub fn input_dim(&self) -> usize {
        self.spec.input_dim
    }

    pub fn output_dim(&self) -> usize {
        self.spec.output_dim()
    }

    /// Every parameter, layer after layer, W (in, out) then b (out,).
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    pub fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }

    /// Layer `i`'s W, (in, out) row-major, and b, (out,).
    pub fn weights(&self, i: usize) -> (&[f32], &[f32]) {
        let l = &self.layers[i];
        (l.w(&self.params), l.b(&self.params))
    }

    /// Replaces layer `i`'s W (in*out values, (in, out) row-major) and b (out values).
    pub fn set_weights(&mut self, i: usize, w: &[f32], b: &[f32]) -> Result<(), String> {
        let l = &self.layers[i];
        if w.len() != l.in_dim * l.out_dim || b.len() != l.out_dim {
            return Err(format!(
                "layer {} expects W ({}, {}) and b ({},), got {} and {} values",
                l.name,
                l.in_dim,
                l.out_dim,
                l.out_dim,
                w.len(),
                b.len()
            ));
        }
        let (wo, bo) = (l.w_offset, l.b_offset);
        self.params[wo..wo + w.len()].copy_from_slice(w);
        self.params[bo..bo + b.len()].copy_from_slice(b);
        Ok(())
    }

    /// Keras-style summary: layer name and type, output shape, parameter count, total.
    pub fn summary(&self) -> String {
        let rule = "=".repeat(65);
        let thin = "-".repeat(65);
        let mut s = String::from("Model: \"sequential\"\n");
        s += &format!(
            "{thin}\n{:<29}{:<26}{:>10}\n{rule}\n",
            "Layer (type)", "Output Shape", "Param #"
        );
        for (k, l) in self.layers.iter().enumerate() {
            let name = format!("{} (Dense)", l.name);
            s += &format!(
                "{:<29}{:<26}{:>10}\n",
                name,
                format!("(None, {})", l.out_dim),
                group(l.param_count())
            );
            if k + 1 < self.layers.len() {
                s += "\n";
            }
        }
        let total = group(self.params.len());
        s += &format!("{rule}\nTotal params: {total}\nTrainable params: {total}\nNon-trainable params: 0\n{thin}\n");
        s
    }

    /// Whether the first layer reads its input as a list of nonzeros (images: mostly background).
    /// Worth it for wide inputs, where skipping the zeros saves more than listing them costs.
    pub fn sparse_input(&self) -> bool {
        self.input_dim() >= SPARSE_INPUT_MIN
    }

    /// Forward pass of n rows of `x` into the workspace; returns the logits (n x classes).
    pub fn forward<'w>(&self, x: &[f32], n: usize, ws: &'w mut Workspace) -> &'w [f32] {
        debug_assert!(n <= ws.capacity && x.len() >= n * self.input_dim());
        let x = &x[..n * self.input_dim()];
        if self.sparse_input() {
            ws.input.fill(x, self.input_dim());
        }
        self.forward_filled(x, n, ws)
    }

    /// `forward` with the first layer's input already listed in `ws.input` when the model reads
    /// it sparsely (then `x` is not read and may be empty).
    fn forward_filled<'w>(&self, x: &[f32], n: usize, ws: &'w mut Workspace) -> &'w [f32] {
        self.forward_layers(x, n, ws, 0)
    }

    /// The forward pass through layers `first..`, reading `ws.acts[first - 1]` (or the input).
    pub(crate) fn forward_layers<'w>(
        &self,
        x: &[f32],
        n: usize,
        ws: &'w mut Workspace,
        first: usize,
    ) -> &'w [f32] {
        for (k, l) in self.layers.iter().enumerate().skip(first) {
            let (before, rest) = ws.acts.split_at_mut(k);
            if k == 0 && self.sparse_input() {
                l.forward_sparse(&self.params, &ws.input, n, &mut rest[0]);
            } else {
                let input = if k == 0 { x } else { &before[k - 1][..] };
                l.forward(&self.params, input, n, &mut rest[0]);
            }
        }
        ws.logits(n, self.output_dim())
    }

    /// Backward pass after `forward` on the same x, with d loss / d logits already in
    /// `ws.grads[last]`; writes the parameter gradients into `grads` (same layout as params).
    pub fn backward(&self, x: &[f32], n: usize, ws: &mut Workspace, grads: &mut [f32]) {
        self.backward_layers(x, n, ws, grads, 0);
    }

    /// `backward` through the layers from the last down to `lowest` (dW and db of each, and d loss
    /// / d input of each above `lowest`, or of `lowest` too when it is not the first layer).
    pub(crate) fn backward_layers(
        &self,
        x: &[f32],
        n: usize,
        ws: &mut Workspace,
        grads: &mut [f32],
        lowest: usize,
    ) {
        for k in (lowest..self.layers.len()).rev() {
            let l = &self.layers[k];
            let (g_before, g_rest) = ws.grads.split_at_mut(k);
            if k == 0 && self.sparse_input() {
                l.backward_sparse(&ws.input, n, &ws.acts[0], &mut g_rest[0], grads);
                continue;
            }
            let input = if k == 0 { x } else { &ws.acts[k - 1][..] };
            let dx = if k == 0 {
                None
            } else {
                Some((&mut g_before[k - 1][..], &mut ws.scratch[..]))
            };
            l.backward(
                &self.params,
                input,
                n,
                &ws.acts[k],
                &mut g_rest[0],
                grads,
                dx,
            );
        }
    }

    /// Loss (sum over rows) and parameter gradients of the mean loss over `total` rows, for the
    /// n rows given here (a share of a batch of `total`); the core of a training step.
    pub fn loss_and_grads(
        &self,
        x: &[f32],
        y: &[u8],
        total: usize,
        ws: &mut Workspace,
        grads: &mut [f32],
    ) -> f64 {
        if self.sparse_input() {
            ws.input
                .fill(&x[..y.len() * self.input_dim()], self.input_dim());
        }
        self.loss_and_grads_filled(x, y, total, ws, grads)
    }

    /// `loss_and_grads` for a model that reads its input sparsely (`sparse_input()`), with the
    /// rows' nonzeros already in `ws.input` (see `Dataset::fill_sparse_cols`): images go from bytes
    /// to the first layer without a dense batch in between.
    pub fn loss_and_grads_prefilled(
        &self,
        y: &[u8],
        total: usize,
        ws: &mut Workspace,
        grads: &mut [f32],
    ) -> f64 {
        assert!(self.sparse_input(), "the model reads dense inputs");
        assert_eq!(ws.input.rows(), y.len(), "ws.input holds one row per label");
        self.loss_and_grads_filled(&[], y, total, ws, grads)
    }

    fn loss_and_grads_filled(
        &self,
        x: &[f32],
        y: &[u8],
        total: usize,
        ws: &mut Workspace,
        grads: &mut [f32],
    ) -> f64 {
        let n = y.len();
        let classes = self.output_dim();
        self.forward_filled(x, n, ws);
        let last = self.layers.len() - 1;
        let loss = softmax_cross_entropy(
            &ws.acts[last][..n * classes],
            y,
            classes,
            Some((&mut ws.grads[last][..n * classes], 1.0 / total as f32)),
        );
        self.backward(x, n, ws, grads);
        loss
    }

    /// Logits of the n = x.len() / input_dim rows of `x`, (n x classes) row-major.
    pub fn predict(&self, x: &[f32]) -> Vec<f32> {
        let (d, classes) = (self.input_dim(), self.output_dim());
        let n = x.len() / d;
        let mut out = vec![0.0; n * classes];
        // Large batches are split across the cores; each part runs in blocks of EVAL_BLOCK rows.
        let threads = std::thread::available_parallelism()
            .map_or(1, |t| t.get())
            .min(n / PARALLEL_ROWS)
            .max(1);
        let share = n.div_ceil(threads);
        std::thread::scope(|scope| {
            for (k, (xs, os)) in x[..n * d]
                .chunks(share * d)
                .zip(out.chunks_mut(share * classes))
                .enumerate()
            {
                let mut work = move || {
                    flush_denormals();
                    let mut ws = Workspace::new(self, (xs.len() / d).clamp(1, EVAL_BLOCK));
                    for (xb, ob) in xs
                        .chunks(EVAL_BLOCK * d)
                        .zip(os.chunks_mut(EVAL_BLOCK * classes))
                    {
                        ob.copy_from_slice(self.forward(xb, xb.len() / d, &mut ws));
                    }
                };
                if k + 1 == threads {
                    work(); // the last part on this thread
                } else {
                    scope.spawn(work);
                }
            }
        });
        out
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

    /// Mean loss and accuracy over a dataset.
    pub fn evaluate(&self, data: &Dataset, scale: PixelScale) -> (f64, f64) {
        let (loss, correct) = self.evaluate_counts(data, scale, |_, _| {});
        (
            loss / data.len().max(1) as f64,
            correct as f64 / data.len().max(1) as f64,
        )
    }

    /// Sum of losses and number correct; `each(i, logits)` sees every image's logits.
    pub fn evaluate_counts(
        &self,
        data: &Dataset,
        scale: PixelScale,
        mut each: impl FnMut(usize, &[f32]),
    ) -> (f64, usize) {
        let classes = self.output_dim();
        let block = data.len().clamp(1, EVAL_BLOCK);
        let mut ws = Workspace::new(self, block);
        let mut x = vec![0.0; block * data.features()];
        let mut y = vec![0u8; block];
        let mut idx = Vec::with_capacity(block);
        let (mut loss, mut correct) = (0.0, 0);
        for start in (0..data.len()).step_by(block) {
            idx.clear();
            idx.extend(start..(start + block).min(data.len()));
            let n = idx.len();
            data.fill_batch(&idx, scale, &mut x[..n * data.features()], &mut y[..n]);
            let logits = self.forward(&x, n, &mut ws);
            loss += softmax_cross_entropy(logits, &y[..n], classes, None);
            for (r, z) in logits.chunks_exact(classes).enumerate() {
                correct += usize::from(argmax(z) == y[r] as usize);
                each(start + r, z);
            }
        }
        (loss, correct)
    }
}

/// 10575 -> "10,575".
fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
