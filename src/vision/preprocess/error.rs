//! Why an image could not be turned into a network input.

use std::path::PathBuf;

/// A typed reason for refusing an image; each variant has a message a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    #[error("not an image: expected PNG, JPEG, BMP, TIFF or WebP data")]
    NotAnImage,
    #[error("unsupported image format {0}: expected PNG, JPEG, BMP, TIFF or WebP")]
    Unsupported(String),
    #[error("image too large: {w}x{h} pixels (at most {max}x{max})", max = super::MAX_SIDE)]
    TooLarge { w: u32, h: u32 },
    #[error("file too large: {bytes} bytes (at most {max})", max = super::MAX_FILE_BYTES)]
    FileTooLarge { bytes: u64 },
    #[error("corrupt or truncated image: {0}")]
    Corrupt(String),
    #[error("empty image: zero width or height")]
    Empty,
    #[error("{len} pixel values do not make a {width}x{height} image")]
    BadDimensions {
        len: usize,
        width: usize,
        height: usize,
    },
    #[error("pixel value {value} is outside [0, 1] (pass u8 values for 0..255)")]
    BadPixel { value: f32 },
    #[error("blank image: no ink found")]
    Blank,
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    InFile {
        path: PathBuf,
        source: Box<PreprocessError>,
    },
}

impl PreprocessError {
    /// The reason itself, without the file name wrapped around it by `from_path`.
    pub fn root(&self) -> &PreprocessError {
        match self {
            PreprocessError::InFile { source, .. } => source.root(),
            e => e,
        }
    }
}
