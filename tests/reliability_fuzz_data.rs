//! Fuzzing the parsers that read outside data files: IDX (raw or gzip) and npy.
//!
//! Each test starts from a valid encoding made by the crate's own writers (or the image crate's
//! encoders), corrupts it (truncation, flipped bytes, wrong magic/dtype/version, huge or zero
//! dimensions, counts that disagree, NaN and infinite payloads) and checks that the parser
//! returns a clear error (naming the input where the parser takes a name) or a sane, bounded
//! value, never panics, and never allocates more than a small multiple of the input: a
//! tracking allocator (`fuzz_support`) records the largest single allocation made on the
//! parsing thread.
//!
//! `PROPTEST_CASES=N cargo test --test reliability_fuzz_data -- --nocapture` runs N cases per parser
//! (defaults below keep the suite fast) and prints the executions run.

mod fuzz_support;

use digits::data::{idx, npy};
use fuzz_support::*;
use proptest::prelude::*;
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// IDX

#[derive(Clone, Debug)]
struct IdxCase {
    labels: bool,
    dims: [usize; 3],
    data: Vec<u8>,
    /// Header word to replace (0 = magic, 1.. = dimensions) and its new value.
    word: Option<(usize, u32)>,
    raw_corrupt: Corrupt,
    gz: bool,
    gz_corrupt: Corrupt,
}

fn idx_case() -> impl Strategy<Value = IdxCase> {
    (
        any::<bool>(),
        0usize..6,
        0usize..5,
        0usize..5,
        prop::option::weighted(0.4, (0usize..4, header_u32())),
        corrupt(),
        any::<bool>(),
        prop_oneof![3 => Just(Corrupt::None), 1 => corrupt()],
        any::<u64>(),
    )
        .prop_map(
            |(labels, n, r, c, word, raw_corrupt, gz, gz_corrupt, seed)| {
                let dims = if labels { [n, 0, 0] } else { [n, r, c] };
                let len = if labels { n } else { n * r * c };
                let data = (0..len as u64)
                    .map(|i| (seed.wrapping_mul(i + 1) >> 13) as u8)
                    .collect();
                IdxCase {
                    labels,
                    dims,
                    data,
                    word,
                    raw_corrupt,
                    gz,
                    gz_corrupt,
                }
            },
        )
}

#[test]
fn fuzz_idx_images_and_labels() {
    fuzz("IDX", 1000, idx_case(), |c| {
        let (magic, dims) = if c.labels {
            (idx::LABELS_MAGIC, &c.dims[..1])
        } else {
            (idx::IMAGES_MAGIC, &c.dims[..])
        };
        let mut bytes = idx::encode(magic, dims, &c.data).unwrap();
        let intact = c.word.is_none() && matches!(c.raw_corrupt, Corrupt::None);
        if let Some((w, v)) = c.word {
            if 4 * w + 4 <= bytes.len() {
                bytes[4 * w..4 * w + 4].copy_from_slice(&v.to_be_bytes());
            }
        }
        apply(&mut bytes, &c.raw_corrupt);
        if c.gz {
            bytes = gzip(&bytes);
            apply(&mut bytes, &c.gz_corrupt);
        }
        let intact = intact && (!c.gz || matches!(c.gz_corrupt, Corrupt::None));
        let name = "fuzz.idx";
        let bound = 2048 * bytes.len() + 64 * 1024;
        if c.labels {
            let (r, peak) = largest_alloc(|| idx::parse_labels(&bytes, name));
            check_peak(peak, bound, "IDX labels")?;
            match r {
                Ok(l) => {
                    prop_assert!(l.len() <= 1032 * bytes.len());
                    if intact {
                        prop_assert_eq!(l, c.data);
                    }
                }
                Err(e) => {
                    prop_assert!(!intact, "valid labels refused: {e:#}");
                    let m = format!("{e:#}");
                    prop_assert!(m.starts_with("fuzz.idx: "), "{m}");
                }
            }
        } else {
            let (r, peak) = largest_alloc(|| idx::parse_images(&bytes, name));
            check_peak(peak, bound, "IDX images")?;
            match r {
                Ok(img) => {
                    prop_assert_eq!(img.pixels.len(), img.n * img.rows * img.cols);
                    prop_assert!(img.n == 0 || img.rows * img.cols > 0);
                    if intact {
                        prop_assert_eq!(
                            (img.n, img.rows, img.cols),
                            (c.dims[0], c.dims[1], c.dims[2])
                        );
                        prop_assert_eq!(img.pixels, c.data);
                    }
                }
                Err(e) => {
                    let m = format!("{e:#}");
                    // A valid header with rows or cols 0 and images is refused on purpose.
                    let no_pixels = c.dims[0] > 0 && c.dims[1] * c.dims[2] == 0;
                    prop_assert!(!intact || no_pixels, "valid images refused: {m}");
                    prop_assert!(m.starts_with("fuzz.idx: "), "{m}");
                }
            }
        }
        Ok(())
    });
}

#[test]
fn idx_headers_claiming_four_billion_images_fail_at_once() {
    for (magic, dims) in [
        (idx::IMAGES_MAGIC, vec![4_000_000_000usize, 28, 28]),
        (idx::IMAGES_MAGIC, vec![u32::MAX as usize; 3]),
        (idx::LABELS_MAGIC, vec![4_000_000_000]),
    ] {
        let mut raw = idx::encode(magic, &dims, &[]).unwrap();
        raw.extend_from_slice(&[7; 100]);
        for (kind, bytes) in [("raw", raw.clone()), ("gzip", gzip(&raw))] {
            let (r, peak) = largest_alloc(|| {
                if magic == idx::LABELS_MAGIC {
                    idx::parse_labels(&bytes, "huge").map(|_| ())
                } else {
                    idx::parse_images(&bytes, "huge").map(|_| ())
                }
            });
            let e = format!("{:#}", r.unwrap_err());
            let why = (e.contains("truncated") && e.contains("got 100"))
                || e.contains("dimensions are too large");
            assert!(e.starts_with("huge: ") && why, "{kind} {dims:?}: {e}");
            assert!(peak < 1 << 20, "{kind} {dims:?}: allocated {peak} bytes");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// npy

#[derive(Clone, Debug)]
enum NpyEdit {
    None,
    Descr(&'static str),
    Shape(String),
    Fortran(&'static str),
    Version(u8),
    HeaderLen(u32),
    /// Overwrite the value at this element index (per mille) with NaN or an infinity.
    NonFinite(u16, f64),
}

fn npy_edit() -> impl Strategy<Value = NpyEdit> {
    let dim = prop_oneof![
        Just("0".to_string()),
        Just("1".to_string()),
        Just("4294967296".to_string()),
        Just("18446744073709551615".to_string()),
        Just("18446744073709551616".to_string()),
        Just("-1".to_string()),
        Just("400L".to_string()),
        (0usize..50).prop_map(|d| d.to_string()),
    ];
    prop_oneof![
        1 => Just(NpyEdit::None),
        2 => prop::sample::select(vec![
            "<f8", "<f4", "|u1", "<i4", "<i8", "|i1", ">f8", ">i4", "<c16", "<U3", "|b1",
            "<f2", "O", "",
        ])
        .prop_map(NpyEdit::Descr),
        3 => prop::collection::vec(dim, 0..4).prop_map(|d| {
            NpyEdit::Shape(match d.len() {
                1 => format!("({},)", d[0]),
                _ => format!("({})", d.join(", ")),
            })
        }),
        1 => prop::sample::select(vec!["True", "False", "maybe", ""]).prop_map(NpyEdit::Fortran),
        1 => prop::sample::select(vec![0u8, 1, 2, 3, 4, 255]).prop_map(NpyEdit::Version),
        1 => header_u32().prop_map(NpyEdit::HeaderLen),
        2 => (0u16..1000, prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300]))
            .prop_map(|(p, v)| NpyEdit::NonFinite(p, v)),
    ]
}

#[derive(Clone, Debug)]
struct NpyCase {
    labels: bool,
    rows: usize,
    cols: usize,
    seed: u64,
    edit: NpyEdit,
    corrupt: Corrupt,
}

fn npy_case() -> impl Strategy<Value = NpyCase> {
    (
        any::<bool>(),
        0usize..8,
        1usize..6,
        any::<u64>(),
        npy_edit(),
        prop_oneof![2 => Just(Corrupt::None), 1 => corrupt()],
    )
        .prop_map(|(labels, rows, cols, seed, edit, corrupt)| NpyCase {
            labels,
            rows,
            cols,
            seed,
            edit,
            corrupt,
        })
}

/// The bytes the crate's writers produce (they write to a path).
fn npy_bytes(dir: &Path, c: &NpyCase) -> (Vec<u8>, Vec<f64>, Vec<u8>) {
    let path = dir.join("case.npy");
    let labels: Vec<u8> = (0..c.rows as u64)
        .map(|i| (c.seed.wrapping_add(i * 7) % 10) as u8)
        .collect();
    let values: Vec<f64> = (0..(c.rows * c.cols) as u64)
        .map(|i| (c.seed.wrapping_mul(i + 3) % 256) as f64 / 255.0)
        .collect();
    if c.labels {
        npy::write_u8_column(&path, &labels).unwrap();
    } else {
        npy::write_f64_matrix(&path, &values, c.rows, c.cols).unwrap();
    }
    (std::fs::read(&path).unwrap(), values, labels)
}

/// Replaces `'key': value` in the header dict, keeping the header length field right.
fn edit_header(bytes: &[u8], key: &str, value: &str) -> Vec<u8> {
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + hlen]).unwrap();
    let start = header.find(&format!("'{key}': ")).unwrap() + key.len() + 4;
    let end = if key == "shape" {
        start + header[start..].find(')').unwrap() + 1
    } else {
        start + header[start..].find(',').unwrap()
    };
    let new_header = format!("{}{value}{}", &header[..start], &header[end..]);
    let mut out = bytes[..8].to_vec();
    out.extend_from_slice(&(new_header.len() as u16).to_le_bytes());
    out.extend_from_slice(new_header.as_bytes());
    out.extend_from_slice(&bytes[10 + hlen..]);
    out
}

#[test]
fn fuzz_npy_matrices_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    fuzz("npy", 1000, npy_case(), |c| {
        let (mut bytes, values, labels) = npy_bytes(dir.path(), &c);
        let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let data_start = 10 + hlen;
        let mut non_finite = false;
        match &c.edit {
            NpyEdit::None => {}
            NpyEdit::Descr(d) => bytes = edit_header(&bytes, "descr", &format!("'{d}'")),
            NpyEdit::Shape(s) => bytes = edit_header(&bytes, "shape", s),
            NpyEdit::Fortran(f) => bytes = edit_header(&bytes, "fortran_order", f),
            NpyEdit::Version(v) => bytes[6] = *v,
            NpyEdit::HeaderLen(v) => {
                bytes[8..10].copy_from_slice(&(*v as u16).to_le_bytes());
            }
            NpyEdit::NonFinite(p, v) => {
                if !c.labels && !values.is_empty() {
                    let i = at(values.len(), *p);
                    let o = data_start + 8 * i;
                    bytes[o..o + 8].copy_from_slice(&v.to_le_bytes());
                    non_finite = !v.is_finite();
                } else if c.labels && !labels.is_empty() {
                    bytes[data_start + at(labels.len(), *p)] = 200;
                }
            }
        }
        apply(&mut bytes, &c.corrupt);
        let intact = matches!(c.edit, NpyEdit::None) && matches!(c.corrupt, Corrupt::None);
        let bound = 8 * bytes.len() + 64 * 1024;
        let (m, peak) = largest_alloc(|| npy::parse_f32_matrix(&bytes, "fuzz.npy"));
        check_peak(peak, bound, "npy matrix")?;
        match m {
            Ok((v, r, k)) => {
                prop_assert_eq!(v.len(), if r == 0 || k == 0 { 0 } else { r * k });
                prop_assert!(v.len() <= bytes.len());
                if intact && !c.labels {
                    prop_assert_eq!((r, k), (c.rows, c.cols));
                    let want: Vec<f32> = values.iter().map(|&x| x as f32).collect();
                    prop_assert_eq!(&v, &want);
                }
                if non_finite && matches!(c.corrupt, Corrupt::None) {
                    prop_assert!(v.iter().any(|x| !x.is_finite()), "the NaN/inf is kept");
                }
            }
            Err(e) => {
                let m = format!("{e:#}");
                prop_assert!(!intact, "valid npy refused: {m}");
                prop_assert!(m.starts_with("fuzz.npy: "), "{m}");
            }
        }
        let (l, peak) = largest_alloc(|| npy::parse_labels(&bytes, "fuzz.npy"));
        check_peak(peak, bound, "npy labels")?;
        match l {
            Ok(l) => {
                prop_assert!(l.iter().all(|&d| d <= 9));
                prop_assert!(l.len() <= bytes.len());
                prop_assert!(
                    !non_finite || !matches!(c.corrupt, Corrupt::None),
                    "NaN/inf labels must be refused"
                );
                if intact && c.labels {
                    prop_assert_eq!(l, labels);
                }
            }
            Err(e) => {
                let m = format!("{e:#}");
                prop_assert!(!(intact && c.labels), "valid labels refused: {m}");
                prop_assert!(m.starts_with("fuzz.npy: "), "{m}");
            }
        }
        Ok(())
    });
}
