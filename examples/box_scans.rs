//! How well a model reads MNIST's test digits once they are scanned as low-resolution form
//! readers scan digits (stretched to fill a square box, thresholded to black and white; see
//! `digits::vision::scan`), beside the plain test images. A validation set for that kind of
//! picture made from MNIST's test set, so that no real test set is used to choose a model.
//!
//!     cargo run --release --example box_scans -- [MNIST_DIR] [--model M] [--side S] [--level L]

use digits::data::{mnist, Pixels};
use digits::default_model;
use digits::nn::argmax;
use digits::vision::scan::{box_scan, ScanSettings};
use std::path::PathBuf;

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
    let settings = ScanSettings {
        side: flag("--side").map_or(Ok(16), |s| s.parse())?,
        level: flag("--level").map_or(Ok(0.5), |s| s.parse())?,
    };
    let (_, test) = mnist::load_dir(dir.as_ref())?;
    let Pixels::U8(px) = &test.pixels else {
        anyhow::bail!("MNIST pixels are bytes");
    };
    let raw = ckpt.meta.scale == digits::data::PixelScale::Raw;
    let f = test.features();
    let (mut plain, mut scanned, mut changed) = (0usize, 0usize, 0usize);
    let mut confusion = [[0usize; 10]; 10];
    let mut out = vec![0u8; f];
    let read = |img: &[u8]| {
        let x: Vec<f32> = img
            .iter()
            .map(|&v| if raw { v as f32 } else { v as f32 / 255.0 })
            .collect();
        argmax(&ckpt.model.predict(&x))
    };
    for i in 0..test.len() {
        let img = &px[i * f..(i + 1) * f];
        let label = test.labels[i] as usize;
        plain += (read(img) == label) as usize;
        changed += box_scan(img, test.cols, test.rows, settings, &mut out) as usize;
        let got = read(&out);
        scanned += (got == label) as usize;
        confusion[label][got] += 1;
    }
    let n = test.len() as f64;
    println!(
        "plain {:.4}, scanned ({}x{}, level {}) {:.4} ({changed} of {} scanned)",
        plain as f64 / n,
        settings.side,
        settings.side,
        settings.level,
        scanned as f64 / n,
        test.len()
    );
    println!("confusion of the scanned (rows: true digit):");
    for (d, row) in confusion.iter().enumerate() {
        println!("  {d}: {row:?}");
    }
    Ok(())
}
