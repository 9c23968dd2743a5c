//! Image bytes to a grey working image, refusing what is not a sane PNG, JPEG, BMP, TIFF (a
//! scanner's, fax-compressed bilevel ones included) or WebP.

use super::{alpha, Gray, PreprocessError, MAX_ALLOC, MAX_SIDE, MAX_WORK_SIDE};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// The width and height a picture declares in its header (nothing is decoded).
pub(super) fn dimensions(bytes: &[u8]) -> Result<(u32, u32), PreprocessError> {
    reader(bytes)?.into_dimensions().map_err(map_error)
}

/// Decodes PNG, JPEG, BMP, TIFF (its first page) or WebP (format guessed from the content).
pub(super) fn decode(bytes: &[u8]) -> Result<DynamicImage, PreprocessError> {
    // The header alone gives the size: refuse huge declared dimensions before any allocation.
    let (w, h) = dimensions(bytes)?;
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(PreprocessError::TooLarge { w, h });
    }
    if w == 0 || h == 0 {
        return Err(PreprocessError::Empty);
    }
    let mut r = reader(bytes)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    r.limits(limits);
    let too_large = |e| match e {
        ImageError::Limits(_) => PreprocessError::TooLarge { w, h },
        e => map_error(e),
    };
    let mut decoder = r.into_decoder().map_err(too_large)?;
    if decoder.total_bytes() > MAX_ALLOC {
        return Err(PreprocessError::TooLarge { w, h });
    }
    // Phone photos are stored sideways with an EXIF orientation; a broken tag is ignored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(too_large)?;
    img.apply_orientation(orientation);
    Ok(img)
}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, PreprocessError> {
    if is_heif(bytes) {
        return Err(PreprocessError::Unsupported(HEIF.into()));
    }
    let r = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| PreprocessError::NotAnImage)?;
    match r.format() {
        None => Err(PreprocessError::NotAnImage),
        Some(
            ImageFormat::Png
            | ImageFormat::Jpeg
            | ImageFormat::Bmp
            | ImageFormat::Tiff
            | ImageFormat::WebP,
        ) => Ok(r),
        Some(f) => Err(PreprocessError::Unsupported(format!("{f:?}"))),
    }
}

/// What a HEIF picture is called in the refusal, with what to do instead.
const HEIF: &str = "HEIC/HEIF (an iPhone camera's photos; save or export the photo as JPEG, or \
    set Settings > Camera > Formats to Most Compatible)";

/// Whether `bytes` open as a file of the HEIF family (HEIC, which iPhones' cameras write; no
/// decoder here reads it, and `image` takes it for no image at all): an ISO media file whose
/// `ftyp` box names one of HEIF's brands.
fn is_heif(bytes: &[u8]) -> bool {
    const BRANDS: [&[u8]; 8] = [
        b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
    ];
    bytes.get(4..8) == Some(b"ftyp") && bytes.get(8..12).is_some_and(|b| BRANDS.contains(&b))
}

fn map_error(e: ImageError) -> PreprocessError {
    match e {
        ImageError::Limits(_) => PreprocessError::TooLarge { w: 0, h: 0 },
        ImageError::Unsupported(u) => PreprocessError::Unsupported(u.to_string()),
        e => PreprocessError::Corrupt(e.to_string()),
    }
}

/// Flattens to grey (0 black .. 1 white), downscaled by whole blocks to at most
/// `MAX_WORK_SIDE` a side (a big photo's detail is lost at 20x20 anyway). Semi-transparent
/// pixels are composited over the level `alpha::behind` chooses: the picture's own paper, or
/// a page contrasting with strokes drawn on transparency.
pub(super) fn to_gray(img: &DynamicImage) -> Gray {
    let la = img.to_luma_alpha8();
    let (w, h) = (la.width() as usize, la.height() as usize);
    let raw = la.as_raw();
    let behind = if img.color().has_alpha() {
        alpha::behind(raw)
    } else {
        1.0
    };
    let k = w.max(h).div_ceil(MAX_WORK_SIDE).max(1);
    let (ow, oh) = (w.div_ceil(k), h.div_ceil(k));
    let mut sum = vec![0.0f32; ow * oh];
    let mut count = vec![0u32; ow * oh];
    for y in 0..h {
        let row = &raw[y * w * 2..(y + 1) * w * 2];
        let orow = (y / k) * ow;
        for (x, p) in row.chunks_exact(2).enumerate() {
            let a = p[1] as f32 / 255.0;
            let v = a * (p[0] as f32 / 255.0) + (1.0 - a) * behind;
            sum[orow + x / k] += v;
            count[orow + x / k] += 1;
        }
    }
    let px = sum.iter().zip(&count).map(|(s, &c)| s / c as f32).collect();
    Gray { w: ow, h: oh, px }
}
