//! Training with augmentation (`FitConfig::augment`): each batch is distorted afresh, repeatably
//! (the same seed gives the same run), and a run stopped mid-epoch and resumed from its
//! checkpoint ends where an uninterrupted one does, as the distortions depend only on (seed,
//! step). On MNIST a short augmented run still learns.

mod common;

use digits::data::{mnist, Dataset, PixelLayout, PixelScale, Pixels};
use digits::nn::{Init, ModelSpec, Sequential};
use digits::train::augment::AugmentedBatch;
use digits::train::checkpoint::{self, CheckpointMeta, CheckpointSaver};
use digits::train::{fit, FitConfig, Observer, TrainError, Trainer};
use digits::vision::augment::Augment;

/// 240 28x28 images: a bar whose place and direction tell the label, with soft edges.
fn bars() -> Dataset {
    let (n, f) = (240, 784);
    let mut pixels = vec![0u8; n * f];
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let label = (i % 10) as u8;
        let image = &mut pixels[i * f..(i + 1) * f];
        let at = 6 + 2 * (label as usize % 5) + i % 3;
        for k in 5..23 {
            let (x, y) = if label < 5 { (k, at) } else { (at, k) };
            image[y * 28 + x] = 255;
            image[(y + 1) * 28 + x] = 120;
        }
        labels.push(label);
    }
    Dataset {
        pixels: Pixels::U8(pixels),
        labels,
        rows: 28,
        cols: 28,
        layout: PixelLayout::RowMajor,
    }
}

fn config(epochs: usize) -> FitConfig {
    FitConfig {
        epochs,
        batch_size: 16,
        lr: 3e-3,
        seed: 4,
        threads: 1,
        augment: Some(Augment::default()),
        ..FitConfig::default()
    }
}

fn fresh() -> Sequential {
    Sequential::new(ModelSpec::mlp(784, &[16], 10), Init::KaimingUniform, 2)
}

#[test]
fn each_step_gets_its_own_repeatable_distortions() {
    let data = bars();
    let idx: Vec<usize> = (0..16).collect();
    let mut a = AugmentedBatch::new(Augment::default(), 4, &data, 16).unwrap();
    let mut b = AugmentedBatch::new(Augment::default(), 4, &data, 16).unwrap();
    let first = a.fill(&data, &idx, 7).0.clone();
    assert_eq!(&first, b.fill(&data, &idx, 7).0, "same seed and step");
    assert_eq!(first.labels, data.labels[..16]);
    let other_step = a.fill(&data, &idx, 8).0.clone();
    assert_ne!(first.pixels, other_step.pixels);
    let mut c = AugmentedBatch::new(Augment::default(), 5, &data, 16).unwrap();
    assert_ne!(first.pixels, c.fill(&data, &idx, 7).0.pixels, "other seed");
    // Not the images as they were.
    assert_ne!(first.pixels, data.select(&idx).pixels);
}

#[test]
fn the_same_seed_gives_the_same_run_and_augmenting_changes_it() {
    let data = bars();
    let run = |config: FitConfig| {
        let mut m = fresh();
        let h = fit(&mut m, &data, None, &config, &mut ()).unwrap();
        (m, h)
    };
    let (a, ha) = run(config(2));
    let (b, hb) = run(config(2));
    assert_eq!(a.params(), b.params());
    assert_eq!(ha.loss, hb.loss);
    let (plain, _) = run(FitConfig {
        augment: None,
        ..config(2)
    });
    assert_ne!(a.params(), plain.params());
}

/// Stops the run after `at` steps (as Ctrl-C does), letting the saver write its checkpoint.
struct StopAt {
    at: u64,
    step: u64,
    saver: CheckpointSaver,
}

impl Observer for StopAt {
    fn on_batch_end(&mut self, _epoch: usize, _step: usize, global_step: u64, _loss: f32) {
        self.step = global_step;
    }
    fn should_stop(&self) -> bool {
        self.step >= self.at
    }
    fn on_interrupt(&mut self, model: &Sequential, trainer: &Trainer) -> anyhow::Result<()> {
        self.saver.on_interrupt(model, trainer)
    }
}

#[test]
fn resuming_mid_epoch_matches_an_uninterrupted_augmented_run() {
    let data = bars();
    let mut straight = fresh();
    Trainer::new(&straight, config(3))
        .fit(&mut straight, &data, None, &mut ())
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aug.safetensors");
    let mut first = fresh();
    let mut saver = CheckpointSaver::new(&path, 0, CheckpointMeta::default());
    saver.verbose = false;
    // 15 steps an epoch: stopped in the middle of the second.
    let mut stop = StopAt {
        at: 22,
        step: 0,
        saver,
    };
    let mut t = Trainer::new(&first, config(3));
    t.fit(&mut first, &data, None, &mut stop).unwrap();
    assert_eq!((t.epochs_done, t.global_step), (1, 22));

    let saved = checkpoint::load(&path).unwrap();
    assert_eq!(
        saved.meta.config.as_ref().unwrap().augment,
        Some(Augment::default()),
        "the checkpoint records the augmentation"
    );
    let without = checkpoint::resume(
        &path,
        FitConfig {
            augment: None,
            ..config(3)
        },
    )
    .unwrap();
    assert_eq!(without.differences().len(), 1);
    assert!(
        without.differences()[0].starts_with(
            "augmentation is off but the checkpoint was trained with on (rotation ±12°"
        ),
        "{:?}",
        without.differences()
    );
    let r = checkpoint::resume(&path, config(3)).unwrap();
    assert!(r.differences().is_empty(), "{:?}", r.differences());
    let (mut model, mut trainer) = (r.model, r.trainer);
    trainer.fit(&mut model, &data, None, &mut ()).unwrap();
    let diff = common::max_diff(model.params(), straight.params());
    println!("resumed vs uninterrupted, augmented: max |weight diff| = {diff:e}");
    assert!(diff <= 1e-6, "max |weight diff| {diff}");
}

#[test]
fn floating_point_images_cannot_be_augmented() {
    let data = bars();
    let Pixels::U8(p) = &data.pixels else {
        unreachable!()
    };
    let floats = Dataset {
        pixels: Pixels::F32(p.iter().map(|&v| v as f32 / 255.0).collect()),
        ..data.clone()
    };
    let mut m = fresh();
    match fit(&mut m, &floats, None, &config(1), &mut ()) {
        Err(TrainError::Invalid(msg)) => assert!(msg.contains("augmentation needs"), "{msg}"),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn an_augmented_mnist_run_still_learns() {
    let (train, test) = mnist::load_dir(&common::mnist_dir()).expect("MNIST (see tests/common)");
    let mut model = Sequential::new(ModelSpec::mlp(784, &[64], 10), Init::KaimingUniform, 1);
    let config = FitConfig {
        epochs: 2,
        batch_size: 64,
        seed: 1,
        scale: PixelScale::Unit,
        augment: Some(Augment::default()),
        ..FitConfig::default()
    };
    let h = fit(&mut model, &train, Some(&test), &config, &mut ()).unwrap();
    println!(
        "augmented 784-64-10, 2 epochs: test accuracy {:?}, loss {:?}, seconds {:?}",
        h.test_accuracy, h.loss, h.epoch_seconds
    );
    assert!(h.loss[1] < h.loss[0]);
    assert!(h.test_accuracy[1] > 0.92, "{:?}", h.test_accuracy);
}

fn digits_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_digits"))
        .args(args)
        .output()
        .expect("run digits")
}

#[test]
fn the_command_line_shows_and_trains_with_augmentation() {
    let m = common::mnist_dir();
    let m = m.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let png = |name: &str, seed: &str| {
        let path = dir.path().join(name);
        let out = digits_cli(&[
            "show",
            "--augment",
            "--data-dir",
            m,
            "--seed",
            seed,
            "-o",
            path.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(path).unwrap()
    };
    let (a, b, c) = (png("a.png", "3"), png("b.png", "3"), png("c.png", "4"));
    assert_eq!(a, b, "the same seed draws the same picture");
    assert_ne!(a, c);
    let img = image::load_from_memory(&a).unwrap();
    assert!(img.width() >= 8 * 28 && img.height() >= 8 * 28);

    let out = digits_cli(&[
        "train",
        "--augment",
        "--data-dir",
        m,
        "--epochs",
        "1",
        "--layers",
        "32",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let accuracy: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("test_accuracy: "))
        .expect("a test_accuracy line")
        .parse()
        .unwrap();
    assert!(accuracy > 0.85, "{stdout}");
}

#[test]
fn augmented_mnist_digits_stay_inside_the_frame() {
    let (train, _) = mnist::load_dir(&common::mnist_dir()).expect("MNIST (see tests/common)");
    let Pixels::U8(p) = &train.pixels else {
        unreachable!("MNIST is u8")
    };
    // The digits whose ink keeps 2 pixels from the edge (nearly nine in ten).
    let inside: Vec<usize> = (0..6000)
        .filter(|&i| {
            digits::vision::augment::ink_box(&p[i * 784..(i + 1) * 784], 28, 28)
                .is_some_and(|(x0, y0, x1, y1)| x0.min(y0) >= 2 && x1.max(y1) <= 25)
        })
        .collect();
    assert!(inside.len() > 5000, "{}", inside.len());
    let mut aug = AugmentedBatch::new(Augment::default(), 0, &train, 64).unwrap();
    let mut ratios = Vec::new();
    for (step, idx) in inside.chunks(64).enumerate() {
        let (batch, rows) = aug.fill(&train, idx, step as u64);
        let Pixels::U8(q) = &batch.pixels else {
            unreachable!()
        };
        for (&k, &i) in rows.iter().zip(idx) {
            let img = &q[k * 784..(k + 1) * 784];
            let ring = (0..28).all(|j| {
                img[j] == 0 && img[27 * 28 + j] == 0 && img[j * 28] == 0 && img[j * 28 + 27] == 0
            });
            assert!(ring, "training image {i} at step {step}: ink on the edge");
            let ink = |v: &[u8]| v.iter().map(|&x| x as f64).sum::<f64>();
            ratios.push(ink(img) / ink(&p[i * 784..(i + 1) * 784]));
        }
    }
    ratios.sort_by(f64::total_cmp);
    let n = ratios.len();
    println!(
        "ink after / before: min {:.2}, median {:.2}, max {:.2}",
        ratios[0],
        ratios[n / 2],
        ratios[n - 1]
    );
    // Scaled, thickened or thinned, but never lost or cut to a fragment.
    assert!(ratios[0] > 0.3 && ratios[n / 2] > 0.8 && ratios[n / 2] < 1.3);
}

/// The first 40 images of `bars()` as `aug` distorts them at seed 4, step 3.
fn batch_of(aug: Augment) -> Vec<u8> {
    let data = bars();
    let idx: Vec<usize> = (0..40).collect();
    let mut batch = AugmentedBatch::new(aug, 4, &data, 40).unwrap();
    let Pixels::U8(px) = &batch.fill(&data, &idx, 3).0.pixels else {
        unreachable!()
    };
    px[..40 * 784].to_vec()
}

/// For each of 40 images of `bars()`, its label and whether `aug` gives it other pixels than
/// the default augmentation does at the same seed and step; and the batch it gave.
fn changed_by(aug: Augment) -> (Vec<(u8, bool)>, Vec<u8>) {
    let labels = bars().labels;
    let (a, b) = (batch_of(Augment::default()), batch_of(aug));
    let changed = a
        .chunks(784)
        .zip(b.chunks(784))
        .zip(labels)
        .map(|((a, b), label)| (label, a != b))
        .collect();
    (changed, b)
}

#[test]
fn styles_change_only_the_ones_and_sevens_and_nothing_else_of_the_stream() {
    let (changed, _) = changed_by(Augment {
        styles: 1.0,
        ..Augment::default()
    });
    for (i, (label, changed)) in changed.into_iter().enumerate() {
        // The bars of 7 are upright, long enough for a bar across; those of 1 lie flat, too
        // short to be given a flag; other digits have no style.
        assert_eq!(changed, label == 7, "image {i}, label {label}");
    }
}

/// `digits train --augment FLAG VALUE` fails, saying the flag is a chance and naming the value.
fn refused_as_a_chance(flag: &str, value: &str) {
    let out = common::digits(&["train", "--augment", flag, value, "--epochs", "1"]);
    assert!(!out.status.success());
    let err = common::text(&out.stderr);
    let want = format!("{flag} is a chance, from 0 to 1; got {value}");
    assert!(err.contains(&want), "{err}");
}

#[test]
fn allographs_replace_only_ones_fours_sevens_and_nines_and_nothing_else_of_the_stream() {
    let drawn = Augment {
        allographs: 1.0,
        ..Augment::default()
    };
    let (changed, batch) = changed_by(drawn);
    for (i, (label, changed)) in changed.into_iter().enumerate() {
        assert_eq!(
            changed,
            [1, 4, 7, 9].contains(&label),
            "image {i}, label {label}"
        );
    }
    // The same seed and step draw the same digits.
    assert_eq!(changed_by(drawn).1, batch);
}

#[test]
fn the_scan_share_decides_how_many_images_are_scanned() {
    let changed = |scan: f32| {
        let (changed, _) = changed_by(Augment {
            scan,
            ..Augment::default()
        });
        changed.iter().filter(|(_, c)| *c).count()
    };
    // Against the default quarter: no scans changes the images it scanned, scanning every image
    // changes the others (and, as each image draws from its own stream, nothing else).
    let (none, all) = (changed(0.0), changed(1.0));
    assert!(none > 0 && none < all, "{none} {all}");
    assert_eq!(none + all, 40);
    assert_eq!(changed(Augment::default().scan), 0);
}

#[test]
fn underlines_draw_a_bar_on_every_digit_and_change_nothing_else_of_the_stream() {
    let barred = Augment {
        underlines: 1.0,
        ..Augment::default()
    };
    let (unbarred, batch) = (batch_of(Augment::default()), batch_of(barred));
    // Every image differs from its unbarred self, in the bar's one or two rows only, and only
    // by ink added.
    for (k, (a, b)) in unbarred.chunks(784).zip(batch.chunks(784)).enumerate() {
        assert!(
            a.iter().zip(b).all(|(x, y)| y >= x),
            "image {k}: ink taken away"
        );
        let rows = (0..28)
            .filter(|&r| a[r * 28..(r + 1) * 28] != b[r * 28..(r + 1) * 28])
            .count();
        assert!((1..=2).contains(&rows), "image {k}: {rows} rows changed");
    }
    assert_eq!(batch_of(barred), batch);
}

#[test]
fn paper_captures_every_digit_again_as_a_picture_and_changes_nothing_else() {
    let on_paper = Augment {
        paper: 1.0,
        ..Augment::default()
    };
    let (changed, batch) = changed_by(on_paper);
    // Each bar, put on paper, captured and framed again, is another picture of it...
    let redrawn = changed.iter().filter(|(_, c)| *c).count();
    assert!(redrawn >= 36, "{redrawn} of 40 captured");
    // ... still a framed digit: ink, none on the edge, its mass near the middle.
    for (k, img) in batch.chunks(784).enumerate() {
        let ink: f64 = img.iter().map(|&v| v as f64).sum();
        assert!(ink > 0.0, "image {k}: no ink");
        let edge = (0..28).all(|j| img[j] == 0 && img[27 * 28 + j] == 0);
        assert!(edge, "image {k}: ink on the top or bottom row");
        let (mut cx, mut cy) = (0.0, 0.0);
        for (i, &v) in img.iter().enumerate() {
            (cx, cy) = (
                cx + v as f64 * (i % 28) as f64,
                cy + v as f64 * (i / 28) as f64,
            );
        }
        let (cx, cy) = (cx / ink, cy / ink);
        assert!(
            (cx - 13.5).abs() < 3.0 && (cy - 13.5).abs() < 3.0,
            "image {k}: ({cx}, {cy})"
        );
    }
    // Seeded: the same seed and step capture the same pictures.
    assert_eq!(batch_of(on_paper), batch);
    // A share of none changes nothing.
    let (unchanged, _) = changed_by(Augment {
        paper: 0.0,
        ..Augment::default()
    });
    assert!(unchanged.iter().all(|(_, c)| !c));
}

#[test]
fn every_chance_must_be_from_0_to_1() {
    for (flag, value) in [
        ("--styles", "1.5"),
        ("--allographs", "2"),
        ("--scans", "1.5"),
        ("--underlines", "1.01"),
        ("--paper", "1.2"),
    ] {
        refused_as_a_chance(flag, value);
    }
}

#[test]
fn the_elastic_distance_must_be_from_0_to_4_pixels() {
    for value in ["5", "-1"] {
        let flag = format!("--elastic={value}");
        let out = common::digits(&["train", "--augment", &flag, "--epochs", "1"]);
        assert!(!out.status.success());
        let err = common::text(&out.stderr);
        let want = format!("--elastic is a distance in pixels, from 0 to 4; got {value}");
        assert!(err.contains(&want), "{err}");
    }
}
