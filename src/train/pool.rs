//! A tiny pool for splitting each training step across threads. A step lasts about 100 µs, so
//! waking a sleeping thread for every step (as a general-purpose pool does) costs as much as it
//! saves: these workers spin briefly waiting for the next step and park only when idle longer
//! (e.g. while the test set is evaluated).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The job of one `run`: called once per thread with the thread's number.
type Job<'a> = &'a (dyn Fn(usize) + Sync);

struct Shared {
    /// Bumped for each job; workers run the job when it changes.
    generation: AtomicUsize,
    /// Workers that finished the current job.
    done: AtomicUsize,
    quit: AtomicBool,
    /// The current job, valid while `run` waits for it (lifetime erased).
    job: Mutex<Option<Job<'static>>>,
    sleeping: Vec<AtomicBool>,
}

pub struct SpinPool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

/// How long a worker spins for the next job before parking.
const SPIN: Duration = Duration::from_micros(200);

impl SpinPool {
    /// A pool with `extra` worker threads (the caller is thread 0); `init` runs on each first.
    pub fn new(extra: usize, init: fn()) -> Self {
        let shared = Arc::new(Shared {
            generation: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            quit: AtomicBool::new(false),
            job: Mutex::new(None),
            sleeping: (0..extra).map(|_| AtomicBool::new(false)).collect(),
        });
        let workers = (0..extra)
            .map(|k| {
                let s = shared.clone();
                std::thread::Builder::new()
                    .name(format!("digits-step-{}", k + 1))
                    .spawn(move || {
                        init();
                        worker_loop(&s, k);
                    })
                    .expect("start a training thread")
            })
            .collect();
        SpinPool { shared, workers }
    }

    pub fn threads(&self) -> usize {
        self.workers.len() + 1
    }

    /// Runs `job(t)` for t in 0..threads(), t = 0 on the calling thread; returns when all are done.
    pub fn run(&self, job: Job<'_>) {
        let s = &self.shared;
        // SAFETY: the job is only called between here and the wait below, while `job` is borrowed.
        let erased: Job<'static> = unsafe { std::mem::transmute::<Job<'_>, Job<'static>>(job) };
        *s.job.lock().expect("pool lock") = Some(erased);
        s.done.store(0, Ordering::SeqCst);
        s.generation.fetch_add(1, Ordering::SeqCst);
        for (k, sleeping) in s.sleeping.iter().enumerate() {
            if sleeping.load(Ordering::SeqCst) {
                self.workers[k].thread().unpark();
            }
        }
        job(0);
        spin_until(10_000, || {
            s.done.load(Ordering::Acquire) >= self.workers.len()
        });
        *s.job.lock().expect("pool lock") = None;
    }
}

fn worker_loop(s: &Shared, k: usize) {
    let mut seen = 0;
    loop {
        let started = Instant::now();
        let mut spins = 0u32;
        while s.generation.load(Ordering::Acquire) == seen {
            spins += 1;
            if !spins.is_multiple_of(64) {
                std::hint::spin_loop();
                continue;
            }
            if started.elapsed() < SPIN {
                std::thread::yield_now();
                continue;
            }
            s.sleeping[k].store(true, Ordering::SeqCst);
            if s.generation.load(Ordering::SeqCst) == seen {
                std::thread::park();
            }
            s.sleeping[k].store(false, Ordering::SeqCst);
        }
        seen = s.generation.load(Ordering::Acquire);
        if s.quit.load(Ordering::Acquire) {
            return;
        }
        let job = *s.job.lock().expect("pool lock");
        if let Some(job) = job {
            job(k + 1);
        }
        s.done.fetch_add(1, Ordering::Release);
    }
}

impl Drop for SpinPool {
    fn drop(&mut self) {
        self.shared.quit.store(true, Ordering::SeqCst);
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
        for w in self.workers.drain(..) {
            w.thread().unpark();
            let _ = w.join();
        }
    }
}

/// A barrier for the threads of one `SpinPool::run` job: every thread waits until all `n` have
/// arrived. Spins (then yields), like the pool, because the phases it separates last microseconds.
pub struct SpinBarrier {
    n: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
}

impl SpinBarrier {
    pub fn new(n: usize) -> Self {
        SpinBarrier {
            n,
            arrived: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
        }
    }

    /// Returns once all `n` threads have called `wait` (for this round); what each wrote before
    /// is visible to all after.
    pub fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            // The last to arrive opens the next round; the count is reset before anyone can
            // see the new generation and arrive again.
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            return;
        }
        // A phase's threads finish within microseconds of each other, unless one of them is
        // not running (more threads than cores): then give the core away soon.
        spin_until(2_000, || {
            self.generation.load(Ordering::Acquire) != generation
        });
    }
}

/// Waits until `done()`: spinning for the first `spins` checks, then yielding the core between
/// checks (for when the thread waited for is not running).
fn spin_until(spins: u32, done: impl Fn() -> bool) {
    let mut checks = 0u32;
    while !done() {
        checks += 1;
        if checks < spins {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// Per-thread data behind a lock each thread takes only for its own entry (uncontended).
pub type PerThread<T> = Vec<Mutex<T>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_thread_runs_every_job_and_the_pool_shuts_down() {
        let pool = SpinPool::new(3, || {});
        assert_eq!(pool.threads(), 4);
        let counts: Vec<AtomicUsize> = (0..4).map(|_| AtomicUsize::new(0)).collect();
        for round in 0..2000 {
            if round == 1000 {
                // Idle long enough for the workers to park; they must wake for the next job.
                std::thread::sleep(Duration::from_millis(5));
            }
            pool.run(&|t| {
                counts[t].fetch_add(1, Ordering::SeqCst);
            });
            // run returns only when every thread has finished this round.
            assert!(counts.iter().all(|c| c.load(Ordering::SeqCst) == round + 1));
        }
        drop(pool);
    }

    #[test]
    fn no_thread_passes_a_barrier_before_all_arrive() {
        let pool = SpinPool::new(2, || {});
        let barrier = SpinBarrier::new(3);
        let arrived = AtomicUsize::new(0);
        for round in 0..500 {
            pool.run(&|_| {
                arrived.fetch_add(1, Ordering::SeqCst);
                barrier.wait();
                assert!(arrived.load(Ordering::SeqCst) >= 3 * (round + 1));
                barrier.wait();
            });
        }
    }
}
