//! Whole numbers: pictures of numbers composed from MNIST test digits and from the synthesised
//! handwriting (`vision::synth`), with uneven gaps (some digits touching), jitter, paper texture
//! and both polarities, read by `vision::segment` with the built-in model. At least 90% of the
//! numbers must be read exactly.

mod common;

use digits::data::{mnist, PixelScale};
use digits::vision::preprocess;
use digits::vision::segment::read_digits;
use digits::vision::synth;
use image::{DynamicImage, GrayImage, ImageFormat, Luma, Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Cursor;
use std::time::Instant;

/// Ink coverage pictures (0..1, ink = 1) of the digits of one number, to be composed.
type Glyph = (Vec<f32>, usize, usize);

/// An MNIST test digit cropped to its ink and scaled by `scale`.
fn mnist_glyph(test: &digits::data::Dataset, i: usize, scale: f32) -> Glyph {
    let x = test.batch_x(&[i], PixelScale::Unit);
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

/// A synthesised digit: its pen strokes with a random slant, width and size.
fn synth_glyph(digit: u8, height: f32, rng: &mut impl Rng) -> Glyph {
    let h = height * rng.gen_range(0.85..1.1);
    let w = h * rng.gen_range(0.55..0.75);
    let pen = (h * rng.gen_range(0.07..0.13)) as f64;
    let slant = rng.gen_range(-0.25..0.25f32);
    let m = pen as f32 + 2.0;
    let (cw, ch) = ((w + h * 0.3 + 2.0 * m) as u32, (h + 2.0 * m) as u32);
    let mut img = RgbImage::new(cw, ch);
    for s in synth::strokes(digit) {
        let pts: Vec<(f64, f64)> = s
            .iter()
            .map(|&(x, y)| {
                let x = x + slant * (0.5 - y);
                ((m + h * 0.15 + x * w) as f64, (m + y * h) as f64)
            })
            .collect();
        for seg in pts.windows(2) {
            digits::vision::canvas::line(&mut img, seg[0], seg[1], pen, Rgb([255; 3]));
        }
    }
    let px = img.pixels().map(|p| p.0[0] as f32 / 255.0).collect();
    (px, cw as usize, ch as usize)
}

/// The glyphs side by side (gaps from `gaps`, may be negative: touching), jittered up and down,
/// on textured paper, dark on light or light on dark. Returns PNG bytes.
fn compose(glyphs: &[Glyph], gaps: &[i32], dark_on_light: bool, rng: &mut impl Rng) -> Vec<u8> {
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

fn gaps(n: usize, height: usize, rng: &mut impl Rng) -> Vec<i32> {
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

/// Reads `pictures` (PNG bytes, expected text); returns the share read exactly, printing misses.
fn score(name: &str, pictures: &[(Vec<u8>, String)]) -> f32 {
    let model = digits::default_model::load().unwrap().model;
    let classify = |x: &[f32]| model.predict_proba(x);
    let start = Instant::now();
    let mut exact = 0;
    for (k, (png, want)) in pictures.iter().enumerate() {
        let ink = preprocess::ink_from_bytes(png).unwrap();
        let got: String = read_digits(&ink, &classify)
            .iter()
            .map(|d| d.digit.to_string())
            .collect();
        if &got == want {
            exact += 1;
        } else {
            println!("{name} {k}: read {got:?}, want {want:?}");
        }
    }
    let per = start.elapsed().as_secs_f64() * 1e3 / pictures.len() as f64;
    let share = exact as f32 / pictures.len() as f32;
    println!(
        "{name}: {exact} of {} numbers read exactly ({share:.3}); {per:.1} ms per picture",
        pictures.len()
    );
    share
}

#[test]
fn numbers_of_synthesised_handwriting_are_read() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let pictures: Vec<(Vec<u8>, String)> = (0..60)
        .map(|k| {
            let n = rng.gen_range(2..=6);
            let digits: Vec<u8> = (0..n).map(|_| rng.gen_range(0..10)).collect();
            let height = rng.gen_range(30.0..90.0f32);
            let glyphs: Vec<Glyph> = digits
                .iter()
                .map(|&d| synth_glyph(d, height, &mut rng))
                .collect();
            let g = gaps(n, height as usize, &mut rng);
            let png = compose(&glyphs, &g, k % 2 == 0, &mut rng);
            (png, digits.iter().map(|d| d.to_string()).collect())
        })
        .collect();
    let share = score("synthesised", &pictures);
    assert!(share >= 0.9, "{share}");
}

#[test]
fn numbers_of_mnist_test_digits_are_read() {
    let dir = common::mnist_dir();
    let Ok((_, test)) = mnist::load_dir(&dir) else {
        eprintln!("SKIPPED: no MNIST at {}", dir.display());
        return;
    };
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let pictures: Vec<(Vec<u8>, String)> = (0..60)
        .map(|k| {
            let n = rng.gen_range(2..=5);
            let idx: Vec<usize> = (0..n).map(|_| rng.gen_range(0..test.len())).collect();
            let scale = rng.gen_range(1.5..3.5f32);
            let glyphs: Vec<Glyph> = idx.iter().map(|&i| mnist_glyph(&test, i, scale)).collect();
            let g = gaps(n, (20.0 * scale) as usize, &mut rng);
            let png = compose(&glyphs, &g, k % 2 == 1, &mut rng);
            (
                png,
                idx.iter().map(|&i| test.labels[i].to_string()).collect(),
            )
        })
        .collect();
    let share = score("MNIST", &pictures);
    assert!(share >= 0.9, "{share}");
}

#[test]
fn a_blank_picture_holds_no_digit() {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(RgbImage::from_pixel(300, 100, Rgb([235; 3])))
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    let e = preprocess::ink_from_bytes(&out.into_inner()).unwrap_err();
    assert!(matches!(e, preprocess::PreprocessError::Blank), "{e:?}");
}
