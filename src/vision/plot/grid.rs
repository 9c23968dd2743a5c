//! Grids of digit tiles with a caption above each (the tutorials' 8x8 figure).

use super::style::{PAGE, TEXT, WRONG};
use crate::data::Dataset;
use crate::vision::canvas::{draw_gray, stroke_rect};
use crate::vision::font::{draw_text_centred, text_width, GLYPH};
use image::RgbImage;

/// Text above a tile; `\n` starts a new line. A wrong one is red and the tile framed red.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caption {
    pub text: String,
    pub wrong: bool,
}

impl Caption {
    pub fn new(text: impl Into<String>) -> Self {
        Caption {
            text: text.into(),
            wrong: false,
        }
    }

    /// "label,prediction" as in the tutorial, wrong when they differ.
    pub fn prediction(label: u8, pred: usize) -> Self {
        Caption {
            text: format!("{label},{pred}"),
            wrong: label as usize != pred,
        }
    }
}

/// Space around each tile for the red frame, and between cells.
const FRAME: u32 = 3;
const GAP: u32 = 10;
/// Tiles are scaled up to about this many pixels a side.
const TILE_TARGET: u32 = 96;

/// Where everything of a grid goes; public so callers (and tests) can find tile `i`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GridLayout {
    pub cols: u32,
    pub rows: u32,
    /// Pixels per image pixel.
    pub scale: u32,
    pub side: u32,
    pub text_scale: u32,
    /// Height of the caption band above each tile.
    pub band: u32,
    pub cell_w: u32,
    pub cell_h: u32,
    pub width: u32,
    pub height: u32,
}

impl GridLayout {
    /// Layout of `n` tiles of `side` x `side` pixels with these captions (about square).
    pub fn new(n: usize, side: usize, captions: &[Caption]) -> Self {
        let side = side.max(1) as u32;
        let cols = ((n as f64).sqrt().ceil() as u32).max(1);
        let rows = (n as u32).div_ceil(cols).max(1);
        let scale = (TILE_TARGET / side).max(1);
        let tile = side * scale;
        let lines = || captions.iter().flat_map(|c| c.text.lines());
        let longest = lines().map(|l| l.chars().count() as u32).max().unwrap_or(0);
        let max_lines = captions
            .iter()
            .map(|c| c.text.lines().count() as u32)
            .max()
            .unwrap_or(0);
        // Large text when every line fits over a tile, else the 8-pixel font.
        let text_scale = if longest * GLYPH * 2 <= tile { 2 } else { 1 };
        let band = if max_lines == 0 {
            0
        } else {
            max_lines * (GLYPH * text_scale + 2) + 4
        };
        let cell_w = (tile + 2 * FRAME).max(longest * GLYPH * text_scale);
        let cell_h = band + tile + 2 * FRAME;
        GridLayout {
            cols,
            rows,
            scale,
            side,
            text_scale,
            band,
            cell_w,
            cell_h,
            width: cols * cell_w + (cols + 1) * GAP,
            height: rows * cell_h + (rows + 1) * GAP,
        }
    }

    /// Top-left corner of cell `i`.
    pub fn cell(&self, i: usize) -> (u32, u32) {
        let (c, r) = (i as u32 % self.cols, i as u32 / self.cols);
        (GAP + c * (self.cell_w + GAP), GAP + r * (self.cell_h + GAP))
    }

    /// Top-left corner of the image of tile `i` (inside its frame) and its side in pixels.
    pub fn tile(&self, i: usize) -> (u32, u32, u32) {
        let (x, y) = self.cell(i);
        let t = self.side * self.scale;
        (x + (self.cell_w - t) / 2, y + self.band + FRAME, t)
    }
}

/// An about-square grid of digits (upright row-major 0..1 images of `side` x `side`,
/// white ink on black as MNIST is usually shown) with `captions[i]` above image `i`.
/// Fewer captions than images leave the rest bare; short images are padded black.
pub fn digit_grid(images: &[Vec<f32>], side: usize, captions: &[Caption]) -> RgbImage {
    let layout = GridLayout::new(images.len(), side, captions);
    let mut img = RgbImage::from_pixel(layout.width, layout.height, PAGE);
    let line_h = (GLYPH * layout.text_scale + 2) as i64;
    for (i, pixels) in images.iter().enumerate() {
        let (tx, ty, t) = layout.tile(i);
        let (cx, cy) = layout.cell(i);
        draw_gray(&mut img, tx as i64, ty as i64, pixels, side, layout.scale);
        let Some(caption) = captions.get(i) else {
            continue;
        };
        let color = if caption.wrong { WRONG } else { TEXT };
        if caption.wrong {
            let f = FRAME as i64;
            stroke_rect(
                &mut img,
                tx as i64 - f,
                ty as i64 - f,
                t + 2 * FRAME,
                t + 2 * FRAME,
                FRAME,
                WRONG,
            );
        }
        let centre = (cx + layout.cell_w / 2) as i64;
        for (k, line) in caption.text.lines().enumerate() {
            let y = cy as i64 + 2 + k as i64 * line_h;
            draw_text_centred(&mut img, centre, y, line, layout.text_scale, color);
        }
    }
    img
}

/// Images `indices` of `data` (20x20 column-major sets transposed upright) captioned with
/// the label, or "label,prediction" when `preds` (one per index) is given.
pub fn dataset_grid(data: &Dataset, indices: &[usize], preds: Option<&[usize]>) -> RgbImage {
    let indices: Vec<usize> = indices
        .iter()
        .copied()
        .filter(|&i| i < data.len())
        .collect();
    let images: Vec<Vec<f32>> = indices.iter().map(|&i| data.display_image(i)).collect();
    let captions: Vec<Caption> = indices
        .iter()
        .enumerate()
        .map(|(k, &i)| match preds.and_then(|p| p.get(k)) {
            Some(&p) => Caption::prediction(data.labels[i], p),
            None => Caption::new(data.labels[i].to_string()),
        })
        .collect();
    digit_grid(&images, data.rows, &captions)
}

/// `img` with a band on top holding `title` in large text.
pub fn titled(img: &RgbImage, title: &str) -> RgbImage {
    let scale = if text_width(title, 2) + 20 <= img.width() {
        2
    } else {
        1
    };
    let band = GLYPH * scale + 20;
    let width = img.width().max(text_width(title, scale) + 20);
    let mut out = RgbImage::from_pixel(width, img.height() + band, PAGE);
    image::imageops::replace(
        &mut out,
        img,
        ((width - img.width()) / 2) as i64,
        band as i64,
    );
    draw_text_centred(&mut out, width as i64 / 2, 12, title, scale, TEXT);
    out
}
