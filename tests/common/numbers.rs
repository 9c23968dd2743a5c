//! Pictures of numbers composed of digit glyphs (MNIST test digits, synthesised handwriting),
//! for the tests that read whole numbers.

use digits::data::{Dataset, PixelScale};
use image::{DynamicImage, GrayImage, ImageFormat, Luma};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Cursor;

/// Ink coverage pictures (0..1, ink = 1) of the digits of one number, to be composed.
pub type Glyph = (Vec<f32>, usize, usize);

/// The gaps between `n` digits `height` pixels tall, as people leave them: 15% touching
/// lightly (-1), the others 1 pixel to two fifths of the height.
pub fn gaps(n: usize, height: usize, rng: &mut impl Rng) -> Vec<i32> {
    (0..n.saturating_sub(1))
        .map(|_| {
            if rng.gen_bool(0.15) {
                -1 // touching lightly
            } else {
                rng.gen_range(1..=(height as i32 * 2 / 5).max(2))
            }
        })
        .collect()
}

/// An MNIST test digit cropped to its ink and scaled by `scale`.
pub fn mnist_glyph(test: &digits::data::Dataset, i: usize, scale: f32) -> Glyph {
    glyph_of(&test.batch_x(&[i], PixelScale::Unit), scale)
}

/// A 28x28 digit (ink levels in 0..1, row-major) cropped to its ink and scaled by `scale`.
pub fn glyph_of(x: &[f32], scale: f32) -> Glyph {
    let (mut x0, mut y0, mut x1, mut y1) = (28, 28, 0, 0);
    for (k, &v) in x.iter().enumerate() {
        if v > 0.1 {
            let (c, r) = (k % 28, k / 28);
            x0 = x0.min(c);
            y0 = y0.min(r);
            x1 = x1.max(c + 1);
            y1 = y1.max(r + 1);
        }
    }
    let crop = GrayImage::from_fn((x1 - x0) as u32, (y1 - y0) as u32, |c, r| {
        Luma([(x[(r as usize + y0) * 28 + c as usize + x0] * 255.0) as u8])
    });
    let (w, h) = (
        ((crop.width() as f32 * scale) as u32).max(1),
        ((crop.height() as f32 * scale) as u32).max(1),
    );
    let big = image::imageops::resize(&crop, w, h, image::imageops::FilterType::Triangle);
    let px = big.pixels().map(|p| p.0[0] as f32 / 255.0).collect();
    (px, w as usize, h as usize)
}

/// The glyphs side by side (gaps from `gaps`, may be negative: touching), jittered up and down,
/// on textured paper, dark on light or light on dark. Returns PNG bytes.
pub fn compose(glyphs: &[Glyph], gaps: &[i32], dark_on_light: bool, rng: &mut impl Rng) -> Vec<u8> {
    let tallest = glyphs.iter().map(|g| g.2).max().unwrap();
    let margin = tallest / 2 + 4;
    let width: i32 = glyphs.iter().map(|g| g.1 as i32).sum::<i32>() + gaps.iter().sum::<i32>();
    let (w, h) = ((width.max(1) as usize) + 2 * margin, tallest + 2 * margin);
    let mut ink = vec![0.0f32; w * h];
    let mut x = margin as i32;
    for (k, (px, gw, gh)) in glyphs.iter().enumerate() {
        let jitter = rng.gen_range(-(tallest as i32) / 10..=(tallest as i32) / 10);
        let y = (margin + (tallest - gh) / 2) as i32 + jitter;
        for r in 0..*gh {
            for c in 0..*gw {
                let (px_x, px_y) = (x + c as i32, y + r as i32);
                if px_x >= 0 && px_y >= 0 && (px_x as usize) < w && (px_y as usize) < h {
                    let i = px_y as usize * w + px_x as usize;
                    ink[i] = ink[i].max(px[r * gw + c]);
                }
            }
        }
        x += *gw as i32 + gaps.get(k).copied().unwrap_or(0);
    }
    let paper = rng.gen_range(190.0..250.0f32);
    let pen = rng.gen_range(10.0..70.0f32);
    let img = GrayImage::from_fn(w as u32, h as u32, |c, r| {
        let v = ink[r as usize * w + c as usize];
        let grain = rng.gen_range(-10.0..10.0f32);
        let level = paper + (pen - paper) * v + grain;
        let level = if dark_on_light { level } else { 255.0 - level };
        Luma([level.clamp(0.0, 255.0) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageLuma8(img)
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// One composed number: its picture and what it was made of.
pub struct MnistNumber {
    /// PNG bytes.
    pub png: Vec<u8>,
    /// Its digits.
    pub label: String,
    /// The MNIST test digits drawn, in order.
    pub digits: Vec<usize>,
    /// How many times each digit was scaled.
    pub scale: f32,
    pub dark_on_light: bool,
}

/// `count` pictures of numbers of 2 to 5 MNIST test digits (PNG bytes, the digits), scaled 1.5
/// to 3.5 times, with uneven gaps, on paper of either polarity.
pub fn mnist_numbers(test: &Dataset, count: usize, seed: u64) -> Vec<(Vec<u8>, String)> {
    mnist_numbers_drawn(test, count, seed)
        .into_iter()
        .map(|n| (n.png, n.label))
        .collect()
}

/// [`mnist_numbers`] with what each was made of (the same pictures for the same seed).
pub fn mnist_numbers_drawn(test: &Dataset, count: usize, seed: u64) -> Vec<MnistNumber> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|k| {
            let n = rng.gen_range(2..=5);
            let digits: Vec<usize> = (0..n).map(|_| rng.gen_range(0..test.len())).collect();
            let scale = rng.gen_range(1.5..3.5f32);
            let glyphs: Vec<Glyph> = digits
                .iter()
                .map(|&i| mnist_glyph(test, i, scale))
                .collect();
            let g = gaps(n, (20.0 * scale) as usize, &mut rng);
            let dark_on_light = k % 2 == 1;
            MnistNumber {
                png: compose(&glyphs, &g, dark_on_light, &mut rng),
                label: digits.iter().map(|&i| test.labels[i].to_string()).collect(),
                digits,
                scale,
                dark_on_light,
            }
        })
        .collect()
}
