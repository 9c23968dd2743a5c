//! Training lines made on the fly: a number's text ([`compose::number_text`]), each digit an
//! MNIST *training* image (distorted, sometimes given a style MNIST lacks) or a synthesised
//! handwritten digit, separators drawn, laid out as handwriting ([`compose::lay_out`]),
//! captured badly ([`paper::capture`]), then turned into the model's input exactly as a real
//! picture is ([`crate::vision::preprocess`]'s ink map, then [`normalize::line_of`]).
//! A line is a function of its seed alone. A share of the lines may be plain
//! ([`LineSynth::with_plain`]): upright and captured cleanly, as the other lines seldom are.

use super::compose::{self, Canvas, Mark, Placed, RunOnBar, DIGIT_HEIGHT};
use super::normalize::{self, LineInput};
use super::paper;
use crate::vision::augment::{augment_image, Augment};
use crate::vision::{preprocess, styles, synth};
use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SIDE: usize = 28;

/// The share of 7s whose bar runs on into the next digit ([`RunOnBar`]).
const RUN_ON_BARS: f64 = 0.25;
/// The stream of the random choices of those bars.
const RUN_ON_BAR_STREAM: u64 = 0x7ba2;
/// The stream that picks the plain lines ([`LineSynth::with_plain`]).
const PLAIN_STREAM: u64 = 0x91a1;

/// One training line: the model's input and its label (classes 1.., see `super::CHARS`).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub line: LineInput,
    pub label: Vec<u8>,
}

/// Makes training lines from a set of 28x28 digit images (MNIST's training set).
pub struct LineSynth {
    /// n x 784 grey levels, light ink on black.
    images: Vec<u8>,
    /// The images of each digit.
    by_digit: [Vec<usize>; 10],
    augment: Augment,
    /// The share of plain lines ([`LineSynth::with_plain`]).
    plain: f64,
}

impl LineSynth {
    /// `images` (n x 784, light on black) with their `labels`. Errors when a digit has none.
    pub fn new(images: Vec<u8>, labels: &[u8]) -> Result<Self, String> {
        if images.len() != labels.len() * SIDE * SIDE {
            return Err(format!(
                "{} pixels for {} images of 28x28",
                images.len(),
                labels.len()
            ));
        }
        let mut by_digit: [Vec<usize>; 10] = Default::default();
        for (i, &l) in labels.iter().enumerate() {
            by_digit
                .get_mut(l as usize)
                .ok_or(format!("label {l} is not a digit"))?
                .push(i);
        }
        if let Some(d) = (0..10).find(|&d| by_digit[d].is_empty()) {
            return Err(format!("no image of the digit {d}"));
        }
        Ok(LineSynth {
            images,
            by_digit,
            augment: Augment {
                scan: 0.0,
                ..Augment::default()
            },
            plain: 0.0,
        })
    }

    /// Makes a share `p` of the lines plain: their digits made as any line's, but laid out
    /// upright and captured cleanly, 20-48 pixels high and sharp ([`paper::capture_plain`]).
    /// The other lines stay what they were without plain ones (the choice has its own stream).
    pub fn with_plain(mut self, p: f64) -> Self {
        self.plain = p.clamp(0.0, 1.0);
        self
    }

    /// The line of `seed`.
    pub fn sample(&self, seed: u64) -> Sample {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        loop {
            if let Some(s) = self.try_sample(&mut rng) {
                return s;
            }
        }
    }

    /// A line, or None when its capture left no ink to read (it is drawn again).
    fn try_sample(&self, rng: &mut ChaCha8Rng) -> Option<Sample> {
        // The run-on bars draw from a stream of their own, so that every other choice of the
        // line stays what it was without them.
        let mut bars = rng.clone();
        bars.set_stream(RUN_ON_BAR_STREAM);
        let plain = self.plain > 0.0 && {
            let mut pick = rng.clone();
            pick.set_stream(PLAIN_STREAM);
            pick.gen_bool(self.plain)
        };
        let marks = compose::number_text(rng);
        let pen = DIGIT_HEIGHT * rng.gen_range(0.07..0.15);
        let synthetic = rng.gen_range(0.0..0.5);
        let size_spread = if rng.gen_bool(0.2) { 0.25 } else { 0.1 };
        let mut glyphs = Vec::new();
        let mut spaces = Vec::new();
        let mut space = false;
        for m in &marks {
            let height = DIGIT_HEIGHT * rng.gen_range(1.0 - size_spread..1.0 + size_spread / 2.0);
            let placed = match *m {
                Mark::Space => {
                    space = true;
                    continue;
                }
                Mark::Digit(d) => {
                    let glyph = if rng.gen::<f64>() < synthetic {
                        stroke_digit(d, height, pen, rng)
                    } else {
                        self.mnist_digit(d, height, rng)
                    };
                    let top = glyph.h as f32;
                    let bar = (d == 7 && bars.gen_bool(RUN_ON_BARS)).then(|| RunOnBar {
                        row: top * bars.gen_range(0.4..0.6),
                        into: bars.gen_range(0.2..0.8),
                        rise: top * bars.gen_range(-0.05..0.1),
                        pen,
                    });
                    Placed {
                        glyph,
                        top,
                        is_digit: true,
                        bar,
                    }
                }
                Mark::Sign(c) => {
                    let (glyph, top) = compose::draw_sign(c, height, pen, rng);
                    Placed {
                        glyph,
                        top,
                        is_digit: false,
                        bar: None,
                    }
                }
            };
            glyphs.push(placed);
            spaces.push(std::mem::take(&mut space));
        }
        let (canvas, baseline) = compose::lay_out(&glyphs, &spaces, !plain, rng);
        let picture = if plain {
            paper::capture_plain(&canvas, rng)
        } else {
            paper::capture(&canvas, baseline, rng)
        };
        let ink = preprocess::ink_from_gray(&picture.px, picture.w, picture.h, None).ok()?;
        let line = normalize::line_of(&ink)?;
        Some(Sample {
            line,
            label: compose::label_of(&marks),
        })
    }

    /// An MNIST image of `digit`, distorted, cut to its ink and scaled to `height`.
    fn mnist_digit<R: Rng>(&self, digit: u8, height: f32, rng: &mut R) -> Canvas {
        let pool = &self.by_digit[digit as usize];
        let i = pool[rng.gen_range(0..pool.len())];
        let mut src = self.images[i * SIDE * SIDE..(i + 1) * SIDE * SIDE].to_vec();
        // Half the 1s get a flag (of any length: a long one is easily taken for a 7's or a 4's
        // top), a third of the 7s a bar. (The other styles are the digit model's, not yet the
        // built-in reader's: it was trained without them.)
        if rng.gen_bool(if digit == 1 { 0.5 } else { 0.3 }) && matches!(digit, 1 | 7) {
            styles::add_style(&mut src, SIDE, SIDE, digit, rng);
        }
        let (mut tmp, mut out) = (vec![0u8; SIDE * SIDE], vec![0u8; SIDE * SIDE]);
        if rng.gen_bool(0.7) {
            augment_image(&src, SIDE, SIDE, &self.augment, rng, &mut tmp, &mut out);
        } else {
            out.copy_from_slice(&src);
        }
        let g = Canvas {
            w: SIDE,
            h: SIDE,
            px: out.iter().map(|&v| v as f32 / 255.0).collect(),
        };
        fit_height(&crop_to_ink(&g), height, rng.gen_range(0.85..1.2))
    }
}

/// A synthesised handwritten digit (`vision::synth`'s strokes) `height` high, drawn with a
/// `pen` wide.
fn stroke_digit<R: Rng>(digit: u8, height: f32, pen: f32, rng: &mut R) -> Canvas {
    let width = height * rng.gen_range(0.5..0.8);
    let pad = pen + 1.0;
    let mut c = Canvas::new(
        (width + 2.0 * pad).ceil() as usize,
        (height + 2.0 * pad).ceil() as usize,
    );
    let wobble = rng.gen_range(0.0..0.03f32);
    let mut strokes = synth::strokes(digit);
    if digit == 1 {
        // A 1 plain, with a short flag or a long one, down to the left of the top.
        let (length, angle) = (
            rng.gen_range(-0.2..0.5f32).max(0.0),
            rng.gen_range(0.3..0.9f32),
        );
        strokes = vec![vec![
            (0.55 - length * angle.cos(), 0.05 + length * angle.sin()),
            (0.55, 0.05),
            (0.55, 0.95),
        ]];
    }
    for stroke in strokes {
        let pts: Vec<(f32, f32)> = stroke
            .iter()
            .map(|&(x, y)| {
                let (x, y) = (
                    x + rng.gen_range(-wobble..=wobble),
                    y + rng.gen_range(-wobble..=wobble),
                );
                (pad + x * width, pad + y * height)
            })
            .collect();
        c.polyline(&pts, pen);
    }
    crop_to_ink(&c)
}

/// The canvas cut to its ink (above 0.1); unchanged when it has none.
fn crop_to_ink(c: &Canvas) -> Canvas {
    let Some((x0, y0, x1, y1)) = c.ink_bounds(0.1) else {
        return c.clone();
    };
    let w = x1 - x0 + 1;
    Canvas {
        w,
        h: y1 - y0 + 1,
        px: (y0..=y1)
            .flat_map(|y| c.px[y * c.w + x0..y * c.w + x0 + w].iter().copied())
            .collect(),
    }
}

/// The canvas scaled to `height`, its width by `aspect` more.
fn fit_height(c: &Canvas, height: f32, aspect: f32) -> Canvas {
    let f = height / c.h as f32;
    let (w, h) = (
        ((c.w as f32 * f * aspect).round() as u32).max(1),
        (height.round() as u32).max(1),
    );
    let src = ImageBuffer::<Luma<f32>, Vec<f32>>::from_raw(c.w as u32, c.h as u32, c.px.clone())
        .expect("w x h pixels");
    let out = imageops::resize(&src, w, h, FilterType::Triangle);
    Canvas {
        w: w as usize,
        h: h as usize,
        px: out
            .into_raw()
            .into_iter()
            .map(|v| v.clamp(0.0, 1.0))
            .collect(),
    }
}

/// The 28x28 digit `digit` (light on black, as MNIST stores it) written on paper as a line of
/// one digit is, captured as badly ([`paper::capture`]) and framed again as a picture is
/// ([`preprocess::from_gray`]): what `digits train --augment --paper P` trains the digit model
/// on. None when the capture left nothing to read.
pub fn digit_on_paper<R: Rng>(digit: &[u8], rng: &mut R) -> Option<Vec<f32>> {
    let g = Canvas {
        w: SIDE,
        h: SIDE,
        px: digit.iter().map(|&v| v as f32 / 255.0).collect(),
    };
    let glyph = fit_height(&crop_to_ink(&g), DIGIT_HEIGHT, rng.gen_range(0.85..1.2));
    let placed = Placed {
        top: glyph.h as f32,
        glyph,
        is_digit: true,
        bar: None,
    };
    let (canvas, baseline) = compose::lay_out(&[placed], &[false], true, rng);
    let picture = paper::capture(&canvas, baseline, rng);
    preprocess::from_gray(&picture.px, picture.w, picture.h, None).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten fake "digits": a vertical bar at a place of its own.
    fn bars() -> LineSynth {
        let mut images = vec![0u8; 10 * SIDE * SIDE];
        for d in 0..10 {
            for y in 4..24 {
                for x in 8 + d..12 + d {
                    images[d * SIDE * SIDE + y * SIDE + x] = 255;
                }
            }
        }
        LineSynth::new(images, &(0..10).collect::<Vec<u8>>()).unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_line() {
        let s = bars();
        assert_eq!(s.sample(7), s.sample(7));
        assert_ne!(s.sample(7), s.sample(8));
    }

    #[test]
    fn lines_are_model_inputs_with_room_for_their_labels() {
        let s = bars();
        for seed in 0..60 {
            let sample = s.sample(seed);
            let line = &sample.line;
            assert_eq!(line.px.len(), super::super::HEIGHT * line.width);
            assert!(line.px.iter().any(|&v| v > 0.5));
            assert!(!sample.label.is_empty());
            assert!(sample.label.iter().all(|&c| (1..15).contains(&c)));
        }
    }

    #[test]
    fn plain_lines_take_their_share_and_leave_the_others_as_they_were() {
        let (mixed, plain) = (bars().with_plain(0.5), bars().with_plain(1.0));
        let s = bars();
        let (mut kept, mut made_plain) = (0, 0);
        for seed in 0..80 {
            let line = mixed.sample(seed);
            if line == s.sample(seed) {
                kept += 1;
            } else {
                assert_eq!(line, plain.sample(seed), "a changed line is the plain one");
                made_plain += 1;
            }
        }
        assert!((25..=55).contains(&made_plain), "{made_plain} plain of 80");
        assert_eq!(kept + made_plain, 80);
        assert_eq!(mixed.sample(3), mixed.sample(3));
    }

    #[test]
    fn bad_digit_sets_are_refused() {
        assert!(LineSynth::new(vec![0; 784], &[3]).is_err());
        assert!(LineSynth::new(vec![0; 700], &[3]).is_err());
    }
}
