//! `digits read`, `digits eval --images` and `digits predict --save-input` run as a user runs
//! them: the built binary on pictures written here (MNIST test digits composed into numbers
//! with `common::numbers`, folders of labelled pictures), with the built-in model.

mod common;

use common::{digits, text};

use common::numbers::{compose, mnist_glyph, Glyph};
use digits::data::{Dataset, PixelScale};
use digits::vision::{preprocess, synth};
use image::{GrayImage, Luma};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Test image `i` as a 28x28 grey PNG file, light on dark as in MNIST.
fn save_mnist(test: &Dataset, i: usize, path: &Path) {
    let x = test.batch_x(&[i], PixelScale::Unit);
    GrayImage::from_fn(28, 28, |c, r| {
        Luma([(x[(r * 28 + c) as usize] * 255.0).round() as u8])
    })
    .save(path)
    .unwrap();
}

#[test]
fn read_prints_the_number_its_boxes_and_names_what_it_cannot_read() {
    let Some((_, test)) = common::mnist() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Test images 0..4 are 7, 2, 1, 0; composed at 2.5x with uneven gaps, dark on light.
    let idx = [0usize, 1, 2, 3];
    let want: String = idx.iter().map(|&i| test.labels[i].to_string()).collect();
    assert_eq!(want, "7210");
    let glyphs: Vec<Glyph> = idx.iter().map(|&i| mnist_glyph(&test, i, 2.5)).collect();
    let gaps = [9, 22, 14];
    let number = dir.path().join("number.png");
    let png = compose(&glyphs, &gaps, true, &mut ChaCha8Rng::seed_from_u64(4));
    std::fs::write(&number, png).unwrap();
    // Where compose put each glyph's left edge.
    let tallest = glyphs.iter().map(|g| g.2).max().unwrap();
    let mut left = vec![(tallest / 2 + 4) as i64];
    for (g, gap) in glyphs.iter().zip(gaps) {
        left.push(left.last().unwrap() + g.1 as i64 + gap as i64);
    }
    let blank = dir.path().join("blank.png");
    image::RgbImage::from_pixel(300, 100, image::Rgb([235; 3]))
        .save(&blank)
        .unwrap();

    // The digit-cutting reader (`--segment`), whose boxes are checked below. (The built-in line
    // reader reads this slanted MNIST 1 as a `/`: "720", formatted "72/0".)
    let out = digits(&["read", "--segment", s(&number)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("number.png: {want}\n")),
        "{stdout}"
    );

    let out = digits(&["read", "--segment", "--json", s(&number), s(&blank)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v[0]["file"], s(&number));
    assert_eq!(v[0]["text"], want.as_str());
    let found = v[0]["digits"].as_array().unwrap();
    assert_eq!(found.len(), 4, "{v}");
    let mut right_edge = 0;
    for (k, d) in found.iter().enumerate() {
        let mut keys: Vec<&String> = d.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["box", "digit", "probability"], "{d}");
        assert_eq!(d["digit"].to_string(), want[k..k + 1]);
        let p = d["probability"].as_f64().unwrap();
        assert!(p > 0.5 && p <= 1.0, "{d}");
        let b: Vec<i64> = d["box"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect();
        // Left to right, apart, each where its glyph was put.
        assert!(b[0] >= right_edge, "box {k} {b:?} overlaps the one before");
        assert!(
            (b[0] - left[k]).abs() <= 4,
            "box {k} {b:?}, glyph at x = {}",
            left[k]
        );
        assert!(b[2] > 0 && b[3] > 30, "{b:?}");
        right_edge = b[0] + b[2];
    }
    assert_eq!(v[1]["text"], "");
    assert_eq!(v[1]["digits"], serde_json::json!([]));

    let out = digits(&["read", s(&blank)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("blank.png: no digit found"),
        "{}",
        text(&out.stdout)
    );

    // A missing file is named and fails the command; the others are still read.
    let missing = dir.path().join("missing.png");
    let out = digits(&["read", "--segment", s(&missing), s(&number)]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("missing.png"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains(&format!("number.png: {want}")),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn eval_images_reads_labels_csv_or_digit_folders_and_names_bad_files() {
    let Some((_, test)) = common::mnist() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // labels.csv: six MNIST test digits (one labelled wrongly on purpose), a bad label and a
    // file that is not a picture.
    let csv_dir = dir.path().join("csv");
    std::fs::create_dir(&csv_dir).unwrap();
    let mut csv = String::from("file,label\n");
    for i in 0..6 {
        save_mnist(&test, i, &csv_dir.join(format!("t{i}.png")));
        let label = if i == 4 { 9 } else { test.labels[i] };
        csv += &format!("t{i}.png,{label}\n");
    }
    save_mnist(&test, 6, &csv_dir.join("badlabel.png"));
    csv += "badlabel.png,eleven\n";
    std::fs::write(csv_dir.join("junk.png"), "not a picture").unwrap();
    csv += "junk.png,3\n";
    std::fs::write(csv_dir.join("labels.csv"), csv).unwrap();
    let confusion = dir.path().join("confusion.png");
    let out = digits(&["eval", "--images", s(&csv_dir), "-o", s(&confusion)]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("6 pictures evaluated from"), "{stdout}");
    assert!(stdout.contains("(2 skipped)"), "{stdout}");
    assert!(stdout.contains("accuracy: 0.8333\n"), "{stdout}");
    assert!(stdout.contains("t4.png: label 9, predicted 4"), "{stdout}");
    // Setting aside the least confident tenth leaves five of the six.
    assert!(
        stdout.contains("  0% set aside: 0.1667 (1 wrong of 6; kept from probability "),
        "{stdout}"
    );
    assert!(stdout.contains(" 10% set aside: "), "{stdout}");
    assert!(
        stdout.contains(" wrong of 5; kept from probability "),
        "{stdout}"
    );
    assert!(
        stdout.contains("expected calibration error (15 equal-width bins"),
        "{stdout}"
    );
    // At a level of 0 every answer is kept (the one mislabelled is wrong); at 1, none is.
    let at = |level: &str| {
        let out = digits(&["eval", "--images", s(&csv_dir), "--min-confidence", level]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let all = at("0");
    assert!(
        all.contains(
            "at --min-confidence 0: 6 of 6 answers accepted (100.0%), 1 wrong among them (0.1667)"
        ),
        "{all}"
    );
    assert!(
        at("1").contains("at --min-confidence 1: 0 of 6 answers accepted (0.0%)"),
        "{}",
        at("1")
    );
    for bad in ["badlabel.png", "junk.png"] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("skipped") && l.contains(bad)),
            "{bad} not named: {stderr}"
        );
    }
    assert!(stderr.contains("bad label \"eleven\""), "{stderr}");
    let img = image::open(&confusion).unwrap();
    assert!(
        img.width() >= 200 && img.height() >= 200,
        "{:?}",
        (img.width(), img.height())
    );

    // One folder per digit; a picture outside them is named.
    let tree = dir.path().join("tree");
    for i in 0..4 {
        let d = tree.join(test.labels[i].to_string());
        std::fs::create_dir_all(&d).unwrap();
        save_mnist(&test, i, &d.join(format!("t{i}.png")));
    }
    save_mnist(&test, 5, &tree.join("stray.png"));
    let out = digits(&["eval", "--images", s(&tree)]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("4 pictures evaluated from"), "{stdout}");
    assert!(stdout.contains("accuracy: 1.0000\n"), "{stdout}");
    assert!(stderr.contains("stray.png"), "{stderr}");
}

#[test]
fn predict_save_input_writes_what_the_network_saw() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let files: Vec<_> = [3u8, 8]
        .iter()
        .map(|&d| {
            let p = dir.path().join(format!("digit{d}.png"));
            synth::render(d, &mut rng).save(&p).unwrap();
            p
        })
        .collect();
    let seen = dir.path().join("seen");
    let out = digits(&[
        "predict",
        s(&files[0]),
        s(&files[1]),
        "--save-input",
        s(&seen),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(common::sorted_names(&seen), ["digit3.png", "digit8.png"]);
    for f in &files {
        let name = f.file_name().unwrap();
        let img = image::open(seen.join(name)).unwrap().to_luma8();
        assert_eq!(img.dimensions(), (28, 28));
        // The very pixels the network was given.
        let x = preprocess::from_path(f).unwrap();
        for (p, v) in img.pixels().zip(&x) {
            assert_eq!(p.0[0], (v * 255.0).round() as u8);
        }
        assert!(img.pixels().any(|p| p.0[0] > 200), "no ink in {name:?}");
    }
}

#[test]
fn predict_and_eval_take_the_line_models_second_opinion_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let digits_drawn = [3u8, 8];
    let files: Vec<_> = digits_drawn
        .iter()
        .map(|&d| {
            let p = dir.path().join(format!("digit{d}.png"));
            synth::render(d, &mut rng).save(&p).unwrap();
            p
        })
        .collect();
    let probabilities = |extra: &[&str]| -> Vec<Vec<f32>> {
        let mut a = vec!["predict", "--json", s(&files[0]), s(&files[1])];
        a.extend_from_slice(extra);
        let out = digits(&a);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| serde_json::from_value(r["probabilities"].clone()).unwrap())
            .collect()
    };
    let alone = probabilities(&[]);
    let both = probabilities(&["--second-opinion"]);
    let model = digits::default_model::load().unwrap();
    let second = digits::vision::second_opinion::SecondOpinion::built_in().unwrap();
    let line = digits::default_reader::line_reader().unwrap();
    for (k, f) in files.iter().enumerate() {
        let (x, ink) = preprocess::input_and_ink_from_path(f).unwrap();
        assert_eq!(x, preprocess::from_path(f).unwrap());
        // The line model alone reads the drawn digit as that one-digit number.
        let one = line.one_digit_probabilities(&ink).unwrap();
        let best = (0..10).max_by(|&a, &b| one[a].total_cmp(&one[b])).unwrap();
        assert_eq!(best, digits_drawn[k] as usize, "{one:?}");
        // The command's probabilities are the two models' combined, and not the digit model's.
        let want = second.combine(&model.model.predict_proba(&x), &ink);
        for (got, want) in both[k].iter().zip(&want) {
            assert!((got - want).abs() < 1e-5, "{:?} against {want:?}", both[k]);
        }
        assert!((both[k].iter().sum::<f32>() - 1.0).abs() < 1e-4);
        // Sure of the digit either way; the other nine are the line model's and the digit
        // model's together.
        let differs = alone[k]
            .iter()
            .zip(&both[k])
            .any(|(a, b)| (a.max(1e-12).ln() - b.max(1e-12).ln()).abs() > 0.1);
        assert!(differs, "{:?} and {:?}", alone[k], both[k]);
        assert_eq!(digits::nn::argmax(&both[k]), digits_drawn[k] as usize);
    }
    // Test-set images by index have no picture to show the line model.
    let out = digits(&["predict", "--index", "0", "--second-opinion"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("FILES"), "{}", text(&out.stderr));

    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let mut csv = String::from("file,label\n");
    for (f, d) in files.iter().zip(digits_drawn) {
        std::fs::copy(f, folder.join(f.file_name().unwrap())).unwrap();
        csv += &format!("{},{d}\n", f.file_name().unwrap().to_str().unwrap());
    }
    std::fs::write(folder.join("labels.csv"), csv).unwrap();
    let out = digits(&["eval", "--images", s(&folder), "--second-opinion"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("2 pictures evaluated from")
            && stdout.contains("with the line model's second opinion"),
        "{stdout}"
    );
    assert!(stdout.contains("accuracy: 1.0000\n"), "{stdout}");
}

#[test]
fn predict_min_confidence_marks_the_answers_to_check_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let files: Vec<_> = (0..6u8)
        .map(|d| {
            let p = dir.path().join(format!("digit{d}.png"));
            synth::render(d, &mut rng).save(&p).unwrap();
            p
        })
        .collect();
    let run = |extra: &[&str]| {
        let mut a = vec!["predict"];
        a.extend(files.iter().map(|f| s(f)));
        a.extend_from_slice(extra);
        let out = digits(&a);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let v: serde_json::Value = serde_json::from_str(&run(&["--json"])).unwrap();
    let top: Vec<f32> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let p: Vec<f32> = serde_json::from_value(r["probabilities"].clone()).unwrap();
            p[r["digit"].as_u64().unwrap() as usize]
        })
        .collect();
    // A level between the least and the most confident answer: some fall below it.
    let (lo, hi) = top
        .iter()
        .fold((1f32, 0f32), |(lo, hi), &p| (lo.min(p), hi.max(p)));
    assert!(lo < hi, "{top:?}");
    let min = (lo + hi) / 2.0;
    let arg = format!("{min}");
    let min: f32 = arg.parse().unwrap();
    let stdout = run(&["--min-confidence", &arg]);
    let marked = format!(" (below {arg}: check by hand)");
    for (f, &p) in files.iter().zip(&top) {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(s(f)))
            .unwrap_or_else(|| panic!("{f:?} not in {stdout}"));
        assert_eq!(line.ends_with(&marked), p < min, "{line} ({p})");
    }
    let v: serde_json::Value =
        serde_json::from_str(&run(&["--json", "--min-confidence", &arg])).unwrap();
    for (r, &p) in v.as_array().unwrap().iter().zip(&top) {
        assert_eq!(r["accepted"], serde_json::json!(p >= min), "{r}");
    }
    let out = digits(&["predict", s(&files[0]), "--min-confidence", "1.5"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not a probability"));
}
