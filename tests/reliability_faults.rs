//! Training faults, through the real `digits train` binary where it matters:
//! - a NaN or infinite loss stops training with an error naming the epoch and step, and the last
//!   good checkpoint stays as it was;
//! - Ctrl-C (SIGINT) saves a resumable checkpoint and exits 130; resuming reaches the weights of
//!   an uninterrupted run;
//! - `kill -9` at random moments while checkpoints are being saved leaves a readable checkpoint;
//! - a full disk or a read-only directory at save time is a clear error and the old checkpoint
//!   survives (a small tmpfs, mounted by the test; skipped loudly where mounting is not allowed).

mod reliability_common;

mod common;

use common::sorted_names;
use digits::data::DatasetKind;
use digits::nn::{Init, ModelSpec, Sequential};
use digits::train::checkpoint::{self, CheckpointMeta};
use digits::train::{FitConfig, TrainError, Trainer};
use reliability_common::{digits, s, train_args, write_set, Set};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_nan_loss_names_the_epoch_and_step_and_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean");
    let bad = dir.path().join("bad");
    write_set(&clean, &Set::new(64));
    // Image 37 holds a NaN: without shuffling it is in the 3rd batch of 16.
    write_set(
        &bad,
        &Set {
            bad_pixel: Some((37, f64::NAN)),
            ..Set::new(64)
        },
    );
    let ckpt = dir.path().join("m.safetensors");
    let c = s(&ckpt);

    // Epoch 1 on clean data, saved.
    let out = digits(&train_args(
        &clean,
        "1",
        "3",
        &["--no-shuffle", "--save", c, "--save-every", "1"],
    ));
    assert!(out.ok, "{}", out.stderr);
    let before = std::fs::read(&ckpt).unwrap();
    let optim_before = std::fs::read(checkpoint::optim_path(&ckpt)).unwrap();

    // Epoch 2 meets the NaN image: stopped, naming epoch 2 and step 3.
    let out = digits(&train_args(
        &bad,
        "2",
        "3",
        &["--no-shuffle", "--resume", c, "--save-every", "1"],
    ));
    assert!(!out.ok);
    assert!(
        out.stderr.contains("became NaN at epoch 2, step 3")
            && out.stderr.contains("weights are those after step 2"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read(&ckpt).unwrap(),
        before,
        "checkpoint untouched"
    );
    assert_eq!(
        std::fs::read(checkpoint::optim_path(&ckpt)).unwrap(),
        optim_before
    );
    let saved = checkpoint::load(&ckpt).unwrap();
    assert_eq!(saved.meta.epoch, 1);
    assert!(saved.model.params().iter().all(|x| x.is_finite()));
    checkpoint::resume(&ckpt, FitConfig::default()).expect("still resumable");

    // From scratch with an infinite pixel: stopped in epoch 1, no checkpoint written at all.
    let inf = dir.path().join("inf");
    write_set(
        &inf,
        &Set {
            bad_pixel: Some((5, f64::INFINITY)),
            ..Set::new(64)
        },
    );
    let fresh = dir.path().join("fresh.safetensors");
    let out = digits(&train_args(
        &inf,
        "2",
        "3",
        &["--no-shuffle", "--save", s(&fresh), "--save-every", "1"],
    ));
    assert!(!out.ok);
    assert!(out.stderr.contains("at epoch 1, step 1;"), "{}", out.stderr);
    assert!(!fresh.exists(), "nothing good to save");
}

#[test]
fn a_non_finite_loss_leaves_the_model_as_after_the_last_good_step() {
    let data = Set {
        bad_pixel: Some((40, f64::NAN)),
        ..Set::new(64)
    }
    .dataset();
    let mut model = Sequential::new(ModelSpec::mlp(400, &[16], 10), Init::GlorotUniform, 1);
    let config = FitConfig {
        epochs: 1,
        batch_size: 16,
        shuffle: false,
        threads: 1,
        ..FitConfig::default()
    };
    let mut t = Trainer::new(&model, config.clone());
    match t.fit(&mut model, &data, None, &mut ()) {
        Err(TrainError::NonFiniteLoss { epoch, step, value }) => {
            assert_eq!((epoch, step), (1, 3));
            assert!(value.is_nan());
        }
        other => panic!("expected NonFiniteLoss, got {:?}", other.map(|h| h.loss)),
    }
    assert_eq!(t.global_step, 2);
    // The same two good steps, taken alone, give the same weights.
    let mut again = Sequential::new(ModelSpec::mlp(400, &[16], 10), Init::GlorotUniform, 1);
    let mut t2 = Trainer::new(&again, config);
    let two = data.select(&(0..32).collect::<Vec<_>>());
    t2.fit(&mut again, &two, None, &mut ()).unwrap();
    assert_eq!(model.params(), again.params());
}

/// Reads the child's stdout until a line starting with `prefix` (returns false at EOF), then
/// keeps draining it in a thread so the child never blocks on a full pipe.
fn wait_for_line(child: &mut std::process::Child, prefix: &str) -> bool {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let found = lines
        .by_ref()
        .any(|l| l.is_ok_and(|l| l.starts_with(prefix)));
    std::thread::spawn(move || lines.for_each(drop));
    found
}

#[test]
fn sigint_saves_a_resumable_checkpoint_and_resuming_matches_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("set");
    write_set(&data, &Set::new(400));
    let epochs = "300";
    let straight = dir.path().join("straight.safetensors");
    let out = digits(&train_args(&data, epochs, "3", &["--save", s(&straight)]));
    assert!(out.ok, "{}", out.stderr);

    let ckpt = dir.path().join("int.safetensors");
    let mut child = Command::new(env!("CARGO_BIN_EXE_digits"))
        .args(train_args(&data, epochs, "3", &["--save", s(&ckpt)]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for_line(&mut child, "Epoch 1/"), "no progress line");
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(130),
        "expected exit 130 after SIGINT (if 0: training ended before the signal; raise the epochs): {stderr}"
    );
    assert!(
        stderr.contains("interrupted") && stderr.contains("--resume"),
        "{stderr}"
    );
    let saved = checkpoint::load(&ckpt).unwrap();
    let steps_per_epoch = 400u64.div_ceil(16);
    println!(
        "SIGINT saved after {} epochs, step {} ({} into the epoch)",
        saved.meta.epoch,
        saved.meta.global_step,
        saved.meta.global_step % steps_per_epoch
    );
    assert!(saved.meta.epoch < 300);
    assert!(saved.meta.global_step >= steps_per_epoch, "after epoch 1");

    let out = digits(&train_args(&data, epochs, "3", &["--resume", s(&ckpt)]));
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stderr.contains("resuming"), "{}", out.stderr);
    let (a, b) = (
        checkpoint::load(&straight).unwrap(),
        checkpoint::load(&ckpt).unwrap(),
    );
    assert_eq!(b.meta.epoch, 300);
    assert_eq!(b.meta.global_step, a.meta.global_step);
    let d = common::max_diff(a.model.params(), b.model.params());
    println!("interrupted + resumed vs uninterrupted: max |weight diff| = {d:e}");
    assert!(d <= 1e-6, "max |weight diff| {d}");
}

#[test]
fn kill_9_at_random_moments_while_saving_leaves_a_readable_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("set");
    write_set(&data, &Set::new(32));
    let ckpt = dir.path().join("k.safetensors");
    // A wide layer makes each save (1.6 MB model + optimizer, fsynced) dominate an epoch of
    // two batches, so most kills land during a save.
    let args = train_args(
        &data,
        "1000000",
        "3",
        &["--layers", "256", "--save", s(&ckpt), "--save-every", "1"],
    );
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let (mut resumable, mut mismatched) = (0, 0);
    let mut epochs_seen = Vec::new();
    for round in 0..8 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_digits"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The first round waits for a first save; later rounds already have one.
        let start = Instant::now();
        while !ckpt.exists() {
            assert!(start.elapsed() < Duration::from_secs(60), "no checkpoint");
            std::thread::sleep(Duration::from_millis(5));
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(20 + rng % 180));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let c = checkpoint::load(&ckpt).unwrap_or_else(|e| panic!("round {round}: {e:#}"));
        assert!(c.model.params().iter().all(|x| x.is_finite()));
        epochs_seen.push(c.meta.epoch);
        match checkpoint::resume(&ckpt, FitConfig::default()) {
            Ok(_) => resumable += 1,
            // Killed between the optimizer's rename and the model's: the pair is refused
            // clearly (and the model still loads, as checked above).
            Err(e) if format!("{e:#}").contains("does not belong to the weights") => {
                mismatched += 1;
                std::fs::remove_file(checkpoint::optim_path(&ckpt)).unwrap();
            }
            Err(e) => panic!("round {round}: {e:#}"),
        }
    }
    // The previous optimizer file is kept until the pair is complete: every kill leaves a pair.
    assert_eq!(
        mismatched, 0,
        "{mismatched} of 8 kills left a model and optimizer file from different saves"
    );
    let leftovers = sorted_names(dir.path())
        .iter()
        .filter(|n| n.ends_with(".tmp"))
        .count();
    // Each save first removes the temporary files of killed ones: at most the one being written
    // when the last kill came, for the model or for the optimizer file.
    assert!(leftovers <= 2, "{leftovers} temporary files left behind");
    println!(
        "kill -9 x8: checkpoint epochs {epochs_seen:?}; {resumable} resumable, {mismatched} \
         optimizer files from the other save, {leftovers} temporary files left behind"
    );
    // The run continues from what survived.
    let out = digits(&train_args(
        &data,
        &(epochs_seen.last().unwrap() + 1).to_string(),
        "3",
        &["--layers", "256", "--resume", s(&ckpt)],
    ));
    let out_ok = out.ok || out.stderr.contains("has no optimizer state");
    assert!(out_ok, "{}", out.stderr);
}

// ---------------------------------------------------------------------------------------------
// Full disk and read-only directory: a small tmpfs mounted by the test (root in CI).

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                s(dir),
            ])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|st| st.success());
        if !ok {
            eprintln!(
                "\n*** SKIPPED: cannot mount a tmpfs at {} (needs root); the full-disk and \
                 read-only checks did not run ***\n",
                dir.display()
            );
            return None;
        }
        Some(Mount(dir.to_path_buf()))
    }

    fn remount_ro(&self) {
        let st = Command::new("mount")
            .args(["-o", "remount,ro", s(&self.0)])
            .status()
            .unwrap();
        assert!(st.success(), "remount read-only failed");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn trained(seed: u64) -> (Sequential, Trainer) {
    let data = Set::new(32).dataset();
    let mut m = Sequential::new(
        ModelSpec::mlp(400, &[25, 15], 10),
        Init::GlorotUniform,
        seed,
    );
    let mut t = Trainer::new(
        &m,
        FitConfig {
            epochs: 1,
            batch_size: 16,
            threads: 1,
            ..FitConfig::default()
        },
    );
    t.fit(&mut m, &data, None, &mut ()).unwrap();
    (m, t)
}

fn meta() -> CheckpointMeta {
    CheckpointMeta::default().with_dataset(DatasetKind::Digits5000, 20, 20)
}

/// Fills the file system holding `dir` until a write fails with "no space".
fn fill(dir: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    let block = vec![0u8; 4096];
    loop {
        match f.write_all(&block).and_then(|()| f.sync_all()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(28) => return,
            Err(e) => panic!("filling {}: {e}", dir.display()),
        }
    }
}

#[test]
fn a_full_disk_at_save_time_is_a_clear_error_and_the_old_checkpoint_survives() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    let Some(_mount) = Mount::tmpfs(&mnt, "1m") else {
        return;
    };
    let path = mnt.join("m.safetensors");
    let (old, old_t) = trained(1);
    checkpoint::save(&path, &old, &meta(), Some(&old_t)).unwrap();
    fill(&mnt);
    let (new, new_t) = trained(2);
    let e = format!(
        "{:#}",
        checkpoint::save(&path, &new, &meta(), Some(&new_t)).unwrap_err()
    );
    println!("full disk: {e}");
    assert!(
        e.contains("cannot save") && e.contains(s(&mnt)) && e.contains("No space left"),
        "{e}"
    );
    assert_eq!(checkpoint::load(&path).unwrap().model, old);
    let r = checkpoint::resume(&path, old_t.config.clone()).unwrap();
    assert_eq!(
        r.trainer.adam, old_t.adam,
        "the optimizer file survives too"
    );
    assert_eq!(
        sorted_names(&mnt),
        [
            "filler",
            "m.optim.prev.safetensors",
            "m.optim.safetensors",
            "m.safetensors"
        ],
        "no temporary file left"
    );

    // The CLI says so and fails.
    let data = dir.path().join("set");
    write_set(&data, &Set::new(32));
    let out = digits(&train_args(
        &data,
        "1",
        "3",
        &["--save", s(&mnt.join("cli.safetensors"))],
    ));
    assert!(!out.ok);
    assert!(
        out.stderr.starts_with("error: ")
            && out.stderr.contains("cli.optim.safetensors")
            && out.stderr.contains("No space left"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_read_only_directory_at_save_time_is_a_clear_error_and_the_old_checkpoint_survives() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("ro");
    let Some(mount) = Mount::tmpfs(&mnt, "4m") else {
        return;
    };
    let path = mnt.join("m.safetensors");
    let (old, old_t) = trained(1);
    checkpoint::save(&path, &old, &meta(), Some(&old_t)).unwrap();
    mount.remount_ro();
    let (new, new_t) = trained(2);
    let e = format!(
        "{:#}",
        checkpoint::save(&path, &new, &meta(), Some(&new_t)).unwrap_err()
    );
    println!("read-only: {e}");
    assert!(
        e.contains("cannot create a file in") && e.contains(s(&mnt)) && e.contains("Read-only"),
        "{e}"
    );
    assert_eq!(checkpoint::load(&path).unwrap().model, old);

    // Resuming there trains, then fails to save with the same clear error; the file stays.
    let data = dir.path().join("set");
    write_set(&data, &Set::new(32));
    let before = std::fs::read(&path).unwrap();
    let out = digits(&train_args(&data, "2", "3", &["--resume", s(&path)]));
    assert!(!out.ok);
    assert!(
        out.stderr.contains("cannot create a file in") && out.stderr.contains("Read-only"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
