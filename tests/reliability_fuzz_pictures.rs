//! Fuzzing the parsers that read pictures: encoded images (PNG, JPEG, BMP, TIFF, WebP), grey pixel arrays, the JSON
//! pixel body in process and the HTTP API of a running server.
//!
//! Each test starts from a valid encoding made by the crate's own writers (or the image crate's
//! encoders), corrupts it (truncation, flipped bytes, wrong magic/dtype/version, huge or zero
//! dimensions, counts that disagree, NaN and infinite payloads) and checks that the parser
//! returns a clear error (naming the input where the parser takes a name) or a sane, bounded
//! value, never panics, and never allocates more than a small multiple of the input: a
//! tracking allocator (`fuzz_support`) records the largest single allocation made on the
//! parsing thread.
//!
//! `PROPTEST_CASES=N cargo test --test reliability_fuzz_pictures -- --nocapture` runs N cases per parser
//! (defaults below keep the suite fast) and prints the executions run.

mod fuzz_support;

use digits::vision::preprocess::{self, PreprocessError};
use fuzz_support::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

// ---------------------------------------------------------------------------------------------
// Encoded images (PNG, JPEG, BMP, TIFF, WebP)

#[derive(Clone, Debug)]
enum ImgEdit {
    None,
    /// Declared width and height in the format's header (PNG: CRC fixed or not).
    Dims(u32, u32, bool),
    BmpBits(u16),
}

fn img_case() -> impl Strategy<Value = (usize, ImgEdit, Corrupt)> {
    let dim = prop_oneof![
        Just(0u32),
        Just(1),
        Just(28),
        Just(8192),
        Just(8193),
        Just(65535),
        Just(0x7fff_ffff),
        Just(u32::MAX),
        Just(0x8000_0000),
    ];
    (
        0usize..FORMATS.len(),
        prop_oneof![
            1 => Just(ImgEdit::None),
            2 => (dim.clone(), dim, any::<bool>()).prop_map(|(w, h, crc)| ImgEdit::Dims(w, h, crc)),
            1 => prop::sample::select(vec![0u16, 1, 7, 33, 64, 65535]).prop_map(ImgEdit::BmpBits),
        ],
        prop_oneof![2 => Just(Corrupt::None), 3 => corrupt()],
    )
}

/// The formats fuzzed, in the order [`encoded_digits`] gives them ([`set_dims`] knows each
/// one's header).
const FORMATS: [image::ImageFormat; 5] = [
    image::ImageFormat::Png,
    image::ImageFormat::Jpeg,
    image::ImageFormat::Bmp,
    image::ImageFormat::Tiff,
    image::ImageFormat::WebP,
];

/// A 28x28 "1": a vertical bar, in each of [`FORMATS`].
fn encoded_digits() -> Vec<Vec<u8>> {
    let img = image::GrayImage::from_fn(28, 28, |x, y| {
        image::Luma([if (12..16).contains(&x) && (4..24).contains(&y) {
            255
        } else {
            0
        }])
    });
    let img = image::DynamicImage::ImageLuma8(img);
    FORMATS
        .iter()
        .map(|&f| {
            let mut out = std::io::Cursor::new(Vec::new());
            let img = if f == image::ImageFormat::Bmp {
                image::DynamicImage::ImageRgb8(img.to_rgb8())
            } else {
                img.clone()
            };
            img.write_to(&mut out, f).unwrap();
            out.into_inner()
        })
        .collect()
}

fn set_dims(bytes: &mut [u8], format: usize, w: u32, h: u32, fix_crc: bool) {
    match format {
        0 if bytes.len() >= 33 => {
            // PNG: IHDR data at 16..29, its CRC at 29..33.
            bytes[16..20].copy_from_slice(&w.to_be_bytes());
            bytes[20..24].copy_from_slice(&h.to_be_bytes());
            if fix_crc {
                let mut crc = flate2::Crc::new();
                crc.update(&bytes[12..29]);
                bytes[29..33].copy_from_slice(&crc.sum().to_be_bytes());
            }
        }
        1 => {
            // JPEG: SOF0 marker FF C0, length, precision, height, width (16-bit).
            if let Some(i) = bytes.windows(2).position(|p| p == [0xff, 0xc0]) {
                if i + 9 <= bytes.len() {
                    bytes[i + 5..i + 7].copy_from_slice(&(h as u16).to_be_bytes());
                    bytes[i + 7..i + 9].copy_from_slice(&(w as u16).to_be_bytes());
                }
            }
        }
        2 if bytes.len() >= 26 => {
            // BMP: BITMAPINFOHEADER width, height (i32 LE; negative height = top-down).
            bytes[18..22].copy_from_slice(&w.to_le_bytes());
            bytes[22..26].copy_from_slice(&h.to_le_bytes());
        }
        3 => set_tiff_dims(bytes, w, h),
        4 if bytes.len() >= 25 && &bytes[12..16] == b"VP8L" => {
            // WebP lossless: after the signature byte 0x2f, width - 1 and height - 1 in 14
            // bits each, least significant first.
            let mut bits = u32::from_le_bytes(bytes[21..25].try_into().unwrap());
            bits &= !((1 << 28) - 1);
            bits |= (w.wrapping_sub(1) & 0x3fff) | (h.wrapping_sub(1) & 0x3fff) << 14;
            bytes[21..25].copy_from_slice(&bits.to_le_bytes());
        }
        _ => {}
    }
}

/// TIFF (little endian): the first IFD's ImageWidth (256) and ImageLength (257) entries set to
/// `w` and `h` as LONGs.
fn set_tiff_dims(bytes: &mut [u8], w: u32, h: u32) {
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]) as usize;
    if bytes.len() < 8 || &bytes[..2] != b"II" {
        return;
    }
    let ifd = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    if ifd + 2 > bytes.len() {
        return;
    }
    for k in 0..u16_at(bytes, ifd) {
        let e = ifd + 2 + 12 * k;
        if e + 12 > bytes.len() {
            return;
        }
        let value = match u16_at(bytes, e) {
            256 => w,
            257 => h,
            _ => continue,
        };
        bytes[e + 2..e + 4].copy_from_slice(&4u16.to_le_bytes());
        bytes[e + 4..e + 8].copy_from_slice(&1u32.to_le_bytes());
        bytes[e + 8..e + 12].copy_from_slice(&value.to_le_bytes());
    }
}

fn check_input(v: &[f32]) -> Result<(), TestCaseError> {
    prop_assert_eq!(v.len(), preprocess::PIXELS);
    prop_assert!(
        v.iter().all(|x| (0.0..=1.0).contains(x)),
        "values outside [0, 1]"
    );
    Ok(())
}

#[test]
fn fuzz_encoded_images() {
    let encoded = encoded_digits();
    for (f, bytes) in encoded.iter().enumerate() {
        check_input(&preprocess::from_bytes(bytes).unwrap_or_else(|e| panic!("format {f}: {e}")))
            .unwrap();
        // The header edit takes: a declared size over the limit is refused as such.
        let mut huge = bytes.clone();
        set_dims(&mut huge, f, 9000, 9000, true);
        let e = preprocess::from_bytes(&huge).unwrap_err().to_string();
        assert!(e.contains("too large"), "format {f}: {e}");
    }
    fuzz("encoded images", 200, img_case(), |(f, edit, c)| {
        let mut bytes = encoded[f].clone();
        match edit {
            ImgEdit::None => {}
            ImgEdit::Dims(w, h, crc) => set_dims(&mut bytes, f, w, h, crc),
            ImgEdit::BmpBits(b) => {
                if f == 2 {
                    bytes[28..30].copy_from_slice(&b.to_le_bytes());
                }
            }
        }
        apply(&mut bytes, &c);
        let (r, peak) = largest_alloc(|| preprocess::from_bytes(&bytes));
        // The decoder may use up to MAX_ALLOC for a declared size it accepts, and the grey
        // conversion half of that again.
        check_peak(peak, 2 * preprocess::MAX_ALLOC as usize, "from_bytes")?;
        match r {
            Ok(v) => check_input(&v)?,
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// Grey pixel arrays and the JSON pixel body of the HTTP API

fn level() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => 0.0f32..=1.0,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => Just(-0.0f32),
        1 => Just(f32::MIN_POSITIVE / 2.0),
        1 => Just(1.0005f32),
        1 => Just(255.0f32),
        1 => Just(f32::MAX),
        1 => Just(-1e-4f32),
    ]
}

#[test]
fn fuzz_gray_pixels() {
    let dims = prop_oneof![
        4 => 0usize..40,
        1 => Just(28usize),
        1 => Just(8193usize),
        1 => Just(usize::MAX),
        1 => Just(1usize << 33),
    ];
    let case = (
        dims.clone(),
        dims,
        prop::collection::vec(level(), 0..1700),
        prop::option::of(any::<bool>()),
    );
    fuzz("from_gray", 1000, case, |(w, h, px, light)| {
        // Sometimes make the count agree with the dimensions.
        let px = if w.checked_mul(h).is_some_and(|n| n <= 1600) {
            px.iter().cycle().take(w * h).copied().collect()
        } else {
            px
        };
        let (r, peak) = largest_alloc(|| preprocess::from_gray(&px, w, h, light));
        check_peak(peak, 64 * px.len() + (64 << 10), "from_gray f32")?;
        let bad = px.iter().any(|v| !(-1e-3..=1.0 + 1e-3).contains(v));
        match r {
            Ok(v) => {
                check_input(&v)?;
                prop_assert!(!bad, "a NaN, infinite or out-of-range level was accepted");
            }
            Err(PreprocessError::BadDimensions { .. }) => {
                prop_assert!(w.checked_mul(h) != Some(px.len()))
            }
            Err(PreprocessError::BadPixel { .. }) => prop_assert!(bad),
            Err(
                PreprocessError::Empty | PreprocessError::Blank | PreprocessError::TooLarge { .. },
            ) => {}
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
        let bytes: Vec<u8> = px.iter().map(|v| (v * 255.0) as u8).collect();
        let (r, peak) = largest_alloc(|| preprocess::from_gray(&bytes, w, h, light));
        check_peak(peak, 64 * px.len() + (64 << 10), "from_gray u8")?;
        if let Ok(v) = r {
            check_input(&v)?;
        }
        Ok(())
    });
}

/// The body `POST /api/predict` takes: `{"pixels": [784 numbers]}`, in process (so that the
/// allocations are tracked): serde_json into `Vec<f32>`, then `from_gray(.., 28, 28, None)`, the
/// steps of the server's private parser. `fuzz_http_predict` sends such bodies to the server.
#[derive(serde::Deserialize)]
struct PixelsRequest {
    pixels: Vec<f32>,
}

#[derive(Clone, Debug)]
enum JsonEdit {
    None,
    /// Replace the value of pixel i (per mille) with this JSON text.
    Value(u16, &'static str),
    Nest(usize),
    Raw(Corrupt),
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        1 => Just(JsonEdit::None),
        3 => (0u16..1000, prop::sample::select(vec![
            "NaN", "Infinity", "-1", "1e60", "1e999", "-0", "\"0.5\"", "null", "[]", "{}",
            "1.0000001", "255", "256", "0.5e-45", "true", "18446744073709551616",
        ])).prop_map(|(p, v)| JsonEdit::Value(p, v)),
        1 => prop_oneof![Just(127usize), Just(129), Just(10_000)].prop_map(JsonEdit::Nest),
        3 => corrupt().prop_map(JsonEdit::Raw),
    ]
}

/// `{"pixels": [...]}` with the edit applied; `scale` writes 0..255 integers instead of 0..1.
fn json_body(px: &[u8], edit: &JsonEdit, scale: bool) -> Vec<u8> {
    let values: Vec<String> = px
        .iter()
        .map(|v| {
            if scale {
                v.to_string()
            } else {
                format!("{}", *v as f32 / 255.0)
            }
        })
        .collect();
    let body = match edit {
        JsonEdit::Value(p, v) => {
            let mut values = values.clone();
            values[at(784, *p)] = v.to_string();
            format!("{{\"pixels\": [{}]}}", values.join(","))
        }
        JsonEdit::Nest(d) => format!("{{\"pixels\": {}1{}}}", "[".repeat(*d), "]".repeat(*d)),
        _ => format!("{{\"pixels\": [{}]}}", values.join(",")),
    };
    let mut body = body.into_bytes();
    if let JsonEdit::Raw(c) = edit {
        apply(&mut body, c);
    }
    body
}

#[test]
fn fuzz_json_pixel_body() {
    let case = (prop::collection::vec(0u8..=255, 784), json_edit());
    fuzz("JSON pixel body", 500, case, |(px, edit)| {
        let body = json_body(&px, &edit, false);
        let (r, peak) = largest_alloc(|| {
            serde_json::from_slice::<PixelsRequest>(&body)
                .map_err(|e| e.to_string())
                .and_then(|req| {
                    preprocess::from_gray(&req.pixels, 28, 28, None).map_err(|e| e.to_string())
                })
        });
        check_peak(peak, 64 * body.len() + (64 << 10), "JSON body")?;
        match &r {
            Ok(v) => check_input(v)?,
            Err(m) => prop_assert!(!m.is_empty()),
        }
        if let JsonEdit::Value(_, v @ ("1e60" | "-1" | "256" | "Infinity" | "NaN")) = edit {
            // 1e60 parses as f64 and becomes +inf as f32: it must still be refused.
            prop_assert!(r.is_err(), "pixel {v} accepted");
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// The HTTP API itself: corrupt JSON and image bodies to a running server.

#[path = "serve_support/mod.rs"]
mod serve_support;

#[test]
fn fuzz_http_predict() {
    let server = serve_support::start();
    let images = encoded_digits();
    let body = prop_oneof![
        3 => (prop::collection::vec(0u8..=255, 784), json_edit(), any::<bool>())
            .prop_map(|(px, e, scale)| (format!("{e:?}"), json_body(&px, &e, scale))),
        1 => (0usize..3, corrupt()).prop_map(move |(f, c)| {
            let mut b = images[f].clone();
            apply(&mut b, &c);
            (format!("image {f} {c:?}"), b)
        }),
    ];
    let content_type = prop::sample::select(vec![
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        None,
        Some("image/png"),
        Some("application/octet-stream"),
        Some("text/plain"),
    ]);
    fuzz(
        "HTTP /api/predict",
        300,
        (body, content_type),
        |((what, body), ct)| {
            let r = serve_support::post(server.addr, ct, &body);
            match r.status {
                200 => {
                    let p = r.probabilities();
                    let v = r.json();
                    prop_assert_eq!(p.len(), 10);
                    prop_assert!(p.iter().all(|x| x.is_finite() && (0.0..=1.0).contains(x)));
                    prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-4);
                    prop_assert!(v["digit"].as_u64().unwrap() < 10);
                }
                400 | 413 | 415 | 422 => {
                    prop_assert!(!r.error().is_empty(), "{what}: {}", r.text())
                }
                s => prop_assert!(false, "{what} ({ct:?}): status {s}: {}", r.text()),
            }
            let refused = ["1e60", "-1", "256", "Infinity", "NaN"]
                .iter()
                .any(|v| what.contains(&format!("\"{v}\"")));
            if refused && what.starts_with("Value") && ct.is_some_and(|c| c.contains("json")) {
                prop_assert_eq!(r.status, 400, "{}: {}", what, r.text());
            }
            Ok(())
        },
    );
    let h = serve_support::get(server.addr, "/healthz");
    assert_eq!((h.status, h.text().as_str()), (200, "ok"), "still serving");
}
