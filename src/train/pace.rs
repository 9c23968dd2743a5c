//! Whether the next training steps run on all the step's threads or on the calling thread alone,
//! chosen by timing both.
//!
//! On a quiet machine the threads of a step are faster together. When another program keeps a
//! core busy, the OS deschedules one of them for whole time slices and the others wait for it at
//! every barrier, so a step on one thread is faster. The step is split into the same parts either
//! way (see `pool`), so this choice changes only the speed, never the result.
//!
//! The current mode runs most of the time; now and then it is timed for a short window and the
//! other mode right after it, less often each time the other loses, and the faster one is kept.

use std::time::Instant;

/// Steps timed per window, at least; and the least time a window lasts. An MLP's step takes
/// about 100 µs, while the OS shares a busy core in slices of milliseconds: a window of 8 such
/// steps can fall between two slices of the other program and judge the threads by a moment
/// when they had both cores.
const WINDOW: u32 = 8;
const WINDOW_SECONDS: f64 = 0.025;
/// Steps between probes of the other mode after a switch; doubled each time the probe loses.
const FIRST_INTERVAL: u32 = 512;
const MAX_INTERVAL: u32 = 8192;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Timing the current mode for a window (after the start or a switch).
    Measure,
    /// Running the current mode; `left` steps until the next probe.
    Run { left: u32 },
    /// Timing the other mode for a window.
    Probe,
    /// Never changing mode (see `Pace::fixed`).
    Fixed,
}

#[derive(Clone, Debug)]
pub struct Pace {
    /// The mode kept: parallel (true) or one thread.
    parallel: bool,
    stage: Stage,
    interval: u32,
    /// The window being timed: steps and seconds so far; when the current step began.
    steps: u32,
    seconds: f64,
    began: Option<Instant>,
    /// Mean seconds per step of the kept mode's last window, and its steps (at least WINDOW: a
    /// window ends sooner only when its probe lost).
    kept_mean: f64,
    kept_steps: u32,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            parallel: true,
            stage: Stage::Measure,
            interval: FIRST_INTERVAL,
            steps: 0,
            seconds: 0.0,
            began: None,
            kept_mean: f64::INFINITY,
            kept_steps: WINDOW,
        }
    }
}

impl Pace {
    /// Always the given mode (for tests and measurements of one mode).
    pub fn fixed(parallel: bool) -> Self {
        Pace {
            parallel,
            stage: Stage::Fixed,
            ..Pace::default()
        }
    }

    /// Whether the step beginning now runs in parallel.
    pub fn begin_step(&mut self) -> bool {
        self.began = Some(Instant::now());
        self.running_parallel()
    }

    /// The mode of the step under way.
    pub fn running_parallel(&self) -> bool {
        match self.stage {
            Stage::Probe => !self.parallel,
            _ => self.parallel,
        }
    }

    /// Ends the step begun last (a step whose update was skipped is simply not timed).
    pub fn end_step(&mut self) {
        if let Some(began) = self.began.take() {
            self.record(began.elapsed().as_secs_f64());
        }
    }

    /// Running the kept mode until the next probe: `interval` steps, and at least 16 windows'
    /// worth, so that long windows of short steps are not spent mostly probing.
    fn run_stage(&self) -> Stage {
        Stage::Run {
            left: self.interval.max(16 * self.kept_steps),
        }
    }

    /// Takes the time of one step of the running mode.
    fn record(&mut self, seconds: f64) {
        match self.stage {
            Stage::Run { left } => {
                // Re-time the kept mode before probing (the machine may have changed).
                self.stage = if left <= 1 {
                    Stage::Measure
                } else {
                    Stage::Run { left: left - 1 }
                };
                return;
            }
            Stage::Fixed => return,
            Stage::Measure | Stage::Probe => {}
        }
        self.steps += 1;
        self.seconds += seconds;
        // A probe already slower in total than the kept mode's whole window has lost.
        let lost_early =
            self.stage == Stage::Probe && self.seconds > self.kept_mean * self.kept_steps as f64;
        if (self.steps < WINDOW || self.seconds < WINDOW_SECONDS) && !lost_early {
            return;
        }
        let window = self.steps;
        let mean = self.seconds / self.steps as f64;
        (self.steps, self.seconds) = (0, 0.0);
        match self.stage {
            Stage::Measure => {
                self.kept_mean = mean;
                self.kept_steps = window;
                self.stage = Stage::Probe;
            }
            Stage::Probe if mean < self.kept_mean => {
                // The other mode is faster now: keep it, and look back soon.
                self.parallel = !self.parallel;
                self.kept_mean = mean;
                self.kept_steps = window;
                self.interval = FIRST_INTERVAL;
                self.stage = self.run_stage();
            }
            Stage::Probe => {
                self.interval = (self.interval * 2).min(MAX_INTERVAL);
                self.stage = self.run_stage();
            }
            Stage::Run { .. } | Stage::Fixed => unreachable!("handled above"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `steps` steps where a parallel step takes `par` seconds and a solo one `solo`;
    /// returns the fraction of steps run in parallel.
    fn simulate(pace: &mut Pace, steps: usize, par: f64, solo: f64) -> f64 {
        let mut parallel = 0;
        for _ in 0..steps {
            let p = pace.running_parallel();
            parallel += usize::from(p);
            pace.record(if p { par } else { solo });
        }
        parallel as f64 / steps as f64
    }

    #[test]
    fn short_steps_are_judged_over_the_os_time_slices_not_between_them() {
        // Another program shares a core in 4 ms slices: for 1 ms of each 4 the threads have both
        // cores (50 µs a step), for the other 3 one of them waits (300 µs a step); one thread
        // alone takes 120 µs a step throughout. Over time one thread is faster (133 µs a
        // parallel step on average), though an 8-step window timed in a good millisecond says
        // otherwise.
        let mut pace = Pace::default();
        let (mut clock, mut parallel_steps) = (0.0f64, 0usize);
        let steps = 200_000;
        for _ in 0..steps {
            let seconds = if !pace.running_parallel() {
                120e-6
            } else if clock % 4e-3 < 1e-3 {
                50e-6
            } else {
                300e-6
            };
            parallel_steps += usize::from(pace.running_parallel());
            clock += seconds;
            pace.record(seconds);
        }
        assert!(!pace.parallel);
        let share = parallel_steps as f64 / steps as f64;
        assert!(share < 0.1, "parallel for {share} of the steps");
    }

    #[test]
    fn a_quiet_machine_keeps_the_threads_and_rarely_probes_one_thread() {
        let mut pace = Pace::default();
        let share = simulate(&mut pace, 20_000, 1.0, 1.7);
        assert!(pace.parallel);
        assert!(share > 0.98, "parallel for {share} of the steps");
    }

    #[test]
    fn a_busy_core_moves_to_one_thread_and_probes_ever_less_often() {
        let mut pace = Pace::default();
        // Parallel steps 3x slower than one thread (one core taken by another program).
        let share = simulate(&mut pace, 20_000, 3.0, 1.0);
        assert!(!pace.parallel);
        assert!(share < 0.01, "parallel for {share} of the steps");
        // Each losing probe of the parallel mode ends within a step or so of the window's
        // time, so the whole run costs little more than one thread's.
        assert!(pace.interval > FIRST_INTERVAL);
    }

    #[test]
    fn the_machine_becoming_quiet_again_brings_the_threads_back() {
        let mut pace = Pace::default();
        simulate(&mut pace, 5_000, 3.0, 1.0);
        assert!(!pace.parallel);
        simulate(&mut pace, 20_000, 1.0, 1.7);
        assert!(pace.parallel);
    }
}
