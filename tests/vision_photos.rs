//! Photos as people take them: shadows and uneven light, ruled and squared paper, thin pen lines
//! on big pictures, JPEG noise, a digit off centre, tiny pictures. Each is drawn here from the
//! synthesised handwriting (`vision::synth`) and must read like the same digit drawn cleanly.

mod common;

use digits::data::PixelScale;
use digits::vision::preprocess::{self, stroke};
use digits::vision::synth;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::io::Cursor;

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img.clone())
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

fn mean_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(p, q)| (p - q).abs()).sum::<f32>() / a.len() as f32
}

/// A clean picture of `digit`: dark strokes of `pen` pixels on white, in a w x h picture.
fn clean(digit: u8, w: u32, h: u32, pen: f32) -> RgbImage {
    let mut img = RgbImage::from_pixel(w, h, Rgb([255; 3]));
    let side = h as f32 * 0.7;
    let (bw, ox, oy) = (side * 0.65, (w as f32 - side * 0.65) / 2.0, h as f32 * 0.15);
    for s in synth::strokes(digit) {
        let pts: Vec<(f64, f64)> = s
            .iter()
            .map(|&(x, y)| ((ox + x * bw) as f64, (oy + y * side) as f64))
            .collect();
        for seg in pts.windows(2) {
            digits::vision::canvas::line(&mut img, seg[0], seg[1], pen as f64, Rgb([20; 3]));
        }
    }
    img
}

fn read(img: &RgbImage) -> Vec<f32> {
    preprocess::from_bytes(&encode(img, ImageFormat::Png)).unwrap()
}

/// The built-in model's digit for 784 inputs.
fn digit_of(x: &[f32]) -> usize {
    let m = digits::default_model::load().unwrap();
    digits::nn::argmax(&m.model.predict(x))
}

#[test]
fn a_shadow_across_the_page_changes_little() {
    for digit in [2u8, 3, 5, 8] {
        let base = clean(digit, 240, 240, 18.0);
        let reference = read(&base);
        // A soft shadow darkening the left half to a third, and light falling off to the right.
        let mut shaded = base.clone();
        for (x, y, p) in shaded.enumerate_pixels_mut() {
            let shadow = if x < 110 {
                0.35
            } else if x < 130 {
                0.35 + 0.65 * (x - 110) as f32 / 20.0
            } else {
                1.0
            };
            let fall = 1.0 - 0.25 * y as f32 / 240.0;
            for c in p.0.iter_mut() {
                *c = (*c as f32 * shadow * fall) as u8;
            }
        }
        let x = read(&shaded);
        let d = mean_diff(&reference, &x);
        assert!(d < 0.1, "{digit} in a shadow: {d}");
        assert_eq!(digit_of(&x), digit_of(&reference), "{digit} in a shadow");
    }
}

#[test]
fn ruled_and_squared_paper_lines_are_not_ink() {
    for digit in [1u8, 4, 7, 9] {
        let base = clean(digit, 300, 300, 20.0);
        let reference = read(&base);
        for squared in [false, true] {
            let mut paper = base.clone();
            for (x, y, p) in paper.enumerate_pixels_mut() {
                let on = (y + 7) % 40 < 2 || (squared && (x + 13) % 40 < 2);
                if on && p.0[0] > 200 {
                    *p = Rgb([120, 140, 200]); // blue-grey lines, under the ink
                }
            }
            let x = read(&paper);
            let d = mean_diff(&reference, &x);
            assert!(d < 0.05, "{digit} squared={squared}: {d}");
        }
    }
}

#[test]
fn a_thin_pen_on_a_big_picture_gets_mnist_strokes() {
    for digit in [0u8, 3, 6, 7] {
        let x = read(&clean(digit, 1000, 1000, 3.0));
        let w = stroke::width(&x, 28, 28).unwrap();
        assert!(
            w > 0.75 * stroke::MNIST_WIDTH && w < 1.5 * stroke::MNIST_WIDTH,
            "{digit}: stroke {w}"
        );
        let bold = read(&clean(digit, 200, 200, 14.0));
        assert_eq!(digit_of(&x), digit_of(&bold), "{digit}");
        assert!(
            mean_diff(&x, &bold) < 0.08,
            "{digit}: {}",
            mean_diff(&x, &bold)
        );
    }
}

#[test]
fn jpeg_noise_off_centre_and_tiny_pictures() {
    for digit in [2u8, 4, 5] {
        let base = clean(digit, 200, 200, 14.0);
        let reference = read(&base);
        // Heavy JPEG compression.
        let jpeg = {
            use image::codecs::jpeg::JpegEncoder;
            let mut out = Vec::new();
            JpegEncoder::new_with_quality(&mut out, 20)
                .encode_image(&base)
                .unwrap();
            preprocess::from_bytes(&out).unwrap()
        };
        let d = mean_diff(&reference, &jpeg);
        assert!(d < 0.12, "{digit} jpeg: {d}");
        assert_eq!(digit_of(&jpeg), digit_of(&reference), "{digit} jpeg");
        // The digit in a corner of a bigger page.
        let mut page = RgbImage::from_pixel(600, 450, Rgb([255; 3]));
        image::imageops::overlay(&mut page, &base, 390, 240);
        let off = read(&page);
        assert!(mean_diff(&reference, &off) < 0.02, "{digit} off centre");
        // 16x16, as scanned digit sets are.
        let tiny = image::imageops::resize(&base, 16, 16, image::imageops::FilterType::Triangle);
        let small = read(&tiny);
        assert!(mean_diff(&reference, &small) < 0.08, "{digit} 16x16");
        assert_eq!(digit_of(&small), digit_of(&reference), "{digit} 16x16");
    }
}

#[test]
fn synthesised_handwriting_reads_as_well_on_bad_paper() {
    // The same 200 synthesised digits, clean and then on shaded, ruled paper.
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (mut clean_ok, mut bad_ok) = (0, 0);
    let n = 200;
    for i in 0..n {
        let digit = (i % 10) as u8;
        let img = synth::render(digit, &mut rng);
        let x = read(&img);
        clean_ok += usize::from(digit_of(&x) == digit as usize);
        let mut bad = img.clone();
        let bright = img.get_pixel(0, 0).0[0] > 128;
        let (w, h) = bad.dimensions();
        for (x, y, p) in bad.enumerate_pixels_mut() {
            let light = 0.6 + 0.4 * (x as f32 / w as f32);
            for c in p.0.iter_mut() {
                *c = (*c as f32 * light) as u8;
            }
            if bright && y % (h / 5).max(4) == 0 && p.0[0] > 100 {
                *p = Rgb([110, 120, 170]);
            }
        }
        bad_ok += usize::from(digit_of(&read(&bad)) == digit as usize);
    }
    let (c, b) = (clean_ok as f32 / n as f32, bad_ok as f32 / n as f32);
    println!("synthesised handwriting: clean {c:.3}, shaded and ruled {b:.3}");
    assert!(c >= 0.95 && b >= 0.8, "clean {c}, on bad paper {b}");
}

#[test]
fn mnist_stroke_width() {
    let Some((train, _)) = common::mnist() else {
        return;
    };
    let mut widths: Vec<f32> = (0..train.len())
        .filter_map(|i| {
            let x = train.batch_x(&[i], PixelScale::Unit);
            stroke::width(&x, 28, 28)
        })
        .collect();
    let mid = widths.len() / 2;
    let median = *widths.select_nth_unstable_by(mid, f32::total_cmp).1;
    println!("MNIST median stroke width {median}");
    assert!((median - stroke::MNIST_WIDTH).abs() < 0.02, "{median}");
}
