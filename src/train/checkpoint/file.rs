//! Reading and writing safetensors files of f32 tensors, with errors that name the file and say
//! what is wrong (missing, not safetensors, truncated, wrong dtype or shape, NaN or infinity).

use super::atomic::write_atomic;
use anyhow::{anyhow, bail, Context};
use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::Path;

/// A parsed file: its bytes, kept for the tensor views, and its metadata.
pub struct StFile {
    pub bytes: Vec<u8>,
    pub metadata: HashMap<String, String>,
}

impl StFile {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the checkpoint {}", path.display()))?;
        Self::parse(path, bytes)
    }

    /// Parses the bytes of a file; `path` names it in errors.
    pub fn parse(path: &Path, bytes: Vec<u8>) -> anyhow::Result<Self> {
        let (_, header) =
            SafeTensors::read_metadata(&bytes).map_err(|e| explain(path, &bytes, e))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        Ok(StFile { bytes, metadata })
    }

    pub fn tensors(&self) -> SafeTensors<'_> {
        SafeTensors::deserialize(&self.bytes).expect("checked when read")
    }
}

/// A safetensors error as a sentence about `path`.
fn explain(path: &Path, bytes: &[u8], e: SafeTensorError) -> anyhow::Error {
    let p = path.display();
    let len = bytes.len();
    if len < 8 {
        return anyhow!("{p} is not a safetensors file: it is only {len} bytes long");
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    let looks_like_header = bytes.get(8) == Some(&b'{') && n < 100_000_000;
    match e {
        SafeTensorError::InvalidHeaderLength if looks_like_header => anyhow!(
            "{p} is truncated: its header alone needs {} bytes but the file has {len}",
            n + 8
        ),
        SafeTensorError::MetadataIncompleteBuffer => anyhow!(
            "{p} is truncated or corrupt: its tensor data does not match the sizes in its header ({len} bytes in the file)"
        ),
        e if !looks_like_header => anyhow!("{p} is not a safetensors file ({e})"),
        e => anyhow!("{p} is not a valid safetensors file: {e}"),
    }
}

/// The f32 values of tensor `name`, checked against `shape`, all finite.
pub fn read_f32(
    path: &Path,
    st: &SafeTensors<'_>,
    name: &str,
    shape: &[usize],
    why: &str,
) -> anyhow::Result<Vec<f32>> {
    let p = path.display();
    let t = st
        .tensor(name)
        .map_err(|_| anyhow!("{p} has no tensor {name} (needed for {why})"))?;
    if t.dtype() != Dtype::F32 {
        bail!(
            "{p}: tensor {name} is {:?}; digits reads float32 (F32) tensors (in PyTorch, call model.float() before saving)",
            t.dtype()
        );
    }
    if t.shape() != shape {
        bail!(
            "{p}: tensor {name} has shape {:?} but {why} needs {shape:?}",
            t.shape()
        );
    }
    let v: Vec<f32> = t
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let bad = v.iter().filter(|x| !x.is_finite()).count();
    if bad > 0 {
        bail!("{p}: tensor {name} has {bad} NaN or infinite values; refusing to load it");
    }
    Ok(v)
}

/// Little-endian bytes of f32 values (safetensors is always little endian).
pub fn le_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes named f32 tensors (name, shape, values) and metadata to `path`, atomically.
pub fn write_f32(
    path: &Path,
    tensors: &[(String, Vec<usize>, Vec<f32>)],
    metadata: HashMap<String, String>,
) -> anyhow::Result<()> {
    let bytes: Vec<Vec<u8>> = tensors.iter().map(|(_, _, v)| le_bytes(v)).collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), b)| {
            Ok((
                name.as_str(),
                TensorView::new(Dtype::F32, shape.clone(), b)?,
            ))
        })
        .collect::<Result<Vec<_>, SafeTensorError>>()
        .with_context(|| format!("cannot save {}", path.display()))?;
    let data = safetensors::serialize(views, Some(metadata))
        .with_context(|| format!("cannot save {}", path.display()))?;
    write_atomic(path, &data)
}
