//! Photos and drawings to MNIST-style inputs, made the way MNIST was: grayscale, ink made
//! light on a dark background, noise thresholded, cropped to the ink, scaled to fit 20x20
//! keeping the aspect ratio, and placed in 28x28 with its centre of mass in the middle.
//!
//! Photos as people take them are evened out first: the paper's level is estimated place by
//! place (shadows, uneven light), ruled and grid lines are taken out, and pen strokes thinner
//! than MNIST's are thickened before the picture is scaled down.
//!
//! Every entry point returns 784 values, row-major, in [0, 1] with ink = 1 (MNIST / 255),
//! ready for `Sequential::predict`. Bad input is a typed [`PreprocessError`], never a panic.
//!
//! ```no_run
//! let x = digits::vision::preprocess::from_path("photo.jpg".as_ref()).unwrap();
//! assert_eq!(x.len(), 784);
//! ```

mod alpha;
mod background;
mod decode;
mod error;
mod frame;
mod ink;
mod lines;
pub mod stroke;

pub use error::PreprocessError;

use std::path::Path;

/// Side of the output image.
pub const SIDE: usize = 28;
/// Values in the output image (28 x 28).
pub const PIXELS: usize = SIDE * SIDE;
/// Side of the box the digit is scaled to fit, as in MNIST.
pub const BOX: usize = 20;
/// Largest accepted width or height of an encoded image.
pub const MAX_SIDE: u32 = 8192;
/// Most memory the decoder may allocate.
pub const MAX_ALLOC: u64 = 256 * 1024 * 1024;
/// Largest accepted file for [`from_path`].
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Ink on a ruled or printed line at least this much above the line's own level is a pen
/// stroke lying along it (the base of a 2, the foot of a 0 or a 6 written on the line), not
/// the line: kept when the line is erased (here, and by the line reader's `line::rules`).
pub const PEN_OVER_LINE: f32 = 0.3;
/// Decoded images are block-averaged down to at most this side before the real work.
const MAX_WORK_SIDE: usize = 1024;

/// A grey working image, row-major.
struct Gray {
    w: usize,
    h: usize,
    px: Vec<f32>,
}

/// An encoded PNG, JPEG, BMP, TIFF or WebP (format guessed from the content), any size up to
/// [`MAX_SIDE`], dark ink on light paper or light on dark, colour or grey, opaque or not.
pub fn from_bytes(bytes: &[u8]) -> Result<Vec<f32>, PreprocessError> {
    from_image(&decode::decode(bytes)?)
}

/// The width and height an encoded picture declares, read from its header without
/// decoding it (cheap: a server checks its budget with this before any allocation).
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32), PreprocessError> {
    decode::dimensions(bytes)
}

/// Like [`from_bytes`], reading the file; errors name the file.
pub fn from_path(path: &Path) -> Result<Vec<f32>, PreprocessError> {
    let data = read_file(path)?;
    from_bytes(&data).map_err(|e| in_file(path, e))
}

/// `e`, naming the file at `path` it came from.
pub(crate) fn in_file(path: &Path, e: PreprocessError) -> PreprocessError {
    PreprocessError::InFile {
        path: path.to_path_buf(),
        source: Box::new(e),
    }
}

/// The file's bytes, refusing one over [`MAX_FILE_BYTES`]; errors name the file.
fn read_file(path: &Path) -> Result<Vec<u8>, PreprocessError> {
    let io = |source| PreprocessError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::metadata(path).map_err(io)?.len();
    if bytes > MAX_FILE_BYTES {
        return Err(in_file(path, PreprocessError::FileTooLarge { bytes }));
    }
    std::fs::read(path).map_err(io)
}

/// The ink of a whole picture, before any digit is cut out of it: 0 = paper, 1 = solid stroke,
/// on the working grid (the decoded picture block-averaged by `block` to at most 1024 a side).
#[derive(Clone, Debug, PartialEq)]
pub struct Ink {
    pub w: usize,
    pub h: usize,
    /// Row-major, `w * h` values in [0, 1].
    pub px: Vec<f32>,
    /// Pixels of the decoded picture per working pixel, each way.
    pub block: usize,
    /// The decoded picture's size.
    pub width: u32,
    pub height: u32,
}

impl Ink {
    /// The MNIST-style input (784 values) of the whole ink: what [`from_image`] gives for the
    /// picture the ink was made from.
    pub fn input(&self) -> Vec<f32> {
        frame::frame(&self.px, self.w, self.h)
    }

    /// The MNIST-style input (784 values) for the pixels of `self` inside `region` (half-open
    /// x0, y0, x1, y1) where `keep(i)` (`i` an index into `px`) is true; None when none of them
    /// holds ink. Only the region is copied: the frame is cut to the ink anyway.
    pub fn frame_within(
        &self,
        (x0, y0, x1, y1): (usize, usize, usize, usize),
        keep: impl Fn(usize) -> bool,
    ) -> Option<Vec<f32>> {
        let (x1, y1) = (x1.min(self.w), y1.min(self.h));
        let (w, h) = (x1.saturating_sub(x0), y1.saturating_sub(y0));
        let mut px = Vec::with_capacity(w * h);
        for y in y0..y1 {
            let i0 = y * self.w;
            px.extend((i0 + x0..i0 + x1).map(|i| if keep(i) { self.px[i] } else { 0.0 }));
        }
        px.iter().any(|&v| v > 0.0).then(|| frame::frame(&px, w, h))
    }
}

/// Decodes an encoded PNG, JPEG, BMP, TIFF or WebP as [`from_bytes`] does (size limits, EXIF orientation),
/// for a [`crate::vision::reading::NumberReader`].
pub fn decode_bytes(bytes: &[u8]) -> Result<image::DynamicImage, PreprocessError> {
    decode::decode(bytes)
}

/// Like [`decode_bytes`], reading the file (at most [`MAX_FILE_BYTES`]); errors name the file.
pub fn decode_path(path: &Path) -> Result<image::DynamicImage, PreprocessError> {
    let data = read_file(path)?;
    decode::decode(&data).map_err(|e| in_file(path, e))
}

/// The ink of an encoded picture (see [`from_bytes`]); [`PreprocessError::Blank`] when it holds
/// none.
pub fn ink_from_bytes(bytes: &[u8]) -> Result<Ink, PreprocessError> {
    ink_from_image(&decode::decode(bytes)?)
}

/// The ink of an already decoded picture (e.g. one handed over from Python), made as
/// [`ink_from_bytes`] makes it, so both give the same reading of the same pixels.
pub fn ink_from_image(img: &image::DynamicImage) -> Result<Ink, PreprocessError> {
    if img.width() == 0 || img.height() == 0 {
        return Err(PreprocessError::Empty);
    }
    if img.width() > MAX_SIDE || img.height() > MAX_SIDE {
        return Err(PreprocessError::TooLarge {
            w: img.width(),
            h: img.height(),
        });
    }
    let gray = decode::to_gray(img);
    let px = ink::ink_map(&gray, None)?;
    Ok(Ink {
        block: (img.width() as usize).div_ceil(gray.w).max(1),
        w: gray.w,
        h: gray.h,
        px,
        width: img.width(),
        height: img.height(),
    })
}

/// The median of `v` (the upper one of an even count), reordering `v`; `v` is not empty.
pub(crate) fn median(v: &mut [f32]) -> f32 {
    let mid = v.len() / 2;
    *v.select_nth_unstable_by(mid, f32::total_cmp).1
}

/// The ink of a decoded picture as [`ink_from_image`] makes it, None when the picture is
/// blank (a reader reads nothing there; other errors are returned).
pub fn ink_if_any(img: &image::DynamicImage) -> Result<Option<Ink>, PreprocessError> {
    match ink_from_image(img) {
        Ok(ink) => Ok(Some(ink)),
        Err(PreprocessError::Blank) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Like [`ink_from_bytes`], reading the file; errors name the file.
pub fn ink_from_path(path: &Path) -> Result<Ink, PreprocessError> {
    let data = read_file(path)?;
    ink_from_bytes(&data).map_err(|e| in_file(path, e))
}

/// [`from_path`]'s input with the ink it was framed from (for a second reader of the same
/// picture, which then need not decode it again).
pub fn input_and_ink_from_path(path: &Path) -> Result<(Vec<f32>, Ink), PreprocessError> {
    let ink = ink_from_path(path)?;
    Ok((ink.input(), ink))
}

/// Likewise for [`from_bytes`].
pub fn input_and_ink_from_bytes(bytes: &[u8]) -> Result<(Vec<f32>, Ink), PreprocessError> {
    let ink = ink_from_bytes(bytes)?;
    Ok((ink.input(), ink))
}

/// The ink of raw grey pixels (see [`from_gray`]).
pub fn ink_from_gray<P: GrayLevel>(
    pixels: &[P],
    width: usize,
    height: usize,
    ink_is_light: Option<bool>,
) -> Result<Ink, PreprocessError> {
    let gray = gray_of(pixels, width, height)?;
    let px = ink::ink_map(&gray, ink_is_light)?;
    Ok(Ink {
        w: width,
        h: height,
        px,
        block: 1,
        width: width as u32,
        height: height as u32,
    })
}

/// An already decoded image.
pub fn from_image(img: &image::DynamicImage) -> Result<Vec<f32>, PreprocessError> {
    if img.width() == 0 || img.height() == 0 {
        return Err(PreprocessError::Empty);
    }
    let gray = decode::to_gray(img);
    process(&gray, None)
}

/// Grey levels a type can carry: u8 is 0..255, f32 is 0..1.
pub trait GrayLevel: Copy {
    /// The level in [0, 1], or None when out of range.
    fn unit(self) -> Option<f32>;
    /// The value as given (for error messages).
    fn raw(self) -> f32;
}

impl GrayLevel for u8 {
    fn unit(self) -> Option<f32> {
        Some(self as f32 / 255.0)
    }
    fn raw(self) -> f32 {
        self as f32
    }
}

impl GrayLevel for f32 {
    fn unit(self) -> Option<f32> {
        // A little slack for rounding; NaN is outside any range.
        (-1e-3..=1.0 + 1e-3)
            .contains(&self)
            .then(|| self.clamp(0.0, 1.0))
    }
    fn raw(self) -> f32 {
        self
    }
}

/// Raw grey pixels (row-major, `width * height` of them), e.g. a drawing canvas.
/// `ink_is_light`: `Some(true)` for light strokes on dark, `Some(false)` for dark on light,
/// `None` to detect it from the border.
pub fn from_gray<P: GrayLevel>(
    pixels: &[P],
    width: usize,
    height: usize,
    ink_is_light: Option<bool>,
) -> Result<Vec<f32>, PreprocessError> {
    process(&gray_of(pixels, width, height)?, ink_is_light)
}

fn gray_of<P: GrayLevel>(
    pixels: &[P],
    width: usize,
    height: usize,
) -> Result<Gray, PreprocessError> {
    if width.checked_mul(height) != Some(pixels.len()) {
        return Err(PreprocessError::BadDimensions {
            len: pixels.len(),
            width,
            height,
        });
    }
    if pixels.is_empty() {
        return Err(PreprocessError::Empty);
    }
    if width > MAX_SIDE as usize || height > MAX_SIDE as usize {
        return Err(PreprocessError::TooLarge {
            w: width as u32,
            h: height as u32,
        });
    }
    let px = pixels
        .iter()
        .map(|&p| p.unit().ok_or(PreprocessError::BadPixel { value: p.raw() }))
        .collect::<Result<Vec<f32>, _>>()?;
    Ok(Gray {
        w: width,
        h: height,
        px,
    })
}

fn process(gray: &Gray, ink_is_light: Option<bool>) -> Result<Vec<f32>, PreprocessError> {
    let ink = ink::ink_map(gray, ink_is_light)?;
    Ok(frame::frame(&ink, gray.w, gray.h))
}
