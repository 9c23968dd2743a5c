//! Cost of `--augment`: microseconds to distort one MNIST training image (the whole training
//! set, batch by batch as the fit loop does it, on one core), best of a few passes. Prints the
//! wall-clock time and this thread's CPU time (the figure to read on a shared machine, where
//! other programs take turns on the core).
//!
//!     cargo run --release --example augment_speed -- [MNIST_DIR] [PASSES]

use digits::data::mnist;
use digits::train::augment::AugmentedBatch;
use digits::vision::augment::Augment;
use std::time::Instant;

/// Seconds of CPU this thread has used.
fn thread_cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we own and nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args.first().map_or("data/mnist", String::as_str);
    let passes: usize = args.get(1).map_or(Ok(5), |s| s.parse())?;
    let (train, _) = mnist::load_dir(dir.as_ref())?;
    let batch = 64;
    let mut aug = AugmentedBatch::new(Augment::default(), 0, &train, batch)?;
    let order: Vec<usize> = (0..train.len()).collect();
    let (mut times, mut cpu) = (Vec::new(), Vec::new());
    let mut checksum = 0u64;
    for _ in 0..passes {
        let (started, cpu_started) = (Instant::now(), thread_cpu_seconds());
        for (step, idx) in order.chunks(batch).enumerate() {
            let (b, _) = aug.fill(&train, idx, step as u64);
            checksum = checksum.wrapping_add(b.labels[0] as u64);
        }
        times.push(started.elapsed().as_secs_f64());
        cpu.push(thread_cpu_seconds() - cpu_started);
    }
    times.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    let per_image = |t: f64| t / train.len() as f64 * 1e6;
    println!(
        "augment: {:.2} us per image of CPU time, {:.2} us wall-clock (best of {passes}; medians {:.2} and {:.2}); {:.3} s of CPU per {}-image epoch [{checksum}]",
        per_image(cpu[0]),
        per_image(times[0]),
        per_image(cpu[cpu.len() / 2]),
        per_image(times[times.len() / 2]),
        cpu[0],
        train.len()
    );
    Ok(())
}
