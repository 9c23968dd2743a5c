//! The CNN's speed for bench/compare.sh, beside `torch_cnn.py`: Keras' mnist_convnet (34,826
//! parameters), batch 128, Adam 1e-3, inputs /255, shuffled, trained for `--epochs` epochs on
//! `--threads` threads; then the 10,000 test images predicted in one call. Prints one JSON object.
//!
//!     cargo run --release --example cnn_throughput -- MNIST_DIR [--epochs 1] [--threads 2]

use digits::data::{mnist, PixelScale};
use digits::nn::{Init, ModelSpec, Sequential};
use digits::train::{FitConfig, Trainer};
use std::hint::black_box;
use std::time::Instant;

/// Multiply-adds x 2 of one training sample (forward, and the two products of each backward),
/// for the fraction of the machine's GEMM rate: about 14.3 MFLOP.
fn train_flop_per_sample() -> f64 {
    let conv1 = 26.0 * 26.0 * 32.0 * 9.0;
    let conv2 = 11.0 * 11.0 * 64.0 * 32.0 * 9.0;
    let dense = 1600.0 * 10.0;
    // conv1 needs no input gradient; conv2 and the dense layer need both.
    2.0 * (2.0 * conv1 + 3.0 * conv2 + 3.0 * dense)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or("data/mnist", String::as_str);
    let flag = |name: &str, default: usize| -> anyhow::Result<usize> {
        Ok(args
            .iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(Ok(default), |s| s.parse())?)
    };
    let (epochs, threads) = (flag("--epochs", 1)?, flag("--threads", 2)?);
    let (train, test) = mnist::load_dir(dir.as_ref())?;
    let mut model = Sequential::new(ModelSpec::mnist_convnet(784, 10), Init::KaimingUniform, 1);
    let config = FitConfig {
        epochs,
        threads,
        batch_size: 128,
        seed: 1,
        ..FitConfig::default()
    };
    let history = Trainer::new(&model, config).fit(&mut model, &train, Some(&test), &mut ())?;
    let mut epoch_s = history.epoch_seconds.clone();
    epoch_s.sort_by(f64::total_cmp);
    let epoch_s = epoch_s[epoch_s.len() / 2];

    let all: Vec<usize> = (0..test.len()).collect();
    let x = test.batch_x(&all, PixelScale::Unit);
    let mut infer: Vec<f64> = (0..3)
        .map(|_| {
            let t = Instant::now();
            black_box(model.predict_digits(&x));
            t.elapsed().as_secs_f64()
        })
        .collect();
    infer.sort_by(f64::total_cmp);

    let samples_per_s = train.len() as f64 / epoch_s;
    let out = serde_json::json!({
        "threads": threads,
        "epoch_s": epoch_s,
        "samples_per_s": samples_per_s,
        "test_accuracy": history.test_accuracy.last(),
        "infer_10000_img_per_s": test.len() as f64 / infer[1],
        "train_gflops": samples_per_s * train_flop_per_sample() / 1e9,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
