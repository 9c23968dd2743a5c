//! Stroke width: measured, and thin pen lines thickened to MNIST's width before the picture is
//! scaled down (a 2-pixel ballpoint line on a 1000-pixel photo would otherwise shrink to a faint
//! hair at 20x20, unlike anything the network was trained on).

/// MNIST's typical stroke width at the 20x20 box scale, by [`width`]: the median over the 60,000
/// training images is 1.96 px (checked by the test `mnist_stroke_width` when MNIST is present).
pub const MNIST_WIDTH: f32 = 1.96;
/// Strokes thinner than this fraction of MNIST's are thickened to it.
const THIN: f32 = 0.75;

/// Mean stroke width of the ink (values >= 0.5 of `px`, w x h) in pixels: for a long stroke of
/// width t, area = t * length and perimeter = 2 * length, so t = 2 * area / perimeter (pixel
/// edges, so a diagonal stroke reads somewhat thinner; MNIST is measured the same way).
pub fn width(px: &[f32], w: usize, h: usize) -> Option<f32> {
    let on = |x: usize, y: usize| px[y * w + x] >= 0.5;
    let (mut area, mut edges) = (0usize, 0usize);
    for y in 0..h {
        for x in 0..w {
            if !on(x, y) {
                continue;
            }
            area += 1;
            edges += usize::from(x == 0 || !on(x - 1, y));
            edges += usize::from(x + 1 == w || !on(x + 1, y));
            edges += usize::from(y == 0 || !on(x, y - 1));
            edges += usize::from(y + 1 == h || !on(x, y + 1));
        }
    }
    (edges > 0).then(|| 2.0 * area as f32 / edges as f32)
}

/// How many pixels (at the scale the width was measured) to add on each side of the strokes,
/// or None when they are thick enough.
pub(super) fn missing_radius(measured: f32) -> Option<f32> {
    (measured < THIN * MNIST_WIDTH).then(|| (MNIST_WIDTH - measured) / 2.0)
}

/// Grows the ink (w x h, 0..1) by `r` pixels all round with an anti-aliased edge.
pub(super) fn thicken(px: &[f32], w: usize, h: usize, r: f32) -> Vec<f32> {
    let reach = r + 0.5;
    let d2 = distance2_within(px, w, h, reach);
    px.iter()
        .zip(&d2)
        .map(|(&v, &d)| v.max((reach - d.sqrt()).clamp(0.0, 1.0)))
        .collect()
}

/// A distance no picture reaches (squared), for pixels with no ink in reach.
const FAR: f32 = 1e12;
/// The farthest reach whose rows are searched in a window of columns either side (a short
/// window costs less than the rows' lower envelopes).
const WINDOW_REACH: f32 = 4.0;

/// Squared Euclidean distance from each pixel to the nearest ink pixel (>= 0.5), exact where it
/// is under `reach` squared (what [`thicken`] uses); elsewhere some distance at least that (or
/// [`FAR`]). Two passes, as Felzenszwalb and Huttenlocher's exact transform: each column's
/// distances to its nearest ink, by scanning down and up; then along each row, the nearest of
/// those within `reach` columns (the lower envelope of every column's parabola when `reach`
/// is over [`WINDOW_REACH`]).
fn distance2_within(px: &[f32], w: usize, h: usize, reach: f32) -> Vec<f32> {
    let mut d = column_distances2(px, w, h);
    let mut f = Vec::with_capacity(w);
    if reach > WINDOW_REACH {
        let mut out = Vec::with_capacity(w);
        let mut envelope = Envelope::default();
        for row in d.chunks_exact_mut(w) {
            f.clear();
            f.extend_from_slice(row);
            transform_1d(&f, &mut out, &mut envelope);
            row.copy_from_slice(&out);
        }
        return d;
    }
    // A pixel nearer than `reach` to ink is nearest to ink in a column less than `reach` away:
    // at most ceil(reach) - 1 columns.
    let k = (reach.max(0.0).ceil() as usize).saturating_sub(1);
    for row in d.chunks_exact_mut(w) {
        f.clear();
        f.extend_from_slice(row);
        for dx in 1..=k.min(w.saturating_sub(1)) {
            let step = (dx * dx) as f32;
            // Each pixel against the column dx to its left, then dx to its right.
            for (v, &g) in row[dx..].iter_mut().zip(&f) {
                *v = v.min(g + step);
            }
            for (v, &g) in row.iter_mut().zip(&f[dx..]) {
                *v = v.min(g + step);
            }
        }
    }
    d
}

/// Each pixel's squared distance to the nearest ink pixel in its column ([`FAR`] where the
/// column has none).
fn column_distances2(px: &[f32], w: usize, h: usize) -> Vec<f32> {
    let mut d = vec![FAR; w * h];
    // Row by row, down then up, each column's nearest ink row so far (none: usize::MAX).
    let mut ink_row = vec![usize::MAX; w];
    for y in 0..h {
        let (row, dist) = (&px[y * w..(y + 1) * w], &mut d[y * w..(y + 1) * w]);
        for ((&v, at), dv) in row.iter().zip(ink_row.iter_mut()).zip(dist) {
            if v >= 0.5 {
                *at = y;
            }
            if *at != usize::MAX {
                let dy = (y - *at) as f32;
                *dv = dy * dy;
            }
        }
    }
    ink_row.fill(usize::MAX);
    for y in (0..h).rev() {
        let (row, dist) = (&px[y * w..(y + 1) * w], &mut d[y * w..(y + 1) * w]);
        for ((&v, at), dv) in row.iter().zip(ink_row.iter_mut()).zip(dist) {
            if v >= 0.5 {
                *at = y;
            }
            if *at != usize::MAX {
                let dy = (*at - y) as f32;
                *dv = dv.min(dy * dy);
            }
        }
    }
    d
}

/// Squared Euclidean distance from each pixel to the nearest ink pixel, exact everywhere.
#[cfg(test)]
fn distance2_to_ink(px: &[f32], w: usize, h: usize) -> Vec<f32> {
    distance2_within(px, w, h, f32::INFINITY)
}

/// The lower envelope's parabolas (their vertices) and where each takes over, kept between the
/// rows of one transform.
#[derive(Default)]
struct Envelope {
    v: Vec<usize>,
    z: Vec<f32>,
}

/// Lower envelope of the parabolas (q - p)^2 + f(p): out(q) = min_p that.
fn transform_1d(f: &[f32], out: &mut Vec<f32>, envelope: &mut Envelope) {
    let n = f.len();
    out.clear();
    let Envelope { v, z } = envelope;
    v.clear();
    v.resize(n, 0);
    z.clear();
    z.resize(n + 1, 0.0);
    let mut k = 0;
    z[0] = f32::NEG_INFINITY;
    z[1] = f32::INFINITY;
    let cross = |q: usize, p: usize| {
        let (qf, pf) = (q as f32, p as f32);
        ((f[q] + qf * qf) - (f[p] + pf * pf)) / (2.0 * qf - 2.0 * pf)
    };
    for q in 1..n {
        let mut s = cross(q, v[k]);
        while s <= z[k] {
            k -= 1;
            s = cross(q, v[k]);
        }
        k += 1;
        v[k] = q;
        z[k] = s;
        z[k + 1] = f32::INFINITY;
    }
    k = 0;
    for q in 0..n {
        while z[k + 1] < q as f32 {
            k += 1;
        }
        let dq = q as f32 - v[k] as f32;
        out.push(dq * dq + f[v[k]]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_of_a_bar() {
        let (w, h) = (60, 60);
        let mut px = vec![0.0f32; w * h];
        for y in 5..55 {
            for x in 20..24 {
                px[y * w + x] = 1.0;
            }
        }
        let t = width(&px, w, h).unwrap();
        assert!((t - 3.7).abs() < 0.2, "{t}"); // 4 wide, ends included
        assert!(width(&[0.0; 9], 3, 3).is_none());
    }

    #[test]
    fn distances_match_brute_force() {
        let (w, h) = (13, 9);
        let px: Vec<f32> = (0..w * h)
            .map(|i| if i % 17 == 3 { 1.0 } else { 0.0 })
            .collect();
        let d = distance2_to_ink(&px, w, h);
        for (i, &got) in d.iter().enumerate() {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            let want = (0..w * h)
                .filter(|&j| px[j] >= 0.5)
                .map(|j| {
                    let (a, b) = ((j % w) as f32, (j / w) as f32);
                    (a - x).powi(2) + (b - y).powi(2)
                })
                .fold(f32::INFINITY, f32::min);
            assert_eq!(got, want, "pixel {i}");
        }
    }

    /// Seeded random ink (about one pixel in `one_in`; as many faint pixels, which are not ink).
    fn speckle(w: usize, h: usize, one_in: u32, seed: u64) -> Vec<f32> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..w * h)
            .map(|_| match rng.gen_range(0..one_in) {
                0 => 1.0,
                1 => 0.4,
                _ => 0.0,
            })
            .collect()
    }

    #[test]
    fn distances_within_reach_are_exact_and_the_rest_no_nearer() {
        for (seed, &(w, h, one_in)) in [(31, 17, 40), (9, 40, 7), (50, 3, 200), (1, 1, 2)]
            .iter()
            .enumerate()
        {
            let px = speckle(w, h, one_in, seed as u64);
            let exact = distance2_to_ink(&px, w, h);
            for reach in [0.0, 0.5, 1.0, 1.48, 2.0, 2.9, 4.0, 4.5, 9.0] {
                let near = distance2_within(&px, w, h, reach);
                for (i, (&d, &e)) in near.iter().zip(&exact).enumerate() {
                    if e < reach * reach {
                        assert_eq!(d, e, "pixel {i}, reach {reach}");
                    } else {
                        assert!(d >= reach * reach, "pixel {i}, reach {reach}: {d} < {e}");
                    }
                }
                // Thickening reads only the exact distances: the same bits as from every one.
                let r = (reach - 0.5).max(0.0);
                let from_exact: Vec<f32> = px
                    .iter()
                    .zip(&exact)
                    .map(|(&v, &d)| v.max((r + 0.5 - d.sqrt()).clamp(0.0, 1.0)))
                    .collect();
                assert_eq!(thicken(&px, w, h, r), from_exact, "reach {reach}");
            }
        }
    }

    #[test]
    fn thickening_a_hairline() {
        let (w, h) = (40, 40);
        let mut px = vec![0.0f32; w * h];
        for y in 5..35 {
            px[y * w + 20] = 1.0;
        }
        let thick = thicken(&px, w, h, 2.0);
        let t = width(&thick, w, h).unwrap();
        assert!((4.0..=5.5).contains(&t), "{t}");
        assert_eq!(thick[20 * w + 21], 1.0);
        assert_eq!(thick[20 * w + 22], 0.5);
        assert_eq!(thick[20 * w + 25], 0.0);
    }
}
