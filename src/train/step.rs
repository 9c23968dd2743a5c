//! One training step with the batch split across threads: each worker runs forward and backward
//! on its rows with single-threaded GEMMs into its own gradient buffer; the buffers are summed.

use crate::nn::kernels::flush_denormals;
use crate::nn::workspace::Workspace;
use crate::nn::Sequential;

/// Most threads a step is split across.
pub const MAX_THREADS: usize = 16;

/// Per-thread buffers, allocated once.
struct Worker {
    ws: Workspace,
    grads: Vec<f32>,
}

pub struct Stepper {
    workers: Vec<Worker>,
    pool: Option<rayon::ThreadPool>,
    /// Fewer rows than this per thread run on one thread (splitting would cost more than it saves).
    min_rows_per_thread: usize,
}

impl Stepper {
    /// Buffers for batches up to `batch` rows on `threads` threads.
    pub fn new(model: &Sequential, batch: usize, threads: usize) -> Self {
        let threads = threads.clamp(1, MAX_THREADS);
        let share = batch.div_ceil(threads);
        let workers = (0..threads)
            .map(|_| Worker {
                ws: Workspace::new(model, share.max(1)),
                grads: vec![0.0; model.params().len()],
            })
            .collect();
        flush_denormals();
        let pool = (threads > 1).then(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads - 1)
                .start_handler(|_| flush_denormals())
                .build()
                .expect("start the training threads")
        });
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
        let share = n.div_ceil(threads);
        let loss = match (&self.pool, threads) {
            (Some(pool), t) if t > 1 => {
                let (first, rest) = self.workers.split_at_mut(1);
                let mut rest_losses = [0.0f64; MAX_THREADS];
                let first_loss = pool.in_place_scope(|s| {
                    for (k, (w, out)) in rest
                        .iter_mut()
                        .take(t - 1)
                        .zip(rest_losses.iter_mut())
                        .enumerate()
                    {
                        let start = (k + 1) * share;
                        let end = ((k + 2) * share).min(n);
                        let (xs, ys) = (&x[start * d..end * d], &y[start..end]);
                        s.spawn(move |_| {
                            *out = if start < end {
                                model.loss_and_grads(xs, ys, n, &mut w.ws, &mut w.grads)
                            } else {
                                0.0
                            };
                        });
                    }
                    let end = share.min(n);
                    model.loss_and_grads(
                        &x[..end * d],
                        &y[..end],
                        n,
                        &mut first[0].ws,
                        &mut first[0].grads,
                    )
                });
                for (k, w) in rest.iter().take(t - 1).enumerate() {
                    let start = (k + 1) * share;
                    if start < n {
                        for (g, &o) in first[0].grads.iter_mut().zip(&w.grads) {
                            *g += o;
                        }
                    }
                }
                first_loss + rest_losses.iter().sum::<f64>()
            }
            _ => {
                let w = &mut self.workers[0];
                model.loss_and_grads(x, y, n, &mut w.ws, &mut w.grads)
            }
        };
        (loss / n as f64) as f32
    }

    /// The gradient of the last `loss_and_grads`.
    pub fn grads(&self) -> &[f32] {
        &self.workers[0].grads
    }
}
