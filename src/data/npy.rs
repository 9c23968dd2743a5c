//! NumPy `.npy` files: a small checked reader for 1-D/2-D numeric arrays and two writers.
//!
//! Format: `\x93NUMPY`, version (major, minor), header length (u16 LE for 1.x, u32 LE for 2.x
//! and 3.x), then a Python dict literal such as
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (5000, 400), }` padded with spaces and a
//! newline, then the data. The header is parsed here directly: it is small, and this keeps the
//! error messages specific (file, then what is wrong).

use anyhow::{bail, Context, Result};
use std::path::Path;

const MAGIC: &[u8] = b"\x93NUMPY";

/// Element types this reader accepts (all little-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F8,
    F4,
    U1,
    I1,
    I4,
    I8,
}

impl Dtype {
    fn from_descr(descr: &str, name: &str) -> Result<Dtype> {
        let d = match descr {
            "<f8" => Dtype::F8,
            "<f4" => Dtype::F4,
            "|u1" | "<u1" => Dtype::U1,
            "|i1" | "<i1" => Dtype::I1,
            "<i4" => Dtype::I4,
            "<i8" => Dtype::I8,
            d if d.starts_with('>') => {
                bail!("{name}: big-endian dtype '{d}' is not supported (save it little-endian)")
            }
            d => bail!(
                "{name}: unsupported dtype '{d}' (expected one of <f8, <f4, |u1, |i1, <i4, <i8)"
            ),
        };
        Ok(d)
    }

    pub fn size(self) -> usize {
        match self {
            Dtype::U1 | Dtype::I1 => 1,
            Dtype::F4 | Dtype::I4 => 4,
            Dtype::F8 | Dtype::I8 => 8,
        }
    }

    fn is_float(self) -> bool {
        matches!(self, Dtype::F4 | Dtype::F8)
    }

    /// Element `k` of `data` as f64 (exact for every accepted type but i8 beyond 2^53).
    fn get(self, data: &[u8], k: usize) -> f64 {
        let s = self.size();
        let b = &data[k * s..(k + 1) * s];
        match self {
            Dtype::F8 => f64::from_le_bytes(b.try_into().unwrap()),
            Dtype::F4 => f32::from_le_bytes(b.try_into().unwrap()) as f64,
            Dtype::U1 => b[0] as f64,
            Dtype::I1 => b[0] as i8 as f64,
            Dtype::I4 => i32::from_le_bytes(b.try_into().unwrap()) as f64,
            Dtype::I8 => i64::from_le_bytes(b.try_into().unwrap()) as f64,
        }
    }
}

/// A parsed `.npy` array: dtype, shape, memory order, and its raw data bytes (length checked).
#[derive(Debug)]
pub struct Array<'a> {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub fortran_order: bool,
    pub data: &'a [u8],
}

impl Array<'_> {
    /// Element (i, j) of a 1-D or 2-D array (a 1-D array is a column), as f64.
    fn at(&self, i: usize, j: usize) -> f64 {
        let (rows, cols) = self.rows_cols();
        let k = if self.fortran_order {
            j * rows + i
        } else {
            i * cols + j
        };
        self.dtype.get(self.data, k)
    }

    fn rows_cols(&self) -> (usize, usize) {
        match self.shape[..] {
            [n] => (n, 1),
            [n, k] => (n, k),
            _ => unreachable!("shape checked by the callers"),
        }
    }
}

/// Parses the header of `bytes` and checks that the data length matches the shape exactly.
pub fn parse<'a>(bytes: &'a [u8], name: &str) -> Result<Array<'a>> {
    if !bytes.starts_with(MAGIC) {
        bail!("{name}: not a .npy file (it does not start with \\x93NUMPY)");
    }
    let (header_len, start): (usize, usize) = match bytes.get(6) {
        Some(1) if bytes.len() >= 10 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        Some(2) | Some(3) if bytes.len() >= 12 => (
            u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize,
            12,
        ),
        Some(1..=3) => bail!("{name}: truncated .npy header"),
        Some(v) => bail!("{name}: unsupported .npy format version {v}"),
        None => bail!("{name}: truncated .npy header"),
    };
    let header = bytes
        .get(start..start.saturating_add(header_len))
        .with_context(|| {
            format!(
                "{name}: truncated .npy header (it claims {header_len} bytes, the file has {})",
                bytes.len() - start
            )
        })?;
    let header = std::str::from_utf8(header)
        .map_err(|_| anyhow::anyhow!("{name}: .npy header is not text"))?;
    let descr = dict_value(header, "descr", name)?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .with_context(|| format!("{name}: unsupported .npy dtype {descr} (not a simple type)"))?;
    let dtype = Dtype::from_descr(descr, name)?;
    let fortran_order = match dict_value(header, "fortran_order", name)? {
        v if v.starts_with("True") => true,
        v if v.starts_with("False") => false,
        v => bail!("{name}: bad fortran_order in .npy header: {v}"),
    };
    let shape = parse_shape(dict_value(header, "shape", name)?, name)?;
    let data = &bytes[start + header_len..];
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .and_then(|c| c.checked_mul(dtype.size()))
        .with_context(|| format!("{name}: shape {shape:?} is too large"))?;
    if data.len() < count {
        bail!(
            "{name}: truncated: shape {shape:?} of {descr} needs {count} data bytes, got {}",
            data.len()
        );
    }
    if data.len() > count {
        bail!(
            "{name}: shape {shape:?} of {descr} needs {count} data bytes, but the file has {} \
             more",
            data.len() - count
        );
    }
    Ok(Array {
        dtype,
        shape,
        fortran_order,
        data,
    })
}

/// The text after `'key':` in the header dict, trimmed at the start.
fn dict_value<'h>(header: &'h str, key: &str, name: &str) -> Result<&'h str> {
    let pat = format!("'{key}'");
    let k = header
        .find(&pat)
        .with_context(|| format!("{name}: .npy header has no '{key}': {}", header.trim()))?;
    let rest = header[k + pat.len()..].trim_start();
    let rest = rest
        .strip_prefix(':')
        .with_context(|| format!("{name}: malformed .npy header: {}", header.trim()))?;
    Ok(rest.trim_start())
}

/// `(5000, 400)`, `(5000,)` or `()` at the start of `v`.
fn parse_shape(v: &str, name: &str) -> Result<Vec<usize>> {
    let inner = v
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .with_context(|| format!("{name}: malformed shape in .npy header: {v}"))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse::<usize>()
                .with_context(|| format!("{name}: bad dimension '{s}' in .npy shape ({inner})"))
        })
        .collect()
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))
}

/// Reads a (n, k) or (n,) numeric array as row-major f32 values: (values, rows, cols).
pub fn read_f32_matrix(path: &Path) -> Result<(Vec<f32>, usize, usize)> {
    parse_f32_matrix(&read(path)?, &path.display().to_string())
}

/// [`read_f32_matrix`] from the bytes of a file; `name` starts every error message.
pub fn parse_f32_matrix(bytes: &[u8], name: &str) -> Result<(Vec<f32>, usize, usize)> {
    let a = parse(bytes, name)?;
    if !(1..=2).contains(&a.shape.len()) {
        bail!(
            "{name}: expected a 2-D (n, k) or 1-D (n,) array, got shape {:?}",
            a.shape
        );
    }
    let (rows, cols) = a.rows_cols();
    if rows == 0 || cols == 0 {
        // No data; also avoids looping over a huge claimed dimension times zero.
        return Ok((Vec::new(), rows, cols));
    }
    let mut out = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        for j in 0..cols {
            out.push(a.at(i, j) as f32);
        }
    }
    Ok((out, rows, cols))
}

/// Reads labels 0..=9 from an integer or float array of shape (n, 1) or (n,).
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    parse_labels(&read(path)?, &path.display().to_string())
}

/// [`read_labels`] from the bytes of a file; `name` starts every error message.
pub fn parse_labels(bytes: &[u8], name: &str) -> Result<Vec<u8>> {
    let a = parse(bytes, name)?;
    let n = match a.shape[..] {
        [n] | [n, 1] => n,
        _ => bail!(
            "{name}: labels must have shape (n, 1) or (n,), got {:?}",
            a.shape
        ),
    };
    (0..n)
        .map(|i| {
            let v = a.at(i, 0);
            if v.fract() == 0.0 && (0.0..=9.0).contains(&v) {
                Ok(v as u8)
            } else {
                let kind = if a.dtype.is_float() { "float " } else { "" };
                bail!("{name}: {kind}label {v} at index {i} is not a digit 0..9")
            }
        })
        .collect()
}

/// The header block (magic, version 1.0, dict, padding to 64 bytes) numpy writes.
fn header(descr: &str, shape: &str) -> Vec<u8> {
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let unpadded = MAGIC.len() + 4 + dict.len() + 1;
    let total = unpadded.div_ceil(64) * 64;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out
}

/// Writes a (rows, cols) C-order `<f8` array, as `np.save` would.
pub fn write_f64_matrix(path: &Path, data: &[f64], rows: usize, cols: usize) -> Result<()> {
    if rows.checked_mul(cols) != Some(data.len()) {
        bail!(
            "{}: {} values do not make a {rows}x{cols} matrix",
            path.display(),
            data.len()
        );
    }
    let mut out = header("<f8", &format!("({rows}, {cols})"));
    out.reserve(data.len() * 8);
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, out).with_context(|| format!("{}: cannot write", path.display()))
}

/// Writes an (n, 1) `|u1` column, as `np.save` would.
pub fn write_u8_column(path: &Path, labels: &[u8]) -> Result<()> {
    let mut out = header("|u1", &format!("({}, 1)", labels.len()));
    out.extend_from_slice(labels);
    std::fs::write(path, out).with_context(|| format!("{}: cannot write", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let f = if fortran { "True" } else { "False" };
        let dict = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}\n");
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn fortran_order_is_transposed_to_row_major() {
        // Matrix [[1, 2, 3], [4, 5, 6]] stored column by column.
        let data: Vec<u8> = [1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let (v, r, c) = parse_f32_matrix(&npy("<f4", true, "(2, 3)", &data), "f").unwrap();
        assert_eq!((r, c), (2, 3));
        assert_eq!(v, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let (v, _, _) = parse_f32_matrix(&npy("<f4", false, "(2, 3)", &data), "c").unwrap();
        assert_eq!(v, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }

    #[test]
    fn integer_dtypes_and_1d() {
        let data: Vec<u8> = [-3i64, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
        let (v, r, c) = parse_f32_matrix(&npy("<i8", false, "(2,)", &data), "i8").unwrap();
        assert_eq!((v, r, c), (vec![-3.0, 7.0], 2, 1));
        let data: Vec<u8> = [9i32, 0].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            parse_labels(&npy("<i4", false, "(2, 1)", &data), "i4").unwrap(),
            vec![9, 0]
        );
    }

    #[test]
    fn empty_shape_with_huge_dimension_returns_at_once() {
        let b = npy("<f8", false, "(18446744073709551615, 0)", &[]);
        let (v, r, c) = parse_f32_matrix(&b, "e").unwrap();
        assert_eq!((v.len(), r, c), (0, usize::MAX, 0));
    }

    #[test]
    fn header_is_numpy_aligned() {
        let h = header("|u1", "(5000, 1)");
        assert_eq!(h.len(), 128);
        assert_eq!(&h[8..10], &118u16.to_le_bytes());
    }
}
