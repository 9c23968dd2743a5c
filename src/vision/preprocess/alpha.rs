//! What lies behind a picture's semi-transparent pixels.
//!
//! Two kinds of picture carry transparency:
//! - the ink is in the alpha channel: a canvas `toBlob` PNG is strokes of one colour on fully
//!   transparent pixels (whose RGB is often black, (0,0,0,0)). The visible pixels all have the
//!   same colour, so the page behind must contrast with it: white behind dark strokes, black
//!   behind light ones.
//! - the colour carries the picture: ink on paper, both visible, with alpha below 255 here and
//!   there (a drawing saved with a faded layer, a scan with a soft mask). Composited over a fixed
//!   colour the paper would change level with the alpha (over black, white paper with alpha 175
//!   turns grey, darker where the alpha is lower), so the picture is composited over its own
//!   paper colour: the commonest level of its visible pixels.

/// A pixel counts as visible from this alpha on (of 255).
const VISIBLE_ALPHA: u8 = 128;
/// Visible levels further than this (of 255) from the commonest one differ from it: ink.
const OTHER_LEVEL: i32 = 40;
/// The colour carries the picture when at least this share of the visible pixels' weight
/// differs from the commonest level (a flat colour channel has none: only anti-aliasing
/// rounding, at alphas below `VISIBLE_ALPHA`).
const MIN_OTHER_SHARE: f64 = 0.001;

/// The grey level in [0, 1] to composite `luma_alpha` (luma, alpha pairs, as
/// `DynamicImage::to_luma_alpha8` gives them) over.
pub(super) fn behind(luma_alpha: &[u8]) -> f32 {
    // Alpha-weighted histogram of the visible pixels' levels.
    let mut hist = [0u64; 256];
    let (mut visible, mut total) = (0usize, 0usize);
    for p in luma_alpha.chunks_exact(2) {
        total += 1;
        if p[1] >= VISIBLE_ALPHA {
            hist[p[0] as usize] += p[1] as u64;
            visible += 1;
        }
    }
    let weight: u64 = hist.iter().sum();
    // Strokes on transparency cover less than half the picture; paper covers more.
    if weight > 0 && 2 * visible >= total {
        let paper = weighted_median(&hist, weight);
        let other: u64 = hist
            .iter()
            .enumerate()
            .filter(|&(level, _)| (level as i32 - paper as i32).abs() > OTHER_LEVEL)
            .map(|(_, &w)| w)
            .sum();
        if other as f64 > MIN_OTHER_SHARE * weight as f64 {
            return paper as f32 / 255.0;
        }
    }
    contrasting(luma_alpha)
}

/// The level half of `weight` lies at or below.
fn weighted_median(hist: &[u64; 256], weight: u64) -> u8 {
    let mut seen = 0;
    for (level, &w) in hist.iter().enumerate() {
        seen += w;
        if 2 * seen >= weight {
            return level as u8;
        }
    }
    255
}

/// White behind dark visible pixels, black behind light ones (the ink is in the alpha channel).
fn contrasting(luma_alpha: &[u8]) -> f32 {
    let (mut sum, mut weight) = (0.0f64, 0.0f64);
    for p in luma_alpha.chunks_exact(2) {
        let a = p[1] as f64;
        sum += a * p[0] as f64;
        weight += a;
    }
    let mean = if weight > 0.0 {
        sum / weight / 255.0
    } else {
        0.0
    };
    if mean < 0.5 {
        1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` pixels of (luma, alpha).
    fn pixels(parts: &[(u8, u8, usize)]) -> Vec<u8> {
        parts
            .iter()
            .flat_map(|&(l, a, n)| std::iter::repeat_n([l, a], n).flatten())
            .collect()
    }

    #[test]
    fn ink_on_paper_is_composited_over_the_paper() {
        // White paper and black ink, all at alpha 175..255.
        let white = pixels(&[(255, 175, 500), (255, 255, 300), (0, 200, 100)]);
        assert_eq!(behind(&white), 1.0);
        // Light ink on mid-grey paper: the paper's own level, not black or white.
        let grey = pixels(&[(120, 180, 800), (230, 255, 100)]);
        assert_eq!(behind(&grey), 120.0 / 255.0);
    }

    #[test]
    fn ink_in_the_alpha_channel_gets_a_contrasting_page() {
        // Strokes on transparent black, a canvas toBlob: dark strokes, light strokes.
        assert_eq!(behind(&pixels(&[(0, 0, 900), (0, 255, 100)])), 1.0);
        assert_eq!(behind(&pixels(&[(0, 0, 900), (255, 255, 100)])), 0.0);
        // One colour everywhere, only alpha varying, visible over most of the picture.
        let flat = pixels(&[(20, 130, 700), (20, 255, 300)]);
        assert_eq!(behind(&flat), 1.0);
        // Strokes of two colours on transparency: still strokes, not paper.
        let two = pixels(&[(0, 0, 800), (10, 255, 100), (90, 255, 100)]);
        assert_eq!(behind(&two), 1.0);
        // Nothing visible at all.
        assert_eq!(behind(&pixels(&[(0, 0, 10)])), 1.0);
    }
}
