//! How fast pictures of numbers are read: numbers per second over a folder (files decoded and
//! read in parallel on 2 threads, decoding included), and the median time to read one picture
//! on one thread (decoding included, and without it).
//!
//! ```text
//! cargo run --release --example read_speed -- DIR [--model FILE | --segment | --unchecked]
//! ```
//!
//! DIR is searched recursively for PNG, JPEG and BMP files (e.g. ../shared/data/numbers).

use digits::vision::number_reader::{number_reader, read_path};
use digits::vision::preprocess;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Threads of the throughput run.
const THREADS: usize = 2;
/// Pictures timed one by one for the latency.
const LATENCY_SAMPLE: usize = 300;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut dir, mut model, mut segment, mut unchecked) = (None, None, false, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--model" => {
                let f = it
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--model needs a file"))?;
                model = Some(PathBuf::from(f));
            }
            "--segment" => segment = true,
            "--unchecked" => unchecked = true,
            _ if dir.is_none() => dir = Some(PathBuf::from(a)),
            _ => anyhow::bail!("unexpected argument {a:?}; usage: read_speed DIR [--model FILE]"),
        }
    }
    let dir = dir.ok_or_else(|| anyhow::anyhow!("usage: read_speed DIR [--model FILE]"))?;
    // --model FILE: that reader (or digit model, read by cutting); --segment: the built-in
    // digit model read by cutting; --unchecked: the built-in line reader without the digit
    // model's check; else the built-in number reader.
    let reader: Box<dyn digits::vision::reading::NumberReader> = match (&model, segment) {
        (None, false) if unchecked => Box::new(digits::default_reader::line_reader()?),
        (None, false) => Box::new(digits::default_reader::reader()?),
        _ => number_reader(digits::default_model::load_or_default(model.as_deref())?)?,
    };
    let mut files = Vec::new();
    pictures(&dir, &mut files)?;
    files.sort();
    if files.is_empty() {
        anyhow::bail!(
            "no PNG, JPEG, BMP, TIFF or WebP picture under {}",
            dir.display()
        );
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(THREADS)
        .build()?;

    // Warm up (page cache, allocator), then the timed run over every picture.
    pool.install(|| {
        files.par_iter().take(50).for_each(|f| {
            let _ = read_path(reader.as_ref(), f);
        })
    });
    let start = Instant::now();
    let failed = pool.install(|| {
        files
            .par_iter()
            .filter(|f| read_path(reader.as_ref(), f).is_err())
            .count()
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} pictures under {} ({failed} unreadable), {THREADS} threads, decoding included: \
         {:.1} s, {:.1} numbers/s",
        files.len(),
        dir.display(),
        secs,
        files.len() as f64 / secs
    );

    // One picture at a time on this thread: evenly spread over the sorted list (every folder).
    let step = files.len().div_ceil(LATENCY_SAMPLE).max(1);
    let sample: Vec<&PathBuf> = files.iter().step_by(step).collect();
    let (mut whole, mut read_only) = (Vec::new(), Vec::new());
    for f in &sample {
        let t = Instant::now();
        let Ok(img) = preprocess::decode_path(f) else {
            continue;
        };
        let t_read = Instant::now();
        let _ = reader.read_image(&img);
        let done = Instant::now();
        whole.push((done - t).as_secs_f64());
        read_only.push((done - t_read).as_secs_f64());
    }
    let mean = whole.iter().sum::<f64>() / whole.len().max(1) as f64;
    println!(
        "one picture on one thread ({} pictures): median {:.2} ms with decoding ({:.2} ms mean), \
         {:.2} ms reading the decoded picture",
        whole.len(),
        median(&mut whole) * 1e3,
        mean * 1e3,
        median(&mut read_only) * 1e3
    );
    Ok(())
}

/// The pictures under `dir`, recursively.
fn pictures(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot list {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            pictures(&path, out)?;
        } else if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            if matches!(
                ext.to_ascii_lowercase().as_str(),
                "png" | "jpg" | "jpeg" | "bmp" | "tif" | "tiff" | "webp"
            ) {
                out.push(path);
            }
        }
    }
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
