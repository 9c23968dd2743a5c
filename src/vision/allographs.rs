//! Whole digits drawn from pen strokes in shapes that MNIST's (mostly American) writers hardly
//! use and European writers often do: a 1 with a long flag (and sometimes a foot), a 7 with a
//! bar across its stem, a 4 written in one stroke down-left, across and then a stem that starts
//! at the bar (the Italian 4), a 4 with its top closed, a 9 whose tail ends in a foot drawn back
//! to the left or sweeps round to the left in one curve, a 9 whose stem slopes down to the left.
//! `train --augment --allographs P` puts one in place of a training digit of the same label
//! with chance P, before the distortions.
//!
//! Each drawing varies its control points, width, slant, turn, size and pen, and is framed as
//! MNIST frames its digits: about 20 px tall in 28, centred by its centre of mass.

use super::styles::line;
use rand::Rng;
use std::f32::consts::PI;

type Stroke = Vec<(f32, f32)>;

/// Whether `label` has shapes here to draw.
pub fn has_allographs(label: u8) -> bool {
    matches!(label, 1 | 4 | 7 | 9)
}

/// Draws one of `label`'s shapes, light ink on black, into `out` (w x h, row-major, which it
/// overwrites); returns false, leaving `out` as it was, when the label has none.
pub fn draw_allograph<R: Rng>(label: u8, w: usize, h: usize, rng: &mut R, out: &mut [u8]) -> bool {
    let strokes = match label {
        1 => flagged_one(rng),
        4 if rng.gen_bool(0.6) => one_stroke_four(rng),
        4 => closed_four(rng),
        7 => barred_seven(rng),
        9 => match rng.gen_range(0..3) {
            0 => footed_nine(rng),
            1 => sweeping_nine(rng),
            _ => sloped_nine(rng),
        },
        _ => return false,
    };
    render(&strokes, w, h, rng, out);
    true
}

/// A random number in `range` (shorthand for the templates).
fn u<R: Rng>(rng: &mut R, lo: f32, hi: f32) -> f32 {
    rng.gen_range(lo..hi)
}

/// From a flag's tip up to the top of the stem and down; a foot across the bottom sometimes.
fn flagged_one<R: Rng>(rng: &mut R) -> Vec<Stroke> {
    let top = (u(rng, 0.55, 0.75), 0.0);
    let flag = (u(rng, 0.0, 0.3), u(rng, 0.2, 0.5));
    let bottom = (top.0 + u(rng, -0.15, 0.05), 1.0);
    let mut strokes = vec![vec![flag, top, bottom]];
    if rng.gen_bool(0.3) {
        strokes.push(vec![(bottom.0 - 0.3, 1.0), (bottom.0 + 0.3, 1.0)]);
    }
    strokes
}

/// The top stroke and the stem of a 7, with a bar across the stem; a small serif down from the
/// top's left end sometimes.
fn barred_seven<R: Rng>(rng: &mut R) -> Vec<Stroke> {
    let left = (u(rng, 0.0, 0.1), u(rng, 0.0, 0.12));
    let corner = (1.0, u(rng, 0.0, 0.08));
    let foot = (u(rng, 0.25, 0.5), 1.0);
    let mut top = vec![left, corner, foot];
    if rng.gen_bool(0.3) {
        top.insert(0, (left.0, left.1 + u(rng, 0.12, 0.25)));
    }
    let y = u(rng, 0.45, 0.6);
    let t = (y - corner.1) / (foot.1 - corner.1);
    let x = corner.0 + t * (foot.0 - corner.0);
    let half = u(rng, 0.2, 0.35);
    vec![
        top,
        vec![(x - half, y), (x + half, y + u(rng, -0.05, 0.05))],
    ]
}

/// Down-left from the top, across at the bar, and a stem that starts at the bar or a little
/// above it (the top of the 4 open, with no stem above).
fn one_stroke_four<R: Rng>(rng: &mut R) -> Vec<Stroke> {
    let bar = u(rng, 0.55, 0.72);
    let stem_x = u(rng, 0.55, 0.8);
    vec![
        vec![
            (u(rng, 0.45, 0.9), 0.0),
            (u(rng, 0.0, 0.12), bar),
            (1.0, bar + u(rng, -0.08, 0.04)),
        ],
        vec![
            (stem_x + u(rng, 0.0, 0.1), bar - u(rng, 0.0, 0.15)),
            (stem_x + u(rng, -0.12, 0.05), 1.0),
        ],
    ]
}

/// A 4 whose arm starts at the top of the stem: a closed triangle above the bar.
fn closed_four<R: Rng>(rng: &mut R) -> Vec<Stroke> {
    let bar = u(rng, 0.55, 0.72);
    let top = (u(rng, 0.55, 0.8), 0.0);
    vec![
        vec![
            top,
            (u(rng, 0.0, 0.1), bar),
            (1.0, bar + u(rng, -0.06, 0.04)),
        ],
        vec![top, (top.0 + u(rng, -0.12, 0.05), 1.0)],
    ]
}

/// The loop of a 9 (drawn from its right side round anticlockwise on the page), then from its
/// right side down.
fn nine_loop<R: Rng>(rng: &mut R) -> (Stroke, (f32, f32)) {
    let (rx, ry) = (u(rng, 0.3, 0.42), u(rng, 0.16, 0.26));
    let (cx, cy) = (0.5, ry + 0.02);
    let start = u(rng, -0.3, 0.1);
    let n = 24;
    let stroke: Stroke = (0..=n)
        .map(|k| {
            let a = start - 2.0 * PI * k as f32 / n as f32;
            (cx + rx * a.cos(), cy + ry * a.sin())
        })
        .collect();
    (stroke, (cx + rx, cy))
}

/// A loop, a stem down, and a foot drawn back to the left along the bottom.
fn footed_nine<R: Rng>(rng: &mut R) -> Vec<Stroke> {
    let (mut s, right) = nine_loop(rng);
    let stem_end = (right.0 + u(rng, -0.15, 0.05), u(rng, 0.84, 0.94));
    s.push(right);
    s.push(stem_end);
    s.push((stem_end.0 - u(rng, 0.1, 0.2), 1.0));
    s.push((u(rng, -0.3, 0.15), u(rng, 0.9, 1.0)));
    vec![s]
}

/// A loop, and a tail sweeping from its right side down and round to the left in one curve,
/// ending level along the bottom.
fn sweeping_nine<R: Rng>(rng: &mut R) -> Vec<Stroke> {
    let (mut s, right) = nine_loop(rng);
    let end_x = u(rng, -0.2, 0.2);
    let (rx, ry) = ((right.0 - end_x) * u(rng, 0.9, 1.1), 1.0 - right.1);
    let n = 12;
    s.extend((0..=n).map(|k| {
        let a = PI / 2.0 * k as f32 / n as f32;
        (right.0 - rx + rx * a.cos(), right.1 + ry * a.sin())
    }));
    vec![s]
}

/// A loop and a straight stem sloping far down to the left.
fn sloped_nine<R: Rng>(rng: &mut R) -> Vec<Stroke> {
    let (mut s, right) = nine_loop(rng);
    s.push(right);
    s.push((u(rng, 0.05, 0.4), 1.0));
    vec![s]
}

/// Draws `strokes` (unit box, y down) with a random width, slant, turn, size and pen, framed as
/// MNIST frames a digit, into `out`.
fn render<R: Rng>(strokes: &[Stroke], w: usize, h: usize, rng: &mut R, out: &mut [u8]) {
    let width = u(rng, 0.5, 0.85);
    let slant = u(rng, -0.25, 0.3);
    let turn = u(rng, -0.12, 0.12);
    let wobble = u(rng, 0.0, 0.025);
    let (sin, cos) = turn.sin_cos();
    let mut placed: Vec<Stroke> = strokes
        .iter()
        .map(|s| {
            s.iter()
                .map(|&(x, y)| {
                    let (x, y) = (x + u(rng, -wobble, wobble), y + u(rng, -wobble, wobble));
                    let (x, y) = ((x - 0.5) * width + slant * (0.5 - y), y - 0.5);
                    (x * cos - y * sin, x * sin + y * cos)
                })
                .collect()
        })
        .collect();
    // Fit the longer side of the drawing's box to 17-20 of 28 px (MNIST's digits fill 20).
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for &(x, y) in placed.iter().flatten() {
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    let side = h.min(w) as f32;
    let pen = side / 28.0 * u(rng, 1.6, 3.4);
    let fit = (side * u(rng, 17.0, 20.0) / 28.0 - pen) / (x1 - x0).max(y1 - y0).max(1e-3);
    let centre = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    for p in placed.iter_mut().flatten() {
        *p = (
            (p.0 - centre.0) * fit + w as f32 / 2.0,
            (p.1 - centre.1) * fit + h as f32 / 2.0,
        );
    }
    draw(&placed, w, h, pen, out);
    // Centre the ink's mass, as MNIST did, by a whole-pixel shift.
    let (mut sx, mut sy, mut sum) = (0.0f32, 0.0f32, 0.0f32);
    for (i, &v) in out[..w * h].iter().enumerate() {
        let v = v as f32;
        sx += v * ((i % w) as f32 + 0.5);
        sy += v * ((i / w) as f32 + 0.5);
        sum += v;
    }
    if sum > 0.0 {
        let (dx, dy) = (
            (w as f32 / 2.0 - sx / sum).round(),
            (h as f32 / 2.0 - sy / sum).round(),
        );
        if dx != 0.0 || dy != 0.0 {
            for p in placed.iter_mut().flatten() {
                *p = (p.0 + dx, p.1 + dy);
            }
            draw(&placed, w, h, pen, out);
        }
    }
}

fn draw(strokes: &[Stroke], w: usize, h: usize, pen: f32, out: &mut [u8]) {
    out[..w * h].fill(0);
    for s in strokes {
        for seg in s.windows(2) {
            line(out, w, h, seg[0], seg[1], pen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::augment::ink_box;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const W: usize = 28;

    #[test]
    fn each_shape_is_framed_as_mnist_frames_its_digits() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for label in [1u8, 4, 7, 9] {
            for _ in 0..50 {
                let mut img = vec![7u8; W * W];
                assert!(draw_allograph(label, W, W, &mut rng, &mut img));
                let (x0, y0, x1, y1) = ink_box(&img, W, W).expect("ink");
                let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
                assert!((16..=22).contains(&bw.max(bh)), "{label}: {bw}x{bh}");
                assert!(
                    x0 >= 1 && y0 >= 1 && x1 <= W - 2 && y1 <= W - 2,
                    "{label}: at the edge"
                );
                // Centre of mass within a pixel of the middle; the background black.
                let (mut sx, mut sy, mut s) = (0.0, 0.0, 0.0);
                for (i, &v) in img.iter().enumerate() {
                    sx += v as f32 * ((i % W) as f32 + 0.5);
                    sy += v as f32 * ((i / W) as f32 + 0.5);
                    s += v as f32;
                }
                assert!((sx / s - 14.0).abs() <= 1.0 && (sy / s - 14.0).abs() <= 1.0);
                assert_eq!(img[0], 0);
            }
        }
    }

    #[test]
    fn the_shapes_are_the_ones_named() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..30 {
            // A flagged 1: its top third is wider than its bottom third (the stem alone).
            let mut img = vec![0u8; W * W];
            flagged_one_only(&mut rng, &mut img);
            let (_, y0, _, y1) = ink_box(&img, W, W).unwrap();
            let third = (y1 - y0 + 1) / 3;
            let img = &img;
            let span = |rows: std::ops::Range<usize>| {
                let xs: Vec<usize> = rows
                    .flat_map(|y| (0..W).filter(move |&x| img[y * W + x] > 127))
                    .collect();
                xs.iter().max().unwrap() - xs.iter().min().unwrap()
            };
            assert!(span(y0..y0 + third) > span(y1 + 1 - third..y1 + 1));
            // A footed 9: its bottom rows span a third of its width or more (a stem alone
            // would end in a dot as wide as the pen).
            let mut img = vec![0u8; W * W];
            let strokes = footed_nine(&mut rng);
            render(&strokes, W, W, &mut rng, &mut img);
            let (x0, _, x1, y1) = ink_box(&img, W, W).unwrap();
            let img = &img;
            let bottom: Vec<usize> = (y1 - 2..=y1)
                .flat_map(|y| (0..W).filter(move |&x| img[y * W + x] > 127))
                .collect();
            let foot = bottom.iter().max().unwrap() - bottom.iter().min().unwrap() + 1;
            let width = x1 - x0 + 1;
            assert!(3 * foot >= width, "foot {foot} of {width}");
        }
        let mut img = vec![1u8; W * W];
        assert!(!draw_allograph(5, W, W, &mut rng, &mut img));
        assert!(
            img.iter().all(|&v| v == 1),
            "a digit with no shapes is left alone"
        );
    }

    fn flagged_one_only(rng: &mut ChaCha8Rng, img: &mut [u8]) {
        let strokes = flagged_one(rng);
        render(&strokes[..1], W, W, rng, img);
    }

    #[test]
    fn the_same_seed_draws_the_same_digit() {
        let draw_with = |seed| {
            let mut img = vec![0u8; W * W];
            draw_allograph(9, W, W, &mut ChaCha8Rng::seed_from_u64(seed), &mut img);
            img
        };
        assert_eq!(draw_with(5), draw_with(5));
        assert_ne!(draw_with(5), draw_with(6));
    }
}
