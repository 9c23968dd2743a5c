//! Whole numbers: the digits in a picture of a number (a zip code, an amount, a row of digits),
//! found and read left to right.
//!
//! The ink (from [`preprocess::ink_from_bytes`], so shadows, ruled lines and specks are dealt
//! with as for one digit) is cut into connected pieces. Specks far smaller than the digits are
//! dropped; pieces that overlap horizontally are one digit (the two strokes of a 4, the bar of
//! a 5 written apart); a piece too wide for one digit (digits that touch) is cut where the ink
//! is thinnest, choosing among the possible cuts the one whose parts the network reads with the
//! most confidence. Each digit is then framed like MNIST and classified by the caller's model.

mod counted;
mod split;

pub use counted::read_digits_counted;

use super::preprocess::{Ink, PIXELS};
use split::split;
use std::ops::RangeInclusive;

/// Pixels at or above this level join pieces; fainter ones are edges (and light touches).
const SOLID: f32 = 0.25;
/// A piece lower and narrower than this fraction of the tallest is a speck (dust, a full stop).
const SPECK: f32 = 0.25;
/// Pieces whose horizontal extents overlap by this fraction of the narrower one are one digit.
const OVERLAP: f32 = 0.5;
/// A piece wider than this many times the height of the digits may be several digits.
const WIDE: f32 = 0.75;

/// One digit found in a picture.
#[derive(Clone, Debug)]
pub struct FoundDigit {
    pub digit: usize,
    pub probability: f32,
    /// x, y, width, height in the pixels of the decoded picture.
    pub bbox: [u32; 4],
    /// The 784 values the network saw.
    pub input: Vec<f32>,
    /// Whether it was cut out of ink it touches (a piece too wide for one digit).
    pub cut_from_wider: bool,
    /// The network's probability of each class (each digit 0-9 for a digit model).
    pub probabilities: Vec<f32>,
}

/// A set of ink pixels (indices into the working grid) and its box (half-open).
#[derive(Clone, Debug)]
struct Piece {
    pixels: Vec<usize>,
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

impl Piece {
    fn width(&self) -> usize {
        self.x1 - self.x0
    }
    fn height(&self) -> usize {
        self.y1 - self.y0
    }
    fn absorb(&mut self, other: Piece) {
        self.x0 = self.x0.min(other.x0);
        self.y0 = self.y0.min(other.y0);
        self.x1 = self.x1.max(other.x1);
        self.y1 = self.y1.max(other.y1);
        self.pixels.extend(other.pixels);
    }
    fn from_pixels(pixels: Vec<usize>, w: usize) -> Option<Piece> {
        let mut p = Piece {
            x0: usize::MAX,
            y0: usize::MAX,
            x1: 0,
            y1: 0,
            pixels,
        };
        for &i in &p.pixels {
            let (x, y) = (i % w, i / w);
            p.x0 = p.x0.min(x);
            p.y0 = p.y0.min(y);
            p.x1 = p.x1.max(x + 1);
            p.y1 = p.y1.max(y + 1);
        }
        (!p.pixels.is_empty()).then_some(p)
    }
}

/// Reads the number in `ink`, left to right. `classify` maps 784 MNIST-style values to ten
/// probabilities. Empty when the picture holds no digit.
pub fn read_digits(ink: &Ink, classify: &dyn Fn(&[f32]) -> Vec<f32>) -> Vec<FoundDigit> {
    let (pieces, height) = pieces(ink);
    let mut out = Vec::new();
    for piece in pieces {
        let parts = if piece.width() as f32 > WIDE * height {
            split(ink, &piece, height, classify)
        } else {
            Vec::new()
        };
        let cut = parts.len() > 1;
        if parts.is_empty() {
            out.extend(see(ink, piece, classify).map(|seen| seen.found(ink, false)));
        } else {
            out.extend(parts.into_iter().map(|seen| seen.found(ink, cut)));
        }
    }
    out
}

/// The digits of `ink` when it holds a number of pieces of ink in `counts` (about as many as
/// another reader read digits there): each piece read whole, as a digit standing apart, none
/// cut. None, before anything is classified, when it holds another number of pieces.
pub fn read_digits_apart(
    ink: &Ink,
    counts: RangeInclusive<usize>,
    classify: &dyn Fn(&[f32]) -> Vec<f32>,
) -> Option<Vec<FoundDigit>> {
    let (pieces, _) = pieces(ink);
    if !counts.contains(&pieces.len()) {
        return None;
    }
    pieces
        .into_iter()
        .map(|piece| see(ink, piece, classify).map(|seen| seen.found(ink, false)))
        .collect()
}

/// How many pieces of `ink` may be digits: its connected pieces of solid ink, specks dropped
/// and pieces that overlap horizontally counted as one.
pub fn piece_count(ink: &Ink) -> usize {
    pieces(ink).0.len()
}

/// The pieces of ink that may be digits, left to right, and the tallest one's height.
fn pieces(ink: &Ink) -> (Vec<Piece>, f32) {
    let mut pieces = merge_overlapping(drop_specks(components(ink)));
    pieces.sort_by_key(|p| p.x0);
    let height = pieces.iter().map(Piece::height).max().unwrap_or(0) as f32;
    (pieces, height)
}

/// A piece framed as the network's input, and the network's probabilities for it.
struct Seen {
    piece: Piece,
    input: Vec<f32>,
    probs: Vec<f32>,
}

/// `piece` framed and classified; None when it frames to nothing.
fn see(ink: &Ink, piece: Piece, classify: &dyn Fn(&[f32]) -> Vec<f32>) -> Option<Seen> {
    let input = frame_piece(ink, &piece)?;
    let probs = classify(&input);
    Some(Seen {
        piece,
        input,
        probs,
    })
}

impl Seen {
    /// The digit, its probability, its box and the network's input.
    fn found(self, ink: &Ink, cut_from_wider: bool) -> FoundDigit {
        let digit = crate::nn::argmax(&self.probs);
        let (piece, b) = (&self.piece, ink.block);
        let bbox = [
            (piece.x0 * b) as u32,
            (piece.y0 * b) as u32,
            ((piece.width() * b) as u32).min(ink.width - (piece.x0 * b) as u32),
            ((piece.height() * b) as u32).min(ink.height - (piece.y0 * b) as u32),
        ];
        FoundDigit {
            digit,
            probability: self.probs[digit],
            bbox,
            input: self.input,
            cut_from_wider,
            probabilities: self.probs,
        }
    }
}

/// The piece's solid pixels, with the faint edge pixels inside its box (one pixel round).
fn frame_piece(ink: &Ink, piece: &Piece) -> Option<Vec<f32>> {
    let (x0, y0) = (piece.x0.saturating_sub(1), piece.y0.saturating_sub(1));
    let (x1, y1) = ((piece.x1 + 1).min(ink.w), (piece.y1 + 1).min(ink.h));
    // The piece's own pixels, over its box one pixel round.
    let rw = x1 - x0;
    let mut mine = vec![false; rw * (y1 - y0)];
    for &i in &piece.pixels {
        mine[(i / ink.w - y0) * rw + i % ink.w - x0] = true;
    }
    let x = ink.frame_within((x0, y0, x1, y1), |i| {
        let (x, y) = (i % ink.w, i / ink.w);
        mine[(y - y0) * rw + x - x0] || ink.px[i] < SOLID
    })?;
    debug_assert_eq!(x.len(), PIXELS);
    Some(x)
}

/// 8-connected pieces of solid ink.
fn components(ink: &Ink) -> Vec<Piece> {
    let (w, h) = (ink.w, ink.h);
    let mut seen = vec![false; ink.px.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for s in 0..ink.px.len() {
        if seen[s] || ink.px[s] < SOLID {
            continue;
        }
        let mut pixels = Vec::new();
        seen[s] = true;
        stack.push(s);
        while let Some(i) = stack.pop() {
            pixels.push(i);
            let (x, y) = (i % w, i / w);
            for ny in y.saturating_sub(1)..(y + 2).min(h) {
                for nx in x.saturating_sub(1)..(x + 2).min(w) {
                    let j = ny * w + nx;
                    if !seen[j] && ink.px[j] >= SOLID {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.extend(Piece::from_pixels(pixels, w));
    }
    out
}

fn drop_specks(pieces: Vec<Piece>) -> Vec<Piece> {
    let tallest = pieces.iter().map(Piece::height).max().unwrap_or(0) as f32;
    pieces
        .into_iter()
        .filter(|p| (p.height() as f32) >= SPECK * tallest || (p.width() as f32) >= SPECK * tallest)
        .collect()
}

/// Joins pieces whose horizontal extents overlap by at least [`OVERLAP`] of the narrower.
fn merge_overlapping(mut pieces: Vec<Piece>) -> Vec<Piece> {
    loop {
        let mut merged = false;
        'outer: for i in 0..pieces.len() {
            for j in i + 1..pieces.len() {
                let (a, b) = (&pieces[i], &pieces[j]);
                let overlap = a.x1.min(b.x1) as f32 - a.x0.max(b.x0) as f32;
                if overlap >= OVERLAP * a.width().min(b.width()) as f32 {
                    let b = pieces.swap_remove(j);
                    pieces[i].absorb(b);
                    merged = true;
                    break 'outer;
                }
            }
        }
        if !merged {
            return pieces;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split::split_reading;
    use super::*;

    /// An ink map with the given filled rectangles (x, y, w, h).
    fn ink_of(w: usize, h: usize, rects: &[(usize, usize, usize, usize)]) -> Ink {
        let mut px = vec![0.0f32; w * h];
        for &(x, y, rw, rh) in rects {
            for yy in y..y + rh {
                for xx in x..x + rw {
                    px[yy * w + xx] = 1.0;
                }
            }
        }
        Ink {
            w,
            h,
            px,
            block: 1,
            width: w as u32,
            height: h as u32,
        }
    }

    /// A stand-in network: sure of a "1" for narrow ink, of a "0" for ink of a digit's width,
    /// unsure of anything wider.
    fn narrow_is_one(x: &[f32]) -> Vec<f32> {
        let cols = (0..28)
            .filter(|&c| (0..28).any(|r| x[r * 28 + c] > 0.1))
            .count();
        let mut p = vec![0.01f32; 10];
        if cols <= 8 {
            p[1] = 0.91;
        } else if cols <= 16 {
            p[0] = 0.91;
        } else {
            p = vec![0.1; 10];
        }
        p
    }

    #[test]
    fn blank_and_one_digit() {
        assert!(read_digits(&ink_of(50, 40, &[]), &narrow_is_one).is_empty());
        let one = read_digits(&ink_of(50, 40, &[(20, 5, 4, 30)]), &narrow_is_one);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].digit, 1);
        assert_eq!(one[0].bbox, [20, 5, 4, 30]);
    }

    /// Three 1s standing apart (given right to left) and a speck between the last two.
    const ONES_AND_A_SPECK: [(usize, usize, usize, usize); 4] = [
        (80, 5, 4, 30),
        (10, 5, 4, 30),
        (45, 5, 4, 30),
        (60, 36, 2, 2),
    ];

    #[test]
    fn left_to_right_specks_dropped() {
        let ink = ink_of(120, 40, &ONES_AND_A_SPECK);
        let found = read_digits(&ink, &narrow_is_one);
        let xs: Vec<u32> = found.iter().map(|f| f.bbox[0]).collect();
        assert_eq!(xs, [10, 45, 80]);
    }

    #[test]
    fn pieces_standing_apart_are_read_only_when_there_are_as_many_as_asked() {
        // Three 1s apart, a speck, and two 0s joined by a thin bridge: read whole here.
        let zeros = [(110, 5, 16, 30), (129, 5, 16, 30), (126, 25, 3, 2)];
        let ink = ink_of(160, 40, &[&ONES_AND_A_SPECK[..], &zeros].concat());
        let calls = std::cell::Cell::new(0);
        let counting = |x: &[f32]| {
            calls.set(calls.get() + 1);
            narrow_is_one(x)
        };
        assert!(read_digits_apart(&ink, 2..=3, &counting).is_none());
        assert!(read_digits_apart(&ink, 5..=6, &counting).is_none());
        assert_eq!(
            calls.get(),
            0,
            "nothing is classified when the count is wrong"
        );
        let found = read_digits_apart(&ink, 3..=4, &counting).unwrap();
        let xs: Vec<u32> = found.iter().map(|f| f.bbox[0]).collect();
        assert_eq!(xs, [10, 45, 80, 110]);
        assert_eq!(found[3].bbox[2], 35, "the wide piece is not cut");
        assert!(found.iter().all(|f| !f.cut_from_wider));
        assert_eq!(calls.get(), 4);
        // read_digits cuts the wide piece in two.
        let cut = read_digits(&ink, &narrow_is_one);
        assert_eq!(
            cut.iter().map(|f| f.digit).collect::<Vec<_>>(),
            [1, 1, 1, 0, 0]
        );
    }

    #[test]
    fn a_broken_stroke_is_one_digit() {
        // A bar written apart above a body (the two strokes of a 5): overlapping in x.
        let ink = ink_of(60, 50, &[(15, 5, 20, 3), (12, 12, 24, 30)]);
        let found = read_digits(&ink, &narrow_is_one);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].bbox, [12, 5, 24, 37]);
    }

    #[test]
    fn touching_digits_are_cut_at_the_thinnest_column() {
        // Two wide digits touching by a thin bridge: one piece, cut at the bridge.
        let ink = ink_of(100, 50, &[(20, 5, 24, 40), (47, 5, 24, 40), (44, 30, 3, 2)]);
        let found = read_digits(&ink, &narrow_is_one);
        let boxes: Vec<[u32; 4]> = found.iter().map(|f| f.bbox).collect();
        assert_eq!(boxes.len(), 2, "{boxes:?}");
        assert_eq!(found[0].digit, 0);
        assert!(
            (44..=47).contains(&(boxes[0][0] + boxes[0][2])),
            "{boxes:?}"
        );
        assert!((44..=47).contains(&boxes[1][0]), "{boxes:?}");
    }

    /// A stand-in network whose probabilities follow from the input's pixels, often exactly
    /// 1 for one digit (so that sequences of parts tie).
    fn hashed(x: &[f32]) -> Vec<f32> {
        use rand::{Rng, SeedableRng};
        let hash = x.iter().enumerate().fold(0u64, |h, (i, &v)| {
            h.rotate_left(5) ^ (u64::from(v.to_bits()) * (i as u64 + 1))
        });
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(hash);
        let mut p = vec![0.0f32; 10];
        let digit = rng.gen_range(0..10);
        if rng.gen_bool(0.3) {
            p[digit] = 1.0;
            return p;
        }
        p.iter_mut().for_each(|v| *v = rng.gen_range(0.0..0.1));
        p[digit] += rng.gen_range(0.0..3.0);
        let sum: f32 = p.iter().sum();
        p.iter().map(|v| v / sum).collect()
    }

    /// Four to seven blocks of ink in a row, touching by bridges at random heights, or apart
    /// with chance `apart`.
    fn blocks(seed: u64, apart: f64) -> Ink {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut rects = Vec::new();
        let mut x = 5;
        for k in 0..rng.gen_range(4..8) {
            let (w, h) = (rng.gen_range(6..16), rng.gen_range(20..40));
            if rng.gen_bool(apart) {
                x += rng.gen_range(2..6);
            } else if k > 0 {
                rects.push((x - 2, rng.gen_range(10..h - 2), 3, rng.gen_range(1..4)));
            }
            rects.push((x, 45 - h, w, h));
            x += w + 1;
        }
        ink_of(x + 5, 50, &rects)
    }

    #[test]
    fn a_cut_reads_fewer_parts_and_chooses_the_same_ones() {
        let (mut read, mut pruned) = (0, 0);
        for seed in 0..400 {
            let ink = blocks(seed, 0.0);
            let (pieces, height) = pieces(&ink);
            let calls = std::cell::Cell::new(0);
            let counting = |x: &[f32]| {
                calls.set(calls.get() + 1);
                hashed(x)
            };
            for piece in &pieces {
                let every = split_reading(&ink, piece, height, &counting, false);
                read += calls.replace(0);
                let fewer = split_reading(&ink, piece, height, &counting, true);
                pruned += calls.replace(0);
                let parts = |seen: &[Seen]| -> Vec<(usize, usize, Vec<f32>)> {
                    seen.iter()
                        .map(|s| (s.piece.x0, s.piece.x1, s.probs.clone()))
                        .collect()
                };
                assert_eq!(parts(&fewer), parts(&every), "seed {seed}");
            }
        }
        assert!(pruned < read, "{pruned} parts read of {read}");
    }

    /// What the digits found score as parts of ink `height` high (block 1): see `split`.
    fn total_score(found: &[FoundDigit], height: f32) -> f32 {
        found
            .iter()
            .map(|f| {
                let aspect = f.bbox[2] as f32 / height;
                f.probability.max(1e-6).ln() - 3.0 * (aspect - 0.9).max(0.0) - 1.0
            })
            .sum()
    }

    #[test]
    fn a_count_cuts_touching_narrow_digits_and_joins_a_digit_in_two_pieces() {
        // Two 1s touching by a bridge: a piece too narrow to be cut unasked.
        let ones = ink_of(60, 40, &[(20, 5, 4, 30), (26, 5, 4, 30), (24, 20, 2, 2)]);
        assert_eq!(read_digits(&ones, &narrow_is_one).len(), 1);
        let two = read_digits_counted(&ones, 2..=2, &narrow_is_one).unwrap();
        let digits: Vec<usize> = two.iter().map(|f| f.digit).collect();
        assert_eq!(digits, [1, 1]);
        assert!(two.iter().all(|f| f.cut_from_wider));
        assert!(two[0].bbox[0] + two[0].bbox[2] <= two[1].bbox[0] + 1);
        // A 0 written in two strokes standing apart: two pieces, one digit when one is asked.
        let halves = ink_of(60, 40, &[(20, 5, 7, 30), (28, 5, 7, 30)]);
        assert_eq!(read_digits(&halves, &narrow_is_one).len(), 2);
        let one = read_digits_counted(&halves, 1..=1, &narrow_is_one).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!((one[0].digit, one[0].bbox), (0, [20, 5, 15, 30]));
        assert!(!one[0].cut_from_wider);
        // Too little ink for five digits; nothing for an empty count.
        let narrow = ink_of(60, 40, &[(20, 5, 4, 30)]);
        assert!(read_digits_counted(&narrow, 5..=5, &narrow_is_one).is_none());
        assert!(read_digits_counted(&ink_of(60, 40, &[]), 1..=3, &narrow_is_one).is_none());
    }

    #[test]
    fn a_count_is_read_at_least_as_well_as_the_cut_unasked() {
        // Unasked, each piece is cut on its own; asked for as many digits as that cut found,
        // the count's best is one of the ways it weighs, so it scores at least as well, and
        // within the range asked it reads a count in it.
        let mut better = 0;
        for seed in 0..300 {
            let ink = blocks(seed, 0.3);
            let height = pieces(&ink).1;
            let free = read_digits(&ink, &hashed);
            let n = free.len();
            let asked = read_digits_counted(&ink, n..=n, &hashed).unwrap();
            assert_eq!(asked.len(), n, "seed {seed}");
            let (a, f) = (total_score(&asked, height), total_score(&free, height));
            assert!(a >= f - 1e-3, "seed {seed}: {a} < {f}");
            better += (a > f + 1e-3) as usize;
            let range = n.saturating_sub(1).max(1)..=n + 1;
            let k = read_digits_counted(&ink, range.clone(), &hashed).map_or(0, |d| d.len());
            assert!(range.contains(&k), "seed {seed}: {k} digits");
        }
        println!("{better} of 300 read better asked");
        assert!(better > 0, "the count never found a better way");
    }
}
