//! TensorBoard event files: written by `SummaryWriter`/`TensorBoardLogger`, read back by our
//! reader and by the real TensorBoard reader (`../shared/baselines/read_tb.py`).
//!
//! The Python tests need `python3` with `tensorboard` installed (`pip install tensorboard`);
//! `DIGITS_PYTHON` picks another interpreter, `DIGITS_SKIP_PYTHON_TESTS=1` skips them.

use digits::data::{Dataset, PixelLayout, PixelScale, Pixels};
use digits::nn::{Activation, Init, LayerSpec, ModelSpec, Sequential};
use digits::train::tensorboard::{read_scalars, Scalars, SummaryWriter, TensorBoardLogger};
use digits::train::{FitConfig, Observer, Trainer};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

/// Awkward values: not exactly decimal, tiny, huge, negative, zero; steps up to 2^40.
fn known_scalars() -> Scalars {
    let mut s = Scalars::new();
    s.insert(
        "train_loss".into(),
        vec![(0, 2.345_678), (100, 0.1), (200, 1e-30), (1 << 40, 3.4e38)],
    );
    s.insert(
        "test_loss".into(),
        vec![(1, 0.0), (2, -3.5), (3, 123_456.79)],
    );
    s.insert("test/accuracy".into(), vec![(1, 0.9871), (2, 0.99)]);
    s
}

fn write_all(dir: &Path, scalars: &Scalars) -> PathBuf {
    let mut w = SummaryWriter::new(dir).unwrap();
    for (tag, points) in scalars {
        for &(step, value) in points {
            w.add_scalar(tag, value, step).unwrap();
        }
    }
    w.flush().unwrap();
    w.path().to_owned()
}

#[test]
fn write_then_read_back_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let want = known_scalars();
    let file = write_all(dir.path(), &want);
    assert_eq!(read_scalars(dir.path()).unwrap(), want);
    assert_eq!(read_scalars(&file).unwrap(), want);
}

#[test]
fn a_flipped_byte_is_a_crc_error_naming_the_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_all(dir.path(), &known_scalars());
    let good = std::fs::read(&file).unwrap();
    // The header record is 12 + len + 4 bytes; flip a byte inside the second record's data.
    let header_len = 16 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let mut bad = good.clone();
    bad[header_len + 12 + 3] ^= 0x40;
    std::fs::write(&file, &bad).unwrap();
    let msg = format!("{:#}", read_scalars(dir.path()).unwrap_err());
    assert!(msg.contains(&file.display().to_string()), "{msg}");
    assert!(
        msg.contains(&format!("record 1 at byte {header_len}")),
        "{msg}"
    );
    assert!(msg.contains("CRC of its data"), "{msg}");
    // A flipped length byte is caught by the length CRC.
    let mut bad = good.clone();
    bad[header_len] ^= 0x01;
    std::fs::write(&file, &bad).unwrap();
    let msg = format!("{:#}", read_scalars(&file).unwrap_err());
    assert!(msg.contains("CRC of its length"), "{msg}");
}

#[test]
fn a_truncated_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_all(dir.path(), &known_scalars());
    let good = std::fs::read(&file).unwrap();
    for cut in [good.len() - 1, good.len() - 10, good.len() - 30] {
        std::fs::write(&file, &good[..cut]).unwrap();
        let msg = format!("{:#}", read_scalars(&file).unwrap_err());
        assert!(msg.contains("truncated"), "cut {cut}: {msg}");
        assert!(msg.contains(&file.display().to_string()), "{msg}");
        assert!(msg.contains("at byte "), "{msg}");
    }
}

#[test]
fn writers_never_overwrite_earlier_logs() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = SummaryWriter::new(dir.path()).unwrap();
    first.add_scalar("loss", 1.0, 1).unwrap();
    first.flush().unwrap();
    let mut second = SummaryWriter::new(dir.path()).unwrap();
    second.add_scalar("loss", 2.0, 2).unwrap();
    assert_ne!(first.path(), second.path());
    drop(second); // flushes
    drop(first);
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 2);
    assert_eq!(
        read_scalars(dir.path()).unwrap()["loss"],
        [(1, 1.0), (2, 2.0)]
    );
}

#[test]
fn an_unusable_logdir_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a_file");
    std::fs::write(&file, b"x").unwrap();
    let logdir = file.join("runs");
    let msg = format!("{:#}", SummaryWriter::new(&logdir).err().unwrap());
    assert!(msg.contains(&logdir.display().to_string()), "{msg}");
    let msg = format!("{:#}", read_scalars(dir.path()).unwrap_err());
    assert!(msg.contains("no event files"), "{msg}");
}

#[test]
fn a_parent_logdir_names_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    write_all(&dir.path().join("run1"), &known_scalars());
    let msg = format!("{:#}", read_scalars(dir.path()).unwrap_err());
    assert!(msg.contains("run1"), "{msg}");
}

// ---- the real TensorBoard reader ----

/// Runs read_tb.py on `logdir`: (exit code, stdout, stderr), or None when skipped on purpose.
fn read_tb(logdir: &Path) -> Option<(i32, String, String)> {
    if std::env::var("DIGITS_SKIP_PYTHON_TESTS").as_deref() == Ok("1") {
        eprintln!(
            "\n!!!!!!!! SKIPPED: DIGITS_SKIP_PYTHON_TESTS=1, event files NOT checked with the real \
             TensorBoard reader !!!!!!!!\n"
        );
        return None;
    }
    let python = std::env::var("DIGITS_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/baselines/read_tb.py");
    assert!(script.is_file(), "missing {}", script.display());
    let out = Command::new(&python)
        .arg(&script)
        .arg(logdir)
        .arg("--json")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "could not run `{python}` ({e}); install Python 3 with `pip install tensorboard`, \
                 set DIGITS_PYTHON, or set DIGITS_SKIP_PYTHON_TESTS=1 to skip"
            )
        });
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// read_tb.py's scalars for `logdir`'s top-level run, which must read back without error.
fn tensorboard_scalars(logdir: &Path) -> Option<Scalars> {
    let (code, stdout, stderr) = read_tb(logdir)?;
    assert_eq!(
        code, 0,
        "read_tb.py failed (is tensorboard installed? `pip install tensorboard`, or \
         DIGITS_SKIP_PYTHON_TESTS=1 to skip)\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stderr.contains("framing+CRC OK"), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let run = json["."].as_object().expect("no top-level run");
    let mut out = Scalars::new();
    for (tag, points) in run {
        let points = points.as_array().unwrap().iter().map(|p| {
            let step = p[0].as_i64().unwrap();
            // Python prints the f32 widened to a double; back to f32 it is exact even if
            // serde_json's float parsing is off by an ulp of the double.
            let value = p[1].as_f64().unwrap() as f32;
            (step, value)
        });
        out.insert(tag.clone(), points.collect());
    }
    Some(out)
}

#[test]
fn the_real_tensorboard_reader_reads_exactly_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let want = known_scalars();
    let file = write_all(dir.path(), &want);
    let Some(got) = tensorboard_scalars(dir.path()) else {
        return;
    };
    assert_eq!(got, want);

    // And it sees a corrupted file as such (exit 3), as our reader does.
    let mut bytes = std::fs::read(&file).unwrap();
    let n = bytes.len();
    bytes[n - 6] ^= 0x10;
    std::fs::write(&file, &bytes).unwrap();
    let (code, _, stderr) = read_tb(dir.path()).unwrap();
    assert_eq!(code, 3, "{stderr}");
    assert!(read_scalars(dir.path()).is_err());
}

// ---- through the fit loop ----

/// Records every step's loss, shared with the test through an Rc.
struct Losses(Rc<RefCell<Vec<f32>>>);

impl Observer for Losses {
    fn on_batch_end(&mut self, _epoch: usize, _step: usize, global_step: u64, loss: f32) {
        let mut v = self.0.borrow_mut();
        v.push(loss);
        assert_eq!(v.len() as u64, global_step);
    }
}

/// `n` points of 4 features in [0, 1); the label is the largest of the first 3.
fn synthetic(n: usize, seed: u64) -> Dataset {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let pixels: Vec<f32> = (0..n * 4).map(|_| next()).collect();
    let labels = pixels
        .chunks(4)
        .map(|x| (0..3).max_by(|&a, &b| x[a].total_cmp(&x[b])).unwrap() as u8)
        .collect();
    Dataset {
        pixels: Pixels::F32(pixels),
        labels,
        rows: 1,
        cols: 4,
        layout: PixelLayout::RowMajor,
    }
}

#[test]
fn the_fit_loop_logs_train_and_test_curves() {
    let (train, test) = (synthetic(300, 1), synthetic(60, 2));
    let spec = ModelSpec::new(
        4,
        vec![
            LayerSpec::dense(8, Activation::Relu),
            LayerSpec::dense(3, Activation::Linear),
        ],
    );
    let mut model = Sequential::new(spec, Init::KaimingUniform, 7);
    let config = FitConfig {
        epochs: 3,
        batch_size: 4, // 75 steps an epoch, 225 in all
        lr: 1e-2,
        seed: 3,
        scale: PixelScale::Unit,
        threads: 1,
        ..FitConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let losses = Rc::new(RefCell::new(Vec::new()));
    let logger = TensorBoardLogger::new(dir.path()).unwrap();
    let mut observers: Vec<Box<dyn Observer>> =
        vec![Box::new(Losses(losses.clone())), Box::new(logger)];
    let mut trainer = Trainer::new(&model, config);
    let history = trainer
        .fit(&mut model, &train, Some(&test), &mut observers)
        .unwrap();
    drop(observers);

    let losses = losses.borrow();
    assert_eq!(losses.len(), 225);
    let mean = |r: std::ops::Range<usize>| {
        let n = r.len() as f64;
        (losses[r].iter().map(|&l| l as f64).sum::<f64>() / n) as f32
    };
    let per_epoch = |v: &[f64]| -> Vec<(i64, f32)> {
        v.iter()
            .enumerate()
            .map(|(i, &x)| (i as i64 + 1, x as f32))
            .collect()
    };
    let mut want = Scalars::new();
    want.insert(
        "train_loss".into(),
        vec![(100, mean(0..100)), (200, mean(100..200))],
    );
    want.insert("train_loss_epoch".into(), per_epoch(&history.loss));
    want.insert("test_loss".into(), per_epoch(&history.test_loss));
    want.insert("test_accuracy".into(), per_epoch(&history.test_accuracy));
    assert_eq!(history.test_loss.len(), 3);
    let got = read_scalars(dir.path()).unwrap();
    assert_eq!(got, want);
    // Training did happen: the loss curve went down.
    assert!(mean(200..225) < mean(0..25), "{losses:?}");

    if let Some(tb) = tensorboard_scalars(dir.path()) {
        assert_eq!(tb, want);
    }
}
