//! Numbers photographed turned further than a shear levels them (`vision::line::turn`): the
//! built-in reader turns them level and boxes their digits where they lie in the picture.

mod common;

use common::numbers::mnist_numbers;
use digits::vision::reading::{NumberReader, Reading, SegmentReader};
use image::{GrayImage, Luma};

/// `img` turned `degrees` counterclockwise about its centre, grown to hold all of it, on paper
/// of its median level; and that level.
fn turned(img: &GrayImage, degrees: f32) -> (GrayImage, u8) {
    let mut levels: Vec<u8> = img.pixels().map(|p| p.0[0]).collect();
    levels.sort_unstable();
    let paper = levels[levels.len() / 2];
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (tw, th) = (w * cos.abs() + h * sin.abs(), w * sin.abs() + h * cos.abs());
    let mut out = GrayImage::from_pixel(tw.ceil() as u32, th.ceil() as u32, Luma([paper]));
    for (x, y, p) in out.enumerate_pixels_mut() {
        let (dx, dy) = (x as f32 + 0.5 - tw / 2.0, y as f32 + 0.5 - th / 2.0);
        let (sx, sy) = (dx * cos - dy * sin + w / 2.0, dx * sin + dy * cos + h / 2.0);
        if sx >= 0.0 && sy >= 0.0 && sx < w && sy < h {
            *p = *img.get_pixel(sx as u32, sy as u32);
        }
    }
    (out, paper)
}

/// Each digit's box in `reading` of `picture` (paper of level `paper`, ink of either
/// polarity) lies in the picture and holds ink.
fn assert_boxes_hold_ink(reading: &Reading, picture: &GrayImage, paper: u8, degrees: f32) {
    for d in &reading.digits {
        let [x, y, w, h] = d.bbox;
        assert!(
            x + w <= picture.width() && y + h <= picture.height(),
            "{:?}",
            d.bbox
        );
        let dark = (y..y + h)
            .flat_map(|r| (x..x + w).map(move |c| (c, r)))
            .filter(|&(c, r)| picture.get_pixel(c, r).0[0].abs_diff(paper) > 100)
            .count();
        let text = &reading.text;
        assert!(dark >= 10, "{text} at {degrees}: {:?} holds {dark}", d.bbox);
    }
}

#[test]
fn numbers_turned_up_to_35_degrees_are_read_and_boxed_where_they_lie() {
    let Some((_, test)) = common::mnist() else {
        return;
    };
    let reader = digits::default_reader::reader().unwrap();
    // 60 numbers of 2 to 5 MNIST test digits. Upright 59 were read right when this was written;
    // turned 25, -25, 30, -30, 35 and -35 degrees, 56, 58, 57, 57, 58 and 56 (by shears
    // alone, before turns were tried: 48, 46, 33, 27, 24 and 8).
    let pictures = mnist_numbers(&test, 60, 23);
    for degrees in [0.0, 25.0, -25.0, 30.0, -30.0, 35.0, -35.0] {
        let mut right = 0;
        for (png, label) in &pictures {
            let (picture, paper) =
                turned(&image::load_from_memory(png).unwrap().to_luma8(), degrees);
            let reading = reader
                .read_image(&image::DynamicImage::ImageLuma8(picture.clone()))
                .unwrap();
            if reading.text != *label {
                continue;
            }
            right += 1;
            assert_boxes_hold_ink(&reading, &picture, paper, degrees);
        }
        assert!(right >= 50, "{degrees} degrees: {right} of 60 read right");
    }
}

/// The pictures `top` and `bottom` (dark on light) one above the other, `bottom` shifted right
/// by `shift`, with a gap of a third of the taller's height, on paper of level 235: each
/// picture's own paper (its median level) brought to 235, the darker of the two kept.
fn page(top: &GrayImage, bottom: &GrayImage, shift: u32) -> GrayImage {
    let on_paper = |img: &GrayImage| {
        let mut levels: Vec<u8> = img.pixels().map(|p| p.0[0]).collect();
        levels.sort_unstable();
        let paper = levels[levels.len() / 2].max(1) as f32;
        let mut out = img.clone();
        for p in out.pixels_mut() {
            p.0[0] = (p.0[0] as f32 * 235.0 / paper).min(255.0) as u8;
        }
        out
    };
    let (top, bottom) = (on_paper(top), on_paper(bottom));
    let gap = top.height().max(bottom.height()) / 3;
    let w = top.width().max(bottom.width() + shift);
    let mut out = GrayImage::from_pixel(w, top.height() + gap + bottom.height(), Luma([235]));
    for (img, (x0, y0)) in [(&top, (0, 0)), (&bottom, (shift, top.height() + gap))] {
        for (x, y, p) in img.enumerate_pixels() {
            let at = out.get_pixel_mut(x0 + x, y0 + y);
            at.0[0] = at.0[0].min(p.0[0]);
        }
    }
    out
}

#[test]
fn pages_of_two_numbers_turned_are_read_number_by_number() {
    let Some((_, test)) = common::mnist() else {
        return;
    };
    let reader = digits::default_reader::reader().unwrap();
    // 24 pages of two numbers of 2 to 5 MNIST test digits, dark on light (the odd ones).
    let drawn = mnist_numbers(&test, 96, 29);
    let light: Vec<_> = drawn.iter().skip(1).step_by(2).collect();
    let pages: Vec<(GrayImage, [&str; 2])> = light
        .chunks(2)
        .enumerate()
        .map(|(k, pair)| {
            let img = |png: &[u8]| image::load_from_memory(png).unwrap().to_luma8();
            let shift = (k as u32 % 4) * 15;
            let picture = page(&img(&pair[0].0), &img(&pair[1].0), shift);
            (picture, [pair[0].1.as_str(), pair[1].1.as_str()])
        })
        .collect();
    // Both numbers read right, each on its own, when this was written: upright 22; turned 20,
    // 30, -30, 35 and -35 degrees, 21, 21, 19, 19 and 17 (before lines were parted turned:
    // 21, 14, 18, 10 and 12).
    for (degrees, least) in [
        (0.0, 20),
        (20.0, 19),
        (30.0, 17),
        (-30.0, 17),
        (35.0, 15),
        (-35.0, 15),
    ] {
        let mut right = 0;
        for (picture, labels) in &pages {
            let (picture, paper) = turned(picture, degrees);
            let read = reader
                .read_numbers_as(&image::DynamicImage::ImageLuma8(picture.clone()), None)
                .unwrap();
            let texts: Vec<&str> = read.numbers.iter().map(|r| r.text.as_str()).collect();
            if texts == labels {
                right += 1;
                for reading in &read.numbers {
                    assert_boxes_hold_ink(reading, &picture, paper, degrees);
                }
            }
        }
        assert!(
            right >= least,
            "{degrees} degrees: {right} of 24 pages read right"
        );
    }
}

#[test]
fn the_cutting_reader_cuts_turned_numbers_once_levelled() {
    let Some((_, test)) = common::mnist() else {
        return;
    };
    let digit_model = digits::default_model::load().unwrap();
    let cutting = SegmentReader {
        raw: digit_model.meta.scale == digits::data::PixelScale::Raw,
        model: digit_model.model,
    };
    // The 60 numbers above. Right when this was written: 59 upright, 57 and 55 turned 30 and
    // -30 degrees (cut as they lay: 38 and 33).
    let pictures = mnist_numbers(&test, 60, 23);
    for (degrees, least) in [(0.0, 56), (30.0, 50), (-30.0, 50)] {
        let mut count = 0;
        for (png, label) in &pictures {
            let (picture, paper) =
                turned(&image::load_from_memory(png).unwrap().to_luma8(), degrees);
            let reading = cutting
                .read_image(&image::DynamicImage::ImageLuma8(picture.clone()))
                .unwrap();
            if reading.text == *label {
                count += 1;
                assert_boxes_hold_ink(&reading, &picture, paper, degrees);
            }
        }
        assert!(count >= least, "{degrees} degrees: {count} of 60 cut right");
    }
}
