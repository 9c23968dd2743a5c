//! How far the built-in digit model bounds the reading of composed numbers: each number of
//! `tests/vision_read.rs`'s kind (2 to 5 MNIST test digits, scaled, uneven gaps, paper) is read
//! whole by the built-in number reader, and each of its digits is read alone by the built-in
//! digit model, from a picture of that digit by itself composed as the number was (the same
//! glyph, scale and polarity): a cut that is never wrong. A number all of whose digits the
//! digit model reads right alone is one a perfect cut would read; the share of those is what
//! a reader that leans on the digit model can reach, unless its line model reads the digits
//! the digit model misreads.
//!
//! It also reads each number with the line models alone and with the cutting reader alone:
//! the numbers one of the two reads right are what a referee between their readings could
//! reach at best; of those the reader misreads, how many the line alone read right (the check
//! overruled it) and how many the cut alone did (the check kept the line's misreading).
//!
//!     cargo run --release --example composed_ceiling -- [MNIST_DIR] [--count N] [--seeds 41,42]
//!         [--digit-model FILE]

#[allow(dead_code)]
#[path = "../tests/common/numbers.rs"]
mod numbers;

use clap::Parser;
use digits::vision::preprocess;
use digits::vision::reading::Reading;
use numbers::{compose, mnist_glyph, mnist_numbers_drawn, MnistNumber};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::path::PathBuf;

#[derive(Parser)]
struct Args {
    /// MNIST's folder (its test digits are composed).
    #[arg(default_value = "../shared/data/mnist")]
    mnist_dir: PathBuf,
    /// Numbers per seed.
    #[arg(long, default_value_t = 5000)]
    count: usize,
    /// Seeds of the composition (`digits eval --numbers` folders of 41-44 are the README's).
    #[arg(long, value_delimiter = ',', default_value = "41,42,43,44")]
    seeds: Vec<u64>,
    /// The digit model that reads each digit alone (default: the built-in one).
    #[arg(long, value_name = "FILE")]
    digit_model: Option<PathBuf>,
}

/// What became of one number.
struct Outcome {
    /// The number reader read it right.
    whole: bool,
    /// Digits of it the digit model misread alone.
    misread_alone: usize,
    /// The line models alone (unchecked) read it right.
    line: bool,
    /// The cutting reader alone read it right.
    cut: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (_, test) = digits::data::mnist::load_dir(&args.mnist_dir)?;
    let reader = digits::default_reader::reader()?;
    let digit_model = digits::default_model::load_or_default(args.digit_model.as_deref())?.model;
    println!("seed  numbers  digits  misread alone  all read alone (a perfect cut)  read whole  both  whole but not alone  line alone  cut alone  line or cut  lost: line right  lost: cut right");
    for &seed in &args.seeds {
        let drawn = mnist_numbers_drawn(&test, args.count, seed);
        let outcomes: Vec<Outcome> = drawn
            .par_iter()
            .enumerate()
            .map(|(k, number)| -> anyhow::Result<Outcome> {
                let img = preprocess::decode_bytes(&number.png)?;
                let ink = preprocess::ink_from_image(&img)?;
                let right = |r: Reading| r.text == number.label;
                let whole = right(reader.read_ink(&ink));
                let line = right(reader.line.read_ink(&ink));
                let cut = right(reader.cut.read_ink(&ink));
                let mut misread_alone = 0;
                for (place, &i) in number.digits.iter().enumerate() {
                    let input = preprocess::from_bytes(&alone(&test, number, i, k, place))?;
                    let p = digit_model.predict_proba(&input);
                    misread_alone += usize::from(digits::nn::argmax(&p) != test.labels[i] as usize);
                }
                Ok(Outcome {
                    whole,
                    misread_alone,
                    line,
                    cut,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let count = |f: &dyn Fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
        let n = outcomes.len() as f64;
        let digits: usize = drawn.iter().map(|d| d.digits.len()).sum();
        let misread: usize = outcomes.iter().map(|o| o.misread_alone).sum();
        let alone = count(&|o| o.misread_alone == 0);
        let whole = count(&|o| o.whole);
        let both = count(&|o| o.whole && o.misread_alone == 0);
        let (line, cut) = (count(&|o| o.line), count(&|o| o.cut));
        let either = count(&|o| o.line || o.cut);
        let lost_line = count(&|o| !o.whole && o.line);
        let lost_cut = count(&|o| !o.whole && o.cut);
        println!(
            "{seed:4}  {:7}  {digits:6}  {misread:5} ({:.4})  {alone:5} ({:.4})                  {whole:5} ({:.4})  {both:5}  {:5}                {line:5}       {cut:5}      {either:5} ({:.4})  {lost_line:5}             {lost_cut:5}",
            outcomes.len(),
            misread as f64 / digits as f64,
            alone as f64 / n,
            whole as f64 / n,
            whole - both,
            either as f64 / n
        );
    }
    Ok(())
}

/// The picture of the MNIST test digit `i` alone, composed as it is in `number` (the `place`th
/// digit of number `k`): the same glyph, scale and polarity, its own paper grain.
fn alone(
    test: &digits::data::Dataset,
    number: &MnistNumber,
    i: usize,
    k: usize,
    place: usize,
) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64((k * 8 + place) as u64);
    let glyph = mnist_glyph(test, i, number.scale);
    compose(&[glyph], &[], number.dark_on_light, &mut rng)
}
