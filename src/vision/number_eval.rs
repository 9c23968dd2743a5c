//! Scoring a number reader on a folder of labelled pictures of numbers (`digits eval
//! --numbers`): the labels file, exact-match accuracy, the character error rate, and the error
//! left when only the most confident readings are accepted, and how well the confidence is
//! calibrated.
//!
//! The folder holds `labels.csv`: a header line, then `file,text` lines, the file relative to
//! the folder, the text the number as written (leading zeros kept; the separators `.` `,` `/`
//! `-` and spaces allowed and ignored: readings are compared digit by digit).

use crate::train::calibration::{expected_calibration_error, Answer, ECE_BINS};
use std::path::{Path, PathBuf};

/// The labels file of a folder of numbers.
pub const LABELS_FILE: &str = "labels.csv";

/// Shares of the pictures accepted (the most confident first) in the error-against-rejection
/// table.
pub const ACCEPTED: [f64; 6] = [1.0, 0.95, 0.9, 0.8, 0.7, 0.5];

/// One line of `labels.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// 1-based line number in the file.
    pub line: usize,
    /// The picture, relative to the folder, as written.
    pub file: String,
    /// The text as written.
    pub text: String,
    /// Its digits alone.
    pub digits: String,
}

/// A line of `labels.csv` that cannot be used, or a picture it names that is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelProblem {
    pub line: usize,
    pub message: String,
}

/// The digits of `s`, in order (everything else dropped).
pub fn digits_of(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Whether `c` may appear in a label: a digit or one of the separators . , / - and space.
fn allowed(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '.' | ',' | '/' | '-' | ' ')
}

/// The labels of `text` (the contents of a `labels.csv`) and its bad lines. The first line is
/// the header; blank lines are skipped; CRLF line ends are accepted. A line is split at its first
/// comma (the text may hold commas); surrounding double quotes of the text are dropped.
pub fn parse_labels(text: &str) -> (Vec<Label>, Vec<LabelProblem>) {
    let (mut labels, mut problems) = (Vec::new(), Vec::new());
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate().skip(1) {
        let line = i + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        let mut bad = |message: String| problems.push(LabelProblem { line, message });
        let Some((file, label)) = raw.split_once(',') else {
            bad(format!("no comma: expected file,text, got {raw:?}"));
            continue;
        };
        let file = file.trim();
        let label = label.trim();
        let label = label
            .strip_prefix('"')
            .and_then(|l| l.strip_suffix('"'))
            .unwrap_or(label)
            .trim();
        if file.is_empty() {
            bad("no file name".into());
        } else if label.is_empty() {
            bad(format!("{file}: empty text"));
        } else if let Some(c) = label.chars().find(|&c| !allowed(c)) {
            bad(format!(
                "{file}: text {label:?} holds {c:?} (only digits and . , / - and spaces)"
            ));
        } else if !label.chars().any(|c| c.is_ascii_digit()) {
            bad(format!("{file}: text {label:?} holds no digit"));
        } else {
            labels.push(Label {
                line,
                file: file.to_string(),
                text: label.to_string(),
                digits: digits_of(label),
            });
        }
    }
    (labels, problems)
}

/// The labels whose pictures exist, each with the picture's path, and the problems.
pub type Loaded = (Vec<(Label, PathBuf)>, Vec<LabelProblem>);

/// The labels of `dir/labels.csv` whose pictures exist, each with its path, and the problems:
/// bad lines and missing pictures, with their line numbers. Fails only when the labels file
/// itself cannot be read.
pub fn load_labels(dir: &Path) -> anyhow::Result<Loaded> {
    let path = dir.join(LABELS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read {}: {e} (a folder of numbers holds {LABELS_FILE}: file,text lines)",
            path.display()
        )
    })?;
    let (labels, mut problems) = parse_labels(&text);
    let mut found = Vec::new();
    for label in labels {
        let picture = dir.join(&label.file);
        if picture.is_file() {
            found.push((label, picture));
        } else {
            problems.push(LabelProblem {
                line: label.line,
                message: format!("{}: no such picture", picture.display()),
            });
        }
    }
    problems.sort_by_key(|p| p.line);
    Ok((found, problems))
}

/// The sub-folder a picture is scored in: the first component of its path ("." at the top).
pub fn group_of(file: &str) -> String {
    let parts: Vec<&str> = file.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    if parts.len() > 1 {
        parts[0].to_string()
    } else {
        ".".to_string()
    }
}

/// The Levenshtein distance between `a` and `b`: the fewest insertions, deletions and
/// substitutions of characters turning one into the other.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            row[j + 1] = substitute.min(prev[j + 1] + 1).min(row[j] + 1);
        }
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()]
}

/// The expected calibration error of the confidences of `outcomes` (15 bins, as for single
/// digits: `train::calibration`): 0 when numbers read with a confidence of p are right a share p
/// of the time.
pub fn calibration_error(outcomes: &[Outcome]) -> f64 {
    expected_calibration_error(&answers_of(outcomes), ECE_BINS)
}

/// Each outcome as an answer: its confidence, and whether it is right.
pub fn answers_of(outcomes: &[Outcome]) -> Vec<Answer> {
    outcomes
        .iter()
        .map(|o| Answer {
            confidence: o.confidence,
            correct: o.correct(),
        })
        .collect()
}

/// One picture read: its label's digits, the digits read and the reader's confidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub file: String,
    pub label: String,
    pub read: String,
    pub confidence: f32,
}

impl Outcome {
    pub fn correct(&self) -> bool {
        self.label == self.read
    }
}

/// Totals over some pictures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Score {
    pub pictures: usize,
    pub exact: usize,
    /// Edit distances summed.
    pub edits: usize,
    /// Label digits summed.
    pub label_chars: usize,
}

impl Score {
    pub fn of<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Self {
        let mut s = Score::default();
        for o in outcomes {
            s.pictures += 1;
            s.exact += usize::from(o.correct());
            s.edits += edit_distance(&o.label, &o.read);
            s.label_chars += o.label.chars().count();
        }
        s
    }

    /// Share of pictures read exactly (0 when none).
    pub fn accuracy(&self) -> f64 {
        self.exact as f64 / self.pictures.max(1) as f64
    }

    /// Character error rate: edit distances summed over label lengths summed (0 when none).
    pub fn cer(&self) -> f64 {
        self.edits as f64 / self.label_chars.max(1) as f64
    }
}

/// [`Score`] of each sub-folder ([`group_of`]), in name order.
pub fn by_group(outcomes: &[Outcome]) -> Vec<(String, Score)> {
    let mut groups: std::collections::BTreeMap<String, Vec<&Outcome>> = Default::default();
    for o in outcomes {
        groups.entry(group_of(&o.file)).or_default().push(o);
    }
    groups
        .into_iter()
        .map(|(g, os)| (g, Score::of(os)))
        .collect()
}

/// One row of the error-against-rejection table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Acceptance {
    /// Share of the pictures accepted, the most confident first.
    pub share: f64,
    pub accepted: usize,
    /// The least confidence among those accepted (0 when none is).
    pub threshold: f32,
    /// Numbers read wrong among those accepted.
    pub wrong: usize,
}

impl Acceptance {
    /// The share of wrong numbers among those accepted (0 when none is).
    pub fn error(&self) -> f64 {
        self.wrong as f64 / self.accepted.max(1) as f64
    }
}

/// For each share in `shares` (in [0, 1]): accepting that share of `outcomes` (rounded to the
/// nearest count), the most confident first, the threshold it takes and the error left.
pub fn rejection_table(outcomes: &[Outcome], shares: &[f64]) -> Vec<Acceptance> {
    let mut sorted: Vec<&Outcome> = outcomes.iter().collect();
    sorted.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    shares
        .iter()
        .map(|&share| {
            let n = ((sorted.len() as f64 * share).round() as usize).min(sorted.len());
            let kept = &sorted[..n];
            Acceptance {
                share,
                accepted: n,
                threshold: kept.last().map_or(0.0, |o| o.confidence),
                wrong: kept.iter().filter(|o| !o.correct()).count(),
            }
        })
        .collect()
}
