//! Resuming: a run saved after 2 epochs and resumed to 4 ends with the weights of an uninterrupted
//! 4-epoch run; Ctrl-C saves a resumable checkpoint; a save killed at any moment leaves a loadable
//! checkpoint (the old one or the new one).

mod common;
use digits::data::{Dataset, PixelLayout, PixelScale, Pixels};
use digits::nn::{Activation, Init, LayerSpec, ModelSpec, Padding, Sequential};
use digits::train::checkpoint::{self, CheckpointMeta, CheckpointSaver};
use digits::train::{FitConfig, Observer, Trainer};
use std::path::Path;
use std::time::Duration;

/// 300 8x8 images whose label decides which rows are bright, plus deterministic noise.
fn synthetic() -> Dataset {
    let (n, f) = (300, 64);
    let mut state = 12345u32;
    let mut pixels = Vec::with_capacity(n * f);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let label = (i * 7 % 10) as u8;
        for p in 0..f {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 24) as u8 / 4;
            let bright = (p / 8) as u8 == label % 8 || p % 8 == label as usize % 8;
            pixels.push(if bright { 200 + noise / 2 } else { noise });
        }
        labels.push(label);
    }
    Dataset {
        pixels: Pixels::U8(pixels),
        labels,
        rows: 8,
        cols: 8,
        layout: PixelLayout::RowMajor,
    }
}

fn config(epochs: usize) -> FitConfig {
    FitConfig {
        epochs,
        batch_size: 16,
        lr: 5e-3,
        shuffle: true,
        seed: 11,
        scale: PixelScale::Unit,
        threads: 1,
        augment: None,
    }
}

fn fresh() -> Sequential {
    Sequential::new(ModelSpec::mlp(64, &[16, 12], 10), Init::KaimingUniform, 5)
}

fn saver(path: &Path, every: usize) -> CheckpointSaver {
    let mut s = CheckpointSaver::new(path, every, CheckpointMeta::default());
    s.verbose = false;
    s
}

#[test]
fn resuming_after_two_epochs_matches_an_uninterrupted_run() {
    let data = synthetic();
    let mut straight = fresh();
    let mut t = Trainer::new(&straight, config(4));
    let full_history = t.fit(&mut straight, &data, None, &mut ()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.safetensors");
    let mut first = fresh();
    let mut t1 = Trainer::new(&first, config(2));
    t1.fit(&mut first, &data, None, &mut saver(&path, 1))
        .unwrap();
    let saved = checkpoint::load(&path).unwrap();
    assert_eq!(saved.meta.epoch, 2);
    assert_eq!(saved.meta.global_step, 2 * 300u64.div_ceil(16));
    assert_eq!(saved.meta.config.as_ref().unwrap().seed, 11);

    let other = FitConfig {
        batch_size: 32,
        ..config(4)
    };
    let d = checkpoint::resume(&path, other).unwrap().differences();
    assert_eq!(
        d,
        ["the batch size is 32 but the checkpoint was trained with 16"]
    );
    let r = checkpoint::resume(&path, config(4)).unwrap();
    assert!(r.differences().is_empty());
    let (mut model, mut trainer) = (r.model, r.trainer);
    assert_eq!(trainer.epochs_done, 2);
    assert_eq!(trainer.adam.t, t1.adam.t);
    let history = trainer
        .fit(&mut model, &data, None, &mut saver(&path, 1))
        .unwrap();
    let diff = common::max_diff(model.params(), straight.params());
    println!("resumed vs uninterrupted: max |weight diff| = {diff:e}");
    assert!(diff <= 1e-6, "max |weight diff| {diff}");
    assert_ne!(
        model.params(),
        fresh().params(),
        "training moved the weights"
    );
    assert_eq!(history.loss.len(), 4);
    for (a, b) in history.loss.iter().zip(&full_history.loss) {
        assert!(
            (a - b).abs() <= 1e-6,
            "{:?} vs {:?}",
            history.loss,
            full_history.loss
        );
    }
    assert_eq!(checkpoint::load(&path).unwrap().meta.epoch, 4);
}

#[test]
fn resume_needs_the_matching_optimizer_file() {
    let data = synthetic();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.safetensors");
    let mut m = fresh();
    Trainer::new(&m, config(1))
        .fit(&mut m, &data, None, &mut saver(&path, 1))
        .unwrap();
    let optim = checkpoint::optim_path(&path);
    assert!(optim.exists());
    // Weights saved alone (as `save(.., None)` does) with a stale optimizer file put back beside.
    let kept = std::fs::read(&optim).unwrap();
    let mut moved = m.clone();
    moved.params_mut()[0] += 0.5;
    checkpoint::save(&path, &moved, &checkpoint::load(&path).unwrap().meta, None).unwrap();
    assert!(
        !optim.exists(),
        "saving without a trainer removes the stale optimizer file"
    );
    let e = format!("{:#}", checkpoint::resume(&path, config(2)).err().unwrap());
    assert!(e.contains("a.optim.safetensors is missing"), "{e}");
    std::fs::write(&optim, kept).unwrap();
    let e = format!("{:#}", checkpoint::resume(&path, config(2)).err().unwrap());
    assert!(e.contains("does not belong to the weights in"), "{e}");
}

/// Stops training after `after` optimizer steps, like a Ctrl-C handler.
struct StopAfter {
    after: u64,
    seen: u64,
}

impl Observer for StopAfter {
    fn on_batch_end(&mut self, _e: usize, _s: usize, global_step: u64, _l: f32) {
        self.seen = global_step;
    }
    fn should_stop(&self) -> bool {
        self.seen >= self.after
    }
}

#[test]
fn an_interrupt_saves_a_resumable_checkpoint() {
    let data = synthetic();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("int.safetensors");
    let mut m = fresh();
    let mut t = Trainer::new(&m, config(3));
    let mut observers: Vec<Box<dyn Observer>> = vec![
        Box::new(saver(&path, 0)),
        Box::new(StopAfter { after: 25, seen: 0 }),
    ];
    t.fit(&mut m, &data, None, &mut observers).unwrap();
    let c = checkpoint::load(&path).unwrap();
    assert_eq!(c.model, m);
    assert_eq!((c.meta.epoch, c.meta.global_step), (1, 25));
    let r = checkpoint::resume(&path, config(3)).unwrap();
    assert_eq!(r.trainer.adam, t.adam);
}

#[test]
fn a_cnn_interrupted_mid_epoch_resumes_to_the_uninterrupted_weights() {
    // Ctrl-C part-way through epoch 2 of a CNN with dropout, then resume to 3 epochs: the
    // skipped batches, the step count keying the dropout masks and Adam's state all carry over.
    let cnn = || {
        let spec = ModelSpec::new(
            64,
            vec![
                LayerSpec::conv2d(4, 3, Padding::Same, Activation::Relu),
                LayerSpec::maxpool2d(),
                LayerSpec::flatten(),
                LayerSpec::dropout(0.3),
                LayerSpec::dense(10, Activation::Linear),
            ],
        );
        Sequential::new(spec, Init::KaimingUniform, 5)
    };
    let data = synthetic();
    let mut straight = cnn();
    Trainer::new(&straight, config(3))
        .fit(&mut straight, &data, None, &mut ())
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cnn.safetensors");
    let mut m = cnn();
    let mut observers: Vec<Box<dyn Observer>> = vec![
        Box::new(saver(&path, 0)),
        Box::new(StopAfter { after: 25, seen: 0 }),
    ];
    Trainer::new(&m, config(3))
        .fit(&mut m, &data, None, &mut observers)
        .unwrap();
    let saved = checkpoint::load(&path).unwrap();
    assert_eq!((saved.meta.epoch, saved.meta.global_step), (1, 25));
    let r = checkpoint::resume(&path, config(3)).unwrap();
    let (mut model, mut trainer) = (r.model, r.trainer);
    trainer.fit(&mut model, &data, None, &mut ()).unwrap();
    let diff = common::max_diff(model.params(), straight.params());
    println!(
        "CNN interrupted at step 25 and resumed vs uninterrupted: max |weight diff| = {diff:e}"
    );
    assert!(diff <= 1e-6, "max |weight diff| {diff}");
    assert!(
        m.params()
            .iter()
            .zip(straight.params())
            .any(|(a, b)| (a - b).abs() > 1e-3),
        "the interrupted run stopped short of the uninterrupted one"
    );
}

fn models() -> [Sequential; 2] {
    let spec = ModelSpec::mlp(784, &[25, 15], 10);
    [1, 2].map(|s| Sequential::new(spec.clone(), Init::KaimingUniform, s))
}

#[test]
fn two_saves_stopped_between_their_renames_still_leave_the_pair_of_the_saved_weights() {
    // A save writes the optimizer file, then the model file. Stopped in between (simulated
    // here by writing only the optimizer file), the model file keeps the old weights and the
    // optimizer file belongs to the new ones; loading falls back to the previous optimizer file.
    // A second such stop must not replace that previous file, the old weights' only pair.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.safetensors");
    let spec = ModelSpec::mlp(784, &[25, 15], 10);
    let [a, b, c] = [1, 2, 3].map(|s| Sequential::new(spec.clone(), Init::KaimingUniform, s));
    let trainer = |m: &Sequential| Trainer::new(m, config(1));
    checkpoint::save(&path, &a, &CheckpointMeta::default(), Some(&trainer(&a))).unwrap();
    for next in [&b, &c] {
        checkpoint::optim::save_optimizer(&path, next, &trainer(next)).unwrap();
        let saved = checkpoint::load(&path).unwrap();
        assert_eq!(saved.model, a);
        let optim = checkpoint::load_optimizer(&path, &saved.model, &saved.meta);
        assert!(
            matches!(optim, Ok(Some(_))),
            "{:?}",
            optim.map(|o| o.is_some())
        );
    }
}

/// Not a test on its own: when CKPT_KILL_TARGET is set, saves two models in turn forever, for
/// `a_save_killed_at_any_moment_leaves_a_loadable_checkpoint` to kill.
#[test]
fn helper_saves_until_killed() {
    let Some(path) = std::env::var_os("CKPT_KILL_TARGET") else {
        return;
    };
    let ms = models();
    let trainers = ms.clone().map(|m| Trainer::new(&m, config(1)));
    for k in 0.. {
        let i = k % 2;
        checkpoint::save(
            Path::new(&path),
            &ms[i],
            &CheckpointMeta::default(),
            Some(&trainers[i]),
        )
        .unwrap();
    }
}

#[test]
fn a_save_killed_at_any_moment_leaves_a_loadable_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.safetensors");
    let ms = models();
    let t = Trainer::new(&ms[0], config(1));
    checkpoint::save(&path, &ms[0], &CheckpointMeta::default(), Some(&t)).unwrap();
    let (mut seen, mut pair_mismatch) = ([0; 2], 0);
    for round in 0..12u64 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "helper_saves_until_killed",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CKPT_KILL_TARGET", &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(30 + (round * 37) % 60));
        child.kill().unwrap(); // SIGKILL: no destructors, no cleanup
        child.wait().unwrap();
        let c = checkpoint::load(&path).unwrap_or_else(|e| panic!("round {round}: {e:#}"));
        let which = ms
            .iter()
            .position(|m| *m == c.model)
            .expect("the old or the new model");
        seen[which] += 1;
        // The optimizer file is either the pair of this model or refused as not belonging to it.
        match checkpoint::load_optimizer(&path, &c.model, &c.meta) {
            Ok(Some(_)) => {}
            Err(e) if format!("{e:#}").contains("does not belong") => pair_mismatch += 1,
            other => panic!("round {round}: {:?}", other.map(|o| o.is_some())),
        }
    }
    println!("killed 12 saving processes: model A {} times, B {} times, {pair_mismatch} optimizer files from the other save", seen[0], seen[1]);
    // The previous optimizer file is kept until the pair is complete, so every kill leaves a pair.
    assert_eq!(pair_mismatch, 0);
}
