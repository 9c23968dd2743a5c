//! The paper's own level under the ink, place by place, so that shadows and uneven light are
//! not taken for ink (an adaptive threshold): a grey opening (minimum then maximum over a square
//! window wider than any pen stroke) removes the strokes and keeps the slowly varying paper.

use super::Gray;

/// The opening runs on a copy block-averaged to at most this side (the paper varies slowly).
const COARSE_SIDE: usize = 128;
/// Window half-width as a fraction of the longer side: wider than half of the boldest stroke
/// (about a fifth of a digit filling the picture), narrower than a shadow's extent.
const WINDOW_FRACTION: f32 = 1.0 / 8.0;

/// Pictures smaller than this (the longer side) are taken as evenly lit: a stroke is too large
/// a part of them for the opening to tell it from the paper.
pub(super) const MIN_SIDE: usize = 64;

/// Paper level (same size as `img`) of an image whose ink is light on a darker background;
/// None for a small picture, whose paper is taken as even.
pub(super) fn paper_level(img: &Gray) -> Option<Vec<f32>> {
    if img.w.max(img.h) < MIN_SIDE {
        return None;
    }
    let k = img.w.max(img.h).div_ceil(COARSE_SIDE).max(1);
    let mut coarse = block_average(img, k);
    // Paper grain is smoothed away first, or the opening would follow its darkest grains.
    coarse.px = box_blur(
        &box_blur(&coarse.px, coarse.w, coarse.h),
        coarse.w,
        coarse.h,
    );
    let r = ((coarse.w.max(coarse.h) as f32 * WINDOW_FRACTION).ceil() as usize).max(2);
    let opened = filter2(
        &filter2(&coarse.px, coarse.w, coarse.h, r, Extreme::Min),
        coarse.w,
        coarse.h,
        r,
        Extreme::Max,
    );
    // A 3x3 box blur hides the blocks of the coarse grid before it is stretched back.
    let smooth = box_blur(&opened, coarse.w, coarse.h);
    Some(upsample(&smooth, coarse.w, coarse.h, k, img.w, img.h))
}

/// The mean brightness around each pixel over a window a quarter of the longer side across:
/// the light falling on the page, with the strokes blurred into it.
pub(super) fn illumination(img: &Gray) -> Vec<f32> {
    let k = img.w.max(img.h).div_ceil(COARSE_SIDE).max(1);
    let coarse = block_average(img, k);
    let (w, h) = (coarse.w, coarse.h);
    let r = (w.max(h) / 8).max(1);
    // Summed-area table: any window's sum in four reads.
    let mut sat = vec![0.0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        for x in 0..w {
            sat[(y + 1) * (w + 1) + x + 1] =
                coarse.px[y * w + x] as f64 + sat[y * (w + 1) + x + 1] + sat[(y + 1) * (w + 1) + x]
                    - sat[y * (w + 1) + x];
        }
    }
    let mut mean = vec![0.0f32; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let s = sat[y1 * (w + 1) + x1] - sat[y0 * (w + 1) + x1] - sat[y1 * (w + 1) + x0]
                + sat[y0 * (w + 1) + x0];
            mean[y * w + x] = (s / ((y1 - y0) * (x1 - x0)) as f64) as f32;
        }
    }
    upsample(&mean, w, h, k, img.w, img.h)
}

fn block_average(img: &Gray, k: usize) -> Gray {
    if k == 1 {
        return Gray {
            w: img.w,
            h: img.h,
            px: img.px.clone(),
        };
    }
    let (w, h) = (img.w.div_ceil(k), img.h.div_ceil(k));
    let mut sum = vec![0.0f32; w * h];
    let mut n = vec![0u32; w * h];
    for y in 0..img.h {
        for x in 0..img.w {
            let i = (y / k) * w + x / k;
            sum[i] += img.px[y * img.w + x];
            n[i] += 1;
        }
    }
    let px = sum.iter().zip(&n).map(|(s, &c)| s / c as f32).collect();
    Gray { w, h, px }
}

#[derive(Clone, Copy)]
enum Extreme {
    Min,
    Max,
}

/// Minimum or maximum over the (2r+1)^2 window (clipped at the edges), rows then columns.
fn filter2(px: &[f32], w: usize, h: usize, r: usize, e: Extreme) -> Vec<f32> {
    let mut rows = vec![0.0f32; px.len()];
    let mut line = Vec::with_capacity(w.max(h));
    let mut out = Vec::with_capacity(w.max(h));
    for y in 0..h {
        sliding(&px[y * w..(y + 1) * w], r, e, &mut out);
        rows[y * w..(y + 1) * w].copy_from_slice(&out);
    }
    let mut cols = vec![0.0f32; px.len()];
    for x in 0..w {
        line.clear();
        line.extend((0..h).map(|y| rows[y * w + x]));
        sliding(&line, r, e, &mut out);
        for (y, &v) in out.iter().enumerate() {
            cols[y * w + x] = v;
        }
    }
    cols
}

/// 1-D running minimum or maximum over [i - r, i + r], in O(n) with a monotonic deque.
fn sliding(v: &[f32], r: usize, e: Extreme, out: &mut Vec<f32>) {
    let better = |a: f32, b: f32| match e {
        Extreme::Min => a <= b,
        Extreme::Max => a >= b,
    };
    out.clear();
    let n = v.len();
    // The deque is dq[head..]: every index enters once, so a vector that only grows holds it.
    let mut dq: Vec<usize> = Vec::with_capacity(n);
    let mut head = 0;
    let mut next = 0;
    for i in 0..n {
        while next < n && next <= i + r {
            while dq.len() > head && better(v[next], v[dq[dq.len() - 1]]) {
                dq.pop();
            }
            dq.push(next);
            next += 1;
        }
        while dq[head] + r < i {
            head += 1;
        }
        out.push(v[dq[head]]);
    }
}

/// The mean over each pixel's 3x3 neighbourhood (clipped at the edges), added row by row.
fn box_blur(px: &[f32], w: usize, h: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; px.len()];
    let edge = |x: usize, y: usize| {
        let (mut s, mut n) = (0.0f32, 0u32);
        for ny in y.saturating_sub(1)..(y + 2).min(h) {
            for nx in x.saturating_sub(1)..(x + 2).min(w) {
                s += px[ny * w + nx];
                n += 1;
            }
        }
        s / n as f32
    };
    for y in 0..h {
        if y == 0 || y + 1 == h || w < 3 {
            for x in 0..w {
                out[y * w + x] = edge(x, y);
            }
            continue;
        }
        out[y * w] = edge(0, y);
        out[y * w + w - 1] = edge(w - 1, y);
        // Inside, the same nine values in the same order, without the edge tests.
        let rows = |r: usize| px[r * w..(r + 1) * w].windows(3);
        let inside = &mut out[y * w + 1..(y + 1) * w - 1];
        for (o, ((up, mid), down)) in inside
            .iter_mut()
            .zip(rows(y - 1).zip(rows(y)).zip(rows(y + 1)))
        {
            // Left to right, from 0 as `edge` adds them.
            let s = 0.0f32 + up[0] + up[1] + up[2] + mid[0] + mid[1] + mid[2];
            *o = (s + down[0] + down[1] + down[2]) / 9.0;
        }
    }
    out
}

/// Bilinear stretch of the coarse grid (cell centres at (i + 0.5) k) back to w x h.
fn upsample(c: &[f32], cw: usize, ch: usize, k: usize, w: usize, h: usize) -> Vec<f32> {
    if k == 1 {
        return c.to_vec();
    }
    let at = |p: usize, n: usize| {
        let f = ((p as f32 + 0.5) / k as f32 - 0.5).clamp(0.0, (n - 1) as f32);
        let i = (f as usize).min(n.saturating_sub(2));
        (i, (f - i as f32).min(1.0))
    };
    // Each column's two cells and weight, the same for every row.
    let columns: Vec<(usize, usize, f32)> = (0..w)
        .map(|x| {
            let (x0, fx) = at(x, cw);
            (x0, (x0 + 1).min(cw - 1), fx)
        })
        .collect();
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        let (y0, fy) = at(y, ch);
        let y1 = (y0 + 1).min(ch - 1);
        for &(x0, x1, fx) in &columns {
            let top = c[y0 * cw + x0] * (1.0 - fx) + c[y0 * cw + x1] * fx;
            let bottom = c[y1 * cw + x0] * (1.0 - fx) + c[y1 * cw + x1] * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_extremes_match_brute_force() {
        let v: Vec<f32> = (0..37).map(|i| ((i * 7919) % 23) as f32).collect();
        let mut out = Vec::new();
        for r in [0, 1, 3, 40] {
            for e in [Extreme::Min, Extreme::Max] {
                sliding(&v, r, e, &mut out);
                for i in 0..v.len() {
                    let win = &v[i.saturating_sub(r)..(i + r + 1).min(v.len())];
                    let want = match e {
                        Extreme::Min => win.iter().copied().fold(f32::INFINITY, f32::min),
                        Extreme::Max => win.iter().copied().fold(f32::NEG_INFINITY, f32::max),
                    };
                    assert_eq!(out[i], want, "r {r} at {i}");
                }
            }
        }
    }

    /// Values whose sums depend on their order.
    fn uneven(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919) % 101) as f32 * 0.0131 + if i % 3 == 0 { 1e4 } else { 0.0 })
            .collect()
    }

    #[test]
    fn box_blur_adds_every_neighbourhood_in_reading_order() {
        for (w, h) in [(1, 1), (1, 5), (6, 1), (2, 2), (9, 7)] {
            let px = uneven(w * h);
            let got = box_blur(&px, w, h);
            for y in 0..h {
                for x in 0..w {
                    let (mut s, mut n) = (0.0f32, 0u32);
                    for ny in y.saturating_sub(1)..(y + 2).min(h) {
                        for nx in x.saturating_sub(1)..(x + 2).min(w) {
                            s += px[ny * w + nx];
                            n += 1;
                        }
                    }
                    let want = s / n as f32;
                    assert_eq!(
                        got[y * w + x].to_bits(),
                        want.to_bits(),
                        "{w}x{h} at {x},{y}"
                    );
                }
            }
        }
    }

    #[test]
    fn upsample_interpolates_each_pixel_between_its_four_cells() {
        let (cw, ch, k) = (5, 4, 3);
        let c = uneven(cw * ch);
        let (w, h) = (14, 11);
        let got = upsample(&c, cw, ch, k, w, h);
        let at = |p: usize, n: usize| {
            let f = ((p as f32 + 0.5) / k as f32 - 0.5).clamp(0.0, (n - 1) as f32);
            let i = (f as usize).min(n - 2);
            (i, (f - i as f32).min(1.0))
        };
        for y in 0..h {
            for x in 0..w {
                let ((y0, fy), (x0, fx)) = (at(y, ch), at(x, cw));
                let (y1, x1) = ((y0 + 1).min(ch - 1), (x0 + 1).min(cw - 1));
                let top = c[y0 * cw + x0] * (1.0 - fx) + c[y0 * cw + x1] * fx;
                let bottom = c[y1 * cw + x0] * (1.0 - fx) + c[y1 * cw + x1] * fx;
                let want = top * (1.0 - fy) + bottom * fy;
                assert_eq!(got[y * w + x].to_bits(), want.to_bits(), "at {x},{y}");
            }
        }
    }

    #[test]
    fn a_shadow_is_paper_and_a_stroke_is_not() {
        // Light ink on a background that darkens from left (0.0) to right (0.4), with a
        // 3-pixel stroke down the middle.
        let (w, h) = (200, 100);
        let mut px = vec![0.0f32; w * h];
        for y in 0..h {
            for x in 0..w {
                let bg = 0.4 * x as f32 / w as f32;
                px[y * w + x] = if (99..102).contains(&x) { 1.0 } else { bg };
            }
        }
        let paper = paper_level(&Gray { w, h, px }).unwrap();
        for (x, want) in [(10, 0.02), (100, 0.2), (190, 0.38)] {
            let got = paper[50 * w + x];
            assert!((got - want).abs() < 0.05, "x {x}: paper {got}, want {want}");
        }
    }
}
