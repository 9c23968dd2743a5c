//! One training step with the batch split across threads: each worker runs forward and backward
//! on its rows with single-threaded kernels into its own gradient buffer; then, in parallel over
//! chunks of the parameters, the buffers are summed and checked, and Adam updates the weights.

use super::pool::{PerThread, SpinPool};
use crate::data::{Dataset, PixelScale};
use crate::nn::kernels::flush_denormals;
use crate::nn::optim::adam_update;
use crate::nn::workspace::Workspace;
use crate::nn::{Adam, Sequential};
use std::sync::atomic::{AtomicBool, Ordering};
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

/// A buffer's start, shared with the pool's threads, each of which touches only its own chunk.
#[derive(Clone, Copy)]
struct Shared(*mut f32);
// SAFETY: the threads given a Shared write disjoint chunks and read chunks no one writes.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    /// # Safety
    /// `range` must lie inside the buffer, and no other thread may use it meanwhile.
    #[allow(clippy::mut_from_ref)]
    unsafe fn chunk(&self, range: std::ops::Range<usize>) -> &mut [f32] {
        std::slice::from_raw_parts_mut(self.0.add(range.start), range.len())
    }
}

pub struct Stepper {
    workers: PerThread<Worker>,
    pool: Option<SpinPool>,
    /// Fewer rows than this per thread run on one thread (splitting would cost more than it saves).
    min_rows_per_thread: usize,
    /// Whether the gradient of the last step is finite everywhere.
    finite: bool,
}

impl Stepper {
    /// Buffers for batches up to `batch` rows on `threads` threads.
    pub fn new(model: &Sequential, batch: usize, threads: usize) -> Self {
        let threads = threads.clamp(1, MAX_THREADS);
        let share = batch.div_ceil(threads);
        let workers = (0..threads)
            .map(|_| {
                let ws = Workspace::new(model, share.max(1));
                let grads = vec![0.0; model.params().len()];
                Mutex::new(Worker {
                    ws,
                    grads,
                    loss: 0.0,
                    y: vec![0; share.max(1)],
                })
            })
            .collect();
        flush_denormals();
        let pool = (threads > 1).then(|| SpinPool::new(threads - 1, flush_denormals));
        Stepper {
            workers,
            pool,
            min_rows_per_thread: 8,
            finite: true,
        }
    }

    pub fn threads(&self) -> usize {
        self.workers.len()
    }

    /// Computes the mean loss over the batch and leaves its gradient in `self.grads()`.
    /// x is (n x input_dim) row-major, y has n labels, n <= the batch size given to `new`.
    pub fn loss_and_grads(&mut self, model: &Sequential, x: &[f32], y: &[u8]) -> f32 {
        let d = model.input_dim();
        let n = y.len();
        self.split(n, |w, rows| {
            w.loss = model.loss_and_grads(
                &x[rows.start * d..rows.end * d],
                &y[rows.clone()],
                n,
                &mut w.ws,
                &mut w.grads,
            );
        })
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
        self.split(n, |w, rows| {
            let k = rows.len();
            data.fill_sparse(&indices[rows], scale, &mut w.ws.input, &mut w.y[..k]);
            w.loss = model.loss_and_grads_prefilled(&w.y[..k], n, &mut w.ws, &mut w.grads);
        })
    }

    /// Runs `work(worker, rows)` on n rows split across the threads, then sums the gradients;
    /// returns the mean loss.
    fn split(
        &mut self,
        n: usize,
        work: impl Fn(&mut Worker, std::ops::Range<usize>) + Sync,
    ) -> f32 {
        let threads = self.workers.len().min(n / self.min_rows_per_thread).max(1);
        let share = n.div_ceil(threads);
        // Threads past the last row (t * share >= n) have nothing to do.
        let used = n.div_ceil(share.max(1)).max(1);
        match &self.pool {
            Some(pool) if used > 1 => {
                let workers = &self.workers;
                pool.run(&|t| {
                    if t < used {
                        work(
                            &mut workers[t].lock().expect("worker buffers"),
                            t * share..((t + 1) * share).min(n),
                        );
                    }
                });
            }
            _ => work(self.workers[0].get_mut().expect("worker buffers"), 0..n),
        }
        (self.reduce(used) / n as f64) as f32
    }

    /// Sums the first `used` workers' gradients into worker 0's and checks that the sum is
    /// finite (in parallel chunks on the pool); returns the total loss.
    fn reduce(&mut self, used: usize) -> f64 {
        let mut loss = 0.0;
        let mut bufs = [Shared(std::ptr::null_mut()); MAX_THREADS];
        for (b, w) in bufs.iter_mut().zip(self.workers.iter_mut()) {
            let w = w.get_mut().expect("worker buffers");
            *b = Shared(w.grads.as_mut_ptr());
        }
        for w in &mut self.workers[..used] {
            loss += w.get_mut().expect("worker buffers").loss;
        }
        let len = self.workers[0]
            .get_mut()
            .expect("worker buffers")
            .grads
            .len();
        let finite = AtomicBool::new(true);
        let sum_chunk = |range: std::ops::Range<usize>| {
            // SAFETY: each call gets its own range of worker 0's buffer to write; the other
            // workers' buffers are only read.
            let total = unsafe { bufs[0].chunk(range.clone()) };
            for b in &bufs[1..used] {
                let part = unsafe { b.chunk(range.clone()) };
                for (g, &o) in total.iter_mut().zip(part.iter()) {
                    *g += o;
                }
            }
            // One pass: a NaN or an overflow anywhere makes the sum non-finite.
            if !total.iter().sum::<f32>().is_finite() {
                finite.store(false, Ordering::Relaxed);
            }
        };
        self.on_chunks(len, &sum_chunk);
        self.finite = finite.into_inner();
        loss
    }

    /// Runs `f` on chunks of 0..len: one per thread of the pool, or the whole on this thread.
    fn on_chunks(&self, len: usize, f: &(dyn Fn(std::ops::Range<usize>) + Sync)) {
        match &self.pool {
            Some(pool) => {
                let chunk = len.div_ceil(pool.threads());
                pool.run(&|t| f((t * chunk).min(len)..((t + 1) * chunk).min(len)));
            }
            None => f(0..len),
        }
    }

    /// Whether the gradient of the last step is finite everywhere.
    pub fn grads_finite(&self) -> bool {
        self.finite
    }

    /// Applies Adam with the last step's gradient, in parallel chunks of the parameters.
    pub fn adam_step(&mut self, adam: &mut Adam, params: &mut [f32]) {
        let c = adam.begin_step();
        let grads = Shared(
            self.workers[0]
                .get_mut()
                .expect("worker buffers")
                .grads
                .as_mut_ptr(),
        );
        let (p, m, v) = (
            Shared(params.as_mut_ptr()),
            Shared(adam.m.as_mut_ptr()),
            Shared(adam.v.as_mut_ptr()),
        );
        self.on_chunks(params.len(), &|r| {
            // SAFETY: each call gets its own range of each buffer (all params.len() long).
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
