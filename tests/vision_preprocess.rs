//! Preprocessing of synthetic digit drawings: geometry of the output, polarity, formats,
//! transparency, and every refusal.

mod common;
use digits::vision::preprocess::{self, PreprocessError, PIXELS, SIDE};
use image::{DynamicImage, GrayImage, ImageFormat, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use std::io::Cursor;
use std::time::Instant;

/// Strokes of a digit in unit coordinates: segments and ellipse rings.
enum Stroke {
    Line((f32, f32), (f32, f32)),
    Ring((f32, f32), (f32, f32)),
}

fn shape(digit: u8) -> Vec<Stroke> {
    use Stroke::*;
    match digit {
        1 => vec![
            Line((0.35, 0.25), (0.55, 0.1)),
            Line((0.55, 0.1), (0.55, 0.9)),
        ],
        7 => vec![
            Line((0.2, 0.12), (0.8, 0.12)),
            Line((0.8, 0.12), (0.4, 0.9)),
        ],
        _ => vec![Ring((0.5, 0.5), (0.28, 0.38))],
    }
}

/// Ink coverage (0..1) of pixel (x, y) in a w x h picture of the digit, margins included.
fn coverage(digit: u8, x: u32, y: u32, w: u32, h: u32) -> f32 {
    let s = w.min(h) as f32;
    let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
    // Map the unit square to the central square of the picture.
    let (ox, oy) = ((w as f32 - s) / 2.0, (h as f32 - s) / 2.0);
    let half = 0.05 * s; // stroke half-width
    let mut d = f32::INFINITY;
    for st in shape(digit) {
        let dist = match st {
            Stroke::Line(a, b) => {
                let (ax, ay) = (ox + a.0 * s, oy + a.1 * s);
                let (bx, by) = (ox + b.0 * s, oy + b.1 * s);
                let (vx, vy) = (bx - ax, by - ay);
                let t = (((px - ax) * vx + (py - ay) * vy) / (vx * vx + vy * vy)).clamp(0.0, 1.0);
                ((px - ax - t * vx).powi(2) + (py - ay - t * vy).powi(2)).sqrt()
            }
            Stroke::Ring(c, r) => {
                let (cx, cy) = (ox + c.0 * s, oy + c.1 * s);
                let (rx, ry) = (r.0 * s, r.1 * s);
                let (dx, dy) = ((px - cx) / rx, (py - cy) / ry);
                let k = (dx * dx + dy * dy).sqrt();
                (k - 1.0).abs() * rx.min(ry)
            }
        };
        d = d.min(dist);
    }
    (half + 0.5 - d).clamp(0.0, 1.0) // one pixel of anti-aliasing
}

/// The digit as an RGB picture: `ink` strokes on `paper`.
fn draw(digit: u8, w: u32, h: u32, ink: [u8; 3], paper: [u8; 3]) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let c = coverage(digit, x, y, w, h);
        Rgb(std::array::from_fn(|k| {
            (paper[k] as f32 + c * (ink[k] as f32 - paper[k] as f32)).round() as u8
        }))
    })
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn png(img: RgbImage) -> Vec<u8> {
    encode(&DynamicImage::ImageRgb8(img), ImageFormat::Png)
}

/// Checks the MNIST geometry: values in [0, 1], box fits 20x20 with its long side ~20,
/// centre of mass within a pixel of (14, 14).
fn assert_mnist_like(x: &[f32], what: &str) {
    assert_eq!(x.len(), PIXELS, "{what}");
    assert!(x.iter().all(|v| (0.0..=1.0).contains(v)), "{what}: range");
    let (mut x0, mut y0, mut x1, mut y1) = (SIDE, SIDE, 0, 0);
    let (mut sx, mut sy, mut s) = (0.0, 0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let (c, r) = (i % SIDE, i / SIDE);
        if v > 0.0 {
            x0 = x0.min(c);
            y0 = y0.min(r);
            x1 = x1.max(c + 1);
            y1 = y1.max(r + 1);
        }
        sx += v * (c as f32 + 0.5);
        sy += v * (r as f32 + 0.5);
        s += v;
    }
    let (bw, bh) = (x1 - x0, y1 - y0);
    assert!(bw <= 21 && bh <= 21, "{what}: box {bw}x{bh}");
    assert!(bw.max(bh) >= 19, "{what}: box {bw}x{bh}");
    let (cx, cy) = (sx / s, sy / s);
    assert!(
        (cx - 14.0).abs() <= 1.0 && (cy - 14.0).abs() <= 1.0,
        "{what}: centre of mass ({cx}, {cy})"
    );
    assert!(x.iter().any(|&v| v > 0.99), "{what}: no full ink");
}

fn mean_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(p, q)| (p - q).abs()).sum::<f32>() / a.len() as f32
}

const SIZES: [(u32, u32); 4] = [(50, 80), (300, 200), (28, 28), (120, 120)];

#[test]
fn synthetic_digits_come_out_mnist_shaped() {
    for digit in [1, 7, 0] {
        for (w, h) in SIZES {
            let dark = preprocess::from_bytes(&png(draw(digit, w, h, [0; 3], [255; 3]))).unwrap();
            assert_mnist_like(&dark, &format!("{digit} {w}x{h} dark on light"));
            let light = preprocess::from_bytes(&png(draw(digit, w, h, [255; 3], [0; 3]))).unwrap();
            assert_mnist_like(&light, &format!("{digit} {w}x{h} light on dark"));
            let d = common::max_diff(&dark, &light);
            assert!(d < 0.01, "{digit} {w}x{h}: polarity {d}");
        }
    }
}

#[test]
fn tall_one_keeps_its_aspect_ratio() {
    let x = preprocess::from_bytes(&png(draw(1, 300, 200, [0; 3], [255; 3]))).unwrap();
    let cols: Vec<usize> = (0..SIDE)
        .filter(|&c| (0..SIDE).any(|r| x[r * SIDE + c] > 0.0))
        .collect();
    let rows = (0..SIDE)
        .filter(|&r| (0..SIDE).any(|c| x[r * SIDE + c] > 0.0))
        .count();
    assert!(rows >= 19, "rows {rows}");
    assert!(
        cols.len() <= 12,
        "a '1' should stay narrow: {} columns",
        cols.len()
    );
}

#[test]
fn colours_and_jpeg_give_nearly_the_same_digit() {
    for digit in [1, 7, 0] {
        let reference =
            preprocess::from_bytes(&png(draw(digit, 200, 200, [0; 3], [255; 3]))).unwrap();
        // Blue ballpoint on cream paper, and yellow chalk on a green board.
        let blue =
            preprocess::from_bytes(&png(draw(digit, 200, 200, [20, 40, 160], [245, 235, 200])))
                .unwrap();
        assert_mnist_like(&blue, "blue on cream");
        assert!(
            mean_diff(&reference, &blue) < 0.03,
            "blue {}",
            mean_diff(&reference, &blue)
        );
        let chalk =
            preprocess::from_bytes(&png(draw(digit, 200, 200, [250, 240, 120], [30, 70, 40])))
                .unwrap();
        assert_mnist_like(&chalk, "chalk");
        assert!(
            mean_diff(&reference, &chalk) < 0.03,
            "chalk {}",
            mean_diff(&reference, &chalk)
        );
        let img = DynamicImage::ImageRgb8(draw(digit, 150, 240, [10; 3], [230; 3]));
        let jpeg = preprocess::from_bytes(&encode(&img, ImageFormat::Jpeg)).unwrap();
        assert_mnist_like(&jpeg, "jpeg");
        let lossless = preprocess::from_bytes(&encode(&img, ImageFormat::Png)).unwrap();
        assert!(
            mean_diff(&lossless, &jpeg) < 0.03,
            "jpeg {}",
            mean_diff(&lossless, &jpeg)
        );
        let bmp = preprocess::from_bytes(&encode(&img, ImageFormat::Bmp)).unwrap();
        assert!(common::max_diff(&lossless, &bmp) < 1e-6, "bmp");
        // Scanners write TIFF, browsers and phones WebP (lossless here).
        for format in [ImageFormat::Tiff, ImageFormat::WebP] {
            let x = preprocess::from_bytes(&encode(&img, format)).unwrap();
            assert!(common::max_diff(&lossless, &x) < 1e-6, "{format:?}");
        }
    }
}

/// A scanner's bilevel page, CCITT Group 4 compressed as fax machines and document scanners
/// write them (`tests/fixtures/scan_seven_g4.tif`: a 7 with a bar, drawn with PIL, 450 bytes),
/// is read as the digit it holds.
#[test]
fn a_fax_compressed_bilevel_tiff_scan_is_read() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan_seven_g4.tif");
    let x = preprocess::from_path(&path).unwrap();
    assert_mnist_like(&x, "group 4 tiff");
    let model = digits::default_model::load().unwrap().model;
    let p = model.predict_proba(&x);
    assert_eq!(digits::nn::argmax(&p), 7, "{p:?}");
}

#[test]
fn grey_png_and_noisy_paper() {
    let gray = GrayImage::from_fn(90, 120, |x, y| {
        Luma([255 - (coverage(7, x, y, 90, 120) * 255.0) as u8])
    });
    let clean = preprocess::from_bytes(&encode(
        &DynamicImage::ImageLuma8(gray.clone()),
        ImageFormat::Png,
    ))
    .unwrap();
    assert_mnist_like(&clean, "grey png");
    // Paper texture and a fleck of dust in a corner must not move the digit.
    let mut seed = 12345u32;
    let mut noisy = gray;
    for p in noisy.pixels_mut() {
        seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
        let n = (seed >> 24) as i32 % 24 - 12;
        p.0[0] = (p.0[0] as i32 - 20 + n).clamp(0, 255) as u8;
    }
    for (x, y) in [(3, 3), (4, 3), (3, 4), (4, 4)] {
        noisy.put_pixel(x, y, Luma([0]));
    }
    let x = preprocess::from_bytes(&encode(&DynamicImage::ImageLuma8(noisy), ImageFormat::Png))
        .unwrap();
    assert_mnist_like(&x, "noisy paper");
    assert!(
        mean_diff(&clean, &x) < 0.05,
        "noisy {}",
        mean_diff(&clean, &x)
    );
}

#[test]
fn transparent_canvas_drawings() {
    let (w, h) = (280, 280);
    let reference = preprocess::from_bytes(&png(draw(0, w, h, [0; 3], [255; 3]))).unwrap();
    // What a browser canvas toBlob gives: strokes with alpha on (0,0,0,0).
    for rgb in [[0u8; 3], [255; 3], [30, 30, 200]] {
        let img = RgbaImage::from_fn(w, h, |x, y| {
            let a = (coverage(0, x, y, w, h) * 255.0).round() as u8;
            if a == 0 {
                Rgba([0, 0, 0, 0])
            } else {
                Rgba([rgb[0], rgb[1], rgb[2], a])
            }
        });
        let x = preprocess::from_bytes(&encode(&DynamicImage::ImageRgba8(img), ImageFormat::Png))
            .unwrap();
        assert_mnist_like(&x, &format!("transparent {rgb:?}"));
        assert!(
            mean_diff(&reference, &x) < 0.02,
            "{rgb:?}: {}",
            mean_diff(&reference, &x)
        );
    }
}

#[test]
fn big_photo_is_downscaled_not_refused() {
    let x = preprocess::from_bytes(&png(draw(7, 2400, 1800, [40; 3], [200; 3]))).unwrap();
    assert_mnist_like(&x, "2400x1800");
}

#[test]
fn from_gray_canvas_values() {
    let (w, h) = (28, 28);
    let f: Vec<f32> = (0..w * h)
        .map(|i| coverage(1, (i % w) as u32, (i / w) as u32, w as u32, h as u32))
        .collect();
    let auto = preprocess::from_gray(&f, w, h, None).unwrap();
    assert_mnist_like(&auto, "from_gray f32");
    let told = preprocess::from_gray(&f, w, h, Some(true)).unwrap();
    assert!(common::max_diff(&auto, &told) < 1e-6);
    let u: Vec<u8> = f.iter().map(|v| 255 - (v * 255.0).round() as u8).collect();
    let dark = preprocess::from_gray(&u, w, h, Some(false)).unwrap();
    assert!(mean_diff(&auto, &dark) < 0.01);
    // Feeding an output back in changes little.
    let again = preprocess::from_gray(&auto, SIDE, SIDE, Some(true)).unwrap();
    assert!(
        mean_diff(&auto, &again) < 0.03,
        "{}",
        mean_diff(&auto, &again)
    );
    // Told the wrong polarity, the strokes are darker than the (background) border: no ink.
    assert!(matches!(
        preprocess::from_gray(&f, w, h, Some(false)),
        Err(PreprocessError::Blank)
    ));
}

fn root(r: Result<Vec<f32>, PreprocessError>) -> PreprocessError {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(PreprocessError::InFile { source, .. }) => *source,
        Err(e) => e,
    }
}

/// A PNG declaring the given size with one tiny IDAT chunk (far too little data).
fn png_header(w: u32, h: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in data {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut chunk = b"IHDR".to_vec();
    chunk.extend(w.to_be_bytes());
    chunk.extend(h.to_be_bytes());
    chunk.extend([8, 0, 0, 0, 0]); // 8-bit grey, no interlace
    let idat = [
        b'I', b'D', b'A', b'T', 0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01,
    ];
    for chunk in [&chunk[..], &idat[..], b"IEND"] {
        out.extend((chunk.len() as u32 - 4).to_be_bytes());
        out.extend(chunk);
        out.extend(crc32(chunk).to_be_bytes());
    }
    out
}

#[test]
fn refusals_are_typed() {
    assert!(matches!(
        root(preprocess::from_bytes(b"hello, not a picture")),
        PreprocessError::NotAnImage
    ));
    assert!(matches!(
        root(preprocess::from_bytes(&[])),
        PreprocessError::NotAnImage
    ));
    assert!(matches!(
        root(preprocess::from_bytes(
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
        )),
        PreprocessError::Unsupported(_)
    ));
    // An iPhone's HEIC photo is named as such, with what to do instead.
    let heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x00\x08free";
    let e = root(preprocess::from_bytes(heic));
    assert!(matches!(e, PreprocessError::Unsupported(_)), "{e:?}");
    assert!(
        e.to_string().contains("HEIC") && e.to_string().contains("JPEG"),
        "{e}"
    );
    let full = png(draw(7, 100, 100, [0; 3], [255; 3]));
    let e = root(preprocess::from_bytes(&full[..full.len() / 2]));
    assert!(matches!(e, PreprocessError::Corrupt(_)), "{e:?}");
    assert!(matches!(
        root(preprocess::from_bytes(&full[..20])),
        PreprocessError::Corrupt(_)
    ));

    let start = Instant::now();
    let e = root(preprocess::from_bytes(&png_header(100_000, 100_000)));
    assert!(
        matches!(
            e,
            PreprocessError::TooLarge {
                w: 100_000,
                h: 100_000
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("100000x100000"), "{e}");
    let e = root(preprocess::from_bytes(&png_header(8000, 8000)));
    assert!(
        matches!(
            e,
            PreprocessError::TooLarge { .. } | PreprocessError::Corrupt(_)
        ),
        "{e:?}"
    );
    assert!(
        start.elapsed().as_secs_f32() < 1.0,
        "refusing took {:?}",
        start.elapsed()
    );
}

#[test]
fn blank_images_are_refused() {
    let white = png(RgbImage::from_pixel(64, 64, Rgb([255; 3])));
    assert!(matches!(
        root(preprocess::from_bytes(&white)),
        PreprocessError::Blank
    ));
    let black = png(RgbImage::from_pixel(64, 64, Rgb([0; 3])));
    assert!(matches!(
        root(preprocess::from_bytes(&black)),
        PreprocessError::Blank
    ));
    let clear = encode(
        &DynamicImage::ImageRgba8(RgbaImage::from_pixel(64, 64, Rgba([0; 4]))),
        ImageFormat::Png,
    );
    assert!(matches!(
        root(preprocess::from_bytes(&clear)),
        PreprocessError::Blank
    ));
    // Faint JPEG noise on white paper is still blank.
    let mut seed = 7u32;
    let speckled = RgbImage::from_fn(64, 64, |_, _| {
        seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
        Rgb([250 - (seed >> 29) as u8; 3])
    });
    let jpeg = encode(&DynamicImage::ImageRgb8(speckled), ImageFormat::Jpeg);
    assert!(matches!(
        root(preprocess::from_bytes(&jpeg)),
        PreprocessError::Blank
    ));
    assert!(matches!(
        preprocess::from_gray(&[0u8; 784], 28, 28, None),
        Err(PreprocessError::Blank)
    ));
}

#[test]
fn from_gray_refuses_bad_input() {
    assert!(matches!(
        preprocess::from_gray(&[0u8; 783], 28, 28, None),
        Err(PreprocessError::BadDimensions { len: 783, .. })
    ));
    assert!(matches!(
        preprocess::from_gray::<u8>(&[], 0, 0, None),
        Err(PreprocessError::Empty)
    ));
    assert!(matches!(
        preprocess::from_gray(&[usize::MAX as f32; 4], usize::MAX, 2, None),
        Err(PreprocessError::BadDimensions { .. })
    ));
    let mut v = vec![0.0f32; 784];
    v[5] = 255.0;
    let e = preprocess::from_gray(&v, 28, 28, None).unwrap_err();
    assert!(
        matches!(e, PreprocessError::BadPixel { value } if value == 255.0),
        "{e:?}"
    );
    v[5] = f32::NAN;
    assert!(matches!(
        preprocess::from_gray(&v, 28, 28, None),
        Err(PreprocessError::BadPixel { .. })
    ));
}

#[test]
fn from_path_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.png");
    let e = preprocess::from_path(&missing).unwrap_err();
    assert!(matches!(e, PreprocessError::Io { .. }));
    assert!(e.to_string().contains("nope.png"), "{e}");

    let junk = dir.path().join("junk.jpg");
    std::fs::write(&junk, b"definitely text").unwrap();
    let e = preprocess::from_path(&junk).unwrap_err();
    assert!(matches!(e.root(), PreprocessError::NotAnImage));
    assert!(e.to_string().contains("junk.jpg"), "{e}");

    let good = dir.path().join("seven.bmp");
    DynamicImage::ImageRgb8(draw(7, 60, 90, [0; 3], [255; 3]))
        .save(&good)
        .unwrap();
    assert_mnist_like(&preprocess::from_path(&good).unwrap(), "from_path");
}

/// A little-endian EXIF block holding only an orientation tag.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut e = b"II*\0".to_vec();
    e.extend(8u32.to_le_bytes()); // first IFD
    e.extend(1u16.to_le_bytes()); // one entry
    e.extend(0x0112u16.to_le_bytes()); // Orientation
    e.extend(3u16.to_le_bytes()); // SHORT
    e.extend(1u32.to_le_bytes());
    e.extend(value.to_le_bytes());
    e.extend([0, 0]);
    e.extend(0u32.to_le_bytes()); // no next IFD
    e
}

#[test]
fn exif_rotated_photo_is_turned_upright() {
    use image::codecs::jpeg::JpegEncoder;
    use image::ImageEncoder;
    let upright = draw(7, 160, 240, [0; 3], [255; 3]);
    let expected = preprocess::from_bytes(&png(upright.clone())).unwrap();
    // Stored turned a quarter left; orientation 6 says "rotate 90 clockwise to display".
    let stored = image::imageops::rotate270(&upright);
    let mut jpeg = Vec::new();
    let mut enc = JpegEncoder::new_with_quality(&mut jpeg, 95);
    enc.set_exif_metadata(exif_orientation(6)).unwrap();
    enc.write_image(
        stored.as_raw(),
        stored.width(),
        stored.height(),
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    let x = preprocess::from_bytes(&jpeg).unwrap();
    assert_mnist_like(&x, "exif");
    assert!(
        mean_diff(&expected, &x) < 0.03,
        "exif {}",
        mean_diff(&expected, &x)
    );
    // Without the tag the digit would be sideways: far from upright.
    let plain = encode(&DynamicImage::ImageRgb8(stored), ImageFormat::Jpeg);
    let sideways = preprocess::from_bytes(&plain).unwrap();
    assert!(
        mean_diff(&expected, &sideways) > 0.06,
        "{}",
        mean_diff(&expected, &sideways)
    );
}
