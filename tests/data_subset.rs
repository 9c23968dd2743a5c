//! The 20x20 subset built from MNIST: layout, labels, determinism, round trip through npy.

use digits::data::subset::{self, resample_20};
use digits::data::{digits5000, mnist, Dataset, PixelLayout, Pixels};
use std::path::Path;

fn mnist_train() -> Dataset {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    mnist::load_dir(&dir).unwrap().0
}

#[test]
fn build_write_load_round_trip() {
    let train = mnist_train();
    let sub = subset::build(&train, 500, 7).unwrap();
    assert_eq!(sub.len(), 5000);
    assert_eq!(
        (sub.rows, sub.cols, sub.layout),
        (20, 20, PixelLayout::ColumnMajor)
    );
    for (i, &l) in sub.labels.iter().enumerate() {
        assert_eq!(l as usize, i / 500, "row {i}");
    }
    let Pixels::F32(x) = &sub.pixels else {
        panic!("subset pixels must be f32")
    };
    assert!(x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    // Digit-filling: on average the ink covers a good part of the 20x20 frame.
    let inked = x.iter().filter(|&&v| v > 0.0).count() as f64 / x.len() as f64;
    assert!(inked > 0.25, "ink fraction {inked}");

    // Deterministic from the seed.
    assert_eq!(subset::build(&train, 500, 7).unwrap(), sub);
    assert_ne!(subset::build(&train, 500, 8).unwrap().pixels, sub.pixels);

    let dir = tempfile::tempdir().unwrap();
    subset::write_dir(&sub, dir.path()).unwrap();
    // y.npy is byte-identical to the tutorial's (sorted, 500 per digit, |u1, (5000, 1)).
    let real_y = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/digits5000/y.npy");
    assert_eq!(
        std::fs::read(dir.path().join("y.npy")).unwrap(),
        std::fs::read(real_y).unwrap()
    );
    assert_eq!(
        std::fs::metadata(dir.path().join("X.npy")).unwrap().len(),
        16_000_128
    );
    let back = digits5000::load_dir(dir.path()).unwrap();
    assert_eq!(back, sub);
}

#[test]
fn stored_column_major_displays_upright() {
    let train = mnist_train();
    let chosen = subset::choose(&train.labels, 3, 11).unwrap();
    let sub = subset::build(&train, 3, 11).unwrap();
    for (k, &i) in chosen.iter().enumerate() {
        let want = resample_20(&train.display_image(i), 28, 28);
        assert_eq!(sub.display_image(k), want, "image {k} (train {i})");
        // The raw stored vector is the transpose, not the upright image.
        let mut stored = vec![0.0; 400];
        sub.write_image(k, digits::data::PixelScale::Unit, &mut stored);
        assert_ne!(stored, want);
    }
}

#[test]
fn synthetic_seven_keeps_orientation() {
    // A "7" in a 28x28 frame: a bar along the top, a stroke down the right side.
    let mut px = vec![0u8; 28 * 28];
    for c in 6..22 {
        for r in 4..7 {
            px[r * 28 + c] = 255;
        }
    }
    for r in 4..24 {
        for c in 19..22 {
            px[r * 28 + c] = 255;
        }
    }
    let labels: Vec<u8> = (0..10).collect();
    let mut all = Vec::new();
    for _ in 0..10 {
        all.extend_from_slice(&px);
    }
    let src = Dataset {
        pixels: Pixels::U8(all),
        labels,
        rows: 28,
        cols: 28,
        layout: PixelLayout::RowMajor,
    };
    let sub = subset::build(&src, 1, 0).unwrap();
    let img = sub.display_image(7);
    let at = |r: usize, c: usize| img[r * 20 + c];
    // Top row inked across the middle; right side inked at the bottom; bottom-left empty.
    assert!(at(0, 8) > 0.9 && at(1, 12) > 0.9, "top bar");
    assert!(at(19, 17) > 0.9, "right stroke bottom");
    assert!(
        at(19, 2) == 0.0 && at(15, 4) == 0.0,
        "bottom-left must be empty"
    );
    // The stored vector is column-major: X[c * 20 + r].
    let Pixels::F32(x) = &sub.pixels else {
        panic!()
    };
    let row7 = &x[7 * 400..8 * 400];
    assert_eq!(row7[17 * 20 + 19], at(19, 17));
    assert_eq!(row7[2 * 20 + 19], 0.0);
}

#[test]
fn write_dir_rejects_non_20x20() {
    let train = mnist_train().select(&[0, 1]);
    let dir = tempfile::tempdir().unwrap();
    let err = subset::write_dir(&train, dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("needs 20x20 column-major images, got 28x28"),
        "{err}"
    );
}
