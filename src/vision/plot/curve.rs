//! Line plot of loss (or any) series against epochs.

use super::axes::Axis;
use super::style::{AXIS, GRID, PAGE, SERIES, TEXT};
use crate::vision::canvas::{fill_rect, line, stroke_rect};
use crate::vision::font::{draw_text, draw_text_centred, draw_text_up, text_width, GLYPH};
use image::RgbImage;

const WIDTH: u32 = 900;
const HEIGHT: u32 = 560;
const LEFT: u32 = 110;
const RIGHT: u32 = 30;
const TOP: u32 = 56;
const BOTTOM: u32 = 76;
const TEXT_SCALE: u32 = 2;

/// The plotting area of a [`loss_curve`] image: left, top, width, height.
pub fn plot_area() -> (u32, u32, u32, u32) {
    (LEFT, TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM)
}

/// Named series of (x, y) points, x in epochs (fractional for per-step values), drawn as
/// lines in distinct colours with a legend; y starts at 0 for non-negative data.
/// Series with few points also get markers, so a per-epoch test loss stays visible.
/// Non-finite points are skipped.
pub fn loss_curve(series: &[(&str, Vec<(f64, f64)>)], title: &str) -> RgbImage {
    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, PAGE);
    let points = || {
        series
            .iter()
            .flat_map(|(_, p)| p.iter())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in points() {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let xa = x_axis(x0, x1, points().all(|(x, _)| x.fract() == 0.0));
    let ya = Axis::new(y0, y1, true);
    let (pw, ph) = (
        (WIDTH - LEFT - RIGHT) as f64,
        (HEIGHT - TOP - BOTTOM) as f64,
    );
    let to_px = |x: f64, y: f64| {
        (
            LEFT as f64 + xa.frac(x) * pw,
            TOP as f64 + (1.0 - ya.frac(y)) * ph,
        )
    };
    let ts = TEXT_SCALE;
    let glyph_h = (GLYPH * ts) as i64;
    // Grid and tick labels.
    for v in ya.ticks() {
        let (_, py) = to_px(xa.lo, v);
        let py = py.round() as i64;
        fill_rect(&mut img, LEFT as i64, py, pw as u32, 1, GRID);
        fill_rect(&mut img, LEFT as i64 - 6, py, 6, 1, AXIS);
        let s = ya.label(v);
        let x = LEFT as i64 - 10 - text_width(&s, ts) as i64;
        draw_text(&mut img, x, py - glyph_h / 2, &s, ts, TEXT);
    }
    for v in xa.ticks() {
        let (px, _) = to_px(v, ya.lo);
        let px = px.round() as i64;
        fill_rect(&mut img, px, TOP as i64, 1, ph as u32, GRID);
        fill_rect(&mut img, px, (TOP as f64 + ph) as i64, 1, 6, AXIS);
        draw_text_centred(
            &mut img,
            px,
            (TOP as f64 + ph) as i64 + 10,
            &xa.label(v),
            ts,
            TEXT,
        );
    }
    // Axes.
    fill_rect(&mut img, LEFT as i64, TOP as i64, 2, ph as u32 + 1, AXIS);
    fill_rect(
        &mut img,
        LEFT as i64,
        (TOP as f64 + ph) as i64,
        pw as u32,
        2,
        AXIS,
    );
    draw_text_centred(
        &mut img,
        (LEFT as f64 + pw / 2.0) as i64,
        HEIGHT as i64 - glyph_h - 10,
        "epoch",
        ts,
        TEXT,
    );
    draw_text_up(
        &mut img,
        12,
        (TOP as f64 + ph / 2.0) as i64,
        "loss",
        ts,
        TEXT,
    );
    draw_text_centred(&mut img, WIDTH as i64 / 2, 16, title, ts, TEXT);
    // Curves.
    for (k, (_, pts)) in series.iter().enumerate() {
        let color = SERIES[k % SERIES.len()];
        let width = if pts.len() > 300 { 1.5 } else { 2.5 };
        let mut prev: Option<(f64, f64)> = None;
        for &(x, y) in pts {
            if !(x.is_finite() && y.is_finite()) {
                prev = None;
                continue;
            }
            let p = to_px(x, y);
            if let Some(q) = prev {
                line(&mut img, q, p, width, color);
            }
            if pts.len() <= 60 {
                fill_rect(&mut img, p.0 as i64 - 3, p.1 as i64 - 3, 7, 7, color);
            }
            prev = Some(p);
        }
    }
    legend(&mut img, series);
    img
}

/// The epoch axis from `x0` to `x1`: whole ticks when every point is at a whole epoch.
fn x_axis(x0: f64, x1: f64, whole: bool) -> Axis {
    if whole {
        Axis::whole(x0, x1, false)
    } else {
        Axis::new(x0, x1, false)
    }
}

/// A framed box in the upper right: a colour sample and the name of each series.
fn legend(img: &mut RgbImage, series: &[(&str, Vec<(f64, f64)>)]) {
    if series.is_empty() {
        return;
    }
    let ts = TEXT_SCALE;
    let row = GLYPH * ts + 8;
    let longest = series
        .iter()
        .map(|(n, _)| text_width(n, ts))
        .max()
        .unwrap_or(0);
    let (w, h) = (longest + 56, series.len() as u32 * row + 12);
    let x = (WIDTH - RIGHT - w - 10) as i64;
    let y = (TOP + 10) as i64;
    fill_rect(img, x, y, w, h, PAGE);
    stroke_rect(img, x, y, w, h, 1, AXIS);
    for (k, (name, _)) in series.iter().enumerate() {
        let ry = y + 6 + (k as u32 * row) as i64;
        let mid = ry as f64 + (GLYPH * ts) as f64 / 2.0;
        let color = SERIES[k % SERIES.len()];
        line(
            img,
            (x as f64 + 10.0, mid),
            (x as f64 + 40.0, mid),
            3.0,
            color,
        );
        draw_text(img, x + 48, ry, name, ts, TEXT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_epoch_curves_get_whole_epoch_ticks() {
        let per_epoch = vec![(1.0, 0.5), (2.0, 0.3), (3.0, 0.2)];
        let series = [("training loss", per_epoch.clone())];
        // The loss curve of 3 epochs, and its axis: ticks at 1, 2, 3 only.
        let xa = x_axis(1.0, 3.0, true);
        assert_eq!(xa.ticks(), vec![1.0, 2.0, 3.0]);
        let img = loss_curve(&series, "t");
        let (left, top, width, height) = plot_area();
        // A grid line at epoch 2 (the middle), none at 1.5 or 2.5.
        let grid_at = |epoch: f64| {
            let x = (left as f64 + xa.frac(epoch) * width as f64).round() as u32;
            *img.get_pixel(x, top + height / 3) == GRID
        };
        assert!(grid_at(2.0));
        assert!(!grid_at(1.5) && !grid_at(2.5));
        // Per-step points keep fractional ticks.
        assert_eq!(x_axis(1.0, 3.0, false).step, 0.5);
    }
}
