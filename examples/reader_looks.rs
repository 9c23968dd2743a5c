//! How the number reader's looks at a picture (`LineReader::with_stretches`) change what it
//! reads: for each set of stretches, the share read exactly, the character error rate and the
//! error left when the most confident 95%, 90% and 80% are accepted, over a folder of numbers
//! (`labels.csv`, as `digits eval --numbers` reads it), and the seconds the reading took.
//! `--settle N,P` stops the looks early as `LineReader::with_settle` says (`--settle none`:
//! never; the default: the built-in reader's).
//!
//! ```text
//! cargo run --release --example reader_looks -- DIR [--model FILE] [--settle N,P] 1 1,0.8,1.25 ...
//! ```

use digits::vision::line::reader::{LineReader, Settle, DEFAULT_SETTLE};
use digits::vision::number_eval::{self, Outcome, Score};
use digits::vision::preprocess::{self, Ink};
use rayon::prelude::*;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or_else(|| {
        anyhow::anyhow!("usage: reader_looks DIR [--model FILE] STRETCHES [STRETCHES ...]")
    })?);
    let (mut model, mut sets, mut settle) = (None, Vec::new(), Some(DEFAULT_SETTLE));
    while let Some(a) = args.next() {
        if a == "--settle" {
            let v = args
                .next()
                .ok_or_else(|| anyhow::anyhow!("--settle needs N,P or none"))?;
            settle = match v.split_once(',') {
                Some((n, p)) => Some(Settle {
                    looks: n.parse()?,
                    confidence: p.parse()?,
                }),
                None if v == "none" => None,
                None => anyhow::bail!("--settle takes N,P (looks, confidence) or none; got {v:?}"),
            };
            continue;
        }
        if a == "--model" {
            model = Some(PathBuf::from(
                args.next()
                    .ok_or_else(|| anyhow::anyhow!("--model needs a file"))?,
            ));
            continue;
        }
        let set = a
            .split(',')
            .map(|s| s.parse::<f32>())
            .collect::<Result<Vec<f32>, _>>()
            .map_err(|e| anyhow::anyhow!("{a:?}: stretches are numbers parted by commas: {e}"))?;
        sets.push(set);
    }
    if sets.is_empty() {
        sets.push(vec![1.0]);
    }
    // The model given, else the built-in pair.
    let ckpt = match &model {
        Some(path) => Some(digits::train::checkpoint::load(path)?),
        None => None,
    };
    let (labels, problems) = number_eval::load_labels(&dir)?;
    for p in &problems {
        eprintln!("line {}: {}", p.line, p.message);
    }
    // Each picture's ink, made once for every set of looks (None: unreadable or blank).
    let inks: Vec<Option<Ink>> = labels
        .par_iter()
        .map(|(_, path)| preprocess::ink_from_path(path).ok())
        .collect();
    println!("{} pictures under {}", labels.len(), dir.display());
    println!("stretches | exact | CER | wrong among the 95% / 90% / 80% / 70% / 50% most confident | seconds");
    for set in sets {
        let reader = match &ckpt {
            Some(c) => LineReader::new(c.model.clone()).map_err(anyhow::Error::msg)?,
            None => digits::default_reader::line_reader()?,
        }
        .with_stretches(&set)
        .with_settle(settle);
        let start = std::time::Instant::now();
        let outcomes: Vec<Outcome> = labels
            .par_iter()
            .zip(&inks)
            .map(|((label, _), ink)| {
                let (read, confidence) = match ink {
                    Some(ink) => {
                        let r = reader.read_ink(ink);
                        (r.text, r.confidence)
                    }
                    None => (String::new(), 0.0),
                };
                Outcome {
                    file: label.file.clone(),
                    label: label.digits.clone(),
                    read,
                    confidence,
                }
            })
            .collect();
        let seconds = start.elapsed().as_secs_f64();
        let score = Score::of(&outcomes);
        let table = number_eval::rejection_table(&outcomes, &[0.95, 0.9, 0.8, 0.7, 0.5]);
        println!(
            "{set:?} | {:.4} | {:.4} | {} | {seconds:.1}",
            score.accuracy(),
            score.cer(),
            table
                .iter()
                .map(|a| format!("{:.4}", a.error()))
                .collect::<Vec<_>>()
                .join(" / ")
        );
    }
    Ok(())
}
