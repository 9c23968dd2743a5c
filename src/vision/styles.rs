//! Handwriting styles MNIST hardly has, drawn onto its digits (light ink on black, u8) before
//! they are distorted: a 1 with a long flag from its top down to the left (read as 7 without
//! it), a 7 with a bar across its stem, a 4 with its top closed (read as 9 without it), a 9
//! whose tail curls back to the left. Pen width follows the digit's own strokes.

use super::augment::{ink_box, stroke_width};
use rand::Rng;

/// Draws a style onto `img` (w x h, row-major) when `label` has one: returns whether it did.
pub fn add_style<R: Rng>(img: &mut [u8], w: usize, h: usize, label: u8, rng: &mut R) -> bool {
    let Some((x0, y0, x1, y1)) = ink_box(img, w, h) else {
        return false;
    };
    let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
    if bh < 8.0 {
        return false;
    }
    let pen = stroke_width(img, w, h).clamp(1.4, 3.6);
    match label {
        1 => {
            // From the top of the stem, down to the left at 20-45 degrees below horizontal.
            let top = ink_centre(img, w, y0, 2).unwrap_or((x0 + x1) as f32 / 2.0);
            let length = bh * rng.gen_range(0.25..0.55);
            let angle = rng.gen_range(20f32..45.0).to_radians();
            let start = (top, y0 as f32 + pen / 2.0);
            let end = (
                (start.0 - length * angle.cos()).max(1.0),
                start.1 + length * angle.sin(),
            );
            line(img, w, h, start, end, pen);
            true
        }
        7 => {
            // Across the stem a little below the middle, 35-55% of the digit's width.
            let row = y0 + (bh * rng.gen_range(0.45..0.6)) as usize;
            let Some(centre) = ink_centre(img, w, row, 1) else {
                return false;
            };
            let half = bw.max(bh * 0.5) * rng.gen_range(0.175..0.275);
            let y = row as f32 + 0.5;
            line(img, w, h, (centre - half, y), (centre + half, y), pen);
            true
        }
        4 => {
            // From the top of the left arm to the top of the stem: the open top closed.
            let mid = (x0 + x1) as f32 / 2.0;
            let top_in = |left: bool| {
                (y0..=y1).find_map(|y| {
                    let xs = (x0..=x1).filter(|&x| ((x as f32) < mid) == left);
                    let mut inked = xs.filter(|&x| img[y * w + x] > 127);
                    inked.next().map(|x| (x as f32 + 0.5, y as f32 + 0.5))
                })
            };
            let (Some(arm), Some(stem)) = (top_in(true), top_in(false)) else {
                return false;
            };
            if stem.0 - arm.0 < (0.3 * bw).max(4.0) {
                return false;
            }
            let sag = rng.gen_range(-0.05..0.1) * bh;
            line(img, w, h, arm, (stem.0, stem.1 + sag.max(0.0)), pen);
            true
        }
        9 => {
            // From the foot of the tail, back to the left and a little up.
            let foot = (x0..=x1)
                .rev()
                .find(|&x| img[y1 * w + x] > 127)
                .map(|x| (x as f32 + 0.5, y1 as f32 + 0.5));
            let Some(foot) = foot else {
                return false;
            };
            let reach = bw.max(bh * 0.5) * rng.gen_range(0.3..0.5);
            let bend = (
                foot.0 - reach * 0.5,
                (foot.1 + pen * 0.5).min(h as f32 - 1.0),
            );
            let end = (
                (foot.0 - reach).max(1.0),
                foot.1 - bh * rng.gen_range(0.05..0.2),
            );
            line(img, w, h, foot, bend, pen);
            line(img, w, h, bend, end, pen);
            true
        }
        _ => false,
    }
}

/// The mean x (pixel centres) of the ink of rows `row..row + rows`, weighted by its level.
fn ink_centre(img: &[u8], w: usize, row: usize, rows: usize) -> Option<f32> {
    let (mut sum, mut weight) = (0.0f32, 0.0f32);
    for r in img.chunks_exact(w).skip(row).take(rows) {
        for (x, &v) in r.iter().enumerate() {
            sum += v as f32 * (x as f32 + 0.5);
            weight += v as f32;
        }
    }
    (weight > 0.0).then(|| sum / weight)
}

/// An anti-aliased segment `width` pixels thick from `a` to `b` (pixel units, centres at +0.5),
/// kept where brighter than the image.
pub fn line(img: &mut [u8], w: usize, h: usize, a: (f32, f32), b: (f32, f32), width: f32) {
    let r = width / 2.0;
    let (vx, vy) = (b.0 - a.0, b.1 - a.1);
    let len2 = (vx * vx + vy * vy).max(1e-6);
    for y in 0..h {
        for x in 0..w {
            let (cx, cy) = (x as f32 + 0.5, y as f32 + 0.5);
            let t = (((cx - a.0) * vx + (cy - a.1) * vy) / len2).clamp(0.0, 1.0);
            let d = ((cx - a.0 - t * vx).powi(2) + (cy - a.1 - t * vy).powi(2)).sqrt();
            let v = ((r + 0.5 - d).clamp(0.0, 1.0) * 255.0).round() as u8;
            let p = &mut img[y * w + x];
            *p = (*p).max(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const W: usize = 28;

    /// A vertical stem 2 px wide from row 4 to 23 at x 13..15 (a plain 1).
    fn stem() -> Vec<u8> {
        let mut v = vec![0u8; W * W];
        for y in 4..24 {
            v[y * W + 13] = 255;
            v[y * W + 14] = 255;
        }
        v
    }

    fn ink_left_of(img: &[u8], x: usize) -> u32 {
        img.chunks_exact(W)
            .map(|r| r[..x].iter().map(|&v| v as u32).sum::<u32>())
            .sum()
    }

    #[test]
    fn a_one_gets_a_flag_down_to_the_left_from_its_top() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..20 {
            let mut img = stem();
            assert!(add_style(&mut img, W, W, 1, &mut rng));
            // New ink left of the stem, in the top half only; the stem is kept.
            assert!(ink_left_of(&img, 12) > 255 * 3);
            let low_left: u32 = img[16 * W..]
                .chunks_exact(W)
                .map(|r| r[..12].iter().map(|&v| v as u32).sum::<u32>())
                .sum();
            assert_eq!(low_left, 0);
            assert!((4..24).all(|y| img[y * W + 13] == 255));
            assert_eq!(ink_box(&img, W, W).unwrap().1, 4, "no ink above the top");
        }
    }

    #[test]
    fn a_seven_gets_a_bar_across_its_stem() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for _ in 0..20 {
            let mut img = stem();
            assert!(add_style(&mut img, W, W, 7, &mut rng));
            // Ink on both sides of the stem, on rows in the lower-middle of the digit only.
            let rows: Vec<usize> = (0..W)
                .filter(|&y| img[y * W + 11] > 0 && img[y * W + 16] > 0)
                .collect();
            assert!(!rows.is_empty());
            assert!(rows.iter().all(|&y| (11..19).contains(&y)), "{rows:?}");
        }
    }

    /// An open-topped 4: an arm from (8, 6) down to (8, 16), a bar to (20, 16), a stem at
    /// x 18..20 from row 4 to 23.
    fn open_four() -> Vec<u8> {
        let mut v = vec![0u8; W * W];
        for y in 6..17 {
            v[y * W + 8] = 255;
        }
        for x in 8..21 {
            v[16 * W + x] = 255;
        }
        for y in 4..24 {
            v[y * W + 18] = 255;
            v[y * W + 19] = 255;
        }
        v
    }

    #[test]
    fn a_four_gets_its_top_closed() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        for _ in 0..20 {
            let mut img = open_four();
            assert!(add_style(&mut img, W, W, 4, &mut rng));
            // New ink between arm and stem above the bar, none below it.
            let top: u32 = (4..10).map(|y| img[y * W + 13] as u32).sum();
            assert!(top > 0, "the top is still open");
            assert!((17..W).all(|y| img[y * W + 13] == 0));
        }
    }

    #[test]
    fn a_nine_gets_a_tail_curling_back() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20 {
            let mut img = stem();
            assert!(add_style(&mut img, W, W, 9, &mut rng));
            // New ink left of the stem in the bottom rows only.
            assert!(ink_left_of(&img, 12) > 0);
            let high_left: u32 = img[..17 * W]
                .chunks_exact(W)
                .map(|r| r[..12].iter().map(|&v| v as u32).sum::<u32>())
                .sum();
            assert_eq!(high_left, 0);
        }
    }

    #[test]
    fn other_digits_and_blank_images_are_left_alone() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut img = stem();
        assert!(!add_style(&mut img, W, W, 5, &mut rng));
        assert_eq!(img, stem());
        // A 4 without an arm apart from its stem is left open.
        assert!(!add_style(&mut img, W, W, 4, &mut rng));
        assert_eq!(img, stem());
        let mut blank = vec![0u8; W * W];
        assert!(!add_style(&mut blank, W, W, 1, &mut rng));
        assert!(blank.iter().all(|&v| v == 0));
    }
}
