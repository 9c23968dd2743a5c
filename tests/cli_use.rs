//! The commands a person uses after training: predict photos, list errors, draw pictures.

mod common;

use common::{digits, text};

use digits::nn::argmax;
use digits::vision::{preprocess, synth};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[test]
fn built_in_model_reads_rendered_handwriting() {
    // 100 handwriting-like pictures (not MNIST), through the whole photo path: PNG file,
    // preprocessing as MNIST was made, the built-in model.
    let dir = tempfile::tempdir().unwrap();
    let model = digits::default_model::load().unwrap().model;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut right = 0;
    for k in 0..10 {
        for d in 0..10u8 {
            let path = dir.path().join(format!("{d}_{k}.png"));
            synth::render(d, &mut rng).save(&path).unwrap();
            let x = preprocess::from_path(&path).unwrap();
            right += usize::from(argmax(&model.predict(&x)) == d as usize);
        }
    }
    println!("{right} of 100 rendered digits read correctly");
    assert!(right >= 90, "only {right} of 100 read correctly");
}

#[test]
fn predict_reads_photos_and_names_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let seven = dir.path().join("seven.png");
    synth::render(7, &mut rng).save(&seven).unwrap();
    let out = digits(&["predict", seven.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["digit"], 7, "{v}");
    let sum: f64 = v[0]["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-4);

    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, "not a picture").unwrap();
    let out = digits(&["predict", junk.to_str().unwrap(), seven.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("notes.txt"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("seven.png: 7"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn errors_count_agrees_with_eval_and_pictures_are_written() {
    let mnist = common::mnist_dir();
    let m = mnist.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gallery = dir.path().join("errors.png");
    let out = digits(&[
        "errors",
        "--data-dir",
        m,
        "--list",
        "3",
        "-o",
        gallery.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let first = stdout.lines().next().unwrap();
    let errors: usize = first
        .strip_suffix(" errors out of 10000 images")
        .expect(first)
        .parse()
        .unwrap();
    let eval = text(&digits(&["eval", "--data-dir", m]).stdout);
    let acc: f64 = eval
        .lines()
        .find_map(|l| l.strip_prefix("test_accuracy: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        errors,
        ((1.0 - acc) * 10000.0).round() as usize,
        "{stdout}\n{eval}"
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("test image "))
            .count(),
        3
    );
    assert!(image::open(&gallery).unwrap().width() > 200);

    let grid = dir.path().join("grid.png");
    let out = digits(&[
        "show",
        "--data-dir",
        m,
        "--test",
        "--model",
        "assets/default-cnn.safetensors",
        "-o",
        grid.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let img = image::open(&grid).unwrap();
    assert!(img.width() >= 8 * 28 && img.height() >= 8 * 28);

    let history = dir.path().join("h.json");
    std::fs::write(
        &history,
        r#"{"loss":[0.5,0.3,0.2],"test_loss":[0.4,0.3,0.25],"test_accuracy":[0.9,0.92,0.93]}"#,
    )
    .unwrap();
    let curve = dir.path().join("loss.png");
    let out = digits(&[
        "show",
        "--loss",
        history.to_str().unwrap(),
        "-o",
        curve.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(image::open(&curve).is_ok());
    let out = digits(&["show", "--loss", gallery.to_str().unwrap()]);
    assert!(
        !out.status.success() && text(&out.stderr).contains("errors.png"),
        "{}",
        text(&out.stderr)
    );
}

/// Output piped into a reader that has stopped (`digits read *.png | head -1`) ends the
/// command by SIGPIPE, as it ends other Unix tools, not by a panic in `println!`.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    for command in ["predict", "read"] {
        let picture = match command {
            "predict" => "examples/pictures/seven.jpg",
            _ => "examples/pictures/zip.jpg",
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_digits"))
            .arg(command)
            .args(std::iter::repeat_n(picture, 20))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader stops before the command has printed anything (it loads its model first).
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{command}: {stderr}");
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGPIPE),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn the_readmes_first_pictures_are_read_by_the_built_in_model() {
    let out = digits(&["predict", "examples/pictures/seven.jpg"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("examples/pictures/seven.jpg: 7"),
        "{}",
        text(&out.stdout)
    );
    let out = digits(&["read", "examples/pictures/zip.jpg"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("examples/pictures/zip.jpg: 90210"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn show_draws_the_built_in_models_predictions_unless_labels_only() {
    let mnist = common::mnist_dir();
    let dir = tempfile::tempdir().unwrap();
    let grid = |name: &str, extra: &[&str]| {
        let path = dir.path().join(name);
        let mut args = vec!["show", "--test", "--data-dir", mnist.to_str().unwrap()];
        args.extend_from_slice(&["-o", path.to_str().unwrap()]);
        args.extend_from_slice(extra);
        let out = digits(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        std::fs::read(path).unwrap()
    };
    let default = grid("default.png", &[]);
    let built_in = grid(
        "built_in.png",
        &["--model", "assets/default-cnn.safetensors"],
    );
    let labels = grid("labels.png", &["--labels-only"]);
    assert_eq!(
        default, built_in,
        "the default should be the built-in model"
    );
    assert_ne!(default, labels, "--labels-only should drop the predictions");
}

/// `digits summary --builtin` gives the built-in model's layers and the parameter count the
/// README states, and `--help` names both kinds of network.
#[test]
fn the_built_in_models_summary_matches_the_readme_and_help_names_the_networks() {
    let out = digits(&["summary", "--builtin"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    let total = summary
        .lines()
        .find_map(|l| l.strip_prefix("Total params: "))
        .unwrap_or_else(|| panic!("no total in {summary}"))
        .trim()
        .to_string();
    assert!(
        summary.contains("(Conv2D)") && summary.contains("(Dropout)"),
        "{summary}"
    );
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(
        readme.contains(&format!("{total} parameters")),
        "the README does not give the built-in model's {total} parameters"
    );
    let help = text(&digits(&["--help"]).stdout);
    assert!(help.contains("MLPs and CNNs"), "{help}");
}
