//! Speed figures of `digits` on real MNIST, printed as one JSON object for bench/compare.sh:
//! training epoch time (784-25-15-10, batch 64, Adam) on 1 and 2 threads, one-image latency,
//! the 10,000 test images batched, and the time a wider MLP takes to reach 0.97 test accuracy.
//!
//!     cargo run --release --example throughput -- MNIST_DIR [--epochs 3] [--skip-wide]
//!     cargo run --release --example throughput -- --simd-level   # prints the SIMD level in use

use digits::data::{mnist, PixelScale};
use digits::nn::{argmax, simd, Init, ModelSpec, Sequential};
use digits::train::{FitConfig, Trainer};
use std::hint::black_box;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--simd-level") {
        // The instruction set the kernels use here (bench/compare.sh asks).
        println!("{:?}", simd::level());
        return Ok(());
    }
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or("data/mnist", String::as_str);
    let epochs: usize = args
        .iter()
        .position(|a| a == "--epochs")
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(3), |s| s.parse())?;
    let (train, test) = mnist::load_dir(dir.as_ref())?;
    let tutorial = ModelSpec::mlp(784, &[25, 15], 10);

    let mut out = serde_json::Map::new();
    out.insert("simd".into(), format!("{:?}", simd::level()).into());
    for threads in [1, 2] {
        let mut model = Sequential::new(tutorial.clone(), Init::KaimingUniform, 1);
        let config = FitConfig {
            epochs,
            threads,
            seed: 1,
            ..FitConfig::default()
        };
        let history = Trainer::new(&model, config).fit(&mut model, &train, Some(&test), &mut ())?;
        let epoch_s = median(history.epoch_seconds.clone());
        out.insert(format!("epoch_s_threads{threads}"), epoch_s.into());
        out.insert(
            format!("samples_per_s_threads{threads}"),
            (train.len() as f64 / epoch_s).into(),
        );
        out.insert(
            format!("test_accuracy_threads{threads}"),
            history.test_accuracy[epochs - 1].into(),
        );
    }

    // Inference with a trained model.
    let mut model = Sequential::new(tutorial, Init::KaimingUniform, 1);
    Trainer::new(
        &model,
        FitConfig {
            epochs: 1,
            ..FitConfig::default()
        },
    )
    .fit(&mut model, &train, None, &mut ())?;
    let all: Vec<usize> = (0..test.len()).collect();
    let x = test.batch_x(&all, PixelScale::Unit);
    let mut ws = model.workspace(1);
    let mut lat = Vec::with_capacity(10_000);
    for r in 0..10_000 {
        let xi = &x[(r % test.len()) * 784..][..784];
        let t = Instant::now();
        black_box(argmax(model.forward(black_box(xi), 1, &mut ws)));
        lat.push(t.elapsed().as_secs_f64());
    }
    out.insert("predict_1img_median_us".into(), (median(lat) * 1e6).into());
    let full: Vec<f64> = (0..20)
        .map(|_| {
            let t = Instant::now();
            black_box(model.predict_digits(&x));
            t.elapsed().as_secs_f64()
        })
        .collect();
    out.insert(
        "infer_full10000_img_per_s".into(),
        (10_000.0 / median(full)).into(),
    );

    // The machine's large single-precision GEMM rate (one thread), as the yardstick for the
    // useful FLOP/s of training.
    let n = 768;
    let (a, b, mut c) = (
        vec![0.5f32; n * n],
        vec![0.25f32; n * n],
        vec![0.0f32; n * n],
    );
    let gemm_s = median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                digits::nn::kernels::gemm(n, n, n, &a, false, &b, false, 0.0, &mut c);
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    out.insert(
        "sgemm_768_gflops_1thread".into(),
        (2.0 * (n * n * n) as f64 / gemm_s / 1e9).into(),
    );

    if !args.iter().any(|a| a == "--skip-wide") {
        // Time to 0.97 test accuracy with 784-128-64-10 (training seconds, evaluation excluded).
        let mut model =
            Sequential::new(ModelSpec::mlp(784, &[128, 64], 10), Init::KaimingUniform, 1);
        let mut trainer = Trainer::new(
            &model,
            FitConfig {
                epochs: 0,
                seed: 1,
                ..FitConfig::default()
            },
        );
        let mut reached = None;
        for epoch in 1..=20 {
            trainer.config.epochs = epoch;
            let h = trainer.fit(&mut model, &train, Some(&test), &mut ())?;
            if h.test_accuracy[epoch - 1] >= 0.97 {
                reached = Some((epoch, h.epoch_seconds.iter().sum::<f64>()));
                break;
            }
        }
        let (e, s) = reached.map_or(
            (serde_json::Value::Null, serde_json::Value::Null),
            |(e, s)| (e.into(), s.into()),
        );
        out.insert("wide_epochs_to_097".into(), e);
        out.insert("wide_seconds_to_097".into(), s);
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
