//! Optimizer state for resuming, in a sibling file `<stem>.optim.safetensors`.
//!
//! It is a separate file so the model file stays a pure state dict that PyTorch loads with
//! `strict=True`. The pair is kept consistent by recording, in the optimizer file, a CRC-32C of
//! the model's parameters and the step count: a resume refuses an optimizer file that belongs to
//! other weights (e.g. a crash between the two renames). The optimizer file is written first.

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
    write_f32(&optim_path(model_path), &tensors, meta)
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
    let p = path.display();
    let file = StFile::read(&path)?;
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
        bail!(
            "{p} does not belong to the weights in {} (optimizer at step {step}, model at step {}); a save was probably interrupted between the two files. Delete {p} to continue from these weights with a fresh optimizer",
            model_path.display(),
            meta.global_step
        );
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
        m: read_f32(&path, &st, "adam.m", &[n], &why)?,
        v: read_f32(&path, &st, "adam.v", &[n], &why)?,
    };
    Ok(Some(adam))
}

/// Removes a stale optimizer file beside `model_path` (after saving a model without one).
pub fn remove_optimizer(model_path: &Path) -> anyhow::Result<()> {
    let path = optim_path(model_path);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove the stale {}", path.display()))
        }
        _ => Ok(()),
    }
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
}
