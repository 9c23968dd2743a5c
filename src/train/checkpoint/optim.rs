//! Optimizer state for resuming, in a sibling file `<stem>.optim.safetensors`.
//!
//! It is a separate file so the model file stays a pure state dict that PyTorch loads with
//! `strict=True`. The pair is kept consistent by recording, in the optimizer file, a CRC-32C of
//! the model's parameters and the step count: a resume refuses an optimizer file that belongs to
//! other weights. The optimizer file is written first, after the one it replaces is kept as
//! `<stem>.optim.prev.safetensors` (a hard link): a crash between the two renames leaves the old
//! model with the new optimizer file, and loading then falls back to the previous one, which is
//! the old model's pair.

use super::file::{le_bytes, read_f32, write_f32, StFile};
use super::meta::CheckpointMeta;
use crate::nn::{Adam, Sequential};
use crate::train::Trainer;
use anyhow::{anyhow, bail, Context};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod keys {
    pub const KIND: &str = "digits.kind";
    pub const T: &str = "digits.adam.t";
    pub const LR: &str = "digits.adam.lr";
    pub const BETA1: &str = "digits.adam.beta1";
    pub const BETA2: &str = "digits.adam.beta2";
    pub const EPS: &str = "digits.adam.eps";
    pub const MODEL_CRC: &str = "digits.model_crc32c";
    pub const GLOBAL_STEP: &str = "digits.global_step";
    pub const EPOCH: &str = "digits.epoch";
}

/// The previous optimizer file, kept while a new pair is being written.
pub fn prev_optim_path(model_path: &Path) -> PathBuf {
    optim_path(model_path).with_extension("prev.safetensors")
}

/// `runs/model.safetensors` -> `runs/model.optim.safetensors`.
pub fn optim_path(model_path: &Path) -> PathBuf {
    let stem = match model_path.extension() {
        Some(e) if e == "safetensors" => model_path.file_stem(),
        _ => model_path.file_name(),
    }
    .map(|s| s.to_string_lossy().into_owned())
    .unwrap_or_default();
    model_path.with_file_name(format!("{stem}.optim.safetensors"))
}

fn params_crc(model: &Sequential) -> u32 {
    crc32c::crc32c(&le_bytes(model.params()))
}

/// Writes the trainer's Adam state beside the model file `model_path`.
pub fn save_optimizer(
    model_path: &Path,
    model: &Sequential,
    trainer: &Trainer,
) -> anyhow::Result<()> {
    let a = &trainer.adam;
    let n = a.m.len();
    let meta = HashMap::from(
        [
            (keys::KIND, "adam".to_string()),
            (keys::T, a.t.to_string()),
            // f32 Display is the shortest string that parses back to the same value.
            (keys::LR, a.lr.to_string()),
            (keys::BETA1, a.beta1.to_string()),
            (keys::BETA2, a.beta2.to_string()),
            (keys::EPS, a.eps.to_string()),
            (keys::MODEL_CRC, params_crc(model).to_string()),
            (keys::GLOBAL_STEP, trainer.global_step.to_string()),
            (keys::EPOCH, trainer.epochs_done.to_string()),
        ]
        .map(|(k, v)| (k.to_string(), v)),
    );
    let tensors = [
        ("adam.m".to_string(), vec![n], a.m.clone()),
        ("adam.v".to_string(), vec![n], a.v.clone()),
    ];
    keep_previous(model_path);
    write_f32(&optim_path(model_path), &tensors, meta)
}

/// Keeps the current optimizer file as the previous one (a hard link, or a copy where links are
/// not possible) before it is replaced. Best effort: where that fails (a read-only or full
/// directory), the write that follows fails too and says why.
fn keep_previous(model_path: &Path) {
    let (cur, prev) = (optim_path(model_path), prev_optim_path(model_path));
    if !cur.exists() {
        return;
    }
    // After a save stopped between its two renames the current optimizer file belongs to weights
    // that never reached the model file, and the previous one is the pair of those that did:
    // that one is kept, or a second interrupted save would leave no pair at all.
    if prev.exists() && !belongs_to_saved_model(&cur, model_path) {
        return;
    }
    if remove_if_present(&prev).is_err() {
        return;
    }
    if std::fs::hard_link(&cur, &prev).is_err() {
        if let Ok(bytes) = std::fs::read(&cur) {
            let _ = super::atomic::write_atomic(&prev, &bytes);
        }
    }
}

/// Whether the optimizer file `optim` records the weights now in `model_path` (true when either
/// cannot be read: there is then no better pair to keep).
fn belongs_to_saved_model(optim: &Path, model_path: &Path) -> bool {
    let (Ok(saved), Ok(file)) = (super::load(model_path), StFile::read(optim)) else {
        return true;
    };
    file.metadata.get(keys::MODEL_CRC) == Some(&params_crc(&saved.model).to_string())
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove the stale {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// The Adam state saved beside `model_path`, checked against the model and metadata read from it;
/// None when there is no optimizer file.
pub fn load_optimizer(
    model_path: &Path,
    model: &Sequential,
    meta: &CheckpointMeta,
) -> anyhow::Result<Option<Adam>> {
    let path = optim_path(model_path);
    if !path.exists() {
        return Ok(None);
    }
    match read_pair(&path, model_path, model, meta) {
        Err(e) if e.is::<NotThePair>() => {
            // A save interrupted between the two renames: the previous file is this model's pair.
            let prev = prev_optim_path(model_path);
            match prev
                .exists()
                .then(|| read_pair(&prev, model_path, model, meta))
            {
                Some(Ok(adam)) => Ok(Some(adam)),
                _ => Err(e),
            }
        }
        other => other.map(Some),
    }
}

/// An optimizer file whose recorded weights are not those of the model beside it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NotThePair(String);

/// The Adam state in `path`, checked to be the pair of `model` (read from `model_path`).
fn read_pair(
    path: &Path,
    model_path: &Path,
    model: &Sequential,
    meta: &CheckpointMeta,
) -> anyhow::Result<Adam> {
    let p = path.display();
    let file = StFile::read(path)?;
    let m = &file.metadata;
    let get = |k: &str| -> anyhow::Result<&String> {
        m.get(k).ok_or_else(|| {
            anyhow!("{p} is not an optimizer file of digits (no {k} in its metadata)")
        })
    };
    fn num<T: std::str::FromStr>(p: &str, k: &str, s: &str) -> anyhow::Result<T> {
        s.parse()
            .map_err(|_| anyhow!("{p}: metadata {k} is {s:?}, not a number"))
    }
    let ps = p.to_string();
    if get(keys::KIND)? != "adam" {
        bail!(
            "{p} holds an optimizer digits does not know ({})",
            m[keys::KIND]
        );
    }
    let crc: u32 = num(&ps, keys::MODEL_CRC, get(keys::MODEL_CRC)?)?;
    let step: u64 = num(&ps, keys::GLOBAL_STEP, get(keys::GLOBAL_STEP)?)?;
    if crc != params_crc(model) || step != meta.global_step {
        return Err(NotThePair(format!(
            "{p} does not belong to the weights in {} (optimizer at step {step}, model at step {}). Delete {p} to continue from these weights with a fresh optimizer",
            model_path.display(),
            meta.global_step
        ))
        .into());
    }
    let n = model.params().len();
    let st = file.tensors();
    let why = format!("a model of {n} parameters");
    let adam = Adam {
        lr: num(&ps, keys::LR, get(keys::LR)?)?,
        beta1: num(&ps, keys::BETA1, get(keys::BETA1)?)?,
        beta2: num(&ps, keys::BETA2, get(keys::BETA2)?)?,
        eps: num(&ps, keys::EPS, get(keys::EPS)?)?,
        t: num(&ps, keys::T, get(keys::T)?)?,
        m: read_f32(path, &st, "adam.m", &[n], &why)?,
        v: read_f32(path, &st, "adam.v", &[n], &why)?,
    };
    Ok(adam)
}

/// Removes a stale optimizer file beside `model_path` (after saving a model without one).
pub fn remove_optimizer(model_path: &Path) -> anyhow::Result<()> {
    remove_if_present(&optim_path(model_path))?;
    remove_if_present(&prev_optim_path(model_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sibling_names() {
        assert_eq!(
            optim_path(Path::new("runs/m.safetensors")),
            Path::new("runs/m.optim.safetensors")
        );
        assert_eq!(
            optim_path(Path::new("ckpt")),
            Path::new("ckpt.optim.safetensors")
        );
        assert_eq!(
            optim_path(Path::new("a.b.st")),
            Path::new("a.b.st.optim.safetensors")
        );
    }

    #[test]
    fn a_save_cut_between_the_two_files_falls_back_to_the_previous_optimizer() {
        use crate::nn::{Init, ModelSpec};
        use crate::train::{checkpoint, FitConfig};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let model = Sequential::new(ModelSpec::mlp(4, &[3], 2), Init::GlorotUniform, 1);
        let mut trainer = Trainer::new(
            &model,
            FitConfig {
                batch_size: 2,
                threads: 1,
                ..FitConfig::default()
            },
        );
        trainer.adam.t = 5;
        trainer.adam.m[0] = 0.25;
        checkpoint::save(
            &path,
            &model,
            &CheckpointMeta::from_trainer(&trainer),
            Some(&trainer),
        )
        .unwrap();
        let meta = checkpoint::load(&path).unwrap().meta;
        // The next save wrote its optimizer file, then was killed before the model's rename.
        let mut later = trainer_like(&trainer);
        later.adam.t = 9;
        later.global_step = 7;
        let mut moved = model.clone();
        moved.params_mut()[0] += 1.0;
        save_optimizer(&path, &moved, &later).unwrap();
        let adam = load_optimizer(&path, &model, &meta)
            .unwrap()
            .expect("the previous pair");
        assert_eq!((adam.t, adam.m[0]), (5, 0.25));
        // Without the previous file the pair is refused, naming the way out.
        std::fs::remove_file(prev_optim_path(&path)).unwrap();
        let e = format!("{:#}", load_optimizer(&path, &model, &meta).unwrap_err());
        assert!(
            e.contains("does not belong to the weights in") && e.contains("Delete"),
            "{e}"
        );
        // Removing the optimizer state removes both files.
        save_optimizer(&path, &moved, &later).unwrap();
        assert!(prev_optim_path(&path).exists());
        remove_optimizer(&path).unwrap();
        assert!(!optim_path(&path).exists() && !prev_optim_path(&path).exists());
    }

    fn trainer_like(t: &Trainer) -> Trainer {
        let model = Sequential::new(
            crate::nn::ModelSpec::mlp(4, &[3], 2),
            crate::nn::Init::GlorotUniform,
            1,
        );
        let mut n = Trainer::new(&model, t.config.clone());
        n.adam = t.adam.clone();
        n.global_step = t.global_step;
        n.epochs_done = t.epochs_done;
        n
    }
}
