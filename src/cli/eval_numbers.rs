//! `digits eval --numbers DIR`: a number reader on a folder of labelled pictures of numbers
//! (`labels.csv`, see `vision::number_eval`): exact-match accuracy and character error rate,
//! overall and by sub-folder; the error left when only the most confident readings are
//! accepted; the misread pictures (listed, and drawn with -o). Bad label lines, missing and
//! unreadable pictures are reported by name and line, and the rest still evaluated.

use super::model_arg::{number_reader_of, ModelArg};
use anyhow::bail;
use digits::train::calibration::{kept_from, Selective, ECE_BINS};
use digits::vision::expect::Expected;
use digits::vision::number_eval::{
    answers_of, by_group, calibration_error, load_labels, rejection_table, Acceptance, Outcome,
    Score, ACCEPTED, LABELS_FILE,
};
use digits::vision::number_reader::read_path_as;
use digits::vision::plot::{number_gallery, save_png, titled, Caption};
use digits::vision::preprocess;
use digits::vision::reject::describe_level;
use rayon::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};

/// What `digits eval --numbers` was asked.
pub struct NumbersArgs<'a> {
    pub model: &'a ModelArg,
    pub segment: bool,
    pub dir: &'a Path,
    pub out: Option<&'a PathBuf>,
    pub show_errors: usize,
    pub json: bool,
    /// A level to report the numbers accepted from (`--min-confidence`).
    pub min_confidence: Option<f32>,
    /// Read each picture as a number of as many digits as its label has (`--known-length`).
    pub known_length: bool,
}

pub fn run(args: NumbersArgs) -> anyhow::Result<()> {
    let (reader, name) = number_reader_of(args.model, args.segment)?;
    let (labels, problems) = load_labels(args.dir)?;
    let csv = args.dir.join(LABELS_FILE);
    let mut skipped: Vec<(usize, String)> = problems
        .iter()
        .map(|p| (p.line, p.message.clone()))
        .collect();
    let readings: Vec<_> = labels
        .par_iter()
        .map(|(label, path)| {
            let n = label.digits.len();
            let expected = args
                .known_length
                .then(|| Expected::digits(n..=n).ok())
                .flatten();
            read_path_as(reader.as_ref(), path, expected.as_ref())
        })
        .collect();
    let mut outcomes = Vec::new();
    for ((label, _), reading) in labels.iter().zip(readings) {
        match reading {
            Ok(r) => outcomes.push(Outcome {
                file: label.file.clone(),
                label: label.digits.clone(),
                read: r.text,
                confidence: r.confidence,
            }),
            Err(e) => skipped.push((label.line, e.to_string())),
        }
    }
    // Every problem in the order of labels.csv.
    skipped.sort_by_key(|(line, _)| *line);
    for (line, message) in &skipped {
        eprintln!("skipped {}:{line}: {message}", csv.display());
    }
    let skipped = skipped.len();
    if outcomes.is_empty() {
        bail!(
            "no picture in {} could be evaluated ({skipped} problems above)",
            args.dir.display()
        );
    }
    let report = Report {
        total: Score::of(&outcomes),
        groups: by_group(&outcomes),
        table: rejection_table(&outcomes, &ACCEPTED),
        ece: calibration_error(&outcomes),
        at_level: args
            .min_confidence
            .map(|p| kept_from(&answers_of(&outcomes), p)),
        errors: outcomes.iter().filter(|o| !o.correct()).collect(),
    };
    if args.json {
        let mut v = report_json(args.dir, &name, skipped, &report);
        v["known_length"] = json!(args.known_length);
        println!("{v}");
    } else {
        print_report(&args, &name, skipped, &report);
    }
    let (total, errors) = (&report.total, &report.errors);
    if let Some(out) = args.out {
        let shown = &errors[..errors.len().min(args.show_errors)];
        let (mut pictures, mut captions) = (Vec::new(), Vec::new());
        for o in shown {
            match preprocess::decode_path(&args.dir.join(&o.file)) {
                Ok(img) => {
                    pictures.push(img);
                    captions.push(Caption {
                        text: format!(
                            "label {}\nread {} ({:.2})",
                            o.label,
                            shown_text(&o.read),
                            o.confidence
                        ),
                        wrong: true,
                    });
                }
                Err(e) => eprintln!("not drawn: {e}"),
            }
        }
        let title = format!(
            "{}: {} misread of {} in {}",
            name.display(),
            errors.len(),
            total.pictures,
            args.dir.display()
        );
        save_png(&titled(&number_gallery(&pictures, &captions), &title), out)?;
        eprintln!(
            "wrote {} ({} misread pictures)",
            out.display(),
            pictures.len()
        );
    }
    Ok(())
}

/// A reading as shown: "(nothing)" for an empty one.
fn shown_text(read: &str) -> &str {
    if read.is_empty() {
        "(nothing)"
    } else {
        read
    }
}

/// What `eval --numbers` reports of the pictures read.
struct Report<'a> {
    total: Score,
    groups: Vec<(String, Score)>,
    table: Vec<Acceptance>,
    /// The expected calibration error of the numbers' confidence.
    ece: f64,
    /// What `--min-confidence` accepts.
    at_level: Option<Selective>,
    errors: Vec<&'a Outcome>,
}

fn print_report(args: &NumbersArgs, name: &Path, skipped: usize, report: &Report) {
    let (total, groups, errors) = (&report.total, &report.groups, &report.errors);
    println!(
        "{} pictures of numbers evaluated from {} with {} ({skipped} skipped){}",
        total.pictures,
        args.dir.display(),
        name.display(),
        if args.known_length {
            ", each read as a number of its label's length"
        } else {
            ""
        }
    );
    println!(
        "exact: {:.4} ({} of {})  character error rate: {:.4}",
        total.accuracy(),
        total.exact,
        total.pictures,
        total.cer()
    );
    let width = groups
        .iter()
        .map(|(g, _)| g.len())
        .max()
        .unwrap_or(0)
        .max(6);
    println!("by folder:");
    println!("  {:<width$}  pictures   exact     CER", "folder");
    for (g, s) in groups.iter() {
        println!(
            "  {g:<width$}  {:>8}  {:.4}  {:.4}",
            s.pictures,
            s.accuracy(),
            s.cer()
        );
    }
    println!("error against rejection (the most confident pictures accepted):");
    println!("  accepted  confidence >=   error  (wrong of accepted)");
    for a in &report.table {
        println!(
            "  {:>7.0}%  {:>13.4}  {:.4}  ({} of {})",
            a.share * 100.0,
            a.threshold,
            a.error(),
            a.wrong,
            a.accepted
        );
    }
    if let Some(at) = &report.at_level {
        println!("{}", describe_level(at, total.pictures, "numbers"));
    }
    println!(
        "confidence against right: expected calibration error {:.4} ({ECE_BINS} bins; 0 when \
         numbers read with a confidence of p are right a share p of the time)",
        report.ece
    );
    println!("{} errors (label -> read)", errors.len());
    for o in errors.iter().take(args.show_errors) {
        println!(
            "  {}: {} -> {} ({:.2})",
            o.file,
            o.label,
            shown_text(&o.read),
            o.confidence
        );
    }
    if errors.len() > args.show_errors {
        println!(
            "  ... and {} more (--show-errors N lists more)",
            errors.len() - args.show_errors
        );
    }
}

fn report_json(dir: &Path, name: &Path, skipped: usize, report: &Report) -> serde_json::Value {
    let score = |s: &Score| json!({"pictures": s.pictures, "exact": s.exact, "accuracy": s.accuracy(), "cer": s.cer()});
    let folders: Vec<_> = report
        .groups
        .iter()
        .map(|(g, s)| {
            let mut v = score(s);
            v["folder"] = json!(g);
            v
        })
        .collect();
    let rejection: Vec<_> = report
        .table
        .iter()
        .map(|a| {
            json!({"accepted_share": a.share, "accepted": a.accepted, "threshold": a.threshold,
                   "wrong": a.wrong, "error": a.error()})
        })
        .collect();
    let errors: Vec<_> = report
        .errors
        .iter()
        .map(|o| json!({"file": o.file, "label": o.label, "read": o.read, "confidence": o.confidence}))
        .collect();
    json!({
        "dir": dir, "model": name, "skipped": skipped, "overall": score(&report.total),
        "folders": folders, "rejection": rejection, "calibration_error": report.ece, "errors": errors,
        "at_min_confidence": report.at_level.map(|a| json!({"min_confidence": a.threshold,
            "accepted": a.kept, "wrong": a.wrong, "error": a.error()})),
    })
}
