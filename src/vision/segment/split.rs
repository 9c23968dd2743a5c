//! Cutting one piece of ink that may hold several touching digits: where it may be cut (the
//! thinnest columns), what each part between two cuts scores as a digit, and the best sequence
//! of parts.

use super::{see, Piece, Seen};
use crate::vision::preprocess::Ink;

/// Each part beyond the first costs this much log-probability (cutting must pay its way).
const PART_COST: f32 = 1.0;
/// No cut leaves a part narrower than this fraction of the height (a "1" is about 0.15-0.3).
const MIN_PART: f32 = 0.12;
/// Parts wider than this fraction of the height are unlikely single digits: each fraction above
/// costs this much log-probability.
const PART_ASPECT: f32 = 0.9;
const ASPECT_COST: f32 = 3.0;
/// Parts of more than one span between cuts are not tried wider than this many heights.
pub(super) const MAX_SPAN: f32 = 1.6;
/// Cut positions tried per piece (the thinnest columns).
const MAX_CUTS: usize = 14;

/// Cuts a wide piece into digits: among cuts at the thinnest columns, the sequence of parts
/// with the highest total log-probability (the network's confidence in each part, less a cost
/// for parts too wide to be one digit). The parts come with what the network read in them
/// (each is read once); none when no sequence of parts frames.
pub(super) fn split(
    ink: &Ink,
    piece: &Piece,
    height: f32,
    classify: &dyn Fn(&[f32]) -> Vec<f32>,
) -> Vec<Seen> {
    split_reading(ink, piece, height, classify, true)
}

/// Where `piece` may be cut, in columns from its left: 0, the cuts (local minima of the column
/// profile under half its peak, the thinnest [`MAX_CUTS`], none leaving a part narrower than
/// [`MIN_PART`] of `height`), and its width.
pub(super) fn cut_bounds(ink: &Ink, piece: &Piece, height: f32) -> Vec<usize> {
    let w = ink.w;
    let mut profile = vec![0.0f32; piece.width()];
    for &i in &piece.pixels {
        profile[i % w - piece.x0] += ink.px[i];
    }
    let min_part = ((MIN_PART * height) as usize).max(2);
    let n = profile.len();
    // Candidate cuts: local minima of the column profile under half its peak (the middle of a
    // flat run of them), the thinnest first.
    let thickest = profile.iter().copied().fold(0.0f32, f32::max);
    let minima: Vec<usize> = (min_part..n.saturating_sub(min_part))
        .filter(|&c| profile[c] < 0.5 * thickest)
        .filter(|&c| {
            let lo = c.saturating_sub(2);
            let hi = (c + 3).min(n);
            profile[lo..hi].iter().all(|&v| v >= profile[c])
        })
        .collect();
    let mut cuts = Vec::new();
    let mut k = 0;
    while k < minima.len() {
        let mut e = k;
        while e + 1 < minima.len()
            && minima[e + 1] == minima[e] + 1
            && profile[minima[e + 1]] == profile[minima[k]]
        {
            e += 1;
        }
        cuts.push(minima[(k + e) / 2]);
        k = e + 1;
    }
    cuts.sort_by(|&a, &b| profile[a].total_cmp(&profile[b]));
    cuts.truncate(MAX_CUTS);
    cuts.sort_unstable();
    cuts.dedup_by(|a, b| *a - *b < min_part);
    let mut bounds = vec![0];
    bounds.extend(cuts);
    bounds.push(n);
    bounds
}

/// The pixels of `piece` in its columns `a..b` (from its left); None when there are none.
pub(super) fn part_of(ink: &Ink, piece: &Piece, a: usize, b: usize) -> Option<Piece> {
    let (a, b) = (piece.x0 + a, piece.x0 + b);
    let pixels: Vec<usize> = piece
        .pixels
        .iter()
        .copied()
        .filter(|&p| (a..b).contains(&(p % ink.w)))
        .collect();
    Piece::from_pixels(pixels, ink.w)
}

/// A part read as a digit of probability `p`: its log, less the costs of the part (one for
/// being a part, more for being too wide to be one digit of `height`).
pub(super) fn part_score(p: f32, part: &Piece, height: f32) -> f32 {
    let aspect = part.width() as f32 / height;
    p.max(1e-6).ln() - ASPECT_COST * (aspect - PART_ASPECT).max(0.0) - PART_COST
}

/// What `seen` scores as a part: [`part_score`] of its likeliest digit.
pub(super) fn seen_score(seen: &Seen, height: f32) -> f32 {
    let p = seen.probs.iter().copied().fold(0.0f32, f32::max);
    part_score(p, &seen.piece, height)
}

/// [`split`], reading only the parts that may still win (`prune`) or every part: the same
/// parts either way (on the shared numbers a sixth fewer are read).
pub(super) fn split_reading(
    ink: &Ink,
    piece: &Piece,
    height: f32,
    classify: &dyn Fn(&[f32]) -> Vec<f32>,
    prune: bool,
) -> Vec<Seen> {
    let bounds = cut_bounds(ink, piece, height);
    let m = bounds.len();
    let mut best = vec![f32::NEG_INFINITY; m];
    let mut from = vec![0usize; m];
    // chosen[j]: the last part of the best sequence ending at bound j, as read.
    let mut chosen: Vec<Option<Seen>> = (0..m).map(|_| None).collect();
    best[0] = 0.0;
    for j in 1..m {
        // The narrowest last part first: the best sequence so far then often leaves a wider
        // one no chance, and it is not read. Of equal scores the widest last part wins, as it
        // did when they were tried widest first.
        for i in (0..j).rev() {
            // A span of several cuts wider than any digit is not read: it would lose to its
            // parts, and reading it costs most of the time on long runs of touching digits.
            let too_wide = (bounds[j] - bounds[i]) as f32 > MAX_SPAN * height;
            if best[i] == f32::NEG_INFINITY || (j > i + 1 && too_wide) {
                continue;
            }
            let Some(part) = part_of(ink, piece, bounds[i], bounds[j]) else {
                continue;
            };
            // Its score with a probability of 1: no reading of it can do better.
            if prune && best[i] + part_score(1.0, &part, height) < best[j] {
                continue;
            }
            if let Some(seen) = see(ink, part, classify) {
                let s = best[i] + seen_score(&seen, height);
                if s >= best[j] {
                    best[j] = s;
                    from[j] = i;
                    chosen[j] = Some(seen);
                }
            }
        }
    }
    let mut parts = Vec::new();
    let mut j = m - 1;
    while j > 0 {
        let Some(seen) = chosen[j].take() else {
            return Vec::new();
        };
        parts.push(seen);
        j = from[j];
    }
    parts.reverse();
    parts
}
