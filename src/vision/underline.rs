//! What a printed line leaves beside a digit: a straight stroke under it (or, less often, over
//! it), as when a number is written on a ruled line, an underline or the side of a box.
//!
//! Where writing touches a printed line, `preprocess` keeps the line under the strokes (so
//! that no digit is cut in two), and the cutting reader then finds a digit with a bar under
//! it. MNIST has none: on the shared numbers a 0 sitting on its line was read as 2, a 4 or a 7
//! as a footed 1, a 6 or 5 with a bar over it as 5 or 3. Drawn into training digits
//! (`digits train --augment --underlines P`), the bar becomes something to look past.

use super::augment::ink_box;
use rand::Rng;

/// Chance that the bar is over the digit rather than under it.
const OVER: f64 = 0.25;

/// Draws a bar under or over the ink of `img` (w x h, row-major, ink > 0): across the ink's last
/// (or first) row, in the row next to it or up to two rows further; one or two pixels thick;
/// about as wide as the digit (each end up to an eighth of its width short of the ink's side or
/// up to 6 pixels beyond it); kept inside the frame. Returns false, leaving `img` as it was,
/// when it holds no ink.
pub fn add_underline<R: Rng>(img: &mut [u8], w: usize, h: usize, rng: &mut R) -> bool {
    let Some((x0, y0, x1, y1)) = ink_box(img, w, h) else {
        return false;
    };
    let (x0, y0, x1, y1) = (x0 as i64, y0 as i64, x1 as i64, y1 as i64);
    let width = x1 - x0 + 1;
    let thick = rng.gen_range(1..=2);
    let gap = rng.gen_range(-1..=2);
    let top = if rng.gen_bool(OVER) {
        y0 - gap - thick
    } else {
        y1 + 1 + gap
    };
    // Each end falls short of the ink's by up to an eighth of its width or passes it by up
    // to 6 pixels.
    let mut end = || rng.gen_range(-(width / 8)..=6);
    let (left, right) = (x0 - end(), x1 + end());
    let level = rng.gen_range(170..=255u8);
    let clamp_x = |x: i64| x.clamp(0, w as i64 - 1) as usize;
    for y in top..top + thick {
        let y = y.clamp(0, h as i64 - 1) as usize;
        for x in clamp_x(left)..=clamp_x(right) {
            let v = &mut img[y * w + x];
            *v = (*v).max(level);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A 28x28 picture with a vertical bar of faint ink (fainter than any bar) in columns
    /// 12-15, rows 6-21.
    fn stem() -> Vec<u8> {
        let mut img = vec![0u8; 784];
        for y in 6..22 {
            for x in 12..16 {
                img[y * 28 + x] = 100;
            }
        }
        img
    }

    #[test]
    fn the_bar_lies_beside_the_ink_and_keeps_the_ink() {
        let (mut under, mut over) = (0, 0);
        for seed in 0..200 {
            let mut img = stem();
            let before = img.clone();
            assert!(add_underline(
                &mut img,
                28,
                28,
                &mut ChaCha8Rng::seed_from_u64(seed)
            ));
            assert!(before.iter().zip(&img).all(|(b, a)| a >= b), "ink kept");
            let rows: Vec<usize> = (0..28)
                .filter(|&y| (0..28).any(|x| img[y * 28 + x] != before[y * 28 + x]))
                .collect();
            assert!(!rows.is_empty() && rows.len() <= 2, "seed {seed}: {rows:?}");
            let (first, last) = (rows[0], rows[rows.len() - 1]);
            // The stem's rows are 6-21; a bar may cross its first or last.
            if first >= 21 {
                assert!(first <= 24, "under, at most two rows away: {rows:?}");
                under += 1;
            } else {
                assert!(
                    (3..=6).contains(&last),
                    "over, at most two rows away: {rows:?}"
                );
                over += 1;
            }
            // About as wide as the stem (4 px): from 4 - 2 * 0 to 4 + 12.
            let y = if first >= 21 {
                rows[rows.len() - 1]
            } else {
                rows[0]
            };
            let cols: Vec<usize> = (0..28).filter(|&x| img[y * 28 + x] != 0).collect();
            assert!((4..=16).contains(&cols.len()), "{cols:?}");
            assert!(cols[0] <= 12 && cols[cols.len() - 1] >= 15, "{cols:?}");
        }
        assert!(under > 120 && over > 20, "{under} under, {over} over");
    }

    #[test]
    fn a_blank_picture_is_left_as_it_is() {
        let mut img = vec![0u8; 784];
        assert!(!add_underline(
            &mut img,
            28,
            28,
            &mut ChaCha8Rng::seed_from_u64(1)
        ));
        assert!(img.iter().all(|&v| v == 0));
    }
}
