//! Text from the font8x8 bitmap glyphs (ASCII; anything else is drawn as '?').

use font8x8::legacy::BASIC_LEGACY;
use image::{Rgb, RgbImage};

/// Glyph cell side at scale 1, in pixels.
pub const GLYPH: u32 = 8;

fn glyph(c: char) -> [u8; 8] {
    let i = c as usize;
    if i < 128 && (i >= 32 || i == 0) {
        BASIC_LEGACY[i]
    } else {
        BASIC_LEGACY['?' as usize]
    }
}

/// Width of `s` in pixels at `scale`.
pub fn text_width(s: &str, scale: u32) -> u32 {
    s.chars().count() as u32 * GLYPH * scale
}

/// Draws `s` with its top-left corner at (x, y), each glyph pixel a `scale` x `scale` block.
pub fn draw_text(img: &mut RgbImage, x: i64, y: i64, s: &str, scale: u32, color: Rgb<u8>) {
    let step = (GLYPH * scale) as i64;
    for (k, c) in s.chars().enumerate() {
        let rows = glyph(c);
        for (gy, bits) in rows.iter().enumerate() {
            for gx in 0..8 {
                // Bit 0 is the leftmost pixel of the row.
                if bits >> gx & 1 == 1 {
                    let px = x + k as i64 * step + gx as i64 * scale as i64;
                    let py = y + gy as i64 * scale as i64;
                    super::canvas::fill_rect(img, px, py, scale, scale, color);
                }
            }
        }
    }
}

/// Draws `s` centred horizontally on `cx`, top at `y`.
pub fn draw_text_centred(img: &mut RgbImage, cx: i64, y: i64, s: &str, scale: u32, color: Rgb<u8>) {
    let x = cx - text_width(s, scale) as i64 / 2;
    draw_text(img, x, y, s, scale, color);
}

/// Draws `s` turned a quarter left (read bottom to top), centred vertically on `cy`,
/// its left edge at `x`.
pub fn draw_text_up(img: &mut RgbImage, x: i64, cy: i64, s: &str, scale: u32, color: Rgb<u8>) {
    let sc = scale as i64;
    let bottom = cy + text_width(s, scale) as i64 / 2;
    for (k, c) in s.chars().enumerate() {
        for (gy, bits) in glyph(c).iter().enumerate() {
            for gx in 0..8i64 {
                if bits >> gx & 1 == 1 {
                    // Glyph column gx goes up the page, glyph row gy goes right.
                    let px = x + gy as i64 * sc;
                    let py = bottom - (k as i64 * 8 + gx + 1) * sc;
                    super::canvas::fill_rect(img, px, py, scale, scale, color);
                }
            }
        }
    }
}
