//! `digits eval --images DIR`: a model on a folder of labelled pictures, each read as a photo
//! (`vision::preprocess`): accuracy, how far the probabilities can be trusted (the error left
//! when the least confident answers are set aside, the expected calibration error), the
//! mistakes, the confusion matrix (text, and PNG with -o).
//! A picture that cannot be read, or a bad or missing label, is reported with its file name and
//! the others are still evaluated. The pictures are read on all cores.

use super::model_arg::ModelArg;
use super::predict::read_photo;
use anyhow::bail;
use digits::data::image_folder;
use digits::nn::argmax;
use digits::train::calibration::{self, Answer, ECE_BINS, SET_ASIDE};
use digits::vision::plot::{confusion_counts, confusion_matrix, save_png};
use digits::vision::preprocess;
use digits::vision::reject::describe_level;
use digits::vision::second_opinion::SecondOpinion;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// What `digits eval --images` was asked.
pub struct ImagesArgs<'a> {
    pub model: &'a ModelArg,
    pub dir: &'a Path,
    pub out: Option<&'a PathBuf>,
    pub list: usize,
    /// Whether the line model gives a second opinion ([`SecondOpinion`]).
    pub second_opinion: bool,
    /// A level to report the answers kept from (`--min-confidence`).
    pub min_confidence: Option<f32>,
}

pub fn run(args: ImagesArgs) -> anyhow::Result<()> {
    let (ckpt, name) = args.model.load()?;
    if ckpt.model.input_dim() != preprocess::PIXELS {
        bail!(
            "{} takes {} inputs per image; pictures are read as 28x28 = 784",
            name.display(),
            ckpt.model.input_dim()
        );
    }
    let second = args
        .second_opinion
        .then(SecondOpinion::built_in)
        .transpose()?;
    let (items, problems) = image_folder::list(args.dir)?;
    for p in &problems {
        eprintln!("skipped {}: {}", p.path.display(), p.message);
    }
    // Each picture's probabilities, read on all cores; reported in the folder's order.
    let read: Vec<_> = items
        .par_iter()
        .map(|item| read_photo(&ckpt, &item.path, second.as_ref()).map(|(_, p)| p))
        .collect();
    let (mut labels, mut preds, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    let mut answers = Vec::new();
    let mut unreadable = 0;
    for (item, p) in items.iter().zip(read) {
        let p = match p {
            Ok(p) => p,
            Err(e) => {
                eprintln!("skipped {e}");
                unreadable += 1;
                continue;
            }
        };
        let digit = argmax(&p);
        if digit != item.label as usize {
            errors.push((item, digit, p[digit]));
        }
        answers.push(Answer::of(&p, item.label as usize));
        labels.push(item.label);
        preds.push(digit);
    }
    let n = labels.len();
    if n == 0 {
        bail!(
            "no picture in {} could be evaluated ({} problems above)",
            args.dir.display(),
            problems.len() + unreadable
        );
    }
    let accuracy = (n - errors.len()) as f64 / n as f64;
    println!(
        "{n} pictures evaluated from {} ({} skipped){}",
        args.dir.display(),
        problems.len() + unreadable,
        if second.is_some() {
            ", with the line model's second opinion"
        } else {
            ""
        }
    );
    println!("accuracy: {accuracy:.4}");
    print_confidence(&answers, args.min_confidence);
    println!("{} errors", errors.len());
    errors.sort_by(|a, b| b.2.total_cmp(&a.2));
    for (item, digit, p) in errors.iter().take(args.list) {
        println!(
            "  {}: label {}, predicted {digit} ({p:.2})",
            item.path.display(),
            item.label
        );
    }
    if errors.len() > args.list {
        println!("  ... (--list N shows more)");
    }
    let counts = confusion_counts(&labels, &preds);
    println!("confusion (rows: true digit, columns: predicted):");
    println!(
        "     {}",
        (0..10).map(|d| format!("{d:>5}")).collect::<String>()
    );
    for (d, row) in counts.iter().enumerate() {
        let cells: String = row.iter().map(|c| format!("{c:>5}")).collect();
        println!("  {d}: {cells}");
    }
    if let Some(out) = args.out {
        let title = format!("{}: {}", name.display(), args.dir.display());
        save_png(&confusion_matrix(&counts, &title), out)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

/// The error among the answers kept when the least confident are set aside (and from `min`),
/// and the ECE.
fn print_confidence(answers: &[Answer], min: Option<f32>) {
    println!("error among the answers kept, the least confident set aside:");
    for s in calibration::selective(answers, &SET_ASIDE) {
        let threshold = s
            .threshold
            .map_or(String::new(), |p| format!("; kept from probability {p:.4}"));
        println!(
            "  {:>3.0}% set aside: {:.4} ({} wrong of {}{threshold})",
            s.set_aside * 100.0,
            s.error(),
            s.wrong,
            s.kept
        );
    }
    if let Some(p) = min {
        let at = calibration::kept_from(answers, p);
        println!("{}", describe_level(&at, answers.len(), "answers"));
    }
    println!(
        "expected calibration error ({ECE_BINS} equal-width bins of the top probability): {:.4}",
        calibration::expected_calibration_error(answers, ECE_BINS)
    );
}
