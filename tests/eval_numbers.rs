//! `digits eval --numbers` and `digits read --min-confidence`: the scoring of readings (edit
//! distance, character error rate, the error-against-rejection table), the labels file, and
//! the built binary run on a small folder made here from the README's zip code picture.

mod common;

use common::{digits, text};
use digits::vision::number_eval::{
    by_group, calibration_error, digits_of, edit_distance, group_of, load_labels, parse_labels,
    rejection_table, Outcome, Score,
};
use std::path::Path;

const ZIP: &str = "examples/pictures/zip.jpg";

fn outcome(file: &str, label: &str, read: &str, confidence: f32) -> Outcome {
    Outcome {
        file: file.into(),
        label: label.into(),
        read: read.into(),
        confidence,
    }
}

#[test]
fn edit_distance_counts_insertions_deletions_and_substitutions() {
    assert_eq!(edit_distance("", ""), 0);
    assert_eq!(edit_distance("123", "123"), 0);
    assert_eq!(edit_distance("", "123"), 3);
    assert_eq!(edit_distance("123", ""), 3);
    assert_eq!(edit_distance("12345", "12045"), 1); // one substitution
    assert_eq!(edit_distance("12345", "1245"), 1); // one deletion
    assert_eq!(edit_distance("1245", "12345"), 1); // one insertion
    assert_eq!(edit_distance("90210", "02109"), 2); // shifted: one out, one in
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("0000", "1111"), 4);
}

#[test]
fn cer_sums_edits_over_summed_label_lengths_and_folders_are_first_components() {
    let outcomes = [
        outcome("a/1.png", "1234", "1234", 0.9),
        outcome("a/2.png", "12", "13", 0.5),
        outcome("b/c/3.png", "000000", "00000", 0.7),
        outcome("top.png", "55", "", 0.0),
    ];
    let s = Score::of(&outcomes);
    assert_eq!((s.pictures, s.exact, s.edits, s.label_chars), (4, 1, 4, 14));
    assert!((s.accuracy() - 0.25).abs() < 1e-12);
    assert!((s.cer() - 4.0 / 14.0).abs() < 1e-12);
    let g = by_group(&outcomes);
    let names: Vec<&str> = g.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, [".", "a", "b"]);
    assert_eq!((g[1].1.exact, g[1].1.edits, g[1].1.label_chars), (1, 1, 6));
    assert!((g[0].1.cer() - 1.0).abs() < 1e-12);
    assert_eq!(group_of("x.png"), ".");
    assert_eq!(group_of("ink_2digit/12.png"), "ink_2digit");
    assert_eq!(Score::of(&[]).cer(), 0.0);
}

#[test]
fn rejection_table_accepts_the_most_confident_first() {
    // Ten readings, confidence 0.1 .. 1.0; the three least confident are wrong, and one more.
    let outcomes: Vec<Outcome> = (1..=10)
        .map(|k| {
            let wrong = k <= 3 || k == 8;
            outcome("f.png", "1", if wrong { "2" } else { "1" }, k as f32 / 10.0)
        })
        .collect();
    let t = rejection_table(&outcomes, &[1.0, 0.9, 0.7, 0.5, 0.0]);
    let rows: Vec<(usize, usize)> = t.iter().map(|a| (a.accepted, a.wrong)).collect();
    assert_eq!(rows, [(10, 4), (9, 3), (7, 1), (5, 1), (0, 0)]);
    assert_eq!(t[0].threshold, 0.1);
    assert_eq!(t[2].threshold, 0.4);
    assert!((t[0].error() - 0.4).abs() < 1e-12);
    assert!((t[3].error() - 0.2).abs() < 1e-12);
    assert_eq!(t[4].error(), 0.0);
    // Each confidence in a bin of its own: the mean gap between right (1 or 0) and confidence.
    // Wrong at 0.1, 0.2, 0.3 and 0.8; right at 0.4 to 0.7, 0.9 and 1.0: 3.3 / 10.
    assert!((calibration_error(&outcomes) - 0.33).abs() < 1e-6);
}

#[test]
fn labels_keep_leading_zeros_ignore_separators_and_name_bad_lines() {
    let csv = "file,text\r\n\
               a/007.png,007\r\n\
               b.png,06/05/1980\r\n\
               c.png,\"1,234.50\"\r\n\
               \r\n\
               d.png,\r\n\
               e.png,12a4\r\n\
               no comma here\r\n\
               f.png, - \r\n\
               g.png,+49 30 1234\n";
    let (labels, problems) = parse_labels(csv);
    let got: Vec<(usize, &str, &str, &str)> = labels
        .iter()
        .map(|l| (l.line, l.file.as_str(), l.text.as_str(), l.digits.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (2, "a/007.png", "007", "007"),
            (3, "b.png", "06/05/1980", "06051980"),
            (4, "c.png", "1,234.50", "123450"),
        ]
    );
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [6, 7, 8, 9, 10], "{problems:?}");
    assert!(
        problems[0].message.contains("d.png: empty text"),
        "{problems:?}"
    );
    assert!(problems[1].message.contains("'a'"), "{problems:?}");
    assert!(problems[2].message.contains("no comma"), "{problems:?}");
    assert!(problems[3].message.contains("no digit"), "{problems:?}");
    assert!(problems[4].message.contains("'+'"), "{problems:?}");
    assert_eq!(digits_of("12-34 5"), "12345");
}

#[test]
fn load_labels_names_missing_pictures_and_a_missing_labels_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = load_labels(dir.path()).unwrap_err().to_string();
    assert!(e.contains("labels.csv"), "{e}");
    std::fs::write(dir.path().join("here.png"), b"x").unwrap();
    std::fs::write(
        dir.path().join("labels.csv"),
        "file,text\nhere.png,12\ngone.png,34\n",
    )
    .unwrap();
    let (found, problems) = load_labels(dir.path()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, dir.path().join("here.png"));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 3);
    assert!(problems[0].message.contains("gone.png"), "{problems:?}");
}

/// A folder of numbers: the zip code picture at the top labelled right, a copy in sub/
/// labelled wrong on purpose, a file that is not a picture, a missing one and a bad label.
fn numbers_folder(dir: &Path) {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::copy(ZIP, dir.join("zip.jpg")).unwrap();
    std::fs::copy(ZIP, dir.join("sub/wrong.jpg")).unwrap();
    std::fs::write(dir.join("sub/broken.png"), b"not a picture at all").unwrap();
    std::fs::write(
        dir.join("labels.csv"),
        "file,text\r\nzip.jpg,90210\r\nsub/wrong.jpg,90-211\r\nsub/broken.png,123\r\n\
         sub/missing.png,55\r\nzip.jpg,9x\r\n",
    )
    .unwrap();
}

#[test]
fn eval_numbers_scores_a_folder_and_names_what_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    numbers_folder(dir.path());
    let gallery = dir.path().join("out/errors.png");
    let d = dir.path().to_str().unwrap();
    let out = digits(&["eval", "--numbers", d, "-o", gallery.to_str().unwrap()]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("exact: 0.5000 (1 of 2)"), "{stdout}");
    // One edit (1 for 0) over ten label digits.
    assert!(stdout.contains("character error rate: 0.1000"), "{stdout}");
    assert!(stdout.contains("sub/wrong.jpg: 90211 -> 90210"), "{stdout}");
    assert!(stdout.contains("1 errors"), "{stdout}");
    assert!(stdout.contains("expected calibration error"), "{stdout}");
    assert!(stdout.contains("(3 skipped)"), "{stdout}");
    assert!(stderr.contains("broken.png"), "{stderr}");
    assert!(stderr.contains("labels.csv:4"), "{stderr}");
    assert!(
        stderr.contains("labels.csv:5") && stderr.contains("missing.png"),
        "{stderr}"
    );
    assert!(stderr.contains("labels.csv:6"), "{stderr}");
    let img = image::open(&gallery).unwrap();
    assert!(img.width() > 200 && img.height() > 80);

    let out = digits(&["eval", "--numbers", d, "--min-confidence", "0"]);
    assert!(
        text(&out.stdout).contains(
            "at --min-confidence 0: 2 of 2 numbers accepted (100.0%), 1 wrong among them (0.5000)"
        ),
        "{}",
        text(&out.stdout)
    );
    let out = digits(&["eval", "--numbers", d, "--min-confidence", "1.5"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("1.5 is not a probability"));
    // Without --images or --numbers there is nothing to accept.
    let out = digits(&["eval", "--min-confidence", "0.5"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--images or --numbers"),
        "{}",
        text(&out.stderr)
    );

    let out = digits(&[
        "eval",
        "--numbers",
        d,
        "--json",
        "--show-errors",
        "0",
        "--min-confidence",
        "0",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["overall"]["pictures"], 2);
    assert_eq!(v["overall"]["exact"], 1);
    let folders: Vec<(&str, f64)> = v["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["folder"].as_str().unwrap(),
                f["accuracy"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(folders, [(".", 1.0), ("sub", 0.0)]);
    assert_eq!(v["rejection"][0]["accepted"], 2);
    assert_eq!(v["rejection"][0]["wrong"], 1);
    assert_eq!(v["at_min_confidence"]["accepted"], 2);
    assert_eq!(v["at_min_confidence"]["wrong"], 1);
    let ece = v["calibration_error"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&ece), "{ece}");
    assert_eq!(v["errors"][0]["file"], "sub/wrong.jpg");
    assert_eq!(v["skipped"], 3);

    let empty = tempfile::tempdir().unwrap();
    let out = digits(&["eval", "--numbers", empty.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("labels.csv"),
        "{}",
        text(&out.stderr)
    );
}

/// `--known-length`: each picture read as a number of its label's length; a label one digit
/// short makes the zip code a four-digit reading, or one of confidence 0.
#[test]
fn eval_numbers_reads_each_picture_at_its_labels_length_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(ZIP, dir.path().join("zip.jpg")).unwrap();
    std::fs::copy(ZIP, dir.path().join("short.jpg")).unwrap();
    std::fs::write(
        dir.path().join("labels.csv"),
        "file,text\nzip.jpg,90210\nshort.jpg,9021\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let report = |extra: &[&str]| {
        let mut args = vec!["eval", "--numbers", d, "--json"];
        args.extend_from_slice(extra);
        let out = digits(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let (untold, told) = (report(&[]), report(&["--known-length"]));
    assert_eq!(untold["known_length"], false);
    assert_eq!(told["known_length"], true);
    assert_eq!(told["overall"]["exact"], 1, "{told}");
    let short = |v: &serde_json::Value| v["errors"][0].clone();
    assert_eq!(short(&untold)["read"], "90210", "{untold}");
    let (read, confidence) = (
        short(&told)["read"].as_str().unwrap().to_string(),
        short(&told)["confidence"].as_f64().unwrap(),
    );
    assert!(read.len() == 4 || confidence == 0.0, "{told}");
    assert!(confidence < 0.1, "{told}");
    let out = digits(&["eval", "--numbers", d, "--known-length"]);
    assert!(
        text(&out.stdout).contains("each read as a number of its label's length"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn read_marks_numbers_below_min_confidence() {
    let dir = tempfile::tempdir().unwrap();
    let blank = dir.path().join("blank.png");
    image::RgbImage::from_pixel(200, 80, image::Rgb([240; 3]))
        .save(&blank)
        .unwrap();
    let blank = blank.to_str().unwrap();
    // The digit-cutting reader's confidence is the product of its digits' probabilities.
    let out = digits(&["read", "--json", "--segment", ZIP]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["text"], "90210");
    assert_eq!(v[0]["formatted"], "90210");
    assert!(v[0].get("accepted").is_none(), "{v}");
    let c = v[0]["confidence"].as_f64().unwrap();
    let product: f64 = v[0]["digits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["probability"].as_f64().unwrap())
        .product();
    assert!(c > 0.0 && (c - product).abs() < 1e-4, "{c} {product}");
    // The built-in number reader's is the probability of the whole string.
    let out = digits(&["read", "--json", ZIP]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["text"], "90210");
    let c = v[0]["confidence"].as_f64().unwrap();
    assert!(c > 0.0 && c <= 1.0, "{v}");

    // At its own confidence it is accepted; the blank picture (confidence 0) is not.
    let p = format!("{c}");
    let out = digits(&["read", "--json", "--min-confidence", &p, ZIP, blank]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["accepted"], true, "{v}");
    assert_eq!(v[1]["accepted"], false, "{v}");

    let out = digits(&["read", "--min-confidence", "0.5", ZIP, blank]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("zip.jpg: 90210\n"), "{stdout}");
    assert!(stdout.contains("confidence"), "{stdout}");
    assert!(
        stdout.contains(
            "blank.png: no digit found (the picture looks blank) (below 0.5: check by hand)"
        ),
        "{stdout}"
    );
    let marks = stdout.matches("check by hand").count();
    assert_eq!(marks, if c < 0.5 { 2 } else { 1 }, "{stdout}");

    let out = digits(&["read", "--min-confidence", "1.5", ZIP]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not a probability"),
        "{}",
        text(&out.stderr)
    );
}
