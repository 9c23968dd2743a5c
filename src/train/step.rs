//! One training step with the work split across threads, and the Adam update that follows it.
//!
//! Models that read images sparsely split the first layer by input columns (see `nn::split`):
//! each thread owns the weights of its pixels, and the layers above are split by batch rows.
//! Other models split the batch by rows into pieces: the threads take the pieces in turn (a
//! thread slowed by another program takes fewer), each piece's gradient goes to its own buffer,
//! then the buffers are summed in piece order and checked in parallel chunks, so the result does
//! not depend on which thread ran which piece.
//! Either way Adam then runs in parallel over the parameter ranges each thread wrote last.
//!
//! The work is split into one part per thread. Whether the parts of a step run on their threads
//! or one after another on the calling thread is chosen by timing (`pace`: a busy core makes the
//! threads wait for each other); the parts are the same either way, so is the result.

use super::pace::Pace;
use super::pool::{PerThread, Phase, StepPool};
use super::sparse_input::fill_sparse_cols;
use crate::data::{Dataset, PixelScale};
use crate::nn::kernels::SparseRows;
use crate::nn::kernels::{all_finite, flush_denormals};
use crate::nn::optim::adam_update;
use crate::nn::workspace::Workspace;
use crate::nn::{Adam, DropoutKey, SequenceLabels, Sequential};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Most threads a step is split across.
pub const MAX_THREADS: usize = 16;

/// Passes of `Sequential::loss_and_grads` per piece of a convolutional model's batch: small
/// pieces balance the threads (15 images, about 4 ms on one core, for the Keras convnet), large
/// ones cost less summing (every piece writes a whole gradient).
const PASSES_PER_PIECE: usize = 5;

/// Per-thread buffers, allocated once.
struct Worker {
    ws: Workspace,
    /// Sum of the losses of this worker's rows in the last step.
    loss: f64,
    /// Labels of this worker's rows.
    y: Vec<u8>,
    /// The nonzeros of this worker's input columns of every row (first layer split by columns),
    /// and those columns.
    x_cols: (SparseRows, Range<usize>),
}

/// A buffer's start, shared with the pool's threads, each of which touches only its own chunk.
#[derive(Clone, Copy)]
struct Shared(*mut f32);
// SAFETY: the threads given a Shared write disjoint chunks and read chunks no one writes.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    fn of(buffer: &mut [f32]) -> Self {
        Shared(buffer.as_mut_ptr())
    }

    /// # Safety
    /// `range` must lie inside the buffer, and no other thread may write it meanwhile (nor read
    /// it, for the mutable use).
    #[allow(clippy::mut_from_ref)]
    unsafe fn chunk(&self, range: Range<usize>) -> &mut [f32] {
        std::slice::from_raw_parts_mut(self.0.add(range.start), range.len())
    }
}

pub struct Stepper {
    workers: PerThread<Worker>,
    /// grads[t]: thread t's gradient buffer (the parameters' layout); grads[0] gets the total.
    /// Only a step split by columns uses more than grads[0].
    grads: Vec<Vec<f32>>,
    /// A step split by rows: the rows of every piece (the last may have fewer) of a
    /// convolutional model (None: one piece per thread), each piece's gradient (piece p at
    /// p * params) and loss (f64 bits).
    fixed_piece_rows: Option<usize>,
    piece_grads: Vec<f32>,
    piece_loss: Vec<AtomicU64>,
    /// First layer split by columns: thread t's first-layer sums of every row (batch x out1 at
    /// t * batch * out1), and dz1 of every row (batch x out1).
    z1_parts: Vec<f32>,
    dz1: Vec<f32>,
    batch: usize,
    pool: Option<StepPool>,
    /// Chooses whether each step's parts run on the pool's threads or on this one alone.
    pace: Pace,
    /// Fewer rows than this per thread run on one thread (splitting would cost more than it saves).
    min_rows_per_thread: usize,
    /// Whether the gradient of the last step is finite everywhere.
    finite: bool,
    /// The parameters thread t sums and updates after a step split by rows (equal chunks), and
    /// after one split by columns (its columns' weights; the last thread also the other layers).
    by_rows: Vec<Range<usize>>,
    by_columns: Vec<Range<usize>>,
    /// Whether the last step was split by columns: then `adam_step` updates `by_columns`, the
    /// weights whose gradient each thread wrote.
    last_by_columns: bool,
    /// What the next step's dropout masks are drawn from (row0 is set per thread).
    dropout: DropoutKey,
}

impl Stepper {
    /// Buffers for batches up to `batch` rows on `threads` threads.
    pub fn new(model: &Sequential, batch: usize, threads: usize) -> Self {
        let threads = threads.clamp(1, MAX_THREADS);
        let batch = batch.max(1);
        let share = batch.div_ceil(threads);
        // Only a model whose first layer is Dense on sparse pixels is split by columns.
        let by_cols = model.sparse_input();
        let (d, out1, params) = (
            model.input_dim(),
            model
                .first_dense()
                .filter(|_| by_cols)
                .map_or(0, |l| l.out_dim),
            model.params().len(),
        );
        let columns = chunks(d, threads);
        let fixed_piece_rows = (!by_cols && model.rows_per_pass() < usize::MAX)
            .then(|| (model.rows_per_pass() * PASSES_PER_PIECE).min(batch));
        let piece_rows = fixed_piece_rows.unwrap_or(share);
        // (A model split by columns may still be stepped on dense rows: `loss_and_grads`.)
        let pieces = batch.div_ceil(piece_rows);
        let workers = columns
            .iter()
            .map(|cols| {
                let cap = if by_cols { batch } else { 0 };
                let x_cols = (SparseRows::with_capacity(cap, cols.len()), cols.clone());
                Mutex::new(Worker {
                    ws: model.workspace(piece_rows),
                    loss: 0.0,
                    y: vec![0; share],
                    x_cols,
                })
            })
            .collect();
        // After a step split by columns, thread t updates the weights of its columns (and the
        // last thread the other layers too).
        let mut by_columns: Vec<Range<usize>> = if by_cols {
            columns
                .iter()
                .map(|c| model.first_layer_rows(c.clone()))
                .collect()
        } else {
            chunks(params, threads)
        };
        if let Some(last) = by_columns.last_mut() {
            last.end = params;
        }
        flush_denormals();
        let pool = (threads > 1).then(|| StepPool::new(threads, flush_denormals));
        Stepper {
            workers,
            grads: vec![vec![0.0; params]; if by_cols { threads } else { 1 }],
            fixed_piece_rows,
            piece_grads: vec![0.0; pieces * params],
            piece_loss: (0..pieces).map(|_| AtomicU64::new(0)).collect(),
            z1_parts: vec![0.0; threads * batch * out1],
            dz1: vec![0.0; batch * out1],
            batch,
            pool,
            pace: Pace::default(),
            min_rows_per_thread: 8,
            finite: true,
            by_rows: chunks(params, threads),
            by_columns,
            last_by_columns: false,
            dropout: DropoutKey::default(),
        }
    }

    /// Keys the dropout masks of the following steps (a run's seed and the step number, so
    /// that a resumed run draws the masks the uninterrupted run drew).
    pub fn set_dropout_key(&mut self, seed: u64, step: u64) {
        self.dropout = DropoutKey {
            seed,
            step,
            row0: 0,
        };
    }

    /// Computes the mean loss over the batch and leaves its gradient in `self.grads()`.
    /// x is (n x input_dim) row-major, y has n labels, n <= the batch size given to `new`.
    pub fn loss_and_grads(&mut self, model: &Sequential, x: &[f32], y: &[u8]) -> f32 {
        let d = model.input_dim();
        let n = y.len();
        let key = self.dropout;
        self.split_rows(n, |ws, grads, rows| {
            ws.dropout = DropoutKey {
                row0: rows.start,
                ..key
            };
            model.loss_and_grads(
                &x[rows.start * d..rows.end * d],
                &y[rows.clone()],
                n,
                ws,
                grads,
            )
        })
    }

    /// The CTC loss (PyTorch's `mean` reduction) of a model with per-column output over the
    /// batch x (n x input_dim) and its sequences' `labels`, its gradient left in
    /// `self.grads()`; split by rows like `loss_and_grads`. Errors say what does not fit.
    pub fn ctc_loss_and_grads(
        &mut self,
        model: &Sequential,
        x: &[f32],
        labels: &SequenceLabels,
    ) -> Result<f32, String> {
        let d = model.input_dim();
        let n = labels.lengths.len();
        model.check_sequence_labels(n, labels)?;
        if x.len() < n * d {
            return Err(format!("{} inputs for {n} rows of {d}", x.len()));
        }
        let key = self.dropout;
        Ok(self.split_rows(n, |ws, grads, rows| {
            ws.dropout = DropoutKey {
                row0: rows.start,
                ..key
            };
            let (lo, hi) = (rows.start, rows.end);
            let start: usize = labels.lengths[..lo].iter().sum();
            let len: usize = labels.lengths[lo..hi].iter().sum();
            let share = SequenceLabels {
                labels: &labels.labels[start..start + len],
                lengths: &labels.lengths[lo..hi],
            };
            model
                .ctc_loss_and_grads(&x[lo * d..hi * d], &share, n, ws, grads)
                .expect("labels checked above")
        }))
    }

    /// `loss_and_grads` for the images `indices` of `data`, for a model that reads its input
    /// sparsely, with the first layer split by input columns (see the module's note): each
    /// thread lists the nonzeros of its columns straight from the dataset's bytes.
    /// `next` (may be empty) are the images of the following step, fetched into cache meanwhile.
    pub fn loss_and_grads_of(
        &mut self,
        model: &Sequential,
        data: &Dataset,
        indices: &[usize],
        next: &[usize],
        scale: PixelScale,
    ) -> f32 {
        assert!(model.sparse_input(), "the model reads dense inputs");
        let n = indices.len();
        assert!(
            n <= self.batch,
            "a batch of {n} rows, buffers for {}",
            self.batch
        );
        let threads = self.workers.len();
        let share = n.div_ceil(threads).max(1);
        // Threads from `used` on have no rows above the first layer.
        let used = n.div_ceil(share).max(1);
        let (d, o) = (
            model.input_dim(),
            model.first_dense().expect("a Dense first layer").out_dim,
        );
        let params = model.params().len();
        let small = model.first_layer_rows(0..d).end..params;
        let grads = shared_grads(&mut self.grads);
        let (z1_parts, dz1) = (Shared::of(&mut self.z1_parts), Shared::of(&mut self.dz1));
        let (workers, batch) = (&self.workers, self.batch);
        let finite = AtomicBool::new(true);
        let key = self.dropout;
        let rows_of = |t: usize| (t * share).min(n)..((t + 1) * share).min(n);
        // 1. Part t's columns of every row, and their part of the first layer's sums.
        let first_layer = |t: usize| {
            let w = &mut *workers[t].lock().expect("worker buffers");
            let (x, cols) = (&mut w.x_cols.0, w.x_cols.1.clone());
            fill_sparse_cols(data, indices, next, cols.clone(), scale, x);
            for (label, &i) in w.y.iter_mut().zip(&indices[rows_of(t)]) {
                *label = data.labels[i];
            }
            // SAFETY: each part writes its own block of z1_parts in this phase; all only read
            // them in the next.
            let part = unsafe { z1_parts.chunk(t * batch * o..(t * batch + n) * o) };
            model.first_layer_part(x, cols, part);
        };
        // 2. The layers above for part t's rows, into its own gradient buffer.
        let layers_above = |t: usize| {
            let w = &mut *workers[t].lock().expect("worker buffers");
            let rows = rows_of(t);
            if rows.is_empty() {
                w.loss = 0.0;
                return;
            }
            let mut parts: [&[f32]; MAX_THREADS] = [&[]; MAX_THREADS];
            for (p, s) in parts.iter_mut().zip(0..threads) {
                // SAFETY: read-only in this phase.
                *p = unsafe {
                    z1_parts.chunk((s * batch + rows.start) * o..(s * batch + rows.end) * o)
                };
            }
            // SAFETY: part t alone uses grads[t] in this phase, and writes only its rows of dz1.
            let (mine, dz) = unsafe {
                (
                    grads[t].chunk(0..params),
                    dz1.chunk(rows.start * o..rows.end * o),
                )
            };
            w.ws.dropout = DropoutKey {
                row0: rows.start,
                ..key
            };
            w.loss = model.loss_and_grads_above_first(
                &parts[..threads],
                &w.y[..rows.len()],
                n,
                &mut w.ws,
                mine,
                dz,
            );
        };
        // 3. dW1 for part t's columns, from every row's dz1, into the total; the last part also
        // sums the other parameters' gradients over the parts.
        let first_layer_grad = |t: usize| {
            let w = &*workers[t].lock().expect("worker buffers");
            let cols = w.x_cols.1.clone();
            // SAFETY: dz1 is read-only now; each part writes its own rows of W1's gradient, and
            // the last part the disjoint rest (`small`), reading the others' buffers there.
            let dw = unsafe { grads[0].chunk(model.first_layer_rows(cols)) };
            model.first_layer_grad_part(&w.x_cols.0, unsafe { dz1.chunk(0..n * o) }, dw);
            let mut ok = all_finite(dw);
            if t + 1 == threads {
                let total = unsafe { grads[0].chunk(small.clone()) };
                for g in &grads[1..used] {
                    for (a, &b) in total.iter_mut().zip(unsafe { &*g.chunk(small.clone()) }) {
                        *a += b;
                    }
                }
                ok &= all_finite(total);
            }
            if !ok {
                finite.store(false, Ordering::Relaxed);
            }
        };
        let parallel = self.pace.begin_step();
        run_phases(
            &self.pool,
            &[&first_layer, &layers_above, &first_layer_grad],
            parallel,
        );
        self.finite = finite.into_inner();
        self.last_by_columns = true;
        let loss: f64 = self
            .workers
            .iter_mut()
            .map(|w| w.get_mut().expect("worker buffers").loss)
            .sum();
        (loss / n as f64) as f32
    }

    /// Runs `work(workspace, gradient buffer, rows)` (which returns the rows' summed loss) on
    /// the n rows cut into pieces, which the threads take in turn, then sums the pieces'
    /// gradients in piece order; returns the mean loss.
    fn split_rows(
        &mut self,
        n: usize,
        work: impl Fn(&mut Workspace, &mut [f32], Range<usize>) -> f64 + Sync,
    ) -> f32 {
        let rows = self.rows_of_pieces(n);
        let pieces = n.div_ceil(rows).max(1);
        let len = self.grads[0].len();
        assert!(
            pieces <= self.piece_loss.len(),
            "a batch of {n} rows, buffers for {}",
            self.batch
        );
        let parallel = self.pace.begin_step();
        let (workers, losses) = (&self.workers, &self.piece_loss);
        let piece_grads = Shared::of(&mut self.piece_grads);
        let next = AtomicUsize::new(0);
        let part = |t: usize| {
            let w = &mut *workers[t].lock().expect("worker buffers");
            loop {
                let p = next.fetch_add(1, Ordering::Relaxed);
                if p >= pieces {
                    break;
                }
                // SAFETY: piece p is taken by one thread only (the counter hands each out once),
                // and its gradient is the p-th block of params floats.
                let g = unsafe { piece_grads.chunk(p * len..(p + 1) * len) };
                let loss = work(&mut w.ws, g, p * rows..((p + 1) * rows).min(n));
                losses[p].store(loss.to_bits(), Ordering::Relaxed);
            }
        };
        run_phases(&self.pool, &[&part], parallel && pieces > 1);
        (self.reduce(pieces) / n as f64) as f32
    }

    /// Rows per piece of a step of n rows split by rows: a convolutional model's few passes
    /// each; otherwise one piece per thread (fewer when the pieces would be under
    /// `min_rows_per_thread` rows).
    fn rows_of_pieces(&self, n: usize) -> usize {
        if let Some(rows) = self.fixed_piece_rows {
            return rows;
        }
        let threads = self.workers.len().min(n / self.min_rows_per_thread).max(1);
        n.div_ceil(threads).max(1)
    }

    /// grads[0] = the sum of the first `pieces` pieces' gradients, in piece order, checked for
    /// finiteness (in parallel chunks on the pool); returns the total loss.
    fn reduce(&mut self, pieces: usize) -> f64 {
        let loss = self.piece_loss[..pieces]
            .iter()
            .map(|l| f64::from_bits(l.load(Ordering::Relaxed)))
            .sum();
        let len = self.grads[0].len();
        let total = Shared::of(&mut self.grads[0]);
        let piece_grads = Shared::of(&mut self.piece_grads);
        let finite = AtomicBool::new(true);
        let sum_chunk = |range: Range<usize>| {
            // SAFETY: each call gets its own range of the total to write; the pieces are only
            // read.
            let total = unsafe { total.chunk(range.clone()) };
            // SAFETY: piece p's block (p < pieces, each `len` floats) is only read in this phase.
            let piece = |p: usize| unsafe {
                &*piece_grads.chunk(p * len + range.start..p * len + range.end)
            };
            total.copy_from_slice(piece(0));
            for p in 1..pieces {
                for (g, &o) in total.iter_mut().zip(piece(p)) {
                    *g += o;
                }
            }
            if !all_finite(total) {
                finite.store(false, Ordering::Relaxed);
            }
        };
        self.last_by_columns = false;
        self.on_ranges(&sum_chunk);
        self.finite = finite.into_inner();
        loss
    }

    /// Runs `f` on each parameter range of the last step's split, range t on thread t.
    fn on_ranges(&self, f: &(dyn Fn(Range<usize>) + Sync)) {
        let ranges = if self.last_by_columns {
            &self.by_columns
        } else {
            &self.by_rows
        };
        run_phases(
            &self.pool,
            &[&|t| f(ranges[t].clone())],
            self.pace.running_parallel(),
        );
    }

    /// Runs every step in parallel (true) or on the calling thread alone (false) from now on,
    /// instead of choosing by timing. The result is the same either way.
    pub fn fix_mode(&mut self, parallel: bool) {
        self.pace = Pace::fixed(parallel);
    }

    /// Whether the gradient of the last step is finite everywhere.
    pub fn grads_finite(&self) -> bool {
        self.finite
    }

    /// Applies Adam with the last step's gradient, in parallel over the parameter ranges.
    pub fn adam_step(&mut self, adam: &mut Adam, params: &mut [f32]) {
        let c = adam.begin_step();
        let grads = Shared::of(&mut self.grads[0]);
        let (p, m, v) = (
            Shared::of(params),
            Shared::of(&mut adam.m),
            Shared::of(&mut adam.v),
        );
        self.on_ranges(&|r| {
            // SAFETY: the ranges are disjoint and inside each buffer (all params.len() long).
            unsafe {
                adam_update(
                    p.chunk(r.clone()),
                    grads.chunk(r.clone()),
                    m.chunk(r.clone()),
                    v.chunk(r),
                    c,
                )
            }
        });
        self.pace.end_step();
    }

    /// The gradient of the last `loss_and_grads`.
    pub fn grads(&self) -> &[f32] {
        &self.grads[0]
    }
}

/// Runs each phase for every part: on the pool (in parallel or on this thread alone), or for the
/// one part there is without a pool.
fn run_phases(pool: &Option<StepPool>, phases: &[Phase<'_>], parallel: bool) {
    match pool {
        Some(pool) => pool.run(phases, parallel),
        None => phases.iter().for_each(|phase| phase(0)),
    }
}

/// The threads' gradient buffers, to be shared with the pool (no allocation: one per step).
fn shared_grads(grads: &mut [Vec<f32>]) -> [Shared; MAX_THREADS] {
    let mut out = [Shared(std::ptr::null_mut()); MAX_THREADS];
    for (s, g) in out.iter_mut().zip(grads) {
        *s = Shared::of(g);
    }
    out
}

/// 0..len in `parts` consecutive ranges of nearly equal size.
fn chunks(len: usize, parts: usize) -> Vec<Range<usize>> {
    (0..parts)
        .map(|t| len * t / parts..len * (t + 1) / parts)
        .collect()
}
