//! Speed of a CTC training step and of reading, for a small line reader on 32 x 128 lines:
//! c16k3s, p2, c32k3s, p2, c64k3s, p2x1, c64k3s, p4x1, then a 1x1 convolution to 15 classes
//! (32 columns of scores). Prints the best wall time of `--reps` steps (default 20) of a batch
//! of `--batch` lines (default 32) on `--threads` threads (default 2), and lines read per
//! second by `predict`.
//!
//!     cargo run --release --example seq_step_bench [-- --reps 20 --batch 32 --threads 2]

use digits::nn::{
    Activation, Adam, Init, LayerSpec, ModelSpec, Padding, SequenceLabels, Sequential,
};
use digits::train::step::Stepper;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn main() {
    let (reps, batch, threads) = (arg("--reps", 20), arg("--batch", 32), arg("--threads", 2));
    let (relu, same) = (Activation::Relu, Padding::Same);
    let spec = ModelSpec::image(
        32,
        128,
        1,
        vec![
            LayerSpec::conv2d(16, 3, same, relu),
            LayerSpec::maxpool2d(),
            LayerSpec::conv2d(32, 3, same, relu),
            LayerSpec::maxpool2d(),
            LayerSpec::conv2d(64, 3, same, relu),
            LayerSpec::maxpool(2, 1),
            LayerSpec::conv2d(64, 3, same, relu),
            LayerSpec::maxpool(4, 1),
            LayerSpec::conv2d(15, 1, Padding::Valid, Activation::Linear),
        ],
    );
    let mut model = Sequential::new(spec, Init::KaimingUniform, 1);
    let (t, classes) = model.sequence_output().expect("per-column output");
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let x: Vec<f32> = (0..batch * model.input_dim())
        .map(|_| rng.gen_range(0.0..1.0))
        .collect();
    let lengths: Vec<usize> = (0..batch).map(|_| rng.gen_range(1..=13)).collect();
    let labels: Vec<u8> = (0..lengths.iter().sum())
        .map(|_| rng.gen_range(1..classes as u8))
        .collect();
    let seqs = SequenceLabels {
        labels: &labels,
        lengths: &lengths,
    };
    let mut stepper = Stepper::new(&model, batch, threads);
    stepper.fix_mode(threads > 1);
    let mut adam = Adam::new(model.params().len(), 1e-3);
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let start = Instant::now();
        let loss = stepper.ctc_loss_and_grads(&model, &x, &seqs).unwrap();
        stepper.adam_step(&mut adam, model.params_mut());
        best = best.min(start.elapsed().as_secs_f64());
        assert!(loss.is_finite());
    }
    println!(
        "{} parameters, {t} columns x {classes} classes; CTC step (forward, loss, backward, Adam) of {batch} lines on {threads} threads: {:.1} ms, {:.0} lines/s",
        model.params().len(),
        best * 1e3,
        batch as f64 / best
    );
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let start = Instant::now();
        std::hint::black_box(model.predict(&x));
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "predict {batch} lines (one thread below 2048 rows): {:.1} ms, {:.0} lines/s",
        best * 1e3,
        batch as f64 / best
    );
}
