//! Training lines for a line reader, made beside the step: a thread composes lines (seeded by
//! the run's seed and the line's number) into a channel; the loop keeps a pool of them,
//! replaces a few with new ones before each step and takes a batch of lines of similar widths,
//! so each line serves in a few steps and making them costs a fraction of the training.
//! Which lines a step gets depends on the seed and the step alone, not on the threads' timing.

use crate::vision::line::synth::{LineSynth, Sample};
use crate::vision::line::HEIGHT;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Batch widths are rounded up to a multiple of this (fewer widths, fewer buffers).
pub const WIDTH_STEP: usize = 64;

/// A batch of lines padded to one width, with their labels.
pub struct LineBatch {
    /// n x HEIGHT x width.
    pub x: Vec<f32>,
    pub width: usize,
    pub labels: Vec<u8>,
    pub lengths: Vec<usize>,
}

/// The pool of training lines and the thread that makes them.
pub struct LineSource {
    lines: Receiver<Sample>,
    pool: Vec<Sample>,
    fresh: usize,
    seed: u64,
    /// CPU time the making thread has spent, in nanoseconds.
    making_ns: Arc<AtomicU64>,
    waited: Duration,
}

/// The seed of line `i` of a run seeded `seed`.
pub fn line_seed(seed: u64, i: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_mul(0xD1B5_4A32_D192_ED03)
}

impl LineSource {
    /// Starts making lines from number `first_line` on; fills a pool of `pool` lines and
    /// replaces `fresh` of them before each step.
    pub fn start(
        synth: Arc<LineSynth>,
        seed: u64,
        first_line: u64,
        pool: usize,
        fresh: usize,
    ) -> Self {
        let (tx, rx) = sync_channel::<Sample>(4 * fresh.max(1));
        let making_ns = Arc::new(AtomicU64::new(0));
        let spent = making_ns.clone();
        std::thread::spawn(move || {
            for i in first_line.. {
                let t0 = thread_cpu_ns();
                let sample = synth.sample(line_seed(seed, i));
                spent.fetch_add(thread_cpu_ns() - t0, Ordering::Relaxed);
                if tx.send(sample).is_err() {
                    return; // the training is over
                }
            }
        });
        let mut source = LineSource {
            lines: rx,
            pool: Vec::with_capacity(pool),
            fresh,
            seed,
            making_ns,
            waited: Duration::ZERO,
        };
        while source.pool.len() < pool.max(1) {
            let s = source.take();
            source.pool.push(s);
        }
        source.waited = Duration::ZERO;
        source
    }

    fn take(&mut self) -> Sample {
        let t0 = Instant::now();
        let s = self
            .lines
            .recv()
            .expect("the line maker runs until dropped");
        self.waited += t0.elapsed();
        s
    }

    /// CPU time spent making lines so far.
    pub fn making_time(&self) -> Duration {
        Duration::from_nanos(self.making_ns.load(Ordering::Relaxed))
    }

    /// Time the loop has waited for new lines (after the pool's first filling).
    pub fn waited(&self) -> Duration {
        self.waited
    }

    /// The lines of step `step`: `fresh` lines of the pool replaced by new ones, then `n` of
    /// similar widths (the neighbours in width of one drawn at random), padded to one width.
    pub fn batch(&mut self, n: usize, step: u64) -> LineBatch {
        let mut rng = ChaCha8Rng::seed_from_u64(line_seed(self.seed ^ 0x5EED, step));
        for _ in 0..self.fresh {
            let slot = rng.gen_range(0..self.pool.len());
            self.pool[slot] = self.take();
        }
        let mut order: Vec<usize> = (0..self.pool.len()).collect();
        order.sort_by_key(|&i| (self.pool[i].line.width, i));
        let n = n.min(order.len());
        let start = rng.gen_range(0..=order.len() - n);
        let chosen = &order[start..start + n];
        let width = chosen
            .iter()
            .map(|&i| self.pool[i].line.width)
            .max()
            .unwrap_or(WIDTH_STEP)
            .next_multiple_of(WIDTH_STEP);
        let mut batch = LineBatch {
            x: vec![0.0; n * HEIGHT * width],
            width,
            labels: Vec::new(),
            lengths: Vec::with_capacity(n),
        };
        for (k, &i) in chosen.iter().enumerate() {
            let s = &self.pool[i];
            for y in 0..HEIGHT {
                let dst = (k * HEIGHT + y) * width;
                batch.x[dst..dst + s.line.width]
                    .copy_from_slice(&s.line.px[y * s.line.width..(y + 1) * s.line.width]);
            }
            batch.labels.extend_from_slice(&s.label);
            batch.lengths.push(s.label.len());
        }
        batch
    }
}

/// This thread's CPU time in nanoseconds (what a busy machine does not inflate).
pub fn thread_cpu_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid, exclusively borrowed `t`.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}
