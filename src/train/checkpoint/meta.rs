//! What a checkpoint says besides its tensors, as safetensors' string-to-string metadata.

use crate::data::{DatasetKind, PixelLayout, PixelScale};
use crate::nn::ModelSpec;
use crate::train::{FitConfig, History, Trainer};
use anyhow::{anyhow, Context};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// Metadata keys. "format": "pt" makes PyTorch's tooling treat the file as a state dict.
pub mod keys {
    pub const FORMAT: &str = "format";
    pub const SPEC: &str = "digits.spec";
    pub const SCALE: &str = "digits.scale";
    pub const DATASET: &str = "digits.dataset";
    pub const IMAGE: &str = "digits.image";
    pub const LAYOUT: &str = "digits.layout";
    pub const EPOCH: &str = "digits.epoch";
    pub const GLOBAL_STEP: &str = "digits.global_step";
    pub const FIT_CONFIG: &str = "digits.fit_config";
    pub const HISTORY: &str = "digits.history";
    pub const VERSION: &str = "digits.version";
}

/// How the model was trained and how its inputs are made; everything but the weights.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckpointMeta {
    /// Pixel preprocessing the model expects (unit = /255, raw = 0..255).
    pub scale: PixelScale,
    /// The dataset it was trained on, when known.
    pub dataset: Option<DatasetKind>,
    /// Image (rows, cols) of its inputs, when known (28x28 MNIST, 20x20 digits5000).
    pub image: Option<(usize, usize)>,
    /// Pixel order inside the input vector, when known.
    pub layout: Option<PixelLayout>,
    /// Epochs completed.
    pub epoch: usize,
    /// Optimizer steps taken.
    pub global_step: u64,
    pub config: Option<FitConfig>,
    pub history: Option<History>,
    /// True when the file had no `digits.spec` (e.g. saved from PyTorch): the architecture was
    /// inferred from the tensor shapes and the preprocessing was assumed (unit scale).
    pub inferred: bool,
}

impl CheckpointMeta {
    /// The training position and configuration of `trainer`, with the data description left empty.
    pub fn from_trainer(trainer: &Trainer) -> Self {
        CheckpointMeta {
            scale: trainer.config.scale,
            epoch: trainer.epochs_done,
            global_step: trainer.global_step,
            config: Some(trainer.config.clone()),
            history: Some(trainer.history.clone()),
            ..Self::default()
        }
    }

    /// Adds the dataset and its image shape and layout.
    pub fn with_dataset(mut self, kind: DatasetKind, rows: usize, cols: usize) -> Self {
        self.dataset = Some(kind);
        self.image = Some((rows, cols));
        self.layout = Some(match kind {
            DatasetKind::Mnist => PixelLayout::RowMajor,
            DatasetKind::Digits5000 => PixelLayout::ColumnMajor,
        });
        self
    }

    /// The metadata map, with the architecture.
    pub fn to_map(&self, spec: &ModelSpec) -> anyhow::Result<HashMap<String, String>> {
        let mut m = HashMap::new();
        let mut put = |k: &str, v: String| m.insert(k.to_string(), v);
        put(keys::FORMAT, "pt".into());
        put(keys::VERSION, env!("CARGO_PKG_VERSION").into());
        put(keys::SPEC, serde_json::to_string(spec)?);
        put(keys::SCALE, enum_str(&self.scale)?);
        if let Some(d) = self.dataset {
            put(keys::DATASET, enum_str(&d)?);
        }
        if let Some((r, c)) = self.image {
            put(keys::IMAGE, format!("{r}x{c}"));
        }
        if let Some(l) = self.layout {
            put(keys::LAYOUT, enum_str(&l)?);
        }
        put(keys::EPOCH, self.epoch.to_string());
        put(keys::GLOBAL_STEP, self.global_step.to_string());
        if let Some(c) = &self.config {
            put(keys::FIT_CONFIG, serde_json::to_string(c)?);
        }
        if let Some(h) = &self.history {
            put(keys::HISTORY, serde_json::to_string(h)?);
        }
        Ok(m)
    }

    /// Reads the map back; returns the architecture too when the file records it.
    pub fn from_map(m: &HashMap<String, String>) -> anyhow::Result<(Self, Option<ModelSpec>)> {
        let spec: Option<ModelSpec> = json_key(m, keys::SPEC)?;
        let image = match m.get(keys::IMAGE) {
            Some(s) => Some(
                s.split_once('x')
                    .and_then(|(r, c)| Some((r.parse().ok()?, c.parse().ok()?)))
                    .ok_or_else(|| anyhow!("metadata {} is {s:?}, not ROWSxCOLS", keys::IMAGE))?,
            ),
            None => None,
        };
        let meta = CheckpointMeta {
            scale: enum_key(m, keys::SCALE)?.unwrap_or_default(),
            dataset: enum_key(m, keys::DATASET)?,
            image,
            layout: enum_key(m, keys::LAYOUT)?,
            epoch: parse_key(m, keys::EPOCH)?.unwrap_or(0),
            global_step: parse_key(m, keys::GLOBAL_STEP)?.unwrap_or(0),
            config: json_key(m, keys::FIT_CONFIG)?,
            history: json_key(m, keys::HISTORY)?,
            inferred: spec.is_none(),
        };
        Ok((meta, spec))
    }
}

/// A unit enum's serde name ("unit", "mnist", "row-major").
fn enum_str<T: serde::Serialize>(v: &T) -> anyhow::Result<String> {
    match serde_json::to_value(v)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(anyhow!("expected a string, got {other}")),
    }
}

fn enum_key<T: DeserializeOwned>(
    m: &HashMap<String, String>,
    k: &str,
) -> anyhow::Result<Option<T>> {
    m.get(k)
        .map(|s| {
            serde_json::from_value(serde_json::Value::String(s.clone()))
                .with_context(|| format!("metadata {k} has an unknown value {s:?}"))
        })
        .transpose()
}

fn json_key<T: DeserializeOwned>(
    m: &HashMap<String, String>,
    k: &str,
) -> anyhow::Result<Option<T>> {
    m.get(k)
        .map(|s| serde_json::from_str(s).with_context(|| format!("metadata {k} is not valid")))
        .transpose()
}

fn parse_key<T: std::str::FromStr>(
    m: &HashMap<String, String>,
    k: &str,
) -> anyhow::Result<Option<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    m.get(k)
        .map(|s| {
            s.parse()
                .with_context(|| format!("metadata {k} is {s:?}, not a number"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let spec = ModelSpec::mlp(400, &[25, 15], 10);
        let meta = CheckpointMeta {
            scale: PixelScale::Raw,
            epoch: 3,
            global_step: 120,
            config: Some(FitConfig::default()),
            history: Some(History {
                loss: vec![0.5, 0.25],
                ..History::default()
            }),
            ..CheckpointMeta::default()
        }
        .with_dataset(DatasetKind::Digits5000, 20, 20);
        let m = meta.to_map(&spec).unwrap();
        assert_eq!(m["format"], "pt");
        assert_eq!(m[keys::SCALE], "raw");
        assert_eq!(m[keys::DATASET], "digits5000");
        assert_eq!(m[keys::LAYOUT], "column-major");
        let (back, spec2) = CheckpointMeta::from_map(&m).unwrap();
        assert_eq!(back, meta);
        assert_eq!(spec2, Some(spec));
    }

    #[test]
    fn pytorch_metadata_means_inferred_and_unit() {
        let m = HashMap::from([("format".to_string(), "pt".to_string())]);
        let (meta, spec) = CheckpointMeta::from_map(&m).unwrap();
        assert!(meta.inferred && spec.is_none());
        assert_eq!(meta.scale, PixelScale::Unit);
        let bad = HashMap::from([(keys::SCALE.to_string(), "huge".to_string())]);
        let e = format!("{:#}", CheckpointMeta::from_map(&bad).unwrap_err());
        assert!(e.contains("digits.scale"), "{e}");
    }
}
