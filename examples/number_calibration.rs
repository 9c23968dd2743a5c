//! Fits the calibration of the built-in number reader's confidence
//! (`default_reader::CALIBRATION`): numbers composed from MNIST *training* digits (a seed
//! nothing else uses), laid out as the composed numbers of `tests/vision_read.rs` are, are read by the
//! built-in reader with its confidence left as its rules make it, once untold and once told
//! their count of digits; a Platt map (`train::calibration::fit_platt`) is fitted to whether each
//! was read right, one for each way of reading. Each folder of `--numbers DIR` (labels.csv, as
//! `digits eval --numbers` takes) is then read both ways and the expected calibration error
//! printed before and after its map, with a reliability table: measured only, never fitted on.
//!
//!     cargo run --release --example number_calibration -- [MNIST_DIR] [--fit N] [--seed S]
//!         [--distorted] [--numbers DIR]...
//!
//! `--distorted` distorts each training digit first, as `--augment` does: those numbers are read
//! less well (0.92 exact against 0.97) and give a map that leaves real writing less well
//! calibrated (see the README).

#[allow(dead_code)]
#[path = "../tests/common/numbers.rs"]
mod numbers;

use clap::Parser;
use digits::data::{mnist, Pixels};
use digits::train::calibration::{
    expected_calibration_error, fit_platt, Answer, Platt, ReaderCalibration, ECE_BINS,
};
use digits::vision::augment::{augment_image, Augment};
use digits::vision::expect::Expected;
use digits::vision::line::check::CheckedReader;
use digits::vision::number_eval::{digits_of, load_labels};
use digits::vision::preprocess::{self, PIXELS, SIDE};
use digits::vision::reading::NumberReader;
use numbers::{compose, gaps, glyph_of};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::path::PathBuf;

#[derive(Parser)]
struct Args {
    /// MNIST's folder (the training digits are composed).
    #[arg(default_value = "../shared/data/mnist")]
    mnist_dir: PathBuf,
    /// Numbers to fit on.
    #[arg(long, default_value_t = 4000)]
    fit: usize,
    /// Seed of their composition.
    #[arg(long, default_value_t = 2027)]
    seed: u64,
    /// Distort each training digit first, as `--augment` does.
    #[arg(long)]
    distorted: bool,
    /// Folders of labelled numbers to measure on (never fitted on); may be repeated.
    #[arg(long, value_name = "DIR")]
    numbers: Vec<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (seed, plain) = (args.seed, !args.distorted);
    let mut reader = digits::default_reader::reader()?;
    let built_in = reader.calibration.take();
    let (train, _) = mnist::load_dir(&args.mnist_dir)?;
    let pictures = composed(&train, args.fit, seed, plain)?;
    let (untold, told): (Vec<Answer>, Vec<Answer>) = pictures
        .par_iter()
        .map(|(png, label)| answers(&reader, &preprocess::decode_bytes(png)?, label))
        .collect::<anyhow::Result<Vec<_>>>()?
        .into_iter()
        .unzip();
    let maps = ReaderCalibration {
        untold: fit_platt(&untold),
        told: fit_platt(&told),
    };
    println!(
        "fitted on {} numbers of 2-5 {} MNIST training digits (seed {seed}):\n  {maps:?}\n  \
         built in: {built_in:?}",
        untold.len(),
        if plain { "plain" } else { "distorted" },
    );
    report("the numbers fitted on, untold", &untold, &maps.untold);
    report("the numbers fitted on, told", &told, &maps.told);
    for folder in &args.numbers {
        let (labels, problems) = load_labels(folder)?;
        if !problems.is_empty() {
            eprintln!("{}: {} labels skipped", folder.display(), problems.len());
        }
        let (untold, told): (Vec<Answer>, Vec<Answer>) = labels
            .par_iter()
            .filter_map(|(label, path)| {
                let img = preprocess::decode_path(path).ok()?;
                answers(&reader, &img, &digits_of(&label.text)).ok()
            })
            .unzip();
        let name = folder.display();
        report(&format!("{name}, untold"), &untold, &maps.untold);
        report(&format!("{name}, told"), &told, &maps.told);
    }
    Ok(())
}

/// `n` pictures of numbers of 2 to 5 distorted training digits, with their labels, made as
/// `tests/vision_read.rs` makes its MNIST numbers (scaled 1.5-3.5 times, uneven gaps, some
/// touching, paper grain, both polarities).
fn composed(
    train: &digits::data::Dataset,
    n: usize,
    seed: u64,
    plain: bool,
) -> anyhow::Result<Vec<(Vec<u8>, String)>> {
    let Pixels::U8(px) = &train.pixels else {
        anyhow::bail!("MNIST's pixels are bytes");
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let augment = if plain {
        Augment::none()
    } else {
        Augment::default()
    };
    let (mut tmp, mut out) = (vec![0u8; PIXELS], vec![0u8; PIXELS]);
    Ok((0..n)
        .map(|k| {
            let count = rng.gen_range(2..=5);
            let scale = rng.gen_range(1.5..3.5f32);
            let (mut glyphs, mut label) = (Vec::new(), String::new());
            for _ in 0..count {
                let i = rng.gen_range(0..train.len());
                let src = &px[i * PIXELS..(i + 1) * PIXELS];
                augment_image(src, SIDE, SIDE, &augment, &mut rng, &mut tmp, &mut out);
                let x: Vec<f32> = out.iter().map(|&v| v as f32 / 255.0).collect();
                glyphs.push(glyph_of(&x, scale));
                label.push_str(&train.labels[i].to_string());
            }
            let g = gaps(count, (20.0 * scale) as usize, &mut rng);
            (compose(&glyphs, &g, k % 2 == 1, &mut rng), label)
        })
        .collect())
}

/// How sure `reader` is of its reading of `img`, and whether it read `label`: untold, and told
/// as many digits as `label` has.
fn answers(
    reader: &CheckedReader,
    img: &image::DynamicImage,
    label: &str,
) -> anyhow::Result<(Answer, Answer)> {
    let count = Expected::digits(label.len()..=label.len()).map_err(anyhow::Error::msg)?;
    let answer = |expected| -> anyhow::Result<Answer> {
        let reading = reader.read_image_as(img, expected)?;
        Ok(Answer {
            confidence: reading.confidence,
            correct: reading.text == label,
        })
    };
    Ok((answer(None)?, answer(Some(&count))?))
}

/// The expected calibration error of `answers` before and after `map`, and a reliability table.
fn report(name: &str, answers: &[Answer], map: &Platt) {
    let mapped = map.apply_to(answers);
    let right = answers.iter().filter(|a| a.correct).count();
    println!(
        "{name}: {} numbers, {:.4} read right; ECE ({ECE_BINS} bins) {:.4} as the rules make it, \
         {:.4} calibrated",
        answers.len(),
        right as f64 / answers.len().max(1) as f64,
        expected_calibration_error(answers, ECE_BINS),
        expected_calibration_error(&mapped, ECE_BINS)
    );
    println!("  confidence as made   numbers   mean   calibrated   right");
    let edges = [
        0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.01,
    ];
    for w in edges.windows(2) {
        let bin: Vec<(&Answer, &Answer)> = answers
            .iter()
            .zip(&mapped)
            .filter(|(a, _)| (w[0]..w[1]).contains(&(a.confidence as f64)))
            .collect();
        if bin.is_empty() {
            continue;
        }
        let n = bin.len() as f64;
        let mean = |f: &dyn Fn(&(&Answer, &Answer)) -> f64| bin.iter().map(f).sum::<f64>() / n;
        println!(
            "  {:.2} to {:.2}        {:7}   {:.3}   {:.3}        {:.3}",
            w[0],
            w[1].min(1.0),
            bin.len(),
            mean(&|(a, _)| a.confidence as f64),
            mean(&|(_, m)| m.confidence as f64),
            mean(&|(a, _)| f64::from(u8::from(a.correct)))
        );
    }
}
