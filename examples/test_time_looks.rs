//! Whether reading a digit several times, a little distorted each time, and averaging the
//! probabilities (test-time looks) reads it better: for each set of looks, the accuracy, the
//! error among the 95% most confident answers and the ECE of the built-in model (or `--model`)
//! on MNIST's test set, on the same digits scanned as form readers scan them (`vision::scan`)
//! and, with `--images DIR`, on a labelled folder of pictures (Semeion: look once per
//! candidate, never choose by it).
//!
//! ```text
//! cargo run --release --example test_time_looks -- MNIST_DIR [--model M] [--images DIR] id id,r+,r- ...
//! ```
//! Looks: `id` as it is, `r+`/`r-` turned 8 degrees, `s+`/`s-` scaled by 1.1/0.9, `w+`/`w-` made
//! 15% wider/narrower, `k+`/`k-` sheared by 0.15, `t+`/`t-` strokes thickened/thinned by half
//! the 3x3 cross.

use anyhow::{bail, Context};
use digits::data::{image_folder, mnist, PixelScale, Pixels};
use digits::train::calibration::{self, Answer, ECE_BINS};
use digits::vision::augment::{self, Params};
use digits::vision::preprocess::{self, PIXELS, SIDE};
use digits::vision::scan::{box_scan, ScanSettings};
use rayon::prelude::*;
use std::path::PathBuf;

/// The digit `src` (28x28, 0 = paper) seen in the look named `kind`.
fn look(src: &[u8], kind: &str) -> anyhow::Result<Vec<u8>> {
    let mut p = Params::identity();
    let mut out = vec![0u8; PIXELS];
    match kind {
        "id" => return Ok(src.to_vec()),
        "r+" | "r-" => p.rotation = if kind == "r+" { 8f32 } else { -8f32 }.to_radians(),
        "s+" => p.scale = (1.1, 1.1),
        "s-" => p.scale = (0.9, 0.9),
        "w+" => p.scale = (1.15, 1.0),
        "w-" => p.scale = (0.85, 1.0),
        "k+" => p.shear = 0.15,
        "k-" => p.shear = -0.15,
        "t+" | "t-" => {
            augment::stroke(
                src,
                SIDE,
                SIDE,
                if kind == "t+" { 0.5 } else { -0.5 },
                &mut out,
            );
            return Ok(out);
        }
        _ => bail!("unknown look {kind:?}"),
    }
    augment::warp(src, SIDE, SIDE, &p, &mut out);
    Ok(out)
}

struct Set {
    name: String,
    images: Vec<Vec<u8>>,
    labels: Vec<usize>,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut rest = args.iter();
    let (mut mnist_dir, mut model, mut images, mut looks) = (None, None, None, Vec::new());
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--model" => model = Some(PathBuf::from(rest.next().context("--model needs a file")?)),
            "--images" => {
                images = Some(PathBuf::from(
                    rest.next().context("--images needs a folder")?,
                ))
            }
            _ if mnist_dir.is_none() => mnist_dir = Some(PathBuf::from(a)),
            _ => looks.push(a.split(',').map(str::to_owned).collect::<Vec<_>>()),
        }
    }
    let mnist_dir = mnist_dir.unwrap_or_else(|| PathBuf::from("../shared/data/mnist"));
    if looks.is_empty() {
        looks.push(vec!["id".to_owned()]);
    }
    let ckpt = digits::default_model::load_or_default(model.as_deref())?;
    let raw = ckpt.meta.scale == PixelScale::Raw;
    let (_, test) = mnist::load_dir(&mnist_dir)?;
    let Pixels::U8(px) = &test.pixels else {
        bail!("MNIST pixels are bytes");
    };
    let plain: Vec<Vec<u8>> = px.chunks(PIXELS).map(<[u8]>::to_vec).collect();
    let labels: Vec<usize> = test.labels.iter().map(|&l| l as usize).collect();
    let settings = ScanSettings {
        side: 16,
        level: 0.5,
    };
    let scans = plain
        .iter()
        .map(|img| {
            let mut out = vec![0u8; PIXELS];
            box_scan(img, SIDE, SIDE, settings, &mut out);
            out
        })
        .collect();
    let mut sets = vec![
        Set {
            name: "MNIST test".into(),
            images: plain,
            labels: labels.clone(),
        },
        Set {
            name: "box scans".into(),
            images: scans,
            labels,
        },
    ];
    if let Some(dir) = images {
        let (items, problems) = image_folder::list(&dir)?;
        for p in &problems {
            eprintln!("skipped {}: {}", p.path.display(), p.message);
        }
        let mut set = Set {
            name: dir.display().to_string(),
            images: Vec::new(),
            labels: Vec::new(),
        };
        for item in &items {
            let x = preprocess::from_path(&item.path)?;
            set.images
                .push(x.iter().map(|v| (v * 255.0).round() as u8).collect());
            set.labels.push(item.label as usize);
        }
        sets.push(set);
    }
    println!("looks | set | accuracy | error among the 95% most confident | ECE");
    for kinds in &looks {
        for set in &sets {
            let answers = set
                .images
                .par_chunks(256)
                .zip(set.labels.par_chunks(256))
                .map(|(images, labels)| {
                    let mut mean = vec![0f32; images.len() * 10];
                    for kind in kinds {
                        let mut x = Vec::with_capacity(images.len() * PIXELS);
                        for img in images {
                            let seen = look(img, kind)?;
                            let scale = if raw { 1.0 } else { 1.0 / 255.0 };
                            x.extend(seen.iter().map(|&v| v as f32 * scale));
                        }
                        let p = ckpt.model.predict_proba(&x);
                        for (m, q) in mean.iter_mut().zip(&p) {
                            *m += q / kinds.len() as f32;
                        }
                    }
                    Ok(mean
                        .chunks(10)
                        .zip(labels)
                        .map(|(p, &l)| Answer::of(p, l))
                        .collect::<Vec<_>>())
                })
                .collect::<anyhow::Result<Vec<_>>>()?
                .concat();
            let kept = calibration::selective(&answers, &[0.05]);
            println!(
                "{} | {} | {:.4} | {:.4} | {:.4}",
                kinds.join(","),
                set.name,
                calibration::accuracy(&answers),
                kept[0].error(),
                calibration::expected_calibration_error(&answers, ECE_BINS)
            );
        }
    }
    Ok(())
}
