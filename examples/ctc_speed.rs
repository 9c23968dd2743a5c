//! What the CTC loss and the decoders cost, at the sizes of a number reader: a batch of 64 lines,
//! each 64 columns (a 256 px line pooled by 4) of 15 classes (blank, ten digits, four
//! separators), labels of 1 to 13 characters.
//!
//!     cargo run --release --example ctc_speed

use digits::nn::ctc::{CtcBatch, CtcLoss, Reduction};
use digits::nn::ctc_decode::{beam_decode, greedy_decode};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// This thread's CPU time in seconds: on a machine shared with other builds, the time the work
/// took on a core, where the wall clock also counts the waits for one.
fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid one given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The median of `runs` timings of `f` in microseconds: wall clock and this thread's CPU time.
fn median_us(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let (mut wall, mut cpu): (Vec<f64>, Vec<f64>) = (0..runs)
        .map(|_| {
            let (start, start_cpu) = (Instant::now(), thread_cpu_s());
            f();
            (
                start.elapsed().as_secs_f64() * 1e6,
                (thread_cpu_s() - start_cpu) * 1e6,
            )
        })
        .unzip();
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    (wall[runs / 2], cpu[runs / 2])
}

fn main() {
    let (n, t, c) = (64, 64, 15);
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    // Columns that favour one class each, as a partly trained network gives.
    let logits: Vec<f32> = (0..n * t)
        .flat_map(|_| {
            let hot = rng.gen_range(0..c);
            let noise: Vec<f32> = (0..c).map(|_| rng.gen_range(-1.0..1.0)).collect();
            (0..c).map(move |k| noise[k] + if k == hot { 4.0 } else { 0.0 })
        })
        .collect();
    let mut targets = Vec::new();
    let target_lengths: Vec<usize> = (0..n)
        .map(|_| {
            let len = rng.gen_range(1..=13);
            targets.extend((0..len).map(|_| rng.gen_range(1..c) as u8));
            len
        })
        .collect();
    let batch = CtcBatch {
        logits: &logits,
        n,
        t,
        classes: c,
        input_lengths: None,
        targets: &targets,
        target_lengths: &target_lengths,
    };
    let mut ctc = CtcLoss::with_capacity(t, c, 13);
    let mut losses = vec![0.0; n];
    let mut grad = vec![0.0; logits.len()];
    let loss_only = median_us(50, || {
        ctc.compute(&batch, Reduction::Mean, &mut losses, None)
            .unwrap();
    });
    let with_grad = median_us(50, || {
        ctc.compute(&batch, Reduction::Mean, &mut losses, Some(&mut grad))
            .unwrap();
    });
    println!("CTC over {n} sequences x {t} columns x {c} classes, labels 1-13, one thread");
    println!("(medians: wall clock, and in brackets this thread's CPU time):");
    println!(
        "  loss            {:8.0} us ({:.0}) per batch",
        loss_only.0, loss_only.1
    );
    println!(
        "  loss + gradient {:8.0} us ({:.0}) per batch",
        with_grad.0, with_grad.1
    );
    let seq = |i: usize| &logits[i * t * c..(i + 1) * t * c];
    let mut chars = 0;
    let greedy = median_us(50, || {
        for i in 0..n {
            chars += greedy_decode(seq(i), c).labels.len();
        }
    });
    println!(
        "  greedy decoding {:8.1} us ({:.1}) per sequence",
        greedy.0 / n as f64,
        greedy.1 / n as f64
    );
    for width in [4, 10, 32] {
        let beam = median_us(20, || {
            for i in 0..n {
                chars += beam_decode(seq(i), c, width).labels.len();
            }
        });
        println!(
            "  beam decoding   {:8.1} us ({:.1}) per sequence (width {width})",
            beam.0 / n as f64,
            beam.1 / n as f64
        );
    }
    assert!(chars > 0);
}
