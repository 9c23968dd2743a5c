//! IDX files (the MNIST format), raw or gzip-compressed: checked readers and simple writers.
//!
//! Header: big-endian u32 magic `0x0000TTNN` (TT = 0x08 unsigned byte, NN = number of
//! dimensions), one big-endian u32 per dimension, then the bytes in row-major order.
//! Nothing is allocated from an unchecked header: raw data is compared with the real length
//! first, and gzip data is read through a bounded reader whose buffer grows with what the
//! stream actually yields.

use anyhow::{bail, Context, Result};
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

/// Magic of an image file: unsigned bytes, 3 dimensions (n, rows, cols).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic of a label file: unsigned bytes, 1 dimension (n).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// Deflate cannot expand data by more than about 1032:1, so this bounds the first allocation
/// for a gzip stream by the size of the actual input, whatever its header claims.
const MAX_DEFLATE_RATIO: usize = 1032;

/// The images of an IDX image file: `n` images of `rows x cols` bytes, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Images {
    pub pixels: Vec<u8>,
    pub n: usize,
    pub rows: usize,
    pub cols: usize,
}

/// True when `bytes` starts with the gzip magic 1f 8b.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Reads an image file (`.gz` or raw, detected from its first bytes).
pub fn read_images(path: &Path) -> Result<Images> {
    let bytes = read_file(path)?;
    parse_images(&bytes, &path.display().to_string())
}

/// Reads a label file (`.gz` or raw, detected from its first bytes).
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    let bytes = read_file(path)?;
    parse_labels(&bytes, &path.display().to_string())
}

/// Parses the bytes of an image file (gzip or raw); `name` starts every error message.
pub fn parse_images(bytes: &[u8], name: &str) -> Result<Images> {
    let (dims, pixels) = parse(bytes, name, IMAGES_MAGIC)?;
    let (n, rows, cols) = (dims[0], dims[1], dims[2]);
    if n > 0 && (rows == 0 || cols == 0) {
        bail!("{name}: images of {rows}x{cols} pixels have no pixels");
    }
    Ok(Images {
        pixels,
        n,
        rows,
        cols,
    })
}

/// Parses the bytes of a label file (gzip or raw); `name` starts every error message.
pub fn parse_labels(bytes: &[u8], name: &str) -> Result<Vec<u8>> {
    Ok(parse(bytes, name, LABELS_MAGIC)?.1)
}

/// Writes an image file, gzip-compressed when `path` ends in `.gz`.
pub fn write_images(path: &Path, pixels: &[u8], n: usize, rows: usize, cols: usize) -> Result<()> {
    let expected = n
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .filter(|&v| v == pixels.len());
    if expected.is_none() {
        bail!(
            "{}: {} pixel bytes do not make {n} images of {rows}x{cols}",
            path.display(),
            pixels.len()
        );
    }
    write(path, IMAGES_MAGIC, &[n, rows, cols], pixels)
}

/// Writes a label file, gzip-compressed when `path` ends in `.gz`.
pub fn write_labels(path: &Path, labels: &[u8]) -> Result<()> {
    write(path, LABELS_MAGIC, &[labels.len()], labels)
}

/// The bytes of an uncompressed IDX file (header then data).
pub fn encode(magic: u32, dims: &[usize], data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(4 + 4 * dims.len() + data.len());
    out.extend_from_slice(&magic.to_be_bytes());
    for &d in dims {
        let d = u32::try_from(d).context("IDX dimensions must fit in 32 bits")?;
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    Ok(out)
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))
}

fn write(path: &Path, magic: u32, dims: &[usize], data: &[u8]) -> Result<()> {
    let name = path.display();
    let bytes = encode(magic, dims, data).with_context(|| format!("{name}: cannot encode"))?;
    let file = File::create(path).with_context(|| format!("{name}: cannot create"))?;
    let mut w = BufWriter::new(file);
    let result = if path.extension().is_some_and(|e| e == "gz") {
        let mut gz = GzEncoder::new(&mut w, Compression::default());
        gz.write_all(&bytes).and_then(|_| gz.finish().map(|_| ()))
    } else {
        w.write_all(&bytes)
    };
    result
        .and_then(|_| w.flush())
        .with_context(|| format!("{name}: cannot write"))
}

/// Checks the header against `magic` and returns (dimensions, data).
fn parse(bytes: &[u8], name: &str, magic: u32) -> Result<(Vec<usize>, Vec<u8>)> {
    if is_gzip(bytes) {
        let mut decoder = MultiGzDecoder::new(bytes);
        let (dims, data_len) = read_header(&mut decoder, name, magic, true)?;
        let data = read_bounded(decoder, data_len, bytes.len(), name)?;
        Ok((dims, data))
    } else {
        let mut reader = bytes;
        let (dims, data_len) = read_header(&mut reader, name, magic, false)?;
        // `reader` now holds exactly the bytes after the header.
        check_len(name, data_len, reader.len() as u64)?;
        let mut data = Vec::with_capacity(reader.len());
        super::huge_pages::advise(data.spare_capacity_mut());
        data.extend_from_slice(reader);
        Ok((dims, data))
    }
}

/// Reads and checks the magic and the dimensions; returns them with the data length they imply.
fn read_header(r: &mut impl Read, name: &str, magic: u32, gz: bool) -> Result<(Vec<usize>, u64)> {
    let what = if magic == IMAGES_MAGIC {
        "image"
    } else {
        "label"
    };
    let found = read_u32(r, name, "the magic number", gz)?;
    if found >> 16 != 0 {
        bail!(
            "{name}: not an IDX file (magic number {found:#010x}, expected {magic:#010x} for an \
             IDX {what} file){}",
            if gz {
                ""
            } else {
                "; if it is compressed, it is not gzip"
            }
        );
    }
    let dtype = (found >> 8) & 0xff;
    if dtype != 0x08 {
        bail!(
            "{name}: unsupported IDX data type {dtype:#04x} (magic {found:#010x}); only unsigned \
             bytes (0x08) are supported"
        );
    }
    let ndims = (found & 0xff) as usize;
    let want = (magic & 0xff) as usize;
    if ndims != want {
        let hint = match ndims {
            1 => " (this looks like a label file)",
            3 => " (this looks like an image file)",
            _ => "",
        };
        bail!(
            "{name}: IDX header has {ndims} dimensions, an {what} file has {want} (magic \
             {found:#010x}, expected {magic:#010x}){hint}"
        );
    }
    let mut dims = Vec::with_capacity(ndims);
    let mut len: u64 = 1;
    for k in 0..ndims {
        let d = read_u32(r, name, &format!("dimension {k}"), gz)?;
        // At most three u32 factors: this cannot overflow u128, and we reject what u64 can't hold.
        len = len
            .checked_mul(d as u64)
            .with_context(|| format!("{name}: IDX dimensions are too large ({dims:?} then {d})"))?;
        dims.push(d as usize);
    }
    Ok((dims, len))
}

fn read_u32(r: &mut impl Read, name: &str, what: &str, gz: bool) -> Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            anyhow::anyhow!("{name}: truncated IDX header: file ends before {what}")
        } else if gz {
            anyhow::anyhow!("{name}: corrupt gzip data in the IDX header: {e}")
        } else {
            anyhow::anyhow!("{name}: cannot read the IDX header: {e}")
        }
    })?;
    Ok(u32::from_be_bytes(b))
}

/// Reads at most `expected + 1` bytes from a gzip stream (so trailing data is detected)
/// without trusting `expected` for the allocation.
fn read_bounded(
    decoder: impl Read,
    expected: u64,
    input_len: usize,
    name: &str,
) -> Result<Vec<u8>> {
    let cap = expected.min(input_len.saturating_mul(MAX_DEFLATE_RATIO) as u64) as usize;
    let mut data = Vec::new();
    data.try_reserve_exact(cap)
        .with_context(|| format!("{name}: cannot allocate {cap} bytes"))?;
    super::huge_pages::advise(data.spare_capacity_mut());
    decoder
        .take(expected.saturating_add(1))
        .read_to_end(&mut data)
        .with_context(|| format!("{name}: corrupt or truncated gzip data"))?;
    check_len(name, expected, data.len() as u64)?;
    Ok(data)
}

fn check_len(name: &str, expected: u64, got: u64) -> Result<()> {
    if got < expected {
        bail!("{name}: truncated: the IDX header promises {expected} data bytes, got {got}");
    }
    if got > expected {
        bail!(
            "{name}: the IDX header promises {expected} data bytes, but more follow ({} or more \
             extra)",
            got - expected
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trip_in_memory() {
        let bytes = encode(
            IMAGES_MAGIC,
            &[2, 2, 3],
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
        );
        let img = parse_images(&bytes.unwrap(), "mem").unwrap();
        assert_eq!((img.n, img.rows, img.cols), (2, 2, 3));
        assert_eq!(img.pixels, (1..=12).collect::<Vec<u8>>());
    }

    #[test]
    fn huge_header_is_rejected_without_allocating() {
        // 4 billion images of 28x28 and only 4 data bytes.
        let mut bytes = encode(IMAGES_MAGIC, &[4_000_000_000, 28, 28], &[]).unwrap();
        bytes.extend_from_slice(&[0; 4]);
        let err = parse_images(&bytes, "huge").unwrap_err().to_string();
        assert!(err.contains("truncated") && err.contains("got 4"), "{err}");
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let bytes = encode(LABELS_MAGIC, &[2], &[1, 2, 3]).unwrap();
        let err = parse_labels(&bytes, "extra").unwrap_err().to_string();
        assert!(err.contains("more follow"), "{err}");
    }

    #[test]
    fn short_header() {
        let err = parse_labels(&[0, 0, 8], "short").unwrap_err().to_string();
        assert!(err.starts_with("short: truncated IDX header"), "{err}");
    }
}
