//! The 10x10 confusion matrix: rows are true digits, columns predicted ones.

use super::style::{PAGE, TEXT};
use crate::vision::canvas::{fill_rect, stroke_rect};
use crate::vision::font::{draw_text_centred, draw_text_up, text_width, GLYPH};
use image::{Rgb, RgbImage};

const CELL: u32 = 72;
const LEFT: u32 = 84;
const TOP: u32 = 84;
const BOTTOM: u32 = 76;
const RIGHT: u32 = 30;
/// Full-strength colours: blue for correct (diagonal), red for mistakes.
const HIT: [f32; 3] = [8.0, 69.0, 148.0];
const MISS: [f32; 3] = [178.0, 24.0, 43.0];

/// counts[true][predicted]; pairs with a label or prediction outside 0..9 are skipped.
pub fn confusion_counts(labels: &[u8], preds: &[usize]) -> [[u32; 10]; 10] {
    let mut m = [[0u32; 10]; 10];
    for (&l, &p) in labels.iter().zip(preds) {
        if (l as usize) < 10 && p < 10 {
            m[l as usize][p] += 1;
        }
    }
    m
}

/// Colour of a cell: white for 0 to full strength for the largest count. The scale is
/// logarithmic so that a handful of mistakes shows next to a thousand hits.
fn shade(count: u32, max: u32, diagonal: bool) -> (Rgb<u8>, f32) {
    let t = if max == 0 {
        0.0
    } else {
        ((1.0 + count as f32).ln() / (1.0 + max as f32).ln()).clamp(0.0, 1.0)
    };
    let full = if diagonal { HIT } else { MISS };
    let c = std::array::from_fn(|k| (255.0 + t * (full[k] - 255.0)).round() as u8);
    (Rgb(c), t)
}

/// Top-left corner and side of cell (true `row`, predicted `col`) in a confusion matrix image.
pub fn confusion_cell(row: usize, col: usize) -> (u32, u32, u32) {
    (LEFT + col as u32 * CELL, TOP + row as u32 * CELL, CELL)
}

/// Heat map with each count written in its cell, digits along both axes, axis names
/// "true" and "predicted", and the overall accuracy under the title.
pub fn confusion_matrix(counts: &[[u32; 10]; 10], title: &str) -> RgbImage {
    let side = 10 * CELL;
    let (width, height) = (LEFT + side + RIGHT, TOP + side + BOTTOM);
    let mut img = RgbImage::from_pixel(width, height, PAGE);
    let total: u64 = counts.iter().flatten().map(|&c| c as u64).sum();
    let correct: u64 = (0..10).map(|i| counts[i][i] as u64).sum();
    let max = counts.iter().flatten().copied().max().unwrap_or(0);
    for (r, row) in counts.iter().enumerate() {
        for (c, &n) in row.iter().enumerate() {
            let (x, y) = (
                (LEFT + c as u32 * CELL) as i64,
                (TOP + r as u32 * CELL) as i64,
            );
            let (color, t) = shade(n, max, r == c);
            fill_rect(&mut img, x, y, CELL, CELL, color);
            let s = n.to_string();
            let ts = if text_width(&s, 2) + 8 <= CELL { 2 } else { 1 };
            let ink = if t > 0.55 {
                PAGE
            } else if n == 0 {
                Rgb([190, 190, 190])
            } else {
                TEXT
            };
            let ty = y + (CELL as i64 - (GLYPH * ts) as i64) / 2;
            draw_text_centred(&mut img, x + CELL as i64 / 2, ty, &s, ts, ink);
        }
    }
    stroke_rect(
        &mut img,
        LEFT as i64 - 1,
        TOP as i64 - 1,
        side + 2,
        side + 2,
        1,
        TEXT,
    );
    for d in 0..10u32 {
        let mid = (d * CELL + CELL / 2) as i64;
        let label = d.to_string();
        // Digits left of the rows and under the columns.
        draw_text_centred(
            &mut img,
            LEFT as i64 - 18,
            TOP as i64 + mid - 8,
            &label,
            2,
            TEXT,
        );
        draw_text_centred(
            &mut img,
            LEFT as i64 + mid,
            (TOP + side) as i64 + 10,
            &label,
            2,
            TEXT,
        );
    }
    draw_text_centred(
        &mut img,
        (LEFT + side / 2) as i64,
        (TOP + side) as i64 + 44,
        "predicted",
        2,
        TEXT,
    );
    draw_text_up(&mut img, 14, (TOP + side / 2) as i64, "true", 2, TEXT);
    let accuracy = if total == 0 {
        "accuracy -".to_string()
    } else {
        format!(
            "accuracy {:.2}% ({correct}/{total})",
            100.0 * correct as f64 / total as f64
        )
    };
    for (k, line) in [title, accuracy.as_str()].iter().enumerate() {
        let ts = if text_width(line, 2) + 20 <= width {
            2
        } else {
            1
        };
        draw_text_centred(
            &mut img,
            width as i64 / 2,
            14 + k as i64 * 28,
            line,
            ts,
            TEXT,
        );
    }
    img
}
