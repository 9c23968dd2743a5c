//! `digits train-reader` end to end on a tiny model: it trains, saves, resumes and starts from
//! another reader's weights; the file reads numbers through `digits read`; bad files are named.
//! And the built-in reader reads the README's zip code, and each number of a picture of two.

mod common;

use common::numbers::{compose, mnist_glyph, Glyph};
use common::{digits, text};
use image::GenericImage;
use rand::SeedableRng;

const TINY: &str = "c8k3s,p2,c8k3s,p2,p8x1";

fn train(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mnist = common::mnist_dir();
    let mut args = vec![
        "train-reader",
        "--mnist-dir",
        mnist.to_str().unwrap(),
        "--layers",
        TINY,
        "--steps",
        "3",
        "--batch-size",
        "8",
        "--pool",
        "24",
        "--fresh",
        "2",
        "--validation",
        "6",
    ];
    let save = dir.join("reader.safetensors");
    args.extend(["--save", save.to_str().unwrap()]);
    args.extend(extra);
    digits(&args)
}

#[test]
fn a_reader_trains_resumes_and_reads() {
    if !common::mnist_dir().is_dir() {
        eprintln!("SKIPPED: no MNIST");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = train(dir.path(), &["--epochs", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("validation_exact: "),
        "{}",
        text(&out.stdout)
    );
    let err = text(&out.stderr);
    assert!(err.contains("making lines took"), "{err}");
    let saved = dir.path().join("reader.safetensors");

    // Resumed to 2 epochs: 6 steps in all.
    let out = train(dir.path(), &["--epochs", "2", "--resume"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("after epoch 1 (step 3)"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("Epoch 2/2"),
        "{}",
        text(&out.stdout)
    );

    // The file reads pictures of numbers.
    let zip = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/pictures/zip.jpg");
    let out = digits(&["read", "--model", saved.to_str().unwrap(), zip, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = v[0]["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&c), "{v}");
    assert!(
        v[0]["formatted"].is_string() && v[0]["text"].is_string(),
        "{v}"
    );

    // A new run from its weights, on plain lines only; a share of them outside 0-1 is refused;
    // a file that is not a reader is refused by name.
    let other = tempfile::tempdir().unwrap();
    let from_saved = ["--epochs", "1", "--init-from", saved.to_str().unwrap()];
    let out = train(other.path(), &[&from_saved[..], &["--plain", "1"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = train(
        other.path(),
        &[&from_saved[..], &["--plain", "1.5"]].concat(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--plain"),
        "{}",
        text(&out.stderr)
    );
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"not a checkpoint").unwrap();
    let out = train(
        other.path(),
        &["--epochs", "1", "--init-from", junk.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("junk.safetensors"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_built_in_reader_reads_the_readme_zip_code() {
    let zip = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/pictures/zip.jpg");
    let out = digits(&["read", zip]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("zip.jpg: 90210"),
        "{}",
        text(&out.stdout)
    );
    // The segmentation reader, kept for what it reads better, reads it too.
    let out = digits(&["read", "--segment", zip]);
    assert!(
        text(&out.stdout).contains("zip.jpg: 90210"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn read_takes_the_number_of_digits_and_names_a_bad_one() {
    let zip = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/pictures/zip.jpg");
    let json = |count: &str| {
        let out = digits(&["read", "--json", "--digits", count, zip]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v[0].clone()
    };
    // Five digits, as read untold; four: the best four-digit reading, or confidence 0.
    let five = json("5");
    assert_eq!(five["text"], "90210");
    assert!(five["confidence"].as_f64().unwrap() > 0.9, "{five}");
    let four = json("4");
    let read = four["text"].as_str().unwrap();
    let confidence = four["confidence"].as_f64().unwrap();
    assert!(read.len() == 4 || confidence == 0.0, "{four}");
    assert!(confidence < 0.1, "{four}");
    for (bad, words) in [
        ("0", "from 1 to 64"),
        ("5-x", "N or N-M"),
        ("6-5", "not 6-5"),
    ] {
        let out = digits(&["read", "--digits", bad, zip]);
        assert!(!out.status.success());
        let err = text(&out.stderr);
        assert!(err.contains("--digits") && err.contains(words), "{err}");
    }
}

#[test]
fn save_input_writes_the_line_or_the_digits_the_model_was_given() {
    let zip = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/pictures/zip.jpg");
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("seen");
    let out = digits(&["read", "--save-input", folder.to_str().unwrap(), zip]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The line: 32 high, whole columns of 4, light ink on black, wider than high (5 digits).
    let line = image::open(folder.join("zip.png")).unwrap().to_luma8();
    assert_eq!(line.height(), 32);
    assert_eq!(line.width() % 4, 0);
    assert!(line.width() > 3 * line.height(), "{}", line.width());
    let ink = line.pixels().filter(|p| p.0[0] > 127).count();
    assert!(ink > 50 && ink < line.pixels().len() / 2, "{ink}");
    assert_eq!(line.get_pixel(0, 0).0[0], 0);

    // Cut into digits: one 28x28 input per digit read, numbered from 1.
    let out = digits(&[
        "read",
        "--segment",
        "--save-input",
        folder.to_str().unwrap(),
        zip,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for k in 1..=5 {
        let digit = image::open(folder.join(format!("zip.{k}.png"))).unwrap();
        assert_eq!((digit.width(), digit.height()), (28, 28));
    }
    assert!(!folder.join("zip.6.png").exists());
}

/// Lines of glyphs (MNIST test digits), dark on light paper, `gap` rows apart, on a slant:
/// dropping a row every 6 columns (about 9.5 degrees).
fn on_a_slant(lines: &[Vec<Glyph>], gap: u32) -> image::GrayImage {
    let tallest = lines.iter().flatten().map(|g| g.2).max().unwrap() as u32;
    let high = lines.len() as u32 * (tallest + gap) + 80;
    let mut page = image::GrayImage::from_pixel(300, high, image::Luma([230]));
    for (k, line) in lines.iter().enumerate() {
        let (mut x, top) = (10u32, 10 + k as u32 * (tallest + gap));
        for (px, gw, _) in line {
            for (i, &v) in px.iter().enumerate() {
                let (c, r) = (x + (i % gw) as u32, top + (i / gw) as u32);
                let level = (230.0 - 200.0 * v) as u8;
                let p = page.get_pixel_mut(c, r + c / 6);
                p.0[0] = p.0[0].min(level);
            }
            x += *gw as u32 + 6;
        }
    }
    page
}

#[test]
fn a_number_on_a_slant_is_read_and_boxed_where_its_digits_are() {
    let Some((_, test)) = common::mnist() else {
        return;
    };
    let indices = 40..46;
    let label: String = indices
        .clone()
        .map(|i| test.labels[i].to_string())
        .collect();
    let glyphs: Vec<Glyph> = indices.map(|i| mnist_glyph(&test, i, 2.0)).collect();
    let picture = on_a_slant(&[glyphs], 0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slanted.png");
    picture.save(&file).unwrap();
    let out = digits(&["read", "--json", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["text"], label.as_str(), "{v}");
    // It is read sheared level (vision::line::slant); each box holds ink in the picture's
    // pixels, the last lower than the first by at least half the slant between them.
    let boxes: Vec<Vec<u32>> = v[0]["digits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["box"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_u64().unwrap() as u32)
                .collect()
        })
        .collect();
    for b in &boxes {
        let (x, y, w, h) = (b[0], b[1], b[2], b[3]);
        assert!(y + h <= picture.height(), "{b:?}");
        let dark = (y..y + h)
            .flat_map(|r| (x..x + w).map(move |c| (c, r)))
            .filter(|&(c, r)| picture.get_pixel(c, r).0[0] < 128)
            .count();
        assert!(dark > 20, "{b:?}: {dark} dark pixels");
    }
    let (first, last) = (&boxes[0], &boxes[boxes.len() - 1]);
    assert!(last[1] >= first[1] + (last[0] - first[0]) / 12, "{boxes:?}");
}

#[test]
fn a_picture_of_several_numbers_reads_each() {
    // Two numbers of MNIST test digits, each on paper of its own: 7 2 small, 1 0 4 larger (the
    // one holding the most ink); one above the other, then far apart on one line.
    let Some((_, test)) = common::mnist() else {
        return;
    };
    let number = |indices: &[usize], scale: f32, seed: u64| {
        let glyphs: Vec<_> = indices
            .iter()
            .map(|&i| mnist_glyph(&test, i, scale))
            .collect();
        let gaps = vec![8; indices.len() - 1];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        image::load_from_memory(&compose(&glyphs, &gaps, true, &mut rng))
            .unwrap()
            .to_luma8()
    };
    let (small, large) = (number(&[0, 1], 1.5, 1), number(&[2, 3, 4], 2.5, 2));
    let labels: Vec<String> = [&[0, 1][..], &[2, 3, 4]]
        .iter()
        .map(|idx| idx.iter().map(|&i| test.labels[i].to_string()).collect())
        .collect();
    let page = |w: u32, h: u32, at: [(u32, u32); 2]| {
        let mut page = image::GrayImage::from_pixel(w, h, image::Luma([230]));
        page.copy_from(&small, at[0].0, at[0].1).unwrap();
        page.copy_from(&large, at[1].0, at[1].1).unwrap();
        page
    };
    let dir = tempfile::tempdir().unwrap();
    let read_json = |name: &str, picture: &image::GrayImage| {
        let file = dir.path().join(name);
        picture.save(&file).unwrap();
        let out = digits(&[
            "read",
            "--json",
            "--min-confidence",
            "0",
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v[0].clone()
    };
    let (w, h) = (
        small.width().max(large.width()),
        small.height() + large.height(),
    );
    let stacked = page(w, h, [(0, 0), (0, small.height())]);
    let gap = 3 * large.height();
    let apart = page(
        small.width() + gap + large.width(),
        large.height(),
        [(0, 0), (small.width() + gap, 0)],
    );
    // Two lines of five digits on one page, on a slant (dropping a row every 6 columns), 20
    // rows apart: no blank row parts them.
    let glyphs = |from: usize| -> Vec<_> {
        (from..from + 5)
            .map(|i| mnist_glyph(&test, i, 2.0))
            .collect()
    };
    let lines = [glyphs(10), glyphs(20)];
    let slanted_labels: Vec<String> = [10, 20]
        .iter()
        .map(|&from| {
            (from..from + 5)
                .map(|i| test.labels[i].to_string())
                .collect()
        })
        .collect();
    let slanted = on_a_slant(&lines, 20);
    let inked: Vec<u32> = (0..slanted.height())
        .filter(|&y| (0..slanted.width()).any(|x| slanted.get_pixel(x, y).0[0] < 128))
        .collect();
    assert!(inked.windows(2).all(|p| p[1] == p[0] + 1), "{inked:?}");
    let v = read_json("slanted.png", &slanted);
    let read: Vec<&str> = v["numbers"]
        .as_array()
        .expect("a numbers array")
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(read, slanted_labels, "slanted.png: {v}");
    for (name, picture) in [("stacked.png", &stacked), ("apart.png", &apart)] {
        let v = read_json(name, picture);
        let numbers = v["numbers"].as_array().expect("a numbers array");
        let read: Vec<&str> = numbers
            .iter()
            .map(|n| n["text"].as_str().unwrap())
            .collect();
        assert_eq!(read, labels, "{name}: {v}");
        assert!(numbers.iter().all(|n| n["accepted"] == true), "{v}");
        // The number is the one holding the most ink, its boxes in the whole picture's pixels.
        assert_eq!(v["text"], labels[1].as_str());
        assert_eq!(v["digits"], numbers[1]["digits"]);
        let first_box = &numbers[1]["digits"][0]["box"];
        let (x, y) = (
            first_box[0].as_u64().unwrap(),
            first_box[1].as_u64().unwrap(),
        );
        match name {
            "stacked.png" => assert!(y >= small.height() as u64, "{v}"),
            _ => assert!(x >= (small.width() + gap) as u64, "{v}"),
        }
    }
    let file = dir.path().join("stacked.png");
    let seen = dir.path().join("seen");
    let out = digits(&[
        "read",
        "--save-input",
        seen.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let shown = text(&out.stdout);
    for (k, label) in labels.iter().enumerate() {
        assert!(
            shown.contains(&format!("stacked.png, number {} of 2: {label}", k + 1)),
            "{shown}"
        );
    }
    // --save-input writes each number's line: two lines 32 high, each with ink of its own.
    let line = |k: usize| {
        image::open(seen.join(format!("stacked.number{k}.png")))
            .unwrap()
            .to_luma8()
    };
    let (first, second) = (line(1), line(2));
    assert_eq!((first.height(), second.height()), (32, 32));
    assert!(first.pixels().any(|p| p.0[0] > 127));
    assert_ne!(first, second);
    assert!(!seen.join("stacked.png").exists());
    // Each number alone reads as a picture of one number: no "numbers".
    let v = read_json("one.png", &large);
    assert_eq!(v["text"], labels[1].as_str());
    assert!(v.get("numbers").is_none(), "{v}");
}
