//! A gallery of pictures of numbers, each shrunk into a tile with a caption above it (the
//! misread numbers of `digits eval --numbers`).

use super::grid::Caption;
use super::style::{PAGE, TEXT, WRONG};
use crate::vision::canvas::stroke_rect;
use crate::vision::font::{draw_text_centred, text_width, GLYPH};
use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};

/// The box each picture is shrunk (or grown) into, keeping its shape.
const TILE_W: u32 = 240;
const TILE_H: u32 = 80;
const GAP: u32 = 12;
const FRAME: u32 = 2;
/// Tiles a row at most.
const COLUMNS: usize = 4;

/// The pictures in rows of at most four, `captions[i]` above picture `i` (a wrong one red
/// and framed red). Fewer captions than pictures leave the rest bare.
pub fn number_gallery(pictures: &[DynamicImage], captions: &[Caption]) -> RgbImage {
    let cols = pictures.len().clamp(1, COLUMNS) as u32;
    let rows = pictures.len().div_ceil(COLUMNS).max(1) as u32;
    let lines = captions
        .iter()
        .map(|c| c.text.lines().count() as u32)
        .max()
        .unwrap_or(0);
    let widest = captions
        .iter()
        .flat_map(|c| c.text.lines())
        .map(|l| text_width(l, 1))
        .max()
        .unwrap_or(0);
    let band = lines * (GLYPH + 3) + 4;
    let cell_w = (TILE_W + 2 * FRAME).max(widest);
    let cell_h = band + TILE_H + 2 * FRAME;
    let width = cols * cell_w + (cols + 1) * GAP;
    let height = rows * cell_h + (rows + 1) * GAP;
    let mut img = RgbImage::from_pixel(width, height, PAGE);
    for (i, picture) in pictures.iter().enumerate() {
        let (c, r) = (i as u32 % cols, i as u32 / cols);
        let (x, y) = (GAP + c * (cell_w + GAP), GAP + r * (cell_h + GAP));
        let tile = fit(picture);
        let tx = x + (cell_w - tile.width()) / 2;
        let ty = y + band + FRAME + (TILE_H - tile.height()) / 2;
        image::imageops::replace(&mut img, &tile, tx as i64, ty as i64);
        let Some(caption) = captions.get(i) else {
            continue;
        };
        let color = if caption.wrong { WRONG } else { TEXT };
        if caption.wrong {
            stroke_rect(
                &mut img,
                tx as i64 - FRAME as i64,
                ty as i64 - FRAME as i64,
                tile.width() + 2 * FRAME,
                tile.height() + 2 * FRAME,
                FRAME,
                WRONG,
            );
        }
        for (k, line) in caption.text.lines().enumerate() {
            let ly = (y + 2 + k as u32 * (GLYPH + 3)) as i64;
            draw_text_centred(&mut img, (x + cell_w / 2) as i64, ly, line, 1, color);
        }
    }
    img
}

/// `picture` scaled to fit TILE_W x TILE_H, its shape kept (at least one pixel each way).
fn fit(picture: &DynamicImage) -> RgbImage {
    let (w, h) = (
        picture.width().max(1) as f64,
        picture.height().max(1) as f64,
    );
    let scale = (TILE_W as f64 / w).min(TILE_H as f64 / h);
    let nw = ((w * scale).round() as u32).clamp(1, TILE_W);
    let nh = ((h * scale).round() as u32).clamp(1, TILE_H);
    picture.resize_exact(nw, nh, FilterType::Triangle).to_rgb8()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_pictures_fit_their_tiles_and_wrong_ones_are_framed_red() {
        let wide = DynamicImage::ImageRgb8(RgbImage::from_pixel(600, 100, image::Rgb([0; 3])));
        let caption = Caption {
            text: "label 12\nread 13".into(),
            wrong: true,
        };
        let img = number_gallery(&[wide.clone(), wide], &[caption]);
        assert_eq!(img.width(), 2 * (TILE_W + 2 * FRAME) + 3 * GAP);
        // Some red of the frame and caption, and the black pictures.
        assert!(img.pixels().any(|p| *p == WRONG));
        assert!(img.pixels().filter(|p| p.0 == [0, 0, 0]).count() >= 2 * 240 * 40);
        assert_eq!(
            number_gallery(&[], &[]).width(),
            TILE_W + 2 * FRAME + 2 * GAP
        );
    }
}
