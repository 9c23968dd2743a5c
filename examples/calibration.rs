//! Does temperature scaling make a model's probabilities more trustworthy? Fits a softmax
//! temperature on MNIST training digits distorted as `--augment` distorts them (a seed training
//! never used, a quarter scanned as form readers scan), then measures the expected calibration
//! error (15 bins), the negative log-likelihood, the error among the 95% most confident answers
//! and the wrong answers above 0.99 at temperature 1 and at the fitted one on MNIST's test set, its box scans and a folder of
//! labelled pictures (e.g. Semeion): measured only, never fitted on.
//!
//!     cargo run --release --example calibration -- [MNIST_DIR] [--model M] [--images DIR]
//!         [--fit N] [--seed S]
//!
//! The built-in model was trained on all 60,000 training digits, so none is truly held out: the
//! plain training digits are also reported, to show how much they would understate the
//! temperature.

use digits::data::{image_folder, mnist, Dataset, PixelScale, Pixels};
use digits::default_model;
use digits::nn::Sequential;
use digits::train::calibration::{self, Answer, ECE_BINS};
use digits::vision::augment::{augment_image, Augment};
use digits::vision::preprocess;
use digits::vision::scan::{box_scan, ScanSettings};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;

/// Logits and labels of one set.
struct Set {
    name: String,
    logits: Vec<f32>,
    labels: Vec<u8>,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let dir = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .map_or("../shared/data/mnist", String::as_str);
    let ckpt = default_model::load_or_default(flag("--model").map(PathBuf::from).as_deref())?;
    let fit_n: usize = flag("--fit").map_or(Ok(10_000), |s| s.parse())?;
    let seed: u64 = flag("--seed").map_or(Ok(2026), |s| s.parse())?;
    let scale = ckpt.meta.scale;
    let model = &ckpt.model;
    let (train, test) = mnist::load_dir(dir.as_ref())?;

    let fit_idx: Vec<usize> = (0..fit_n.min(train.len())).collect();
    let distorted = distort(&train, &fit_idx, seed);
    let plain_train = train.select(&fit_idx);
    let mut sets = vec![
        set(
            model,
            "MNIST training digits, distorted (fit)",
            &distorted,
            scale,
        ),
        set(model, "MNIST training digits, plain", &plain_train, scale),
        set(model, "MNIST test", &test, scale),
        set(model, "MNIST test, box scans 16x16", &scanned(&test), scale),
    ];
    if let Some(images) = flag("--images") {
        sets.push(pictures(model, &images, scale)?);
    }
    let t = calibration::fit_temperature(&sets[0].logits, &sets[0].labels, 10);
    let t_plain = calibration::fit_temperature(&sets[1].logits, &sets[1].labels, 10);
    println!("temperature fitted on {fit_n} distorted training digits: {t:.3}");
    println!("(on the same digits undistorted, seen in training: {t_plain:.3})");
    println!(
        "{:<42} {:>8} {:>14} {:>14} {:>18} {:>14}",
        "set", "accuracy", "ECE T=1 -> T", "NLL T=1 -> T", "err@95% T=1 -> T", "wrong>0.99"
    );
    for s in &mut sets {
        let (a1, e1, n1, s1, w1) = measure(s, 1.0);
        let (_, et, nt, st, wt) = measure(s, t);
        println!(
            "{:<42} {a1:>8.4} {e1:>6.4} {et:>6.4} {n1:>6.4} {nt:>6.4} {s1:>8.4} {st:>8.4} {w1:>6} {wt:>6}",
            s.name
        );
    }
    Ok(())
}

/// Accuracy, ECE, NLL, the error among the 95% most confident and the number of wrong answers
/// above 0.99 at `temperature`.
fn measure(s: &Set, temperature: f32) -> (f64, f64, f64, f64, usize) {
    let answers: Vec<Answer> = s
        .logits
        .chunks_exact(10)
        .zip(&s.labels)
        .map(|(z, &y)| Answer::of(&calibration::softmax_at(z, temperature), y as usize))
        .collect();
    (
        calibration::accuracy(&answers),
        calibration::expected_calibration_error(&answers, ECE_BINS),
        calibration::nll_at(&s.logits, &s.labels, 10, temperature),
        calibration::selective(&answers, &[0.05])[0].error(),
        answers
            .iter()
            .filter(|a| !a.correct && a.confidence > 0.99)
            .count(),
    )
}

fn set(model: &Sequential, name: &str, data: &Dataset, scale: PixelScale) -> Set {
    let all: Vec<usize> = (0..data.len()).collect();
    Set {
        name: name.into(),
        logits: model.predict(&data.batch_x(&all, scale)),
        labels: data.labels.clone(),
    }
}

/// `indices` of `data` distorted as `--augment` does, each with its own stream from `seed`.
fn distort(data: &Dataset, indices: &[usize], seed: u64) -> Dataset {
    let Pixels::U8(px) = &data.pixels else {
        panic!("MNIST pixels are bytes");
    };
    let f = data.features();
    let mut out = vec![0u8; indices.len() * f];
    let mut tmp = vec![0u8; f];
    let aug = Augment::default();
    for (k, &i) in indices.iter().enumerate() {
        let mut rng =
            ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(k as u64));
        let dst = &mut out[k * f..(k + 1) * f];
        augment_image(
            &px[i * f..(i + 1) * f],
            data.cols,
            data.rows,
            &aug,
            &mut rng,
            &mut tmp,
            dst,
        );
    }
    like(data, out, indices.iter().map(|&i| data.labels[i]).collect())
}

/// `data` scanned as `examples/box_scans` scans it (16x16, half ink).
fn scanned(data: &Dataset) -> Dataset {
    let Pixels::U8(px) = &data.pixels else {
        panic!("MNIST pixels are bytes");
    };
    let f = data.features();
    let mut out = px.clone();
    let settings = ScanSettings {
        side: 16,
        level: 0.5,
    };
    for (src, dst) in px.chunks_exact(f).zip(out.chunks_exact_mut(f)) {
        box_scan(src, data.cols, data.rows, settings, dst);
    }
    like(data, out, data.labels.clone())
}

/// A dataset of `pixels` and `labels` shaped as `data`.
fn like(data: &Dataset, pixels: Vec<u8>, labels: Vec<u8>) -> Dataset {
    Dataset {
        pixels: Pixels::U8(pixels),
        labels,
        rows: data.rows,
        cols: data.cols,
        layout: data.layout,
    }
}

/// A folder of labelled pictures, read as `digits eval --images` reads them.
fn pictures(model: &Sequential, dir: &str, scale: PixelScale) -> anyhow::Result<Set> {
    let (items, _) = image_folder::list(dir.as_ref())?;
    let (mut x, mut labels) = (Vec::new(), Vec::new());
    for item in &items {
        let Ok(mut v) = preprocess::from_path(&item.path) else {
            continue;
        };
        if scale == PixelScale::Raw {
            v.iter_mut().for_each(|p| *p *= 255.0);
        }
        x.extend(v);
        labels.push(item.label);
    }
    Ok(Set {
        name: dir.into(),
        logits: model.predict(&x),
        labels,
    })
}
