//! Saving a model with its training state, and continuing training from such a save.

use super::meta::CheckpointMeta;
use super::model::{load, save_model};
use super::optim::{load_optimizer, optim_path, remove_optimizer, save_optimizer};
use crate::nn::Sequential;
use crate::train::{FitConfig, Trainer};
use anyhow::bail;
use std::path::Path;

/// Saves `model` with `meta` to `path`. With a trainer, its position, configuration and history
/// replace those in `meta`, and its optimizer state goes to the sibling
/// `<stem>.optim.safetensors` (written first; see [`super::optim`]). Without one, a stale
/// sibling optimizer file is removed. Each file is replaced atomically.
pub fn save(
    path: &Path,
    model: &Sequential,
    meta: &CheckpointMeta,
    trainer: Option<&Trainer>,
) -> anyhow::Result<()> {
    match trainer {
        Some(t) => {
            let from = CheckpointMeta::from_trainer(t);
            let meta = CheckpointMeta {
                scale: t.config.scale,
                epoch: from.epoch,
                global_step: from.global_step,
                config: from.config,
                history: from.history,
                ..meta.clone()
            };
            save_optimizer(path, model, t)?;
            save_model(path, model, &meta)
        }
        None => {
            save_model(path, model, meta)?;
            remove_optimizer(path)
        }
    }
}

/// A model and trainer restored from a checkpoint, ready for `trainer.fit` to continue.
pub struct Resumed {
    pub model: Sequential,
    pub trainer: Trainer,
    pub meta: CheckpointMeta,
}

/// Restores the model, Adam state, epochs done, step count and history saved at `path`, under
/// `config` (its `epochs` is the total to reach; its `lr` replaces the saved one). For a run
/// identical to an uninterrupted one, keep the saved batch size, seed, shuffle and scale
/// (`meta.config` holds them).
pub fn resume(path: &Path, config: FitConfig) -> anyhow::Result<Resumed> {
    let ckpt = load(path)?;
    let Some(mut adam) = load_optimizer(path, &ckpt.model, &ckpt.meta)? else {
        bail!(
            "cannot resume from {}: it has no optimizer state ({} is missing; it is written when saving during training)",
            path.display(),
            optim_path(path).display()
        );
    };
    adam.lr = config.lr;
    let mut trainer = Trainer::new(&ckpt.model, config);
    trainer.adam = adam;
    trainer.epochs_done = ckpt.meta.epoch;
    trainer.global_step = ckpt.meta.global_step;
    trainer.history = ckpt.meta.history.clone().unwrap_or_default();
    Ok(Resumed {
        model: ckpt.model,
        trainer,
        meta: ckpt.meta,
    })
}

impl Resumed {
    /// Settings of this run that differ from the saved run's and so make it diverge from an
    /// uninterrupted one (batch size, seed, shuffle, pixel scale), one sentence each.
    pub fn differences(&self) -> Vec<String> {
        let Some(saved) = &self.meta.config else {
            return Vec::new();
        };
        let now = &self.trainer.config;
        let mut out = Vec::new();
        let mut check = |what: &str, a: String, b: String| {
            if a != b {
                out.push(format!(
                    "{what} is {b} but the checkpoint was trained with {a}"
                ));
            }
        };
        check(
            "the batch size",
            saved.batch_size.to_string(),
            now.batch_size.to_string(),
        );
        check("the seed", saved.seed.to_string(), now.seed.to_string());
        check(
            "shuffle",
            saved.shuffle.to_string(),
            now.shuffle.to_string(),
        );
        check(
            "the pixel scale",
            format!("{:?}", saved.scale),
            format!("{:?}", now.scale),
        );
        let augment = |a: &Option<crate::vision::augment::Augment>| match a {
            Some(a) => format!("on ({})", a.describe()),
            None => "off".to_string(),
        };
        check(
            "augmentation",
            augment(&saved.augment),
            augment(&now.augment),
        );
        out
    }
}
