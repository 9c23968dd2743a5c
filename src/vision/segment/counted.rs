//! Cutting the ink into a number of digits known beforehand (a form's field: 5 for a zip code):
//! of every way to cut its pieces into parts, or to join whole neighbouring pieces into one
//! digit, the one with the highest total score ([`split::part_score`]) among those of an
//! allowed number of parts. Where [`super::read_digits`] reads two touching 1s as one digit
//! (too narrow a piece to be cut) or a 5 whose bar stands apart as two, this cuts or joins them
//! when the count asks for it.

use super::split::{cut_bounds, part_of, seen_score, MAX_SPAN};
use super::{pieces, see, FoundDigit, Piece, Seen};
use crate::vision::preprocess::Ink;
use std::collections::HashMap;
use std::ops::RangeInclusive;

/// At most this many whole pieces are joined into one digit (a 5 in three strokes).
const MOST_JOINED: usize = 3;

/// One way to read the ink between two places: a part of one piece, or whole pieces joined.
#[derive(Clone, Copy)]
struct Step {
    from: usize,
    part: usize,
    /// Whether the part is less than its whole piece (a digit cut out of ink it touches).
    cut: bool,
}

/// The digits of `ink` read as a number of `counts` digits, left to right, each part the best
/// of its place by the total score; None when no way of cutting and joining the pieces gives
/// such a number (too little ink, or a count far from the pieces').
///
/// The places between parts are each piece's cut positions ([`cut_bounds`], for any piece at
/// least twice as wide as the narrowest part, however narrow for a digit), the end of one piece
/// being the start of the next. From one place to a later one a part is either the piece's
/// columns between them (no wider than [`MAX_SPAN`] heights unless between neighbouring cuts)
/// or, from a piece's start to the end of one of the next [`MOST_JOINED`] - 1 pieces, those
/// whole pieces joined. Best scores are kept per place and per number of parts so far: a
/// Viterbi over (place, count). Each part is classified once.
pub fn read_digits_counted(
    ink: &Ink,
    counts: RangeInclusive<usize>,
    classify: &dyn Fn(&[f32]) -> Vec<f32>,
) -> Option<Vec<FoundDigit>> {
    let (pieces, height) = pieces(ink);
    let most = *counts.end();
    if pieces.is_empty() || most == 0 {
        return None;
    }
    let bounds: Vec<Vec<usize>> = pieces.iter().map(|p| cut_bounds(ink, p, height)).collect();
    // start[p]: the place where piece p starts; its bound b is place start[p] + b.
    let mut start = vec![0usize];
    for b in &bounds {
        start.push(start.last().unwrap() + b.len() - 1);
    }
    let mut paths = Paths::new(start[pieces.len()] + 1, most);
    let mut parts = Parts {
        ink,
        classify,
        height,
        seen: Vec::new(),
        score: Vec::new(),
        at: HashMap::new(),
    };
    for (p, piece) in pieces.iter().enumerate() {
        let b = &bounds[p];
        let last = b.len() - 1;
        for j in 1..=last {
            let to = start[p] + j;
            for i in (0..j).rev() {
                let from = start[p] + i;
                let too_wide = (b[j] - b[i]) as f32 > MAX_SPAN * height;
                if (j > i + 1 && too_wide) || !paths.reached(from) {
                    continue;
                }
                let Some(part) = parts.read(from, to, || part_of(ink, piece, b[i], b[j])) else {
                    continue;
                };
                let cut = i > 0 || j < last;
                paths.extend(from, to, Step { from, part, cut }, parts.score[part]);
            }
        }
        // Whole pieces ending with this one joined into one digit, from an earlier one's start.
        let to = start[p + 1];
        for q in p.saturating_sub(MOST_JOINED - 1)..p {
            let from = start[q];
            if (piece.x1 - pieces[q].x0) as f32 > MAX_SPAN * height || !paths.reached(from) {
                continue;
            }
            let joined = || {
                let mut joined = pieces[q].clone();
                for other in &pieces[q + 1..=p] {
                    joined.absorb(other.clone());
                }
                Some(joined)
            };
            if let Some(part) = parts.read(from, to, joined) {
                let step = Step {
                    from,
                    part,
                    cut: false,
                };
                paths.extend(from, to, step, parts.score[part]);
            }
        }
    }
    let steps = paths.best_ending(start[pieces.len()], counts)?;
    steps
        .into_iter()
        .map(|s| parts.seen[s.part].take().map(|seen| seen.found(ink, s.cut)))
        .collect()
}

/// The parts read so far, each once: what the network saw and read, and its score.
struct Parts<'a> {
    ink: &'a Ink,
    classify: &'a dyn Fn(&[f32]) -> Vec<f32>,
    height: f32,
    seen: Vec<Option<Seen>>,
    score: Vec<f32>,
    /// The part read from one place to another (None where it frames to nothing).
    at: HashMap<(usize, usize), Option<usize>>,
}

impl Parts<'_> {
    /// The index of the part from `from` to `to`, made by `part` and read the first time.
    fn read(
        &mut self,
        from: usize,
        to: usize,
        part: impl FnOnce() -> Option<Piece>,
    ) -> Option<usize> {
        if let Some(&known) = self.at.get(&(from, to)) {
            return known;
        }
        let read = part().and_then(|piece| see(self.ink, piece, self.classify));
        let index = read.map(|s| {
            self.score.push(seen_score(&s, self.height));
            self.seen.push(Some(s));
            self.seen.len() - 1
        });
        self.at.insert((from, to), index);
        index
    }
}

/// The best total score of k parts from the first place to each place, and the last step of it.
struct Paths {
    total: Vec<Vec<f32>>,
    last: Vec<Vec<Option<Step>>>,
}

impl Paths {
    fn new(places: usize, most: usize) -> Self {
        let mut total = vec![vec![f32::NEG_INFINITY; most + 1]; places];
        total[0][0] = 0.0;
        let last = (0..places)
            .map(|_| (0..=most).map(|_| None).collect())
            .collect();
        Paths { total, last }
    }

    /// Whether any number of parts reaches `place`.
    fn reached(&self, place: usize) -> bool {
        self.total[place].iter().any(|t| t.is_finite())
    }

    /// Every count of parts reaching `from`, one part (of `score`) longer, to `to`, where that
    /// is at least as good as what reached `to` with as many parts.
    fn extend(&mut self, from: usize, to: usize, step: Step, score: f32) {
        for k in 1..self.total[to].len() {
            let t = self.total[from][k - 1] + score;
            if t.is_finite() && t >= self.total[to][k] {
                self.total[to][k] = t;
                self.last[to][k] = Some(step);
            }
        }
    }

    /// The steps of the best path to `end` of a number of parts in `counts`, first to last.
    fn best_ending(&self, end: usize, counts: RangeInclusive<usize>) -> Option<Vec<&Step>> {
        let total = &self.total[end];
        let mut k = counts
            .filter(|&k| k < total.len() && total[k].is_finite())
            .max_by(|&a, &b| total[a].total_cmp(&total[b]))?;
        let (mut at, mut steps) = (end, Vec::with_capacity(k));
        while k > 0 {
            let step = self.last[at][k].as_ref()?;
            steps.push(step);
            at = step.from;
            k -= 1;
        }
        steps.reverse();
        Some(steps)
    }
}
