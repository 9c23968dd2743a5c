//! Cutting the ink into a number of digits known beforehand (a form's field: 5 for a zip code):
//! of every way to cut its pieces into parts, or to join whole neighbouring pieces into one
//! digit, the one with the highest total score ([`split::part_score`]) among those of an
//! allowed number of parts. Where [`super::read_digits`] reads two touching 1s as one digit
//! (too narrow a piece to be cut) or a 5 whose bar stands apart as two, this cuts or joins them
//! when the count asks for it.

use super::split::{cut_bounds, part_of, part_score, seen_score, MAX_SPAN};
use super::{pieces, see, FoundDigit, Piece, Seen};
use crate::vision::preprocess::Ink;
use std::ops::RangeInclusive;

/// At most this many whole pieces are joined into one digit (a 5 in three strokes).
const MOST_JOINED: usize = 3;

/// One way to read the ink between two places: the columns `a..b` of piece `piece`, or the
/// whole pieces `piece..=last` joined.
#[derive(Clone, Copy)]
enum Span {
    Columns { piece: usize, a: usize, b: usize },
    Joined { piece: usize, last: usize },
}

/// A part the paths may take: from place `from` to place `to`, over `span`.
#[derive(Clone, Copy)]
struct Edge {
    from: usize,
    to: usize,
    span: Span,
}

/// The last step of a best path: its part (an index into the parts read) and where it came from.
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
/// Viterbi over (place, count), where only the counts from which the rest of the ink can still
/// make a number of `counts` parts are kept. A part is read (classified) only where it could
/// better a path, each at most once.
pub fn read_digits_counted(
    ink: &Ink,
    counts: RangeInclusive<usize>,
    classify: &dyn Fn(&[f32]) -> Vec<f32>,
) -> Option<Vec<FoundDigit>> {
    let (pieces, height) = pieces(ink);
    let (least, most) = (*counts.start(), *counts.end());
    if pieces.is_empty() || most == 0 || least > most {
        return None;
    }
    let bounds: Vec<Vec<usize>> = pieces.iter().map(|p| cut_bounds(ink, p, height)).collect();
    // start[p]: the place where piece p starts; its bound b is place start[p] + b.
    let mut start = vec![0usize];
    for b in &bounds {
        start.push(start.last().unwrap() + b.len() - 1);
    }
    let places = start[pieces.len()] + 1;
    // The edges by the place they reach, the narrowest last part first: the best paths so far
    // then often leave a wider one no chance, and it is not read.
    let mut edges = Vec::new();
    for (p, piece) in pieces.iter().enumerate() {
        let b = &bounds[p];
        for j in 1..b.len() {
            for i in (0..j).rev() {
                let too_wide = (b[j] - b[i]) as f32 > MAX_SPAN * height;
                if j == i + 1 || !too_wide {
                    let span = Span::Columns {
                        piece: p,
                        a: b[i],
                        b: b[j],
                    };
                    edges.push(Edge {
                        from: start[p] + i,
                        to: start[p] + j,
                        span,
                    });
                }
            }
        }
        for q in p.saturating_sub(MOST_JOINED - 1)..p {
            if (piece.x1 - pieces[q].x0) as f32 <= MAX_SPAN * height {
                let span = Span::Joined { piece: q, last: p };
                edges.push(Edge {
                    from: start[q],
                    to: start[p + 1],
                    span,
                });
            }
        }
    }
    // The fewest and the most parts the ink after each place can make.
    let (mut fewest, mut most_after) = (vec![usize::MAX; places], vec![0usize; places]);
    fewest[places - 1] = 0;
    for e in edges.iter().rev() {
        if fewest[e.to] != usize::MAX {
            fewest[e.from] = fewest[e.from].min(fewest[e.to] + 1);
            most_after[e.from] = most_after[e.from].max(most_after[e.to] + 1);
        }
    }
    // k parts at a place can still end as a number of `counts` parts.
    let useful = |place: usize, k: usize| {
        fewest[place] != usize::MAX && k + fewest[place] <= most && k + most_after[place] >= least
    };
    let mut paths = Paths::new(places, most);
    let mut parts = Parts {
        ink,
        classify,
        height,
        seen: Vec::new(),
    };
    for e in &edges {
        let ks: Vec<usize> = (1..=most).filter(|&k| useful(e.to, k)).collect();
        if ks.is_empty() || !ks.iter().any(|&k| paths.total[e.from][k - 1].is_finite()) {
            continue;
        }
        let (part, cut) = match e.span {
            Span::Columns { piece, a, b } => {
                let cut = a > 0 || b < pieces[piece].width();
                (part_of(ink, &pieces[piece], a, b), cut)
            }
            Span::Joined { piece, last } => {
                let mut joined = pieces[piece].clone();
                for other in &pieces[piece + 1..=last] {
                    joined.absorb(other.clone());
                }
                (Some(joined), false)
            }
        };
        if let Some(part) = part {
            parts.try_step(&mut paths, e, &ks, part, cut);
        }
    }
    let steps = paths.best_ending(places - 1, counts)?;
    steps
        .into_iter()
        .map(|s| parts.seen[s.part].take().map(|seen| seen.found(ink, s.cut)))
        .collect()
}

/// The parts read, in the order they were read (each edge's part at most once).
struct Parts<'a> {
    ink: &'a Ink,
    classify: &'a dyn Fn(&[f32]) -> Vec<f32>,
    height: f32,
    seen: Vec<Option<Seen>>,
}

impl Parts<'_> {
    /// `part`, the edge `e`'s, read and made a step of the paths of `ks` parts, unless no
    /// reading of it could better one of them (then it is not read: reading is the cost).
    fn try_step(&mut self, paths: &mut Paths, e: &Edge, ks: &[usize], part: Piece, cut: bool) {
        let upper = part_score(1.0, &part, self.height);
        if !paths.could_improve(e.from, e.to, ks, upper) {
            return;
        }
        let Some(seen) = see(self.ink, part, self.classify) else {
            return;
        };
        let score = seen_score(&seen, self.height);
        self.seen.push(Some(seen));
        let step = Step {
            from: e.from,
            part: self.seen.len() - 1,
            cut,
        };
        paths.extend(e.to, ks, step, score);
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

    /// Whether a part of at most `score` from `from` could bring a path of k - 1 parts to `to`
    /// as well as the best of k parts there now, for a k of `ks`.
    fn could_improve(&self, from: usize, to: usize, ks: &[usize], score: f32) -> bool {
        ks.iter().any(|&k| {
            let t = self.total[from][k - 1] + score;
            t.is_finite() && t >= self.total[to][k]
        })
    }

    /// Each path of k - 1 parts to `step.from`, for k in `ks`, one part (of `score`) longer to
    /// `to`, where that is at least as good as the best of k parts there.
    fn extend(&mut self, to: usize, ks: &[usize], step: Step, score: f32) {
        for &k in ks {
            let t = self.total[step.from][k - 1] + score;
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
