//! The real MNIST files in ../shared/data/mnist: oracle values from its README.

use digits::data::{idx, mnist, Dataset, PixelLayout, Pixels};
use std::path::{Path, PathBuf};

fn mnist_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist")
}

fn counts(d: &Dataset) -> [usize; 10] {
    let mut c = [0; 10];
    for &l in &d.labels {
        c[l as usize] += 1;
    }
    c
}

fn mean_pixel(d: &Dataset) -> f64 {
    match &d.pixels {
        Pixels::U8(p) => p.iter().map(|&v| v as u64).sum::<u64>() as f64 / p.len() as f64,
        Pixels::F32(_) => panic!("MNIST pixels must stay u8"),
    }
}

#[test]
fn real_mnist_oracles() {
    let t = std::time::Instant::now();
    let (train, test) = mnist::load_dir(&mnist_dir()).unwrap();
    eprintln!("load_dir: {:?}", t.elapsed());

    assert_eq!((train.len(), test.len()), (60_000, 10_000));
    assert_eq!(
        (train.rows, train.cols, train.layout),
        (28, 28, PixelLayout::RowMajor)
    );
    assert_eq!((test.rows, test.cols), (28, 28));
    assert_eq!(&train.labels[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    assert_eq!(&test.labels[..10], &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    assert_eq!(
        counts(&train),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(
        counts(&test),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    assert!(
        (mean_pixel(&train) - 33.3184).abs() < 1e-4,
        "{}",
        mean_pixel(&train)
    );
    assert!(
        (mean_pixel(&test) - 33.7912).abs() < 1e-4,
        "{}",
        mean_pixel(&test)
    );
}

#[test]
fn raw_copy_reads_the_same_as_gz() {
    // Decompress the small test split to raw IDX files and compare.
    let src = mnist_dir();
    let dir = tempfile::tempdir().unwrap();
    for name in [mnist::TEST_IMAGES, mnist::TEST_LABELS] {
        let gz = std::fs::read(src.join(format!("{name}.gz"))).unwrap();
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut raw).unwrap();
        std::fs::write(dir.path().join(name), raw).unwrap();
    }
    let from_gz = idx::read_images(&src.join("t10k-images-idx3-ubyte.gz")).unwrap();
    let from_raw = idx::read_images(&dir.path().join(mnist::TEST_IMAGES)).unwrap();
    assert_eq!((from_raw.n, from_raw.rows, from_raw.cols), (10_000, 28, 28));
    assert_eq!(from_gz, from_raw);
    let labels = idx::read_labels(&dir.path().join(mnist::TEST_LABELS)).unwrap();
    assert_eq!(&labels[..4], &[7, 2, 1, 0]);

    // Writing them back as gz and reading gives the same data.
    let out = dir.path().join("again.gz");
    idx::write_images(&out, &from_raw.pixels, from_raw.n, 28, 28).unwrap();
    assert_eq!(idx::read_images(&out).unwrap(), from_gz);
}
