//! IDX readers and writers, and the MNIST directory loader, on small generated files.

use digits::data::idx::{self, IMAGES_MAGIC, LABELS_MAGIC};
use digits::data::{mnist, Pixels};
use std::io::Write;
use std::path::{Path, PathBuf};

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A small valid MNIST-like directory: 3 train and 2 test images of 2x2.
fn small_mnist(dir: &Path, gzip: bool) {
    let sfx = if gzip { ".gz" } else { "" };
    let enc = |m, d: &[usize], data: &[u8]| {
        let b = idx::encode(m, d, data).unwrap();
        if gzip {
            gz(&b)
        } else {
            b
        }
    };
    let train_px: Vec<u8> = (0..12).collect();
    put(
        dir,
        &format!("train-images-idx3-ubyte{sfx}"),
        &enc(IMAGES_MAGIC, &[3, 2, 2], &train_px),
    );
    put(
        dir,
        &format!("train-labels-idx1-ubyte{sfx}"),
        &enc(LABELS_MAGIC, &[3], &[5, 0, 4]),
    );
    put(
        dir,
        &format!("t10k-images-idx3-ubyte{sfx}"),
        &enc(IMAGES_MAGIC, &[2, 2, 2], &[9; 8]),
    );
    put(
        dir,
        &format!("t10k-labels-idx1-ubyte{sfx}"),
        &enc(LABELS_MAGIC, &[2], &[7, 2]),
    );
}

fn err_of<T: std::fmt::Debug>(r: anyhow::Result<T>) -> String {
    format!("{:#}", r.unwrap_err())
}

#[test]
fn writers_round_trip_raw_and_gz() {
    let dir = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..3 * 4 * 5).map(|v| (v * 7 % 256) as u8).collect();
    for name in ["imgs", "imgs.gz"] {
        let p = dir.path().join(name);
        idx::write_images(&p, &pixels, 3, 4, 5).unwrap();
        let raw = std::fs::read(&p).unwrap();
        assert_eq!(idx::is_gzip(&raw), name.ends_with(".gz"));
        let img = idx::read_images(&p).unwrap();
        assert_eq!((img.n, img.rows, img.cols), (3, 4, 5));
        assert_eq!(img.pixels, pixels);
    }
    for name in ["labels", "labels.gz"] {
        let p = dir.path().join(name);
        idx::write_labels(&p, &[3, 1, 4, 1, 5]).unwrap();
        assert_eq!(idx::read_labels(&p).unwrap(), vec![3, 1, 4, 1, 5]);
    }
    let err = err_of(idx::write_images(&dir.path().join("bad"), &pixels, 3, 4, 4));
    assert!(err.contains("do not make 3 images of 4x4"), "{err}");
}

#[test]
fn raw_header_layout_is_big_endian() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("l");
    idx::write_labels(&p, &[1, 2]).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), [0, 0, 8, 1, 0, 0, 0, 2, 1, 2]);
}

#[test]
fn loads_small_dir_raw_and_gz() {
    for gzip in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        small_mnist(dir.path(), gzip);
        let (train, test) = mnist::load_dir(dir.path()).unwrap();
        assert_eq!(train.labels, vec![5, 0, 4]);
        assert_eq!(test.labels, vec![7, 2]);
        assert_eq!((train.rows, train.cols), (2, 2));
        assert_eq!(train.pixels, Pixels::U8((0..12).collect()));
        assert_eq!(test.pixels, Pixels::U8(vec![9; 8]));
    }
}

#[test]
fn dotted_names_are_found() {
    let dir = tempfile::tempdir().unwrap();
    small_mnist(dir.path(), true);
    for n in ["train-images", "t10k-labels"] {
        let kind = if n.ends_with("images") {
            "idx3"
        } else {
            "idx1"
        };
        std::fs::rename(
            dir.path().join(format!("{n}-{kind}-ubyte.gz")),
            dir.path().join(format!("{n}.{kind}-ubyte.gz")),
        )
        .unwrap();
    }
    let (train, test) = mnist::load_dir(dir.path()).unwrap();
    assert_eq!((train.len(), test.len()), (3, 2));
}

#[test]
fn missing_file_names_path_and_suggests_download() {
    let dir = tempfile::tempdir().unwrap();
    small_mnist(dir.path(), false);
    std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte")).unwrap();
    let err = err_of(mnist::load_dir(dir.path()));
    let path = dir.path().join("t10k-labels-idx1-ubyte.gz");
    assert!(err.starts_with(&path.display().to_string()), "{err}");
    assert!(err.contains("not found"), "{err}");
    assert!(
        err.contains(&format!(
            "digits data download --dir {}",
            dir.path().display()
        )),
        "{err}"
    );
}

#[test]
fn wrong_magic() {
    let dir = tempfile::tempdir().unwrap();
    small_mnist(dir.path(), false);
    let p = put(
        dir.path(),
        "train-images-idx3-ubyte",
        b"PK\x03\x04 not idx at all",
    );
    let err = err_of(mnist::load_dir(dir.path()));
    assert!(err.starts_with(&p.display().to_string()), "{err}");
    assert!(err.contains("not an IDX file"), "{err}");

    // A label file where an image file belongs.
    let labels = idx::encode(LABELS_MAGIC, &[3], &[1, 2, 3]).unwrap();
    let err = err_of(idx::parse_images(&labels, "swapped"));
    assert!(
        err.starts_with("swapped: IDX header has 1 dimensions"),
        "{err}"
    );
    assert!(err.contains("looks like a label file"), "{err}");

    // Right dimension count, wrong data type (0x0D = float).
    let mut floats = labels.clone();
    floats[2] = 0x0d;
    let err = err_of(idx::parse_labels(&floats, "floats"));
    assert!(
        err.starts_with("floats: unsupported IDX data type 0x0d"),
        "{err}"
    );
}

#[test]
fn truncated_raw_and_gz() {
    let full = idx::encode(IMAGES_MAGIC, &[3, 28, 28], &[7; 3 * 784]).unwrap();
    let cut = &full[..full.len() - 100];
    let err = err_of(idx::parse_images(cut, "cut"));
    assert!(err.starts_with("cut: truncated"), "{err}");
    assert!(err.contains("promises 2352 data bytes, got 2252"), "{err}");

    // Gzip of a truncated file: the stream itself is fine, the data is short.
    let err = err_of(idx::parse_images(&gz(cut), "cut.gz"));
    assert!(err.contains("promises 2352 data bytes, got 2252"), "{err}");

    // A cut gzip stream.
    let g = gz(&full);
    let err = err_of(idx::parse_images(&g[..g.len() / 2], "half.gz"));
    assert!(err.starts_with("half.gz: "), "{err}");
    assert!(err.contains("truncated"), "{err}");

    // Cut inside the header.
    let err = err_of(idx::parse_images(&full[..10], "hdr"));
    assert!(
        err.starts_with("hdr: truncated IDX header: file ends before dimension 1"),
        "{err}"
    );
}

#[test]
fn counts_differ() {
    let dir = tempfile::tempdir().unwrap();
    small_mnist(dir.path(), false);
    let p = put(
        dir.path(),
        "train-labels-idx1-ubyte",
        &idx::encode(LABELS_MAGIC, &[2], &[1, 2]).unwrap(),
    );
    let err = err_of(mnist::load_dir(dir.path()));
    assert!(err.contains("3 images"), "{err}");
    assert!(
        err.contains(&format!("{} has 2 labels", p.display())),
        "{err}"
    );
}

#[test]
fn label_above_nine_names_index() {
    let dir = tempfile::tempdir().unwrap();
    small_mnist(dir.path(), true);
    let p = put(
        dir.path(),
        "t10k-labels-idx1-ubyte.gz",
        &gz(&idx::encode(LABELS_MAGIC, &[2], &[3, 12]).unwrap()),
    );
    let err = err_of(mnist::load_dir(dir.path()));
    assert_eq!(
        err,
        format!("{}: label 12 at index 1 is not a digit 0..9", p.display())
    );
}

#[test]
fn huge_count_in_header_does_not_allocate() {
    // 4,000,000,000 images of 28x28 = 3.1e12 bytes claimed; a few hundred present.
    let mut raw = idx::encode(IMAGES_MAGIC, &[4_000_000_000, 28, 28], &[]).unwrap();
    raw.extend_from_slice(&[1; 300]);
    let err = err_of(idx::parse_images(&raw, "huge"));
    assert!(
        err.contains("promises 3136000000000 data bytes, got 300"),
        "{err}"
    );
    let err = err_of(idx::parse_images(&gz(&raw), "huge.gz"));
    assert!(
        err.contains("promises 3136000000000 data bytes, got 300"),
        "{err}"
    );
    // Largest possible label count.
    let mut raw = idx::encode(LABELS_MAGIC, &[u32::MAX as usize], &[]).unwrap();
    raw.push(1);
    let err = err_of(idx::parse_labels(&gz(&raw), "labels.gz"));
    assert!(
        err.contains("promises 4294967295 data bytes, got 1"),
        "{err}"
    );
}

#[test]
fn garbage_never_panics() {
    // Deterministic pseudo-random inputs, raw and behind a gzip magic.
    let mut x: u64 = 0x1234_5678;
    for len in 0..300 {
        let mut b = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.push(x as u8);
        }
        if len > 4 {
            b[0] = 0;
            b[1] = 0;
            b[2] = 8;
            b[3] = if len % 2 == 0 { 3 } else { 1 };
        }
        let _ = idx::parse_images(&b, "g");
        let _ = idx::parse_labels(&b, "g");
        let mut z = vec![0x1f, 0x8b];
        z.extend_from_slice(&b);
        let _ = idx::parse_images(&z, "g");
        let _ = idx::parse_labels(&gz(&b), "g");
    }
}
