//! npy reader/writers and the 20x20 directory loader on generated files and the real y.npy.

use digits::data::{digits5000, npy, PixelLayout, Pixels};
use std::path::{Path, PathBuf};

fn real_y() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/digits5000/y.npy")
}

/// An .npy file with any header dict (v1.0), as numpy lays it out.
fn npy_bytes(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let f = if fortran { "True" } else { "False" };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(data);
    out
}

fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn err_of<T: std::fmt::Debug>(r: anyhow::Result<T>) -> String {
    format!("{:#}", r.unwrap_err())
}

#[test]
fn real_y_npy() {
    let y = npy::read_labels(&real_y()).unwrap();
    assert_eq!(y.len(), 5000);
    for (i, &l) in y.iter().enumerate() {
        assert_eq!(l as usize, i / 500, "index {i}");
    }
    // The writer reproduces the file byte for byte.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("y.npy");
    npy::write_u8_column(&p, &y).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), std::fs::read(real_y()).unwrap());
}

#[test]
fn f64_writer_round_trip_and_header() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("X.npy");
    let data: Vec<f64> = (0..12).map(|v| v as f64 * 0.25 - 1.0).collect();
    npy::write_f64_matrix(&p, &data, 3, 4).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    assert_eq!(bytes.len(), 128 + 12 * 8);
    let header = String::from_utf8_lossy(&bytes[10..128]);
    assert!(
        header.starts_with("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"),
        "{header}"
    );
    let (v, r, c) = npy::read_f32_matrix(&p).unwrap();
    assert_eq!((r, c), (3, 4));
    assert_eq!(v, data.iter().map(|&x| x as f32).collect::<Vec<_>>());
    let err = err_of(npy::write_f64_matrix(&p, &data, 5, 4));
    assert!(err.contains("12 values do not make a 5x4 matrix"), "{err}");
}

#[test]
fn dtypes_and_orders() {
    // [[1, 2, 3], [4, 5, 6]] in each accepted dtype, C and Fortran order.
    let c_order = [1, 2, 3, 4, 5, 6];
    let f_order = [1, 4, 2, 5, 3, 6];
    let want: Vec<f32> = c_order.iter().map(|&v| v as f32).collect();
    type Enc = fn(i32) -> Vec<u8>;
    let encs: [(&str, Enc); 6] = [
        ("<f8", |v| (v as f64).to_le_bytes().to_vec()),
        ("<f4", |v| (v as f32).to_le_bytes().to_vec()),
        ("|u1", |v| vec![v as u8]),
        ("|i1", |v| vec![v as i8 as u8]),
        ("<i4", |v| v.to_le_bytes().to_vec()),
        ("<i8", |v| (v as i64).to_le_bytes().to_vec()),
    ];
    for (descr, enc) in encs {
        for (fortran, order) in [(false, c_order), (true, f_order)] {
            let data: Vec<u8> = order.iter().flat_map(|&v| enc(v)).collect();
            let b = npy_bytes(descr, fortran, "(2, 3)", &data);
            let (v, r, c) = npy::parse_f32_matrix(&b, "m").unwrap();
            assert_eq!((r, c), (2, 3), "{descr}");
            assert_eq!(v, want, "{descr} fortran={fortran}");
        }
    }
}

#[test]
fn labels_shapes_and_values() {
    let b = npy_bytes("<f8", false, "(3,)", &f64_bytes(&[1.0, 9.0, 0.0]));
    assert_eq!(npy::parse_labels(&b, "y").unwrap(), vec![1, 9, 0]);
    let b = npy_bytes(
        "<i8",
        false,
        "(2, 1)",
        &[3i64, 4].map(|v| v.to_le_bytes()).concat(),
    );
    assert_eq!(npy::parse_labels(&b, "y").unwrap(), vec![3, 4]);

    let b = npy_bytes("<f8", false, "(3,)", &f64_bytes(&[1.0, 2.5, 0.0]));
    let err = err_of(npy::parse_labels(&b, "y.npy"));
    assert_eq!(err, "y.npy: float label 2.5 at index 1 is not a digit 0..9");
    let b = npy_bytes("|u1", false, "(3, 1)", &[1, 2, 10]);
    let err = err_of(npy::parse_labels(&b, "y.npy"));
    assert_eq!(err, "y.npy: label 10 at index 2 is not a digit 0..9");
    let b = npy_bytes("|u1", false, "(1, 3)", &[1, 2, 3]);
    let err = err_of(npy::parse_labels(&b, "y.npy"));
    assert!(
        err.starts_with("y.npy: labels must have shape (n, 1) or (n,), got [1, 3]"),
        "{err}"
    );
}

#[test]
fn bad_files_name_the_problem() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"PK\x03\x04".to_vec(), "not a .npy file"),
        (b"\x93NUMPY\x01".to_vec(), "truncated .npy header"),
        (
            npy_bytes("<f8", false, "(2, 3)", &f64_bytes(&[1.0; 5])),
            "truncated: shape [2, 3] of <f8 needs 48 data bytes, got 40",
        ),
        (
            npy_bytes("<f8", false, "(2, 3)", &f64_bytes(&[1.0; 7])),
            "the file has 8 more",
        ),
        (
            npy_bytes(">f8", false, "(1, 1)", &[0; 8]),
            "big-endian dtype '>f8' is not supported",
        ),
        (
            npy_bytes("<c16", false, "(1, 1)", &[0; 16]),
            "unsupported dtype '<c16'",
        ),
        (
            npy_bytes("<f8", false, "(2, 2, 2)", &[0; 64]),
            "expected a 2-D (n, k) or 1-D (n,) array, got shape [2, 2, 2]",
        ),
        (
            // A header claiming a huge shape must not allocate it.
            npy_bytes("<f8", false, "(4000000000, 400)", &[0; 16]),
            "needs 12800000000000 data bytes, got 16",
        ),
        (
            npy_bytes("<f8", false, "(18446744073709551615, 400)", &[0; 16]),
            "is too large",
        ),
    ];
    for (bytes, want) in cases {
        let err = err_of(npy::parse_f32_matrix(&bytes, "bad.npy"));
        assert!(err.starts_with("bad.npy: "), "{err}");
        assert!(err.contains(want), "want {want:?} in {err}");
    }
    // Header length pointing past the end of the file.
    let mut b = npy_bytes("<f8", false, "(1, 1)", &[0; 8]);
    b[8] = 0xff;
    b[9] = 0xff;
    let err = err_of(npy::parse_f32_matrix(&b, "bad.npy"));
    assert!(err.starts_with("bad.npy: truncated .npy header"), "{err}");
}

#[test]
fn garbage_never_panics() {
    let good = npy_bytes("<f4", true, "(2, 3)", &[0; 24]);
    let mut x: u64 = 42;
    for k in 0..2000 {
        let mut b = good.clone();
        for _ in 0..(k % 5 + 1) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let pos = (x as usize) % b.len();
            b[pos] = (x >> 32) as u8;
        }
        b.truncate(b.len() - (k % 7));
        let _ = npy::parse_f32_matrix(&b, "g");
        let _ = npy::parse_labels(&b, "g");
    }
}

#[test]
fn digits5000_dir_checks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Missing X.npy names the path and the subset command.
    let err = err_of(digits5000::load_dir(d));
    assert!(
        err.starts_with(&d.join("X.npy").display().to_string()),
        "{err}"
    );
    assert!(err.contains("digits data subset"), "{err}");

    // Wrong width.
    npy::write_f64_matrix(&d.join("X.npy"), &[0.5; 2 * 399], 2, 399).unwrap();
    npy::write_u8_column(&d.join("y.npy"), &[1, 2]).unwrap();
    let err = err_of(digits5000::load_dir(d));
    assert!(
        err.starts_with(&d.join("X.npy").display().to_string()),
        "{err}"
    );
    assert!(
        err.contains("expected shape (n, 400)") && err.contains("(2, 399)"),
        "{err}"
    );

    // Label count differs.
    let x: Vec<f64> = (0..3 * 400).map(|v| v as f64 / 1200.0 - 0.1).collect();
    npy::write_f64_matrix(&d.join("X.npy"), &x, 3, 400).unwrap();
    let err = err_of(digits5000::load_dir(d));
    assert!(
        err.starts_with(&d.join("y.npy").display().to_string()),
        "{err}"
    );
    assert!(
        err.contains("2 labels") && err.contains("3 images"),
        "{err}"
    );

    // Wrong label shape.
    std::fs::write(
        d.join("y.npy"),
        npy_bytes("|u1", false, "(1, 3)", &[1, 2, 3]),
    )
    .unwrap();
    let err = err_of(digits5000::load_dir(d));
    assert!(
        err.starts_with(&d.join("y.npy").display().to_string()),
        "{err}"
    );
    assert!(err.contains("shape"), "{err}");

    // Good: values kept as stored (no rescaling), column-major 20x20.
    npy::write_u8_column(&d.join("y.npy"), &[7, 0, 3]).unwrap();
    let ds = digits5000::load_dir(d).unwrap();
    assert_eq!(ds.labels, vec![7, 0, 3]);
    assert_eq!(
        (ds.rows, ds.cols, ds.layout),
        (20, 20, PixelLayout::ColumnMajor)
    );
    assert_eq!(
        ds.pixels,
        Pixels::F32(x.iter().map(|&v| v as f32).collect())
    );
}
