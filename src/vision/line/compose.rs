//! What a training line says and how its ink lies: a number's text (plain digit strings,
//! dates, phone numbers, amounts), and its glyphs (digit images, drawn separators) placed left
//! to right on an ink canvas with the unevenness of handwriting: gaps from overlapping to wide,
//! a drifting baseline, each glyph's own size, a slant.

use rand::Rng;

/// The height of a digit on the composing canvas, in its pixels.
pub const DIGIT_HEIGHT: f32 = 20.0;

/// Ink levels in [0, 1] (1 = solid stroke), `w` x `h` row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Canvas {
    pub w: usize,
    pub h: usize,
    pub px: Vec<f32>,
}

impl Canvas {
    pub fn new(w: usize, h: usize) -> Self {
        Canvas {
            w,
            h,
            px: vec![0.0; w * h],
        }
    }

    /// The box (x0, y0, x1, y1 inclusive) of the ink above `level`; None when there is none.
    pub fn ink_bounds(&self, level: f32) -> Option<(usize, usize, usize, usize)> {
        let (mut x0, mut y0, mut x1, mut y1) = (self.w, self.h, 0, 0);
        for (i, _) in self.px.iter().enumerate().filter(|(_, &v)| v > level) {
            let (x, y) = (i % self.w, i / self.w);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
        (x0 <= x1).then_some((x0, y0, x1, y1))
    }

    /// Lays `glyph` with its top-left corner at (x, y), keeping the darker ink where they meet.
    pub fn stamp(&mut self, glyph: &Canvas, x: i64, y: i64) {
        for gy in 0..glyph.h {
            let cy = y + gy as i64;
            if cy < 0 || cy >= self.h as i64 {
                continue;
            }
            for gx in 0..glyph.w {
                let cx = x + gx as i64;
                if cx >= 0 && cx < self.w as i64 {
                    let o = &mut self.px[cy as usize * self.w + cx as usize];
                    *o = o.max(glyph.px[gy * glyph.w + gx]);
                }
            }
        }
    }

    /// A round pen of diameter `pen` dragged from a to b, anti-aliased.
    pub fn segment(&mut self, a: (f32, f32), b: (f32, f32), pen: f32) {
        let r = pen / 2.0;
        let lo = |p: f32, q: f32| (p.min(q) - r - 1.0).floor().max(0.0) as usize;
        let (x0, y0) = (lo(a.0, b.0), lo(a.1, b.1));
        let x1 = ((a.0.max(b.0) + r + 1.0).ceil().max(0.0) as usize).min(self.w);
        let y1 = ((a.1.max(b.1) + r + 1.0).ceil().max(0.0) as usize).min(self.h);
        let (vx, vy) = (b.0 - a.0, b.1 - a.1);
        let len2 = (vx * vx + vy * vy).max(1e-6);
        for y in y0..y1 {
            for x in x0..x1 {
                let (px, py) = (x as f32 + 0.5 - a.0, y as f32 + 0.5 - a.1);
                let t = ((px * vx + py * vy) / len2).clamp(0.0, 1.0);
                let d = ((px - t * vx).powi(2) + (py - t * vy).powi(2)).sqrt();
                let cover = (r + 0.5 - d).clamp(0.0, 1.0);
                let o = &mut self.px[y * self.w + x];
                *o = o.max(cover);
            }
        }
    }

    /// A polyline drawn with `segment`.
    pub fn polyline(&mut self, pts: &[(f32, f32)], pen: f32) {
        for s in pts.windows(2) {
            self.segment(s[0], s[1], pen);
        }
    }

    /// The canvas with x moved by `slant` pixels per pixel above row `pivot` (a forward lean
    /// for positive slant), widened to keep all of the ink.
    pub fn sheared(&self, slant: f32, pivot: f32) -> Canvas {
        let reach = |y: f32| slant * (pivot - y);
        let (a, b) = (reach(0.0), reach(self.h as f32));
        let left = a.min(b).min(0.0).floor();
        let w = self.w + (a.max(b).max(0.0).ceil() - left) as usize;
        let mut out = Canvas::new(w, self.h);
        for y in 0..self.h {
            let dx = reach(y as f32 + 0.5) - left;
            for x in 0..w {
                // Linear interpolation between the two source pixels around x - dx.
                let sx = x as f32 - dx;
                let (i, f) = (sx.floor(), sx - sx.floor());
                let at = |k: f32| {
                    if k >= 0.0 && (k as usize) < self.w {
                        self.px[y * self.w + k as usize]
                    } else {
                        0.0
                    }
                };
                out.px[y * w + x] = at(i) * (1.0 - f) + at(i + 1.0) * f;
            }
        }
        out
    }
}

/// One thing written on the line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mark {
    Digit(u8),
    /// `.` `,` `/` `-` (read), `(` `)` (drawn, not read).
    Sign(u8),
    /// A wider gap between groups of digits.
    Space,
}

/// A number as people write one: the marks, from which the label follows.
pub fn number_text<R: Rng>(rng: &mut R) -> Vec<Mark> {
    let digits = |rng: &mut R, n: usize| -> Vec<Mark> {
        (0..n).map(|_| Mark::Digit(rng.gen_range(0..10))).collect()
    };
    let two = |rng: &mut R, hi: u8| -> Vec<Mark> {
        let v = rng.gen_range(1..=hi);
        vec![Mark::Digit(v / 10), Mark::Digit(v % 10)]
    };
    let join = |parts: Vec<Vec<Mark>>, sep: Option<u8>| -> Vec<Mark> {
        let mut out = Vec::new();
        for (k, p) in parts.into_iter().enumerate() {
            if k > 0 {
                out.push(sep.map_or(Mark::Space, Mark::Sign));
            }
            out.extend(p);
        }
        out
    };
    match rng.gen_range(0..100) {
        // Plain digit strings of 1 to 13 digits, most of 2 to 10.
        0..=59 => {
            let n = if rng.gen_bool(0.85) {
                rng.gen_range(2..=10)
            } else {
                [1, 11, 12, 13][rng.gen_range(0..4)]
            };
            digits(rng, n)
        }
        // Dates: 06/05/1990, 6.5.90, 06-05-90.
        60..=74 => {
            let sep = [b'/', b'.', b'-'][rng.gen_range(0..3)];
            let year = if rng.gen_bool(0.6) {
                let y = rng.gen_range(1900..2100u32);
                y.to_string()
                    .bytes()
                    .map(|c| Mark::Digit(c - b'0'))
                    .collect()
            } else {
                two(rng, 99)
            };
            let mut day = two(rng, 31);
            if rng.gen_bool(0.2) && day[0] == Mark::Digit(0) {
                day.remove(0);
            }
            join(vec![day, two(rng, 12), year], Some(sep))
        }
        // Phone numbers: 555-1234, 555 123-4567, 555-123-4567, 06 12 34 56 78. (Brackets
        // are not drawn: unread, a bracket teaches the reader to pass over a thin stroke, and a
        // 1 is one.)
        75..=86 => match rng.gen_range(0..4) {
            0 => join(vec![digits(rng, 3), digits(rng, 4)], Some(b'-')),
            1 => {
                let mut out = digits(rng, 3);
                out.push(Mark::Space);
                out.extend(join(vec![digits(rng, 3), digits(rng, 4)], Some(b'-')));
                out
            }
            2 => join(
                vec![digits(rng, 3), digits(rng, 3), digits(rng, 4)],
                Some(b'-'),
            ),
            _ => join((0..5).map(|_| digits(rng, 2)).collect(), None),
        },
        // Amounts: 7.393, 1.250,00, 12,50, 1,234.56.
        87..=96 => {
            let (group, decimal) = if rng.gen_bool(0.5) {
                (b'.', b',')
            } else {
                (b',', b'.')
            };
            let lead = rng.gen_range(1..=3);
            let mut parts = vec![digits(rng, lead)];
            for _ in 0..rng.gen_range(0..=2) {
                parts.push(digits(rng, 3));
            }
            let mut out = join(parts, Some(group));
            if rng.gen_bool(0.6) {
                out.push(Mark::Sign(decimal));
                out.extend(digits(rng, 2));
            }
            out
        }
        // Groups of digits with spaces: 1234 5678.
        _ => join(
            (0..rng.gen_range(2..=3))
                .map(|_| {
                    let n = rng.gen_range(2..=4);
                    digits(rng, n)
                })
                .collect(),
            None,
        ),
    }
}

/// The label of `marks`: their characters of `super::CHARS` as classes.
pub fn label_of(marks: &[Mark]) -> Vec<u8> {
    marks
        .iter()
        .filter_map(|m| match *m {
            Mark::Digit(d) => super::class_of(b'0' + d),
            Mark::Sign(c) => super::class_of(c),
            Mark::Space => None,
        })
        .collect()
}

/// A separator or bracket drawn as a person draws it, `pen` wide, for a line whose digits are
/// `height` high: the glyph and how far its top lies above the baseline.
pub fn draw_sign<R: Rng>(sign: u8, height: f32, pen: f32, rng: &mut R) -> (Canvas, f32) {
    let pad = pen + 2.0;
    let jit = |rng: &mut R, a: f32| rng.gen_range(-a..=a) * height;
    let (w, h, pts, top): (f32, f32, Vec<(f32, f32)>, f32) = match sign {
        b'.' => {
            let r = pen * rng.gen_range(0.2..0.7);
            (2.0 * r, 2.0 * r, vec![(r, r), (r + 0.3, r + 0.3)], 2.0 * r)
        }
        b',' => {
            let l = height * rng.gen_range(0.15..0.3);
            let lean = l * rng.gen_range(0.2..0.7);
            (
                lean,
                l,
                vec![(lean, 0.0), (lean * 0.8, l * 0.3), (0.0, l)],
                l * 0.4,
            )
        }
        b'/' => {
            let h = height * rng.gen_range(0.75..1.15);
            let w = h * rng.gen_range(0.25..0.6);
            (
                w,
                h,
                vec![(w, 0.0), (0.0, h)],
                h - height * rng.gen_range(-0.1..0.15),
            )
        }
        b'-' => {
            let w = height * rng.gen_range(0.2..0.5);
            let tilt = jit(rng, 0.04);
            let top = height * rng.gen_range(0.35..0.6);
            (
                w,
                tilt.abs(),
                vec![(0.0, tilt.max(0.0)), (w, (-tilt).max(0.0))],
                top,
            )
        }
        // ( and ): a shallow arc a little taller than the digits.
        _ => {
            let h = height * rng.gen_range(1.0..1.25);
            let bow = h * rng.gen_range(0.12..0.25);
            let open = sign == b'(';
            let pts = (0..=8)
                .map(|k| {
                    let t = k as f32 / 8.0;
                    let x = bow * (1.0 - (2.0 * t - 1.0).powi(2));
                    (if open { bow - x } else { x }, t * h)
                })
                .collect();
            (bow, h, pts, h - (h - height) / 2.0)
        }
    };
    let mut c = Canvas::new(
        (w + 2.0 * pad).ceil() as usize,
        (h + 2.0 * pad).ceil() as usize,
    );
    let shifted: Vec<(f32, f32)> = pts.iter().map(|&(x, y)| (x + pad, y + pad)).collect();
    c.polyline(&shifted, pen);
    (c, top + pad)
}

/// The glyphs of a line and where they go.
pub struct Placed {
    pub glyph: Canvas,
    /// How far the glyph's top lies above the baseline, in its pixels.
    pub top: f32,
    pub is_digit: bool,
    /// A 7's bar that runs on into the next digit (see [`RunOnBar`]).
    pub bar: Option<RunOnBar>,
}

/// A bar across a 7 that runs on into the digit after it, as many people write a crossed 7
/// before a 1 (a 1 with a bar through it is a 4 without its top): from a fifth of the 7's
/// width to `into` of the next glyph's, `row` pixels below the 7's top, rising by `rise`.
#[derive(Clone, Copy, Debug)]
pub struct RunOnBar {
    pub row: f32,
    pub into: f32,
    pub rise: f32,
    pub pen: f32,
}

/// Lays `glyphs` out left to right on one canvas: gaps (negative ones overlap), a baseline
/// that drifts and wanders, and a slant; returns the canvas and the baseline's row at its
/// middle. Upright (`slanted` false): no slant.
pub fn lay_out<R: Rng>(
    glyphs: &[Placed],
    spaces: &[bool],
    slanted: bool,
    rng: &mut R,
) -> (Canvas, f32) {
    let hd = DIGIT_HEIGHT;
    let base_gap = hd * rng.gen_range(-0.12..0.45);
    let drift = rng.gen_range(-0.06..0.06f32);
    let (wave, period, phase) = (
        hd * rng.gen_range(0.0..0.12),
        hd * rng.gen_range(3.0..10.0),
        rng.gen_range(0.0..6.3f32),
    );
    let mut xs = Vec::with_capacity(glyphs.len());
    let mut x = hd * 0.5;
    for (g, &space) in glyphs.iter().zip(spaces) {
        if !xs.is_empty() {
            x += base_gap + hd * rng.gen_range(-0.1..0.15);
            if space {
                x += hd * rng.gen_range(0.35..1.0);
            }
        }
        xs.push(x.max(0.0));
        x = x.max(0.0) + g.glyph.w as f32;
    }
    let width = (x + hd * 0.5).ceil() as usize;
    let rise = drift.abs() * width as f32 + 2.0 * wave;
    let height = (hd * 2.6 + rise).ceil() as usize;
    let baseline0 = hd * 1.8 + if drift > 0.0 { 0.0 } else { rise } - wave;
    let mut canvas = Canvas::new(width, height);
    let mut tops = Vec::with_capacity(glyphs.len());
    for (g, &gx) in glyphs.iter().zip(&xs) {
        let mid = gx + g.glyph.w as f32 / 2.0;
        let baseline = baseline0 - drift * mid + wave * (mid / period + phase).sin();
        let jitter = if g.is_digit {
            hd * rng.gen_range(-0.05..0.05)
        } else {
            0.0
        };
        let top = (baseline - g.top + jitter).round();
        canvas.stamp(&g.glyph, gx as i64, top as i64);
        tops.push(top);
    }
    for i in 1..glyphs.len() {
        let (this, next) = (&glyphs[i - 1], &glyphs[i]);
        let Some(bar) = this.bar else { continue };
        if spaces[i] || !next.is_digit || xs[i] - xs[i - 1] > this.glyph.w as f32 + 0.3 * hd {
            continue;
        }
        let y = tops[i - 1] + bar.row;
        let from = (xs[i - 1] + 0.2 * this.glyph.w as f32, y);
        let to = (xs[i] + bar.into * next.glyph.w as f32, y - bar.rise);
        canvas.segment(from, to, bar.pen);
    }
    let slant = if slanted {
        rng.gen_range(-0.3..0.35f32)
    } else {
        0.0
    };
    let mid_baseline = baseline0 - drift * width as f32 / 2.0;
    (canvas.sheared(slant, mid_baseline), mid_baseline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn texts_have_digits_and_labels_keep_separators_only() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut saw_sign = false;
        for _ in 0..500 {
            let marks = number_text(&mut rng);
            let label = label_of(&marks);
            assert!(!label.is_empty() && label.len() <= 16, "{marks:?}");
            assert!(marks.iter().any(|m| matches!(m, Mark::Digit(_))));
            saw_sign |= label.iter().any(|&c| c > 10);
        }
        assert!(saw_sign);
        let marks = [
            Mark::Sign(b'('),
            Mark::Digit(5),
            Mark::Space,
            Mark::Sign(b'-'),
        ];
        assert_eq!(label_of(&marks), vec![6, 14]);
    }

    #[test]
    fn stamps_keep_the_darker_ink_and_clip() {
        let mut c = Canvas::new(4, 3);
        let mut g = Canvas::new(2, 2);
        g.px = vec![0.5, 1.0, 0.2, 0.0];
        c.stamp(&g, 3, 2);
        c.stamp(&g, -1, 0);
        assert_eq!(c.px[2 * 4 + 3], 0.5);
        assert_eq!(c.px[0], 1.0);
        assert_eq!(c.px.iter().filter(|&&v| v > 0.0).count(), 2);
    }

    #[test]
    fn a_run_on_bar_reaches_into_the_next_digit_and_not_across_a_space() {
        let stem = || {
            let mut c = Canvas::new(12, 28);
            c.segment((6.0, 0.0), (6.0, 28.0), 2.0);
            c
        };
        let placed = |bar| Placed {
            glyph: stem(),
            top: 28.0,
            is_digit: true,
            bar,
        };
        let bar = Some(RunOnBar {
            row: 14.0,
            into: 0.6,
            rise: 0.0,
            pen: 2.0,
        });
        let ink = |first: Option<RunOnBar>, spaced: bool, seed: u64| {
            let glyphs = [placed(first), placed(None)];
            let (c, _) = lay_out(
                &glyphs,
                &[false, spaced],
                true,
                &mut ChaCha8Rng::seed_from_u64(seed),
            );
            c.px.iter().sum::<f32>()
        };
        let mut bridged = 0;
        for seed in 0..20 {
            let (plain, barred) = (ink(None, false, seed), ink(bar, false, seed));
            assert!(barred >= plain - 1e-3, "{seed}: {barred} < {plain}");
            bridged += (barred > plain + 10.0) as usize;
            assert!((ink(bar, true, seed) - ink(None, true, seed)).abs() < 1e-3);
        }
        assert!(bridged >= 10, "{bridged} of 20 bridged");
    }

    #[test]
    fn a_sheared_canvas_keeps_its_ink() {
        let mut c = Canvas::new(20, 30);
        c.segment((10.0, 2.0), (10.0, 28.0), 2.0);
        let ink: f32 = c.px.iter().sum();
        let s = c.sheared(0.3, 15.0);
        assert!(s.w > c.w);
        assert!((s.px.iter().sum::<f32>() - ink).abs() < 0.05 * ink);
    }
}
