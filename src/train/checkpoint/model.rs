//! The model file: a pure PyTorch state dict (`model.<i>.weight` [out, in] or
//! [cout, cin, k, k], `model.<i>.bias`)
//! with our metadata, so `model.load_state_dict(load_file(path))` works in PyTorch.

use super::file::{read_f32, write_f32, StFile};
use super::meta::CheckpointMeta;
use super::names::{describe, infer_spec, parse_name, tensor_names, Found, PREFIX};
use crate::nn::layer::build;
use crate::nn::{Layer, ModelSpec, Sequential};
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
    for (k, wn, bn) in tensor_names(model.spec()) {
        let l = &model.layers()[k];
        let (w, b) = model.weights(k);
        if let Some(bad) = w.iter().chain(b).find(|x| !x.is_finite()) {
            bail!(
                "refusing to save {}: layer {} has a {bad} weight",
                path.display(),
                l.name()
            );
        }
        let (shape, perm) = (torch_shape(l), torch_perm(l));
        let mut t = vec![0.0; w.len()];
        for (ours, &theirs) in perm.iter().enumerate() {
            t[theirs] = w[ours];
        }
        tensors.push((wn, shape, t));
        tensors.push((bn, vec![b.len()], b.to_vec()));
    }
    write_f32(path, &tensors, meta.to_map(model.spec())?)
}

/// PyTorch's shape of a layer's weight: Linear [out, in], Conv2d [cout, cin, k, k].
fn torch_shape(l: &Layer) -> Vec<usize> {
    match l {
        Layer::Dense(d) => vec![d.out_dim, d.in_dim],
        Layer::Conv2d(c) => vec![c.cout, c.cin, c.k, c.k],
        _ => vec![],
    }
}

/// Where each of our weights goes in PyTorch's tensor: ours are (in, out) or (k, k, cin, cout);
/// a Linear after Flatten counts its inputs in CHW order, ours in HWC.
pub(crate) fn torch_perm(l: &Layer) -> Vec<usize> {
    match l {
        Layer::Dense(d) => {
            let (i, o) = (d.in_dim, d.out_dim);
            // Input r of ours is input chw(r) of PyTorch's.
            let chw = |r: usize| match d.in_image {
                Some((h, w, c)) => (r % c) * h * w + r / c,
                None => r,
            };
            let mut perm = Vec::with_capacity(i * o);
            for r in 0..i {
                for col in 0..o {
                    perm.push(col * i + chw(r));
                }
            }
            perm
        }
        Layer::Conv2d(c) => {
            let (k, ci, co) = (c.k, c.cin, c.cout);
            let mut perm = Vec::with_capacity(c.weight_len());
            for ky in 0..k {
                for kx in 0..k {
                    for a in 0..ci {
                        for b in 0..co {
                            perm.push(((b * ci + a) * k + ky) * k + kx);
                        }
                    }
                }
            }
            perm
        }
        _ => vec![],
    }
}

/// Reads a checkpoint of ours or a state dict saved from PyTorch (see [`super::names`]).
pub fn load(path: &Path) -> anyhow::Result<Checkpoint> {
    load_file(StFile::read(path)?, path, None)
}

/// `load` for a file that may lack our metadata: `arch` is then its architecture (a state dict
/// alone cannot tell a CNN's pooling, flatten and dropout layers). A file with metadata keeps
/// its own.
pub fn load_as(path: &Path, arch: Option<&ModelSpec>) -> anyhow::Result<Checkpoint> {
    load_file(StFile::read(path)?, path, arch)
}

/// `load` for a checkpoint already in memory (e.g. built into the binary); `name` names it in errors.
pub fn load_bytes(bytes: Vec<u8>, name: &Path) -> anyhow::Result<Checkpoint> {
    load_file(StFile::parse(name, bytes)?, name, None)
}

fn load_file(file: StFile, path: &Path, arch: Option<&ModelSpec>) -> anyhow::Result<Checkpoint> {
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
            "{p} has tensors digits does not know: {} (a checkpoint holds only the Linear and Conv2d layers' model.<i>.weight and model.<i>.bias)",
            unknown.join(", ")
        );
    }
    let spec = match (spec, arch) {
        (Some(s), _) => s,
        (None, Some(a)) => a.clone(),
        (None, None) => {
            infer_spec(&found).map_err(|e| anyhow!("cannot tell the architecture of {p}: {e}"))?
        }
    };
    // The one walk over the layers' shapes: what each tensor must be.
    let (layers, _) = build(&spec).map_err(|e| anyhow!("{p} describes an invalid model: {e}"))?;
    let names = tensor_names(&spec);
    let arch = format!("the architecture {}", describe(&spec));
    let expected: Vec<usize> = names
        .iter()
        .map(|(_, w, _)| parse_name(w).unwrap().0)
        .collect();
    if let Some(extra) = found.keys().find(|i| !expected.contains(i)) {
        bail!("{p} has an unexpected layer {PREFIX}{extra} for {arch}");
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
    let mut tensors = Vec::with_capacity(names.len());
    for (k, wn, bn) in &names {
        let shape = torch_shape(&layers[*k]);
        let t = read_f32(path, &st, &strip(wn), &shape, &arch)?;
        let b = read_f32(path, &st, &strip(bn), &[shape[0]], &arch)?;
        // Only now, with the tensor's size known to fit the file, is the layout built.
        let w: Vec<f32> = torch_perm(&layers[*k])
            .iter()
            .map(|&theirs| t[theirs])
            .collect();
        tensors.push((*k, w, b));
    }
    let mut model =
        Sequential::zeros(spec).map_err(|e| anyhow!("{p} describes an invalid model: {e}"))?;
    for (k, w, b) in tensors {
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
    if expected.unnamed() != found.unnamed() {
        bail!(
            "{} was saved for {} but this run builds {}",
            path.display(),
            describe(found),
            describe(expected)
        );
    }
    Ok(())
}
