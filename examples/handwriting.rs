//! Writes a set of handwriting-like digit pictures (not from MNIST; see `digits::vision::synth`)
//! and reports how well a model reads them through the photo pipeline (`digits predict`).
//!
//!     cargo run --release --example handwriting -- OUT_DIR [PER_DIGIT] [--model M]

use digits::default_model;
use digits::nn::argmax;
use digits::vision::{preprocess, synth};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = PathBuf::from(args.first().map_or("handwriting", String::as_str));
    let per_digit: usize = args
        .get(1)
        .filter(|a| !a.starts_with("--"))
        .map_or(Ok(20), |s| s.parse())?;
    let model_path = args
        .iter()
        .position(|a| a == "--model")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let ckpt = default_model::load_or_default(model_path.as_deref())?;
    std::fs::create_dir_all(&out)?;
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let (mut right, mut per) = (0, [0usize; 10]);
    for k in 0..per_digit {
        for digit in 0..10u8 {
            let img = synth::render(digit, &mut rng);
            let path = out.join(format!("{digit}_{k:03}.png"));
            img.save(&path)?;
            let x = preprocess::from_path(&path)?;
            let got = argmax(&ckpt.model.predict(&x));
            if got == digit as usize {
                right += 1;
                per[digit as usize] += 1;
            }
        }
    }
    let total = per_digit * 10;
    println!(
        "{right} of {total} read correctly ({:.1}%)",
        100.0 * right as f64 / total as f64
    );
    println!("per digit: {per:?} of {per_digit} each");
    Ok(())
}
