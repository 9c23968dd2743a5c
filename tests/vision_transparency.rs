//! Pictures with transparency (issue 20): semi-transparent ink on paper is composited over the
//! picture's own paper colour, and pictures whose only ink is in the alpha channel still read.

mod common;

use digits::vision::preprocess::{self, PIXELS, SIDE};
use digits::vision::synth;
use image::{DynamicImage, GrayAlphaImage, ImageFormat, LumaA, Rgb, RgbImage, Rgba, RgbaImage};
use std::io::Cursor;

/// Digits drawn here; each must read right when drawn opaque, so that a wrong answer below is
/// the transparency's doing.
const DIGITS: [u8; 5] = [2, 3, 4, 5, 7];

/// Ink coverage (0 paper .. 1 ink) of `digit` drawn with the synthesised handwriting's strokes
/// in a 28x28 picture, as someone drawing at MNIST's size would.
fn coverage(digit: u8) -> Vec<f32> {
    let mut img = RgbImage::from_pixel(SIDE as u32, SIDE as u32, Rgb([255; 3]));
    let (side, width) = (20.0, 13.0);
    let (ox, oy) = ((SIDE as f32 - width) / 2.0, (SIDE as f32 - side) / 2.0);
    for s in synth::strokes(digit) {
        let pts: Vec<(f64, f64)> = s
            .iter()
            .map(|&(x, y)| ((ox + x * width) as f64, (oy + y * side) as f64))
            .collect();
        for seg in pts.windows(2) {
            digits::vision::canvas::line(&mut img, seg[0], seg[1], 3.0, Rgb([0; 3]));
        }
    }
    img.pixels().map(|p| 1.0 - p.0[0] as f32 / 255.0).collect()
}

/// The alphas, between 175 and 255, lower at the border than in the middle: falling
/// smoothly from the middle to the corners, or a frame 4 pixels wide at 175.
const ALPHAS: [fn(usize) -> u8; 2] = [radial_alpha, frame_alpha];

fn radial_alpha(i: usize) -> u8 {
    let (x, y) = ((i % SIDE) as f32 + 0.5, (i / SIDE) as f32 + 0.5);
    let c = SIDE as f32 / 2.0;
    let r = ((x - c).powi(2) + (y - c).powi(2)).sqrt() / (c * 2f32.sqrt());
    (255.0 - 80.0 * r).round() as u8
}

fn frame_alpha(i: usize) -> u8 {
    let (x, y) = (i % SIDE, i / SIDE);
    let edge = x.min(y).min(SIDE - 1 - x).min(SIDE - 1 - y);
    if edge < 4 {
        175
    } else {
        255
    }
}

fn png(img: DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

fn rgba(pixel: impl Fn(usize) -> [u8; 4]) -> Vec<u8> {
    png(DynamicImage::ImageRgba8(RgbaImage::from_fn(
        SIDE as u32,
        SIDE as u32,
        |x, y| Rgba(pixel(y as usize * SIDE + x as usize)),
    )))
}

fn gray_alpha(pixel: impl Fn(usize) -> [u8; 2]) -> Vec<u8> {
    png(DynamicImage::ImageLumaA8(GrayAlphaImage::from_fn(
        SIDE as u32,
        SIDE as u32,
        |x, y| LumaA(pixel(y as usize * SIDE + x as usize)),
    )))
}

/// Black ink on white paper, opaque: what the transparent pictures must read like.
fn opaque(cov: &[f32]) -> Vec<u8> {
    rgba(|i| {
        let v = level(1.0 - cov[i]);
        [v, v, v, 255]
    })
}

fn level(v: f32) -> u8 {
    (v * 255.0).round() as u8
}

fn digit_of(x: &[f32]) -> usize {
    let m = digits::default_model::load().unwrap();
    digits::nn::argmax(&m.model.predict(x))
}

/// The mean |a - b| over the inputs, with `a` moved by at most a pixel each way to fit `b` best.
fn shifted_diff(a: &[f32], b: &[f32]) -> f32 {
    let at = |v: &[f32], r: i32, c: i32| {
        let inside = (0..SIDE as i32).contains(&r) && (0..SIDE as i32).contains(&c);
        if inside {
            v[r as usize * SIDE + c as usize]
        } else {
            0.0
        }
    };
    let mut best = f32::INFINITY;
    for (dr, dc) in (-1..=1).flat_map(|dr| (-1..=1).map(move |dc| (dr, dc))) {
        let mut sum = 0.0;
        for r in 0..SIDE as i32 {
            for c in 0..SIDE as i32 {
                sum += (at(a, r + dr, c + dc) - at(b, r, c)).abs();
            }
        }
        best = best.min(sum / PIXELS as f32);
    }
    best
}

/// Inputs the network sees as ink (above a tenth).
fn inked(x: &[f32]) -> usize {
    x.iter().filter(|&&v| v > 0.1).count()
}

/// `picture` must read as `digit` and come out as the opaque drawing does: the paper clean (no
/// ink where the opaque drawing has none, no more inked inputs), nearly the same strokes.
fn assert_reads_like_opaque(picture: &[u8], cov: &[f32], digit: u8, what: &str) {
    let reference = preprocess::from_bytes(&opaque(cov)).unwrap();
    assert_eq!(
        digit_of(&reference),
        digit as usize,
        "{what}: opaque drawing"
    );
    // Before any framing: the paper (no ink drawn there) has no ink.
    let ink = preprocess::ink_from_bytes(picture).unwrap();
    assert_eq!((ink.w, ink.h), (SIDE, SIDE));
    let on_paper = (0..PIXELS)
        .filter(|&i| cov[i] == 0.0)
        .map(|i| ink.px[i])
        .fold(0.0, f32::max);
    assert!(on_paper < 0.1, "{what}: ink {on_paper} on the paper");
    let x = preprocess::from_bytes(picture).unwrap();
    assert_eq!(x.len(), PIXELS);
    assert_eq!(digit_of(&x), digit as usize, "{what}");
    assert!(
        inked(&x) <= inked(&reference) + 10,
        "{what}: {} inked inputs, the opaque drawing {}",
        inked(&x),
        inked(&reference)
    );
    // Semi-transparent ink is lighter where the alpha is lower, which may move the centre of
    // mass, and so the framed digit, by a pixel. (Composited over black, 0.005 to 0.011.)
    let d = shifted_diff(&x, &reference);
    assert!(d < 0.0075, "{what}: differs from the opaque drawing by {d}");
}

#[test]
fn semi_transparent_black_on_white_reads_with_a_clean_background() {
    for (k, alpha) in ALPHAS.iter().enumerate() {
        for digit in DIGITS {
            let cov = coverage(digit);
            let picture = rgba(|i| {
                let v = level(1.0 - cov[i]);
                [v, v, v, alpha(i)]
            });
            assert_reads_like_opaque(&picture, &cov, digit, &format!("RGBA {digit}, alpha {k}"));
        }
    }
}

#[test]
fn semi_transparent_grey_and_alpha_reads_with_a_clean_background() {
    for (k, alpha) in ALPHAS.iter().enumerate() {
        for digit in DIGITS {
            let cov = coverage(digit);
            let picture = gray_alpha(|i| [level(1.0 - cov[i]), alpha(i)]);
            assert_reads_like_opaque(&picture, &cov, digit, &format!("LA {digit}, alpha {k}"));
        }
    }
}

#[test]
fn ink_only_in_the_alpha_channel_still_reads() {
    for digit in DIGITS {
        let cov = coverage(digit);
        // Every pixel one colour, only the alpha varying: dark blue ink, white ink.
        for rgb in [[20u8, 20, 120], [255; 3]] {
            let picture = rgba(|i| [rgb[0], rgb[1], rgb[2], level(cov[i])]);
            assert_reads_like_opaque(&picture, &cov, digit, &format!("alpha {rgb:?} {digit}"));
        }
        let picture = gray_alpha(|i| [60, level(cov[i])]);
        assert_reads_like_opaque(&picture, &cov, digit, &format!("LA alpha {digit}"));
    }
}
