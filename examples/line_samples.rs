//! Training lines of the number reader as the model sees them: writes a PNG of COUNT lines
//! (default 24) made from MNIST's training digits, prints their labels, and times the making
//! of 500 more on one thread. PLAIN: the share of plain lines (`train-reader --plain`).
//!
//!     cargo run --release --example line_samples -- ../shared/data/mnist lines.png [COUNT [PLAIN]]

use digits::data::{mnist, Pixels};
use digits::vision::line::synth::LineSynth;
use digits::vision::line::{text_of, HEIGHT};
use image::{GrayImage, Luma};
use std::time::Instant;

/// This thread's CPU time in seconds.
fn thread_cpu_seconds() -> f64 {
    digits::train::line_source::thread_cpu_ns() as f64 * 1e-9
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (dir, out) = (&args[1], &args[2]);
    let count: usize = args.get(3).map_or(24, |v| v.parse().unwrap());
    let plain: f64 = args.get(4).map_or(0.0, |v| v.parse().unwrap());
    let (train, _) = mnist::load_dir(dir.as_ref())?;
    let Pixels::U8(images) = train.pixels else {
        anyhow::bail!("MNIST loads as bytes")
    };
    let synth = LineSynth::new(images, &train.labels)
        .map_err(anyhow::Error::msg)?
        .with_plain(plain);
    let samples: Vec<_> = (0..count as u64).map(|s| synth.sample(s)).collect();
    let width = samples.iter().map(|s| s.line.width).max().unwrap_or(1);
    let mut img = GrayImage::from_pixel(width as u32, (count * (HEIGHT + 2)) as u32, Luma([128]));
    for (k, s) in samples.iter().enumerate() {
        for y in 0..HEIGHT {
            for x in 0..s.line.width {
                let v = 255.0 * (1.0 - s.line.px[y * s.line.width + x]);
                img.put_pixel(x as u32, (k * (HEIGHT + 2) + y) as u32, Luma([v as u8]));
            }
        }
        let text = text_of(&s.label);
        println!("{k:3} {:4} {text}", s.line.width);
    }
    img.save(out)?;
    let n = 500u64;
    let (started, cpu) = (Instant::now(), thread_cpu_seconds());
    let total: usize = (1000..1000 + n).map(|s| synth.sample(s).line.width).sum();
    let (each, each_cpu) = (
        started.elapsed().as_secs_f64() / n as f64,
        (thread_cpu_seconds() - cpu) / n as f64,
    );
    println!(
        "{:.2} ms a line on one thread ({:.2} ms of CPU time; mean width {})",
        each * 1e3,
        each_cpu * 1e3,
        total / n as usize
    );
    Ok(())
}
