//! Fuzzing the parsers that read outside data: IDX, npy, safetensors checkpoints (model and
//! optimizer files), encoded images, grey pixel arrays and the JSON pixel body.
//!
//! Each test starts from a valid encoding made by the crate's own writers (or the image crate's
//! encoders), corrupts it (truncation, flipped bytes, wrong magic/dtype/version, huge or zero
//! dimensions, counts that disagree, NaN and infinite payloads) and checks that the parser
//! returns a clear error (naming the input where the parser takes a name) or a sane, bounded
//! value, never panics, and never allocates more than a small multiple of the input: a
//! tracking allocator records the largest single allocation made on the parsing thread.
//!
//! `PROPTEST_CASES=N cargo test --test reliability_fuzz -- --nocapture` runs N cases per parser
//! (defaults below keep the suite fast) and prints the executions run.

use digits::data::{idx, npy};
use digits::nn::{Init, ModelSpec, Sequential};
use digits::train::checkpoint::{self, CheckpointMeta};
use digits::train::{FitConfig, Trainer};
use digits::vision::preprocess::{self, PreprocessError};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// The largest single allocation made by this thread while a closure runs.

struct Tracking;

thread_local! {
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = PEAK.try_with(|p| {
        if size > p.get() {
            p.set(size)
        }
    });
}

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note(l.size());
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note(l.size());
        System.alloc_zeroed(l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(p, l, new_size)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Runs `f`, returning its value and the largest single allocation it made on this thread.
fn largest_alloc<T>(f: impl FnOnce() -> T) -> (T, usize) {
    PEAK.with(|p| p.set(0));
    let out = f();
    (out, PEAK.with(|p| p.get()))
}

// ---------------------------------------------------------------------------------------------
// Running many cases and counting them.

/// `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Runs `body` over `cases` inputs of `strategy` (shrinking a failure to a minimal input) and
/// prints how many executions ran.
fn fuzz<S: Strategy>(
    what: &str,
    default_cases: u32,
    strategy: S,
    body: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let runs = Cell::new(0u64);
    let mut runner = TestRunner::new(Config {
        cases: cases(default_cases),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |v| {
        runs.set(runs.get() + 1);
        body(v)
    });
    println!("fuzz {what}: {} executions", runs.get());
    if let Err(e) = result {
        panic!("fuzz {what}: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Generic byte corruptions.

#[derive(Clone, Debug)]
enum Corrupt {
    None,
    /// Keep this fraction (per mille) of the bytes.
    Truncate(u16),
    /// XOR the byte at this position (per mille of the length) with a non-zero mask.
    Flip(u16, u8),
    /// Overwrite bytes at this position (per mille) with these.
    Overwrite(u16, Vec<u8>),
    Append(Vec<u8>),
}

fn corrupt() -> impl Strategy<Value = Corrupt> {
    prop_oneof![
        1 => Just(Corrupt::None),
        3 => (0u16..1000).prop_map(Corrupt::Truncate),
        3 => (0u16..1000, 1u8..=255).prop_map(|(p, m)| Corrupt::Flip(p, m)),
        2 => (0u16..1000, prop::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(p, b)| Corrupt::Overwrite(p, b)),
        1 => prop::collection::vec(any::<u8>(), 1..9).prop_map(Corrupt::Append),
    ]
}

fn at(len: usize, per_mille: u16) -> usize {
    len * per_mille as usize / 1000
}

fn apply(bytes: &mut Vec<u8>, c: &Corrupt) {
    match c {
        Corrupt::None => {}
        Corrupt::Truncate(k) => bytes.truncate(at(bytes.len(), *k)),
        Corrupt::Flip(p, m) => {
            if !bytes.is_empty() {
                let i = at(bytes.len(), *p);
                bytes[i] ^= m;
            }
        }
        Corrupt::Overwrite(p, b) => {
            let i = at(bytes.len(), *p);
            for (k, v) in b.iter().enumerate() {
                if let Some(x) = bytes.get_mut(i + k) {
                    *x = *v;
                }
            }
        }
        Corrupt::Append(b) => bytes.extend_from_slice(b),
    }
}

/// 32-bit header values that break parsers: zero, one, huge, "4 billion images".
fn header_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(1),
        Just(28),
        Just(4_000_000_000),
        Just(u32::MAX),
        Just(0x7fff_ffff),
        Just(1 << 16),
        any::<u32>(),
    ]
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A small bound on memory: a multiple of the input plus a fixed allowance.
fn check_peak(peak: usize, bound: usize, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        peak <= bound,
        "{what}: largest allocation {peak} bytes exceeds the bound {bound}"
    );
    Ok(())
}

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

// ---------------------------------------------------------------------------------------------
// safetensors checkpoints (the model file and the optimizer sidecar)

fn small_model(seed: u64) -> Sequential {
    Sequential::new(ModelSpec::mlp(12, &[5], 3), Init::KaimingUniform, seed)
}

#[derive(Clone, Debug)]
enum StEdit {
    None,
    /// The u64 header length at the start of the file.
    HeaderLen(u64),
    TensorShape(usize, Vec<usize>),
    /// Shape [a, b] -> [b, a] or flattened: the byte count still agrees.
    Transpose(usize),
    Flatten(usize),
    TensorDtype(usize, &'static str),
    Offsets(usize, u64, u64),
    Rename(usize, &'static str),
    Remove(usize),
    /// Metadata `key` set to `value` (None: removed).
    Meta(&'static str, Option<String>),
    NoMetadata,
    NonFinite(u16, f32),
}

fn huge_dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        Just(1),
        Just(3),
        Just(5),
        Just(12),
        Just(1 << 20),
        Just(1 << 32),
        Just(usize::MAX / 2),
        Just(usize::MAX),
    ]
}

fn spec_json() -> impl Strategy<Value = String> {
    prop_oneof![
        (huge_dim(), prop::collection::vec(huge_dim(), 0..4)).prop_map(|(i, l)| {
            let layers: Vec<String> = l
                .iter()
                .map(|u| format!("{{\"units\":{u},\"activation\":\"relu\"}}"))
                .collect();
            format!("{{\"input_dim\":{i},\"layers\":[{}]}}", layers.join(","))
        }),
        Just(r#"{"input_dim":12,"layers":[{"units":5,"activation":"tanh"}]}"#.to_string()),
        Just(r#"{"input_dim":-1,"layers":[]}"#.to_string()),
        Just("not json".to_string()),
        Just("[".repeat(10_000)),
    ]
}

fn st_edit() -> impl Strategy<Value = StEdit> {
    let tensor = 0usize..4;
    let text = prop_oneof![
        Just("".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        Just("0x0".to_string()),
        Just("4294967296x4294967296".to_string()),
        Just("{}".to_string()),
        Just("nan".to_string()),
        "[a-z0-9x{}\\[\\]\",:.-]{0,12}",
    ];
    prop_oneof![
        1 => Just(StEdit::None),
        2 => prop_oneof![
            Just(0u64), Just(1), Just(7), Just(u64::MAX), Just(1 << 40), Just(u32::MAX as u64),
            0u64..2000,
        ].prop_map(StEdit::HeaderLen),
        2 => (tensor.clone(), prop::collection::vec(huge_dim(), 0..4))
            .prop_map(|(t, s)| StEdit::TensorShape(t, s)),
        1 => tensor.clone().prop_map(StEdit::Transpose),
        1 => tensor.clone().prop_map(StEdit::Flatten),
        2 => (tensor.clone(), prop::sample::select(vec![
            "F64", "F16", "BF16", "I32", "U8", "BOOL", "F32", "F8_E4M3", "XYZ",
        ])).prop_map(|(t, d)| StEdit::TensorDtype(t, d)),
        1 => (tensor.clone(), prop_oneof![Just(0u64), Just(u64::MAX), 0u64..400],
              prop_oneof![Just(0u64), Just(u64::MAX), 0u64..400])
            .prop_map(|(t, a, b)| StEdit::Offsets(t, a, b)),
        1 => (tensor.clone(), prop::sample::select(vec![
            "model.9.weight", "model.1.weight", "optimizer.m", "0.weight", "model.0.bias",
            "model.x.weight", "adam.m",
        ])).prop_map(|(t, n)| StEdit::Rename(t, n)),
        1 => tensor.prop_map(StEdit::Remove),
        3 => spec_json().prop_map(|s| StEdit::Meta("digits.spec", Some(s))),
        3 => (prop::sample::select(vec![
            "digits.spec", "digits.scale", "digits.dataset", "digits.image", "digits.layout",
            "digits.epoch", "digits.global_step", "digits.fit_config", "digits.history",
            "format", "digits.kind", "digits.adam.t", "digits.adam.lr", "digits.model_crc32c",
        ]), prop::option::weighted(0.8, text))
            .prop_map(|(k, v)| StEdit::Meta(k, v)),
        1 => Just(StEdit::NoMetadata),
        2 => (0u16..1000, prop::sample::select(vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY]))
            .prop_map(|(p, v)| StEdit::NonFinite(p, v)),
    ]
}

/// Applies a structural edit to a safetensors file: its JSON header is rewritten (padded to 8
/// bytes as safetensors writes it), the data kept.
fn edit_safetensors(bytes: &[u8], edit: &StEdit) -> Vec<u8> {
    use serde_json::{json, Value};
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Map<String, Value> =
        serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let mut data = bytes[8 + n..].to_vec();
    let mut names: Vec<String> = header
        .keys()
        .filter(|k| *k != "__metadata__")
        .cloned()
        .collect();
    names.sort();
    let name = |t: usize| names[t % names.len()].clone();
    match edit {
        StEdit::None => {}
        StEdit::HeaderLen(v) => {
            let mut out = bytes.to_vec();
            out[..8].copy_from_slice(&v.to_le_bytes());
            return out;
        }
        StEdit::TensorShape(t, s) => header[&name(*t)]["shape"] = json!(s),
        StEdit::Transpose(t) | StEdit::Flatten(t) => {
            let shape: Vec<u64> =
                serde_json::from_value(header[&name(*t)]["shape"].clone()).unwrap_or_default();
            let new = if matches!(edit, StEdit::Flatten(_)) {
                vec![shape.iter().product::<u64>()]
            } else {
                shape.iter().rev().copied().collect()
            };
            header[&name(*t)]["shape"] = json!(new);
        }
        StEdit::TensorDtype(t, d) => header[&name(*t)]["dtype"] = json!(d),
        StEdit::Offsets(t, a, b) => header[&name(*t)]["data_offsets"] = json!([a, b]),
        StEdit::Rename(t, new) => {
            let v = header.remove(&name(*t)).unwrap();
            header.insert(new.to_string(), v);
        }
        StEdit::Remove(t) => {
            header.remove(&name(*t));
        }
        StEdit::Meta(k, v) => {
            let meta = header
                .entry("__metadata__")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .unwrap();
            match v {
                Some(v) => meta.insert(k.to_string(), json!(v)),
                None => meta.remove(*k),
            };
        }
        StEdit::NoMetadata => {
            header.remove("__metadata__");
        }
        StEdit::NonFinite(p, v) => {
            let i = at(data.len() / 4, *p) * 4;
            if i + 4 <= data.len() {
                data[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
    }
    let mut h = serde_json::to_vec(&header).unwrap();
    while !h.len().is_multiple_of(8) {
        h.push(b' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&h);
    out.extend_from_slice(&data);
    out
}

fn st_case() -> impl Strategy<Value = (StEdit, Corrupt)> {
    (
        st_edit(),
        prop_oneof![3 => Just(Corrupt::None), 1 => corrupt()],
    )
}

/// Checks a loaded checkpoint is sane and bounded by the file, or the error names the file.
fn check_loaded(
    r: anyhow::Result<checkpoint::Checkpoint>,
    file_len: usize,
    file_name: &str,
    intact: bool,
) -> Result<(), TestCaseError> {
    match r {
        Ok(c) => {
            let params = c.model.params();
            prop_assert!(4 * params.len() <= file_len, "{} params", params.len());
            prop_assert!(params.iter().all(|x| x.is_finite()));
        }
        Err(e) => {
            let m = format!("{e:#}");
            prop_assert!(!intact, "valid checkpoint refused: {m}");
            prop_assert!(
                m.contains(file_name),
                "the error does not name the file: {m}"
            );
        }
    }
    Ok(())
}

#[test]
fn fuzz_safetensors_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.safetensors");
    let model = small_model(1);
    let meta = CheckpointMeta::default().with_dataset(digits::data::DatasetKind::Mnist, 28, 28);
    checkpoint::save(&path, &model, &meta, None).unwrap();
    let valid = std::fs::read(&path).unwrap();
    let (_, peak) = largest_alloc(|| checkpoint::load(&path).unwrap());
    println!(
        "a valid {}-byte checkpoint loads with a largest allocation of {peak} bytes",
        valid.len()
    );
    fuzz("safetensors model file", 1000, st_case(), |(edit, c)| {
        let mut bytes = edit_safetensors(&valid, &edit);
        apply(&mut bytes, &c);
        std::fs::write(&path, &bytes).unwrap();
        let intact = matches!(edit, StEdit::None) && matches!(c, Corrupt::None);
        let (r, peak) = largest_alloc(|| checkpoint::load(&path));
        check_peak(peak, 4 * bytes.len() + (256 << 10), "checkpoint::load")?;
        if let (Ok(c), true) = (&r, intact) {
            prop_assert_eq!(&c.model, &model);
        }
        check_loaded(r, bytes.len(), "fuzz.safetensors", intact)
    });
}

#[test]
fn fuzz_optimizer_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.safetensors");
    let optim = checkpoint::optim_path(&path);
    let model = small_model(2);
    let config = FitConfig {
        epochs: 2,
        threads: 1,
        ..FitConfig::default()
    };
    let trainer = Trainer::new(&model, config.clone());
    checkpoint::save(&path, &model, &CheckpointMeta::default(), Some(&trainer)).unwrap();
    let valid = std::fs::read(&optim).unwrap();
    fuzz("safetensors optimizer file", 500, st_case(), |(edit, c)| {
        let mut bytes = edit_safetensors(&valid, &edit);
        apply(&mut bytes, &c);
        std::fs::write(&optim, &bytes).unwrap();
        let intact = matches!(edit, StEdit::None) && matches!(c, Corrupt::None);
        let (r, peak) = largest_alloc(|| checkpoint::resume(&path, config.clone()));
        check_peak(peak, 4 * bytes.len() + (256 << 10), "checkpoint::resume")?;
        match r {
            Ok(r) => {
                prop_assert_eq!(r.trainer.adam.m.len(), model.params().len());
                prop_assert!(r.trainer.adam.m.iter().all(|x| x.is_finite()));
                prop_assert!(r.trainer.adam.v.iter().all(|x| x.is_finite()));
            }
            Err(e) => {
                let m = format!("{e:#}");
                prop_assert!(!intact, "valid optimizer file refused: {m}");
                prop_assert!(m.contains("run.optim.safetensors"), "{m}");
            }
        }
        Ok(())
    });
}

#[test]
fn a_checkpoint_whose_metadata_claims_a_huge_model_is_refused_without_allocating_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.safetensors");
    checkpoint::save(&path, &small_model(3), &CheckpointMeta::default(), None).unwrap();
    let valid = std::fs::read(&path).unwrap();
    for spec in [
        // 2^40 parameters (4 TiB) claimed by a file of a few hundred bytes.
        r#"{"input_dim":1048576,"layers":[{"units":1048576,"activation":"relu"},{"units":3,"activation":"linear"}]}"#,
        // Sizes whose product overflows usize.
        r#"{"input_dim":18446744073709551615,"layers":[{"units":18446744073709551615,"activation":"relu"},{"units":3,"activation":"linear"}]}"#,
    ] {
        let bytes = edit_safetensors(&valid, &StEdit::Meta("digits.spec", Some(spec.into())));
        std::fs::write(&path, &bytes).unwrap();
        let (r, peak) = largest_alloc(|| checkpoint::load(&path));
        let e = format!("{:#}", r.unwrap_err());
        assert!(
            // Refused by the tensor shapes, or by the layer walk when the sizes overflow.
            e.contains("huge.safetensors") && (e.contains("has shape") || e.contains("overflows")),
            "{spec}: {e}"
        );
        assert!(peak < 1 << 20, "{spec}: allocated {peak} bytes");
    }
}

// ---------------------------------------------------------------------------------------------
// Encoded images (PNG, JPEG, BMP)

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
        0usize..3,
        prop_oneof![
            1 => Just(ImgEdit::None),
            2 => (dim.clone(), dim, any::<bool>()).prop_map(|(w, h, crc)| ImgEdit::Dims(w, h, crc)),
            1 => prop::sample::select(vec![0u16, 1, 7, 33, 64, 65535]).prop_map(ImgEdit::BmpBits),
        ],
        prop_oneof![2 => Just(Corrupt::None), 3 => corrupt()],
    )
}

/// A 28x28 "1": a vertical bar, as PNG, JPEG and BMP.
fn encoded_digits() -> Vec<Vec<u8>> {
    let img = image::GrayImage::from_fn(28, 28, |x, y| {
        image::Luma([if (12..16).contains(&x) && (4..24).contains(&y) {
            255
        } else {
            0
        }])
    });
    let img = image::DynamicImage::ImageLuma8(img);
    [
        image::ImageFormat::Png,
        image::ImageFormat::Jpeg,
        image::ImageFormat::Bmp,
    ]
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
        _ if bytes.len() >= 26 => {
            // BMP: BITMAPINFOHEADER width, height (i32 LE; negative height = top-down).
            bytes[18..22].copy_from_slice(&w.to_le_bytes());
            bytes[22..26].copy_from_slice(&h.to_le_bytes());
        }
        _ => {}
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
