//! A tiny pool for splitting each training step across threads. A step lasts about 100 µs, so
//! waking a sleeping thread for every step (as a general-purpose pool does) costs as much as it
//! saves: these threads spin briefly at every wait, then yield, and only then sleep on a futex
//! (so a thread waiting for one the OS has descheduled gives its core away).
//!
//! A job is a list of phases; part t of every phase runs on thread t, and no thread starts phase
//! p + 1 before every part of phase p is done. The same job can also run on the calling thread
//! alone, every part of a phase in order ([`StepPool::run`] with `parallel` false): the parts
//! compute the same thing either way, so results do not depend on how the job was run.
//!
//! A panic in any part reaches the caller of `run`, after every thread has let go of the job.

use atomic_wait::{wait, wake_all};
use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One phase of a job: called with the part number (= the thread number when run in parallel).
pub type Phase<'a> = &'a (dyn Fn(usize) + Sync);

/// The phases of one `run` (lifetime erased while stored for the workers).
type Job = &'static [Phase<'static>];

struct Shared {
    /// Bumped for each job (and to quit); workers wait on it between jobs.
    start: Signal,
    /// Workers that let go of the current job, and the signal the caller waits on for them.
    done: AtomicUsize,
    finished: Signal,
    quit: AtomicBool,
    /// The current job, valid while `run` waits for it.
    job: Mutex<Option<Job>>,
    barrier: Barrier,
    /// Set by a part that panicked: every thread stops at its next barrier.
    poisoned: AtomicBool,
    /// The first worker panic of the current job, handed to the caller.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

pub struct StepPool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl StepPool {
    /// A pool for jobs of `parts` parts: `parts - 1` worker threads (the caller is thread 0);
    /// `init` runs on each worker first.
    pub fn new(parts: usize, init: fn()) -> Self {
        let parts = parts.max(1);
        let shared = Arc::new(Shared {
            start: Signal::default(),
            done: AtomicUsize::new(0),
            finished: Signal::default(),
            quit: AtomicBool::new(false),
            job: Mutex::new(None),
            barrier: Barrier::new(parts),
            poisoned: AtomicBool::new(false),
            panic: Mutex::new(None),
        });
        let workers = (1..parts)
            .map(|t| {
                let s = shared.clone();
                std::thread::Builder::new()
                    .name(format!("digits-step-{t}"))
                    .spawn(move || {
                        init();
                        worker_loop(&s, t);
                    })
                    .expect("start a training thread")
            })
            .collect();
        StepPool { shared, workers }
    }

    /// The parts of every phase (the threads, the caller included).
    pub fn parts(&self) -> usize {
        self.workers.len() + 1
    }

    /// Runs every phase for parts 0..parts(): in parallel (part t on thread t, a barrier between
    /// phases) or on the calling thread alone. Returns when all are done; a panic in any part is
    /// resumed here once no thread uses the job any more.
    pub fn run(&self, phases: &[Phase<'_>], parallel: bool) {
        if !parallel || self.workers.is_empty() {
            for phase in phases {
                (0..self.parts()).for_each(phase);
            }
            return;
        }
        let s = &*self.shared;
        // SAFETY: the workers call the phases only between here and the wait for `done` below
        // (also when a part panics: the caller's own panic is caught until then), so the borrow
        // outlives every use.
        let job: Job = unsafe { std::mem::transmute::<&[Phase<'_>], Job>(phases) };
        *s.job.lock().expect("pool lock") = Some(job);
        s.poisoned.store(false, Ordering::SeqCst);
        s.barrier.reset();
        s.done.store(0, Ordering::SeqCst);
        s.start.notify();
        let mine = catch_unwind(AssertUnwindSafe(|| run_part(s, phases, 0)));
        if mine.is_err() {
            s.poison();
        }
        let workers = self.workers.len();
        s.finished
            .wait_until(|| s.done.load(Ordering::Acquire) >= workers);
        *s.job.lock().expect("pool lock") = None;
        let theirs = s.panic.lock().expect("pool lock").take();
        match (mine, theirs) {
            (Err(p), _) | (Ok(()), Some(p)) => resume_unwind(p),
            (Ok(()), None) => {}
        }
    }
}

/// Part `t` of every phase, stopping early when another part panicked.
fn run_part(s: &Shared, phases: &[Phase<'_>], t: usize) {
    for (k, phase) in phases.iter().enumerate() {
        if k > 0 && !s.barrier.wait(&s.poisoned) {
            return;
        }
        phase(t);
    }
}

impl Shared {
    /// Marks the job as failed and wakes every thread waiting at the barrier.
    fn poison(&self) {
        self.poisoned.store(true, Ordering::SeqCst);
        self.barrier.release();
    }
}

fn worker_loop(s: &Shared, t: usize) {
    let mut seen = 0;
    loop {
        s.start.wait_until(|| s.start.count() != seen);
        seen = s.start.count();
        if s.quit.load(Ordering::Acquire) {
            return;
        }
        let job = *s.job.lock().expect("pool lock");
        if let Some(phases) = job {
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| run_part(s, phases, t))) {
                s.panic.lock().expect("pool lock").get_or_insert(p);
                s.poison();
            }
        }
        s.done.fetch_add(1, Ordering::Release);
        s.finished.notify();
    }
}

impl Drop for StepPool {
    fn drop(&mut self) {
        self.shared.quit.store(true, Ordering::SeqCst);
        self.shared.start.notify();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// The barrier between the phases of a job: every thread waits until all `n` have arrived.
struct Barrier {
    n: usize,
    arrived: AtomicUsize,
    /// Bumped when a round completes (or the job is poisoned).
    round: Signal,
}

impl Barrier {
    fn new(n: usize) -> Self {
        Barrier {
            n,
            arrived: AtomicUsize::new(0),
            round: Signal::default(),
        }
    }

    /// Before a job: no thread is inside `wait` then.
    fn reset(&self) {
        self.arrived.store(0, Ordering::SeqCst);
    }

    /// Returns once all `n` threads have called `wait` for this round (true; what each wrote
    /// before is visible to all after), or once the job is poisoned (false).
    fn wait(&self, poisoned: &AtomicBool) -> bool {
        let round = self.round.count();
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            // The last to arrive opens the next round; the count is reset before anyone can
            // see the new round and arrive again.
            self.arrived.store(0, Ordering::Relaxed);
            self.release();
        } else {
            // A poisoned job may have bumped the round before this thread read it.
            self.round
                .wait_until(|| self.round.count() != round || poisoned.load(Ordering::Acquire));
        }
        !poisoned.load(Ordering::Acquire)
    }

    fn release(&self) {
        self.round.notify();
    }
}

/// How long a waiting thread spins and yields before it sleeps on the futex.
const AWAKE: Duration = Duration::from_micros(200);

/// A counter that threads wait on for a condition, bumped by whoever makes the condition true.
#[derive(Default)]
struct Signal {
    count: AtomicU32,
    /// Threads asleep on `count` (so `notify` makes a system call only when one is).
    sleepers: AtomicU32,
}

impl Signal {
    fn count(&self) -> u32 {
        self.count.load(Ordering::Acquire)
    }

    /// Call after making a waiter's condition true.
    fn notify(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            wake_all(&self.count);
        }
    }

    /// Waits until `done()`. Spins for the first checks (the threads of a phase finish within
    /// microseconds of each other), then yields the core between checks (the thread waited for
    /// may not be running), then sleeps until notified.
    fn wait_until(&self, done: impl Fn() -> bool) {
        let mut checks = 0u32;
        let mut started: Option<Instant> = None;
        while !done() {
            checks += 1;
            if checks < 2_000 {
                std::hint::spin_loop();
                continue;
            }
            let since = *started.get_or_insert_with(Instant::now);
            if since.elapsed() < AWAKE {
                std::thread::yield_now();
                continue;
            }
            // Counted as a sleeper before reading `count`, so a `notify` after that read either
            // changes `count` before the futex compares it, or sees the sleeper and wakes it.
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            let seen = self.count.load(Ordering::SeqCst);
            if !done() {
                wait(&self.count, seen);
            }
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Per-thread data behind a lock each thread takes only for its own entry (uncontended).
pub type PerThread<T> = Vec<Mutex<T>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_runs_every_job_and_the_pool_shuts_down() {
        let pool = StepPool::new(4, || {});
        assert_eq!(pool.parts(), 4);
        let counts: Vec<AtomicUsize> = (0..4).map(|_| AtomicUsize::new(0)).collect();
        for round in 0..2000 {
            if round == 1000 {
                // Idle long enough for the workers to sleep; they must wake for the next job.
                std::thread::sleep(Duration::from_millis(5));
            }
            let count = |t: usize| {
                counts[t].fetch_add(1, Ordering::SeqCst);
            };
            pool.run(&[&count], round % 3 != 0);
            // run returns only when every part has finished this round.
            assert!(counts.iter().all(|c| c.load(Ordering::SeqCst) == round + 1));
        }
        drop(pool);
    }

    #[test]
    fn no_part_starts_a_phase_before_every_part_finished_the_one_before() {
        let pool = StepPool::new(3, || {});
        let arrived = AtomicUsize::new(0);
        for round in 0..500 {
            let first = |_: usize| {
                arrived.fetch_add(1, Ordering::SeqCst);
            };
            let second = |_: usize| {
                assert!(arrived.load(Ordering::SeqCst) >= 3 * (round + 1));
            };
            pool.run(&[&first, &second], round % 2 == 0);
        }
    }

    #[test]
    fn a_panic_in_any_part_and_phase_reaches_the_caller_and_the_pool_keeps_working() {
        let pool = StepPool::new(3, || {});
        for phase in 0..3 {
            for culprit in 0..3 {
                for parallel in [true, false] {
                    let ran = AtomicUsize::new(0);
                    let step = |k: usize| {
                        move |t: usize| {
                            if k == phase && t == culprit {
                                panic!("part {t} of phase {k}");
                            }
                        }
                    };
                    let (a, b, c) = (step(0), step(1), step(2));
                    let count = |_: usize| {
                        ran.fetch_add(1, Ordering::SeqCst);
                    };
                    let caught = catch_unwind(AssertUnwindSafe(|| {
                        pool.run(&[&a, &count, &b, &count, &c], parallel)
                    }));
                    let payload = caught.expect_err("the panic reaches the caller");
                    let message = payload.downcast_ref::<String>().expect("a formatted panic");
                    assert_eq!(message, &format!("part {culprit} of phase {phase}"));
                    // No part ran a phase after the barrier following the panic.
                    assert!(ran.load(Ordering::SeqCst) <= 3 * phase.min(2));
                }
            }
        }
        // After the panics the pool still runs jobs on every thread.
        let counts: Vec<AtomicUsize> = (0..3).map(|_| AtomicUsize::new(0)).collect();
        let count = |t: usize| {
            counts[t].fetch_add(1, Ordering::SeqCst);
        };
        pool.run(&[&count, &count], true);
        assert!(counts.iter().all(|c| c.load(Ordering::SeqCst) == 2));
    }
}
