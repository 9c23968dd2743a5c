//! Throughput and latency of the tutorial network (784-25-15-10): one training step at batch 64,
//! one epoch of 60,000 images, and inference. Uses MNIST when found ($DIGITS_MNIST_DIR or
//! ../shared/data/mnist), otherwise synthetic images with the same share of ink.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use digits::data::{Dataset, PixelLayout, PixelScale, Pixels};
use digits::nn::{Init, ModelSpec, Sequential};
use digits::train::{FitConfig, Trainer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

/// n training images of MNIST, or synthetic ones when MNIST is not here.
fn images(n: usize) -> Dataset {
    let dir = std::env::var("DIGITS_MNIST_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/mnist").into());
    match digits::data::mnist::load_dir(dir.as_ref()) {
        Ok((train, _)) => train.select(&(0..n).collect::<Vec<_>>()),
        Err(_) => synthetic(n),
    }
}

/// Digit-like images: a filled disc of ink at a random place near the centre.
fn synthetic(n: usize) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let labels: Vec<u8> = (0..n).map(|_| rng.gen_range(0..10)).collect();
    // MNIST-like sparsity: about 80% background pixels.
    let pixels = (0..n * 784)
        .map(|_| if rng.gen_bool(0.2) { rng.gen() } else { 0 })
        .collect();
    Dataset {
        pixels: Pixels::U8(pixels),
        labels,
        rows: 28,
        cols: 28,
        layout: PixelLayout::RowMajor,
    }
}

fn model() -> Sequential {
    Sequential::new(ModelSpec::mlp(784, &[25, 15], 10), Init::KaimingUniform, 0)
}

fn step(c: &mut Criterion) {
    let data = images(64);
    let x = data.batch_x(&(0..64).collect::<Vec<_>>(), PixelScale::Unit);
    let mut g = c.benchmark_group("train_step_b64");
    g.throughput(Throughput::Elements(64));
    for threads in [1, 2] {
        let mut m = model();
        let mut t = Trainer::new(
            &m,
            FitConfig {
                threads,
                ..FitConfig::default()
            },
        );
        g.bench_function(format!("threads{threads}"), |b| {
            b.iter(|| t.train_step(&mut m, black_box(&x), &data.labels))
        });
    }
    g.finish();
}

fn epoch(c: &mut Criterion) {
    let data = images(60_000);
    let mut g = c.benchmark_group("epoch_60000");
    g.sample_size(10).throughput(Throughput::Elements(60_000));
    for threads in [1, 2] {
        g.bench_function(format!("threads{threads}"), |b| {
            b.iter_batched(
                || {
                    (
                        model(),
                        FitConfig {
                            epochs: 1,
                            threads,
                            ..FitConfig::default()
                        },
                    )
                },
                |(mut m, cfg)| {
                    Trainer::new(&m, cfg)
                        .fit(&mut m, &data, None, &mut ())
                        .unwrap()
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn inference(c: &mut Criterion) {
    let m = model();
    let data = images(10_000);
    let all: Vec<usize> = (0..10_000).collect();
    let x = data.batch_x(&all, PixelScale::Unit);
    let mut ws = m.workspace(1);
    c.bench_function("predict_one_image_workspace", |b| {
        b.iter(|| black_box(m.forward(black_box(&x[..784]), 1, &mut ws)[0]))
    });
    c.bench_function("predict_one_image_alloc", |b| {
        b.iter(|| m.predict_digits(black_box(&x[..784])))
    });
    let mut g = c.benchmark_group("predict_10000");
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("batched", |b| b.iter(|| m.predict_digits(black_box(&x))));
    g.finish();
}

criterion_group!(benches, step, epoch, inference);
criterion_main!(benches);
