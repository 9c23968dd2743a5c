//! One training step with the batch split across threads: each worker runs forward and backward
//! on its rows with single-threaded kernels into its own gradient buffer; the buffers are summed.

use super::pool::{PerThread, SpinPool};
use crate::data::{Dataset, PixelScale};
use crate::nn::kernels::flush_denormals;
use crate::nn::workspace::Workspace;
use crate::nn::Sequential;
use std::sync::Mutex;

/// Most threads a step is split across.
pub const MAX_THREADS: usize = 16;

/// Per-thread buffers, allocated once.
struct Worker {
    ws: Workspace,
    grads: Vec<f32>,
    /// Sum of the losses of this worker's rows in the last step.
    loss: f64,
    /// Labels of this worker's rows.
    y: Vec<u8>,
}

pub struct Stepper {
    workers: PerThread<Worker>,
    pool: Option<SpinPool>,
    /// Fewer rows than this per thread run on one thread (splitting would cost more than it saves).
    min_rows_per_thread: usize,
}

impl Stepper {
    /// Buffers for batches up to `batch` rows on `threads` threads.
    pub fn new(model: &Sequential, batch: usize, threads: usize) -> Self {
        let threads = threads.clamp(1, MAX_THREADS);
        let share = batch.div_ceil(threads);
        let workers = (0..threads)
            .map(|_| {
                let w = Worker {
                    ws: Workspace::new(model, share.max(1)),
                    grads: vec![0.0; model.params().len()],
                    loss: 0.0,
                    y: vec![0; share.max(1)],
                };
                Mutex::new(w)
            })
            .collect();
        flush_denormals();
        let pool = (threads > 1).then(|| SpinPool::new(threads - 1, flush_denormals));
        Stepper {
            workers,
            pool,
            min_rows_per_thread: 8,
        }
    }

    pub fn threads(&self) -> usize {
        self.workers.len()
    }

    /// Computes the mean loss over the batch and leaves its gradient in `self.grads()`.
    /// x is (n x input_dim) row-major, y has n labels, n <= the batch size given to `new`.
    pub fn loss_and_grads(&mut self, model: &Sequential, x: &[f32], y: &[u8]) -> f32 {
        let n = y.len();
        let d = model.input_dim();
        let threads = self.workers.len().min(n / self.min_rows_per_thread).max(1);
        let loss = match &self.pool {
            Some(pool) if threads > 1 => {
                let share = n.div_ceil(threads);
                let workers = &self.workers;
                pool.run(&|t| {
                    let (start, end) = (t * share, ((t + 1) * share).min(n));
                    if t >= threads || start >= end {
                        return; // this batch is too small for every thread
                    }
                    let mut w = workers[t].lock().expect("worker buffers");
                    let w = &mut *w;
                    w.loss = model.loss_and_grads(
                        &x[start * d..end * d],
                        &y[start..end],
                        n,
                        &mut w.ws,
                        &mut w.grads,
                    );
                });
                let mut first = self.workers[0].lock().expect("worker buffers");
                let mut total = first.loss;
                // Threads past the last row (t * share >= n) computed nothing.
                let used = n.div_ceil(share);
                for w in &self.workers[1..used] {
                    let w = w.lock().expect("worker buffers");
                    total += w.loss;
                    for (g, &o) in first.grads.iter_mut().zip(&w.grads) {
                        *g += o;
                    }
                }
                total
            }
            _ => {
                let mut w = self.workers[0].lock().expect("worker buffers");
                let w = &mut *w;
                model.loss_and_grads(x, y, n, &mut w.ws, &mut w.grads)
            }
        };
        (loss / n as f64) as f32
    }

    /// `loss_and_grads` for the images `indices` of `data`, for a model that reads its input
    /// sparsely: each thread lists its own rows' nonzero pixels straight from the dataset.
    pub fn loss_and_grads_of(
        &mut self,
        model: &Sequential,
        data: &Dataset,
        indices: &[usize],
        scale: PixelScale,
    ) -> f32 {
        let n = indices.len();
        let threads = self.workers.len().min(n / self.min_rows_per_thread).max(1);
        let share = n.div_ceil(threads);
        let work = |w: &mut Worker, rows: &[usize]| {
            data.fill_sparse(rows, scale, &mut w.ws.input, &mut w.y[..rows.len()]);
            w.loss = model.loss_and_grads_prefilled(&w.y[..rows.len()], n, &mut w.ws, &mut w.grads);
        };
        match &self.pool {
            Some(pool) if threads > 1 => {
                let workers = &self.workers;
                pool.run(&|t| {
                    let (start, end) = (t * share, ((t + 1) * share).min(n));
                    if t < threads && start < end {
                        work(
                            &mut workers[t].lock().expect("worker buffers"),
                            &indices[start..end],
                        );
                    }
                });
                self.reduce(n.div_ceil(share)) / n as f32
            }
            _ => {
                work(self.workers[0].get_mut().expect("worker buffers"), indices);
                self.reduce(1) / n as f32
            }
        }
    }

    /// Sums the first `used` workers' gradients into worker 0's; returns the total loss.
    fn reduce(&mut self, used: usize) -> f32 {
        let (first, rest) = self.workers.split_at_mut(1);
        let first = first[0].get_mut().expect("worker buffers");
        let mut total = first.loss;
        for w in &mut rest[..used - 1] {
            let w = w.get_mut().expect("worker buffers");
            total += w.loss;
            for (g, &o) in first.grads.iter_mut().zip(&w.grads) {
                *g += o;
            }
        }
        total as f32
    }

    /// The gradient of the last `loss_and_grads`.
    pub fn grads(&mut self) -> &[f32] {
        self.workers[0]
            .get_mut()
            .expect("worker buffers")
            .grads
            .as_slice()
    }
}
