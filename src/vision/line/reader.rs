//! Reading a line with a sequence model: the picture's ink made a line ([`normalize`]), the
//! model run at that line's width, its columns decoded (best path), each character's
//! probability and box from the columns that wrote it and the ink under them, and the whole
//! number's confidence: the model's probability of the string read, summed over every way of
//! writing it (the CTC forward score).

use super::normalize::{self, LineInput};
use super::slant::{level, read_level};
use super::slash;
use super::weighing::likeliest;
use super::{text_of, CLASSES, COLUMN_STRIDE, HEIGHT};
use crate::nn::ctc_counted::best_path_counted;
use crate::nn::ctc_decode::{
    column_log_probs, greedy_decode, labelling_log_prob, labelling_log_prob_of, Decoded,
};
use crate::nn::{Activation, LayerSpec, ModelSpec, Padding, Sequential};
use crate::vision::expect::Expected;
use crate::vision::preprocess;
use crate::vision::reading::{gray_picture, DigitRead, NumberReader, Reading};
use image::GrayImage;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The hidden layers of the built-in reader: four 3x3 convolutions that halve the width
/// twice and pool the height away (32 -> 1), then one over neighbouring columns.
pub const DEFAULT_LAYERS: &str = "c16k3s,p2,c32k3s,p2,c64k3s,p2x1,c64k3s,p4x1,c128k3s";

/// A line reader: `hidden` layers (the syntax of `--layers`, ReLU) on lines HEIGHT x `width`,
/// then a 1x1 convolution to the classes (linear: the logits). Errors when the layers do not
/// end one pixel high with the width divided by [`COLUMN_STRIDE`].
pub fn reader_spec(hidden: &str, width: usize) -> Result<ModelSpec, String> {
    let mut layers = crate::nn::syntax::parse_layers(hidden, Activation::Relu)?;
    layers.push(LayerSpec::conv2d(
        CLASSES,
        1,
        Padding::Valid,
        Activation::Linear,
    ));
    let spec = ModelSpec::image(HEIGHT, width, 1, layers);
    let model = Sequential::zeros(spec.clone())?;
    match model.sequence_output() {
        Some((t, _)) if t * COLUMN_STRIDE == width && model.output_dim() == t * CLASSES => Ok(spec),
        _ => Err(format!(
            "the layers {hidden:?} must leave a line one pixel high and 1/{COLUMN_STRIDE} as wide"
        )),
    }
}

/// How wide a line reader sees the writing, in each of its looks at a picture (1: as
/// [`normalize::line_of`] makes it): writing narrower or wider than the training lines' is
/// read better in one of the looks, and looks that disagree lower the confidence. Five looks
/// read the shared numbers at 0.905 exact, three (1, 0.8, 1.25) at 0.890, one at 0.836, seven
/// (0.6 to 1.7) at 0.906 for 40% more time (`examples/reader_looks`).
pub const DEFAULT_STRETCHES: [f32; 5] = [1.0, 0.8, 1.25, 0.6, 1.6];

/// When the looks may stop early: once the first `looks` looks all read the same string and
/// give it a mean probability of at least `confidence`, the others are not taken (their mean
/// could then pull the confidence down, but only of a reading sure enough to be accepted at
/// the usual thresholds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settle {
    pub looks: usize,
    pub confidence: f64,
}

/// The built-in reader's: the first two looks agree at 0.9 or more, as 2,677 of the 6,355
/// shared numbers do. It reads them the same (0.9053 exact, CER 0.0266, the same share wrong
/// among the 95%, 90%, 80% and 70% most confident; among the 50% most confident 0.0167 against
/// 0.0157 with every look) in about 20% less time; settling at 0.8 saves 25-30% but makes the
/// 50% most confident 0.0186 wrong (`examples/reader_looks --settle`).
pub const DEFAULT_SETTLE: Settle = Settle {
    looks: 2,
    confidence: 0.9,
};

/// A line model and a copy of it for each width it has read (each sharing its parameters and
/// packed weights: reading the 6,355 shared numbers, the process grew to 41 MB, not 137).
struct AtWidths {
    model: Sequential,
    at_width: Mutex<HashMap<usize, Arc<Sequential>>>,
}

impl AtWidths {
    /// Errors unless `model` reads lines HEIGHT high into one row of CLASSES scores per
    /// COLUMN_STRIDE columns.
    fn checked(model: Sequential) -> Result<Self, String> {
        let shape = model
            .spec()
            .input_shape
            .ok_or("the model has no image input shape: it is not a line reader")?;
        let ok = shape.h == HEIGHT
            && shape.c == 1
            && model
                .sequence_output()
                .is_some_and(|(t, k)| k == CLASSES && t * COLUMN_STRIDE == shape.w);
        if !ok {
            return Err(format!(
                "a line reader reads lines {HEIGHT} pixels high and gives {CLASSES} scores per {COLUMN_STRIDE} columns; this model does not"
            ));
        }
        Ok(AtWidths {
            model,
            at_width: Mutex::new(HashMap::new()),
        })
    }

    /// The model for lines `width` wide.
    fn at(&self, width: usize) -> Arc<Sequential> {
        let mut cache = self.at_width.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(width)
            .or_insert_with(|| {
                Arc::new(
                    self.model
                        .with_input_width(width)
                        .expect("a line reader's parameters do not depend on the width"),
                )
            })
            .clone()
    }
}

/// Reads numbers with one line model, or several read together (each look at a picture is
/// taken by each model in turn, and the strings they read are weighed over all their looks).
pub struct LineReader {
    models: Vec<AtWidths>,
    /// The looks at each picture (see [`DEFAULT_STRETCHES`]).
    stretches: Vec<f32>,
    /// When the looks stop early (see [`Settle`]); None: every look is taken.
    settle: Option<Settle>,
}

impl LineReader {
    /// Errors unless `model` reads lines HEIGHT high into one row of CLASSES scores per
    /// COLUMN_STRIDE columns.
    pub fn new(model: Sequential) -> Result<Self, String> {
        Ok(LineReader {
            models: vec![AtWidths::checked(model)?],
            stretches: DEFAULT_STRETCHES.to_vec(),
            settle: Some(DEFAULT_SETTLE),
        })
    }

    /// The same reader with `model` reading beside the others: each look is then taken by
    /// every model, the first model first (errors as [`LineReader::new`] does).
    pub fn with_model(mut self, model: Sequential) -> Result<Self, String> {
        self.models.push(AtWidths::checked(model)?);
        Ok(self)
    }

    /// The same reader taking one look per stretch (at least one; `[1.0]`: a single look).
    pub fn with_stretches(mut self, stretches: &[f32]) -> Self {
        if !stretches.is_empty() {
            self.stretches = stretches.to_vec();
        }
        self
    }

    /// The same reader stopping its looks early as `settle` says (None: never).
    pub fn with_settle(mut self, settle: Option<Settle>) -> Self {
        self.settle = settle;
        self
    }

    /// The first model.
    pub fn model(&self) -> &Sequential {
        &self.models[0].model
    }

    /// How many models read together.
    pub fn models(&self) -> usize {
        self.models.len()
    }

    /// The first model for lines `width` wide.
    fn model_at(&self, width: usize) -> Arc<Sequential> {
        self.models[0].at(width)
    }

    /// The first model's logits (columns x CLASSES) of one line.
    pub fn logits(&self, line: &LineInput) -> Vec<f32> {
        self.model_at(line.width).predict(&line.px)
    }

    /// The logits of one line by each model, in order.
    fn logits_of_each<'a>(&'a self, line: &'a LineInput) -> impl Iterator<Item = Vec<f32>> + 'a {
        let px = &line.px;
        self.models
            .iter()
            .map(move |m| m.at(line.width).predict(px))
    }

    /// The first model's best-path reading of lines of any widths, in order (lines of one
    /// width run together).
    pub fn decode_lines(&self, lines: &[&LineInput]) -> Vec<Decoded> {
        let mut out = vec![None; lines.len()];
        let mut widths: Vec<usize> = lines.iter().map(|l| l.width).collect();
        widths.sort_unstable();
        widths.dedup();
        for w in widths {
            let idx: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].width == w).collect();
            let x: Vec<f32> = idx
                .iter()
                .flat_map(|&i| lines[i].px.iter().copied())
                .collect();
            let logits = self.model_at(w).predict(&x);
            let per = logits.len() / idx.len();
            for (k, &i) in idx.iter().enumerate() {
                out[i] = Some(greedy_decode(&logits[k * per..(k + 1) * per], CLASSES));
            }
        }
        out.into_iter()
            .map(|d| d.expect("every line read"))
            .collect()
    }

    /// The reading of `ink`: one look per stretch and model (fewer when the first looks settle
    /// it: see [`Settle`]); of the strings the looks read, the one
    /// with the highest probability averaged over the looks (the CTC forward score of each),
    /// that average being its confidence; its digits' probabilities and boxes from the look
    /// that gives it the highest probability.
    pub fn read_ink(&self, ink: &preprocess::Ink) -> Reading {
        self.read_ink_as(ink, None)
    }

    /// [`Self::read_ink`], of the strings with as many digits as `expected` says where it is
    /// given: a look whose best path does not fit gives its best path that does
    /// ([`best_path_counted`]; separators not counted), and the strings are weighed as above.
    /// When no look gives one, the reading as [`Self::read_ink`] makes it, with confidence 0.
    /// Also the looks it was read from, which can weigh other strings.
    pub fn read_ink_weighing(
        &self,
        ink: &preprocess::Ink,
        expected: Option<&Expected>,
    ) -> (Reading, Looks) {
        let Some(writing) = normalize::Writing::of(ink) else {
            return (Reading::empty(), Looks(Vec::new()));
        };
        let fits = |d: &Decoded| expected.is_none_or(|e| e.fits_count(digit_count(d)));
        let most = self.stretches.len() * self.models.len();
        // Each look's line and its columns' log probabilities (made once: every string read
        // is weighed in every look).
        let mut looks: Vec<(Arc<LineInput>, Vec<f64>)> = Vec::with_capacity(most);
        let mut decoded: Vec<Decoded> = Vec::with_capacity(most);
        'looking: for &stretch in &self.stretches {
            let line = Arc::new(writing.line(stretch));
            for logits in self.logits_of_each(&line) {
                decoded.push(greedy_decode(&logits, CLASSES));
                looks.push((line.clone(), column_log_probs(&logits, CLASSES)));
                if self.settle.is_some_and(|s| {
                    s.looks == looks.len()
                        && fits(&decoded[0])
                        && settled(&looks, &decoded, s.confidence)
                }) {
                    break 'looking;
                }
            }
        }
        let mut read: Vec<Option<Decoded>> = Vec::with_capacity(decoded.len());
        for (d, (_, log_probs)) in decoded.into_iter().zip(&looks) {
            read.push(match expected {
                Some(_) if fits(&d) => Some(d),
                Some(e) => best_path_counted(log_probs, CLASSES, e.range(), &DIGIT_CLASSES)
                    .filter(|d| fits(d)),
                None => Some(d),
            });
        }
        let log_probs: Vec<&[f64]> = looks.iter().map(|(_, lp)| lp.as_slice()).collect();
        let best = likeliest(&read, &log_probs, fits);
        let reading = match (best, expected) {
            (Some((confidence, look, d)), _) => {
                reading_of(&d, &looks[look].0, ink, confidence as f32)
            }
            (None, Some(e)) => e.mark(self.read_ink(ink)),
            (None, None) => Reading::empty(),
        };
        (
            reading,
            Looks(looks.into_iter().map(|(_, lp)| lp).collect()),
        )
    }

    /// The models' probability of reading `ink` as each one-digit number, "0" to "9" (the CTC
    /// forward score of each, averaged over every look of every model; what is left of 1 goes
    /// to other strings); None when the ink makes no line.
    pub fn one_digit_probabilities(&self, ink: &preprocess::Ink) -> Option<[f64; 10]> {
        let writing = normalize::Writing::of(ink)?;
        let mut p = [0.0; 10];
        for &stretch in &self.stretches {
            for logits in self.logits_of_each(&writing.line(stretch)) {
                let log_probs = column_log_probs(&logits, CLASSES);
                for (digit, p) in p.iter_mut().enumerate() {
                    let class = super::class_of(b'0' + digit as u8).expect("a digit is a class");
                    *p += labelling_log_prob_of(&log_probs, CLASSES, &[class]).exp();
                }
            }
        }
        let looks = (self.stretches.len() * self.models.len()) as f64;
        Some(p.map(|v| v / looks))
    }
}

/// The looks at one picture a reading was made from: each look's columns' log probabilities.
pub struct Looks(Vec<Vec<f64>>);

impl Looks {
    /// Looks of these columns' log probabilities (each look's columns x CLASSES, row by row).
    pub fn new(log_probs: Vec<Vec<f64>>) -> Self {
        Looks(log_probs)
    }

    /// The probability of reading `formatted` (digits and separators), averaged over the
    /// looks as a reading's confidence is (the CTC forward score of each); 0 when there are no
    /// looks or `formatted` holds a character the reader does not write.
    pub fn probability(&self, formatted: &str) -> f64 {
        let labels: Option<Vec<u8>> = formatted.bytes().map(super::class_of).collect();
        let (Some(labels), false) = (labels, self.0.is_empty()) else {
            return 0.0;
        };
        mean_probability(self.0.iter().map(Vec::as_slice), &labels)
    }
}

/// The probability of the labelling `labels` averaged over looks given by their columns' log
/// probabilities (at least one look).
fn mean_probability<'a>(log_probs: impl ExactSizeIterator<Item = &'a [f64]>, labels: &[u8]) -> f64 {
    let looks = log_probs.len() as f64;
    let sum: f64 = log_probs
        .map(|lp| labelling_log_prob_of(lp, CLASSES, labels).exp())
        .sum();
    sum / looks
}

/// Whether every look read the same string, not empty, with a mean probability of at least
/// `confidence`.
fn settled(looks: &[(Arc<LineInput>, Vec<f64>)], decoded: &[Decoded], confidence: f64) -> bool {
    let labels = &decoded[0].labels;
    if labels.is_empty() || decoded.iter().any(|d| &d.labels != labels) {
        return false;
    }
    mean_probability(looks.iter().map(|(_, lp)| lp.as_slice()), labels) >= confidence
}

/// Which classes are digits (counted by [`Expected`]); the blank and separators are not.
const DIGIT_CLASSES: [bool; CLASSES] = {
    let mut digits = [false; CLASSES];
    let mut c = 0;
    while c < CLASSES {
        digits[c] = c >= 1 && super::CHARS[c - 1].is_ascii_digit();
        c += 1;
    }
    digits
};

/// How many digits the reading spelled by `decoded` has (its slashes read as 1s where
/// [`slash::slashes_as_ones`] reads them so).
fn digit_count(decoded: &Decoded) -> usize {
    slash::slashes_as_ones(decoded)
        .labels
        .iter()
        .filter(|&&c| DIGIT_CLASSES[c as usize])
        .count()
}

/// The reading spelled by `decoded` (slashes where no date has them read as 1s: see
/// [`slash`]), read on `line` of `ink`'s picture, sure by `confidence`.
fn reading_of(
    decoded: &Decoded,
    line: &LineInput,
    ink: &preprocess::Ink,
    confidence: f32,
) -> Reading {
    let decoded = slash::slashes_as_ones(decoded);
    let formatted = text_of(&decoded.labels);
    let digits = decoded
        .chars
        .iter()
        .filter(|c| c.label <= 10)
        .map(|c| DigitRead {
            digit: c.label as usize - 1,
            probability: c.prob,
            bbox: char_box(line, ink, c.first_column, c.last_column),
            probabilities: None,
        })
        .collect();
    Reading {
        text: formatted.chars().filter(char::is_ascii_digit).collect(),
        formatted,
        confidence,
        digits,
    }
}

/// The box, in the picture's pixels, of the ink under columns first..=last (widened by half a
/// column each way: a character's peak column sits inside it); the line's height when there
/// is no ink there.
fn char_box(line: &LineInput, ink: &preprocess::Ink, first: usize, last: usize) -> [u32; 4] {
    let stride = COLUMN_STRIDE as f32;
    let a = line
        .picture_x((first as f32 - 0.5) * stride)
        .max(line.ink_box[0] as f32);
    let b = line
        .picture_x((last as f32 + 1.5) * stride)
        .min((line.ink_box[0] + line.ink_box[2]) as f32);
    let (x0, x1) = (a.max(0.0) as u32, (b.max(a + 1.0)) as u32);
    let (block, mut y0, mut y1) = (ink.block as u32, u32::MAX, 0);
    for y in 0..ink.h {
        let row = &ink.px[y * ink.w..(y + 1) * ink.w];
        let (gx0, gx1) = ((x0 / block) as usize, ((x1 / block) as usize).min(ink.w));
        if row[gx0.min(ink.w)..gx1].iter().any(|&v| v > 0.2) {
            y0 = y0.min(y as u32 * block);
            y1 = y1.max((y as u32 + 1) * block);
        }
    }
    if y0 > y1 {
        (y0, y1) = (line.ink_box[1], line.ink_box[1] + line.ink_box[3]);
    }
    [x0, y0, x1 - x0, y1 - y0]
}

/// How well `reader` reads `samples`: the mean CTC loss (each line's divided by its label's
/// length, as in training) and the share read exactly.
pub fn score_lines(reader: &LineReader, samples: &[super::synth::Sample]) -> (f64, f64) {
    let (mut loss, mut right) = (0.0, 0usize);
    let mut widths: Vec<usize> = samples.iter().map(|s| s.line.width).collect();
    widths.sort_unstable();
    widths.dedup();
    for w in widths {
        let group: Vec<&super::synth::Sample> =
            samples.iter().filter(|s| s.line.width == w).collect();
        let x: Vec<f32> = group
            .iter()
            .flat_map(|s| s.line.px.iter().copied())
            .collect();
        let logits = reader.model_at(w).predict(&x);
        let per = logits.len() / group.len();
        for (s, z) in group.iter().zip(logits.chunks_exact(per)) {
            let lp = labelling_log_prob(z, CLASSES, &s.label);
            // A line too narrow for its label counts as a large loss, not an infinite one.
            loss += (-lp).min(1e3) / s.label.len().max(1) as f64;
            right += (greedy_decode(z, CLASSES).labels == s.label) as usize;
        }
    }
    let n = samples.len().max(1) as f64;
    (loss / n, right as f64 / n)
}

impl NumberReader for LineReader {
    /// The reading of [`LineReader::read_ink_weighing`], of writing on a slant read level
    /// ([`read_level`]).
    fn read_ink_as(&self, ink: &preprocess::Ink, expected: Option<&Expected>) -> Reading {
        read_level(ink, |ink| self.read_ink_weighing(ink, expected).0)
    }

    /// The line read first, of writing on a slant levelled as it is read.
    fn ink_inputs(&self, ink: &preprocess::Ink) -> Vec<GrayImage> {
        let levelled = level(ink).map(|levelling| levelling.ink(ink));
        let ink = levelled.as_ref().unwrap_or(ink);
        let first = self.stretches.first().copied().unwrap_or(1.0);
        normalize::Writing::of(ink)
            .map(|w| w.line(first))
            .map(|line| gray_picture(&line.px, line.width, HEIGHT))
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Init;

    #[test]
    fn the_default_layers_make_a_reader_and_bad_ones_are_refused() {
        let spec = reader_spec(DEFAULT_LAYERS, 128).unwrap();
        let model = Sequential::new(spec, Init::KaimingUniform, 1);
        assert_eq!(model.sequence_output(), Some((32, CLASSES)));
        let reader = LineReader::new(model).unwrap();
        let line = LineInput {
            px: vec![0.0; HEIGHT * 64],
            width: 64,
            ink_box: [0, 0, 10, 10],
            scale_x: 1.0,
        };
        assert_eq!(reader.logits(&line).len(), 16 * CLASSES);
        assert!(reader_spec("c8k3s,p2", 64).is_err());
        assert!(reader_spec("c8k3s,p2,p2,p8x1,flatten", 64).is_err());
    }
}
