//! The model file: a pure PyTorch state dict (`model.<i>.weight` [out, in], `model.<i>.bias`)
//! with our metadata, so `model.load_state_dict(load_file(path))` works in PyTorch.

use super::file::{read_f32, write_f32, StFile};
use super::meta::CheckpointMeta;
use super::names::{describe, infer_spec, parse_name, tensor_names, Found, PREFIX};
use crate::nn::{ModelSpec, Sequential};
use anyhow::{anyhow, bail, Context};
use std::path::Path;

/// A model read from a checkpoint, with what its metadata says.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub model: Sequential,
    pub meta: CheckpointMeta,
}

/// Writes the model's weights and `meta` to `path` (atomically).
pub fn save_model(path: &Path, model: &Sequential, meta: &CheckpointMeta) -> anyhow::Result<()> {
    let mut tensors = Vec::new();
    for (k, ((wn, bn), l)) in tensor_names(model.spec())
        .into_iter()
        .zip(model.layers())
        .enumerate()
    {
        let (w, b) = model.weights(k);
        if let Some(bad) = w.iter().chain(b).find(|x| !x.is_finite()) {
            bail!(
                "refusing to save {}: layer {} has a {bad} weight",
                path.display(),
                l.name
            );
        }
        // Ours is W (in, out); PyTorch's Linear.weight is (out, in).
        let (i, o) = (l.in_dim, l.out_dim);
        let mut t = vec![0.0; i * o];
        for r in 0..i {
            for c in 0..o {
                t[c * i + r] = w[r * o + c];
            }
        }
        tensors.push((wn, vec![o, i], t));
        tensors.push((bn, vec![o], b.to_vec()));
    }
    write_f32(path, &tensors, meta.to_map(model.spec())?)
}

/// Reads a checkpoint of ours or a state dict saved from PyTorch (see [`super::names`]).
pub fn load(path: &Path) -> anyhow::Result<Checkpoint> {
    load_file(StFile::read(path)?, path)
}

/// `load` for a checkpoint already in memory (e.g. built into the binary); `name` names it in errors.
pub fn load_bytes(bytes: Vec<u8>, name: &Path) -> anyhow::Result<Checkpoint> {
    load_file(StFile::parse(name, bytes)?, name)
}

fn load_file(file: StFile, path: &Path) -> anyhow::Result<Checkpoint> {
    let p = path.display();
    let (meta, spec) = CheckpointMeta::from_map(&file.metadata)
        .with_context(|| format!("cannot read the metadata of {p}"))?;
    let st = file.tensors();
    let mut found = Found::new();
    let mut unknown = Vec::new();
    let mut bare = false;
    for (name, t) in st.iter() {
        match parse_name(name) {
            Some((i, kind)) => {
                bare |= !name.starts_with(PREFIX);
                let e = found.entry(i).or_default();
                let shape = Some(t.shape().to_vec());
                if kind == "weight" {
                    e.0 = shape;
                } else {
                    e.1 = shape;
                }
            }
            None => unknown.push(name.to_string()),
        }
    }
    if !unknown.is_empty() {
        unknown.sort();
        bail!(
            "{p} has tensors digits does not know: {} (a checkpoint holds only the Linear layers' model.<i>.weight and model.<i>.bias)",
            unknown.join(", ")
        );
    }
    let spec = match spec {
        Some(s) => s,
        None => {
            infer_spec(&found).map_err(|e| anyhow!("cannot tell the architecture of {p}: {e}"))?
        }
    };
    spec.validate()
        .map_err(|e| anyhow!("{p} describes an invalid model: {e}"))?;
    let names = tensor_names(&spec);
    let arch = format!("the architecture {}", describe(&spec));
    let expected: Vec<usize> = names
        .iter()
        .map(|(w, _)| parse_name(w).unwrap().0)
        .collect();
    if let Some(extra) = found.keys().find(|i| !expected.contains(i)) {
        bail!("{p} has an unexpected layer {PREFIX}{extra} for {arch} in its metadata");
    }
    // A bare nn.Sequential's state dict names its tensors "0.weight", without "model.".
    let strip = |n: &str| {
        if bare {
            n[PREFIX.len()..].to_string()
        } else {
            n.to_string()
        }
    };
    // Every tensor is read, its shape checked against the architecture, before the model is
    // allocated: the metadata alone could claim any size, the tensors are bounded by the file.
    let mut fan_in = spec.input_dim;
    let mut tensors = Vec::with_capacity(names.len());
    for ((wn, bn), l) in names.iter().zip(&spec.layers) {
        let (i, o) = (fan_in, l.units);
        let t = read_f32(path, &st, &strip(wn), &[o, i], &arch)?;
        let b = read_f32(path, &st, &strip(bn), &[o], &arch)?;
        tensors.push((t, b, i, o));
        fan_in = o;
    }
    let mut model = Sequential::zeros(spec.clone())
        .map_err(|e| anyhow!("{p} describes an invalid model: {e}"))?;
    for (k, (t, b, i, o)) in tensors.into_iter().enumerate() {
        let mut w = vec![0.0; i * o];
        for r in 0..i {
            for c in 0..o {
                w[r * o + c] = t[c * i + r];
            }
        }
        model.set_weights(k, &w, &b).map_err(anyhow::Error::msg)?;
    }
    Ok(Checkpoint { model, meta })
}

/// Refuses a checkpoint whose architecture differs from the one this run builds (layer names
/// aside): "runs/m.safetensors was saved for 784-25-15-10 (relu) but this run builds 784-64-10 (relu)".
pub fn check_compatible(
    expected: &ModelSpec,
    found: &ModelSpec,
    path: &Path,
) -> anyhow::Result<()> {
    let same = expected.input_dim == found.input_dim
        && expected.layers.len() == found.layers.len()
        && expected
            .layers
            .iter()
            .zip(&found.layers)
            .all(|(a, b)| a.units == b.units && a.activation == b.activation);
    if !same {
        bail!(
            "{} was saved for {} but this run builds {}",
            path.display(),
            describe(found),
            describe(expected)
        );
    }
    Ok(())
}
