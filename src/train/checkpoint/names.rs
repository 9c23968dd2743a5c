//! PyTorch's tensor names for our layers, and the architecture read back from names and shapes.
//!
//! The reference modules keep their layers in `self.model = nn.Sequential(...)`, so a state dict
//! names layer k's tensors `model.{i}.weight` / `model.{i}.bias`, where `i` counts every module
//! of the Sequential: a Linear or Conv2d with an activation after it uses two indices (the
//! activation is a module), one without (linear) uses one, and MaxPool2d, Flatten and Dropout
//! one each. torch_cnn.py's ConvNet: `model.0` Conv2d, `model.3` Conv2d, `model.8` Linear.

use crate::nn::syntax::layer_token;
use crate::nn::{Activation, LayerSpec, ModelSpec};
use std::collections::BTreeMap;

/// The attribute holding the `nn.Sequential` in the reference modules.
pub const PREFIX: &str = "model.";

/// Index of each layer's module inside the Sequential.
pub fn module_indices(spec: &ModelSpec) -> Vec<usize> {
    let mut next = 0;
    spec.layers
        .iter()
        .map(|l| {
            let i = next;
            next += match l.activation() {
                Some(a) if a != Activation::Linear => 2,
                _ => 1,
            };
            i
        })
        .collect()
}

/// (layer index, weight name, bias name) of each layer with parameters.
pub fn tensor_names(spec: &ModelSpec) -> Vec<(usize, String, String)> {
    module_indices(spec)
        .into_iter()
        .zip(&spec.layers)
        .enumerate()
        .filter(|(_, (_, l))| matches!(l, LayerSpec::Dense { .. } | LayerSpec::Conv2d { .. }))
        .map(|(k, (i, _))| {
            (
                k,
                format!("{PREFIX}{i}.weight"),
                format!("{PREFIX}{i}.bias"),
            )
        })
        .collect()
}

/// "784-25-15-10 (relu)" for an MLP: sizes, then the hidden activations (and the output one if
/// not linear); "784-c32k3,p2,c64k3,p2,flatten,drop0.5,10 (relu)" with other layers.
pub fn describe(spec: &ModelSpec) -> String {
    let mut sizes = vec![spec.input_dim.to_string()];
    let dense_only = spec
        .layers
        .iter()
        .all(|l| matches!(l, LayerSpec::Dense { .. }));
    let tokens: Vec<String> = spec.layers.iter().map(layer_token).collect();
    if dense_only {
        sizes.extend(tokens);
    } else {
        sizes.push(tokens.join(","));
    }
    let (hidden, last) = spec.layers.split_at(spec.layers.len().saturating_sub(1));
    let mut acts: Vec<&str> = Vec::new();
    for a in hidden.iter().filter_map(LayerSpec::activation) {
        if !acts.contains(&a.name()) {
            acts.push(a.name());
        }
    }
    let mut s = sizes.join("-");
    let out = last.first().and_then(LayerSpec::activation);
    match (acts.is_empty(), out) {
        (false, Some(Activation::Linear) | None) => s += &format!(" ({})", acts.join(", ")),
        (false, Some(a)) => s += &format!(" ({}; {} output)", acts.join(", "), a.name()),
        (true, Some(a)) if a != Activation::Linear => s += &format!(" ({} output)", a.name()),
        _ => {}
    }
    s
}

/// The Linear layers found in a state dict: Sequential index -> (weight shape, bias shape).
pub type Found = BTreeMap<usize, (Option<Vec<usize>>, Option<Vec<usize>>)>;

/// Splits `model.3.weight` (or a bare Sequential's `3.weight`) into (3, "weight").
pub fn parse_name(name: &str) -> Option<(usize, &str)> {
    let rest = name.strip_prefix(PREFIX).unwrap_or(name);
    let (idx, kind) = rest.split_once('.')?;
    let idx = idx.parse().ok()?;
    matches!(kind, "weight" | "bias").then_some((idx, kind))
}

/// The architecture of a state dict without our metadata (e.g. saved from PyTorch): Linear
/// layers in index order; a gap of two indices means an activation module between them, taken
/// to be ReLU as in the tutorial; the last layer gives logits (no activation).
pub fn infer_spec(found: &Found) -> Result<ModelSpec, String> {
    if found.is_empty() {
        return Err("it holds no Linear layers (no tensors named model.<i>.weight)".into());
    }
    if let Some((i, _)) = found
        .iter()
        .find(|(_, (w, _))| w.as_ref().is_some_and(|w| w.len() == 4))
    {
        return Err(format!(
            "{PREFIX}{i}.weight is a convolution's, and the pooling, flatten and dropout layers of a CNN leave no tensors: give the architecture (--arch cnn, or --layers)"
        ));
    }
    let mut layers = Vec::new();
    let mut input_dim = 0;
    let mut prev_out: Option<usize> = None;
    let entries: Vec<_> = found.iter().collect();
    for (k, (&idx, (w, b))) in entries.iter().enumerate() {
        let w = w
            .as_ref()
            .ok_or_else(|| format!("it has {PREFIX}{idx}.bias but no {PREFIX}{idx}.weight"))?;
        if w.len() != 2 {
            return Err(format!(
                "{PREFIX}{idx}.weight has shape {w:?}; a Linear weight is [out, in]"
            ));
        }
        let (out, inp) = (w[0], w[1]);
        match b {
            None => return Err(format!("{PREFIX}{idx}.bias is missing")),
            Some(b) if b != &vec![out] => {
                return Err(format!(
                    "{PREFIX}{idx}.bias has shape {b:?} but {PREFIX}{idx}.weight [{out}, {inp}] needs [{out}]"
                ))
            }
            _ => {}
        }
        match prev_out {
            None => input_dim = inp,
            Some(p) if p != inp => {
                return Err(format!(
                    "{PREFIX}{idx}.weight takes {inp} inputs but the layer before gives {p}"
                ))
            }
            _ => {}
        }
        let activation = match entries.get(k + 1) {
            None => Activation::Linear,
            Some((&next, _)) if next == idx + 1 => Activation::Linear,
            Some((&next, _)) if next == idx + 2 => Activation::Relu,
            Some((&next, _)) => {
                return Err(format!(
                    "Linear layers at Sequential indices {idx} and {next}: more than one module between them is not supported"
                ))
            }
        };
        layers.push(LayerSpec::dense(out, activation));
        prev_out = Some(out);
    }
    if *found.keys().next().unwrap() != 0 {
        return Err("the first Linear layer is not at Sequential index 0".into());
    }
    let spec = ModelSpec::new(input_dim, layers);
    spec.validate()?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_follow_torch_sequential() {
        let spec = ModelSpec::mlp(784, &[25, 15], 10);
        assert_eq!(module_indices(&spec), vec![0, 2, 4]);
        let spec = ModelSpec::new(
            4,
            vec![
                LayerSpec::dense(3, Activation::Linear),
                LayerSpec::dense(3, Activation::Sigmoid),
                LayerSpec::dense(2, Activation::Linear),
            ],
        );
        assert_eq!(module_indices(&spec), vec![0, 1, 3]);
        assert_eq!(tensor_names(&spec)[2].1, "model.3.weight");
        let names = tensor_names(&ModelSpec::mnist_convnet(784, 10));
        let names: Vec<(usize, &str)> = names.iter().map(|(k, w, _)| (*k, w.as_str())).collect();
        assert_eq!(
            names,
            [
                (0, "model.0.weight"),
                (2, "model.3.weight"),
                (6, "model.8.weight")
            ]
        );
    }

    #[test]
    fn describes() {
        assert_eq!(
            describe(&ModelSpec::mlp(784, &[25, 15], 10)),
            "784-25-15-10 (relu)"
        );
        assert_eq!(describe(&ModelSpec::mlp(784, &[], 10)), "784-10");
        assert_eq!(
            describe(&ModelSpec::mnist_convnet(784, 10)),
            "784-c32k3,p2,c64k3,p2,flatten,drop0.5,10 (relu)"
        );
    }

    #[test]
    fn infers_the_tutorial_module() {
        let mut found = Found::new();
        for (i, o, n) in [(0, 25, 784), (2, 15, 25), (4, 10, 15)] {
            found.insert(i, (Some(vec![o, n]), Some(vec![o])));
        }
        assert_eq!(
            infer_spec(&found).unwrap(),
            ModelSpec::mlp(784, &[25, 15], 10)
        );
        found.insert(2, (Some(vec![15, 26]), Some(vec![15])));
        let e = infer_spec(&found).unwrap_err();
        assert!(e.contains("takes 26 inputs"), "{e}");
    }

    #[test]
    fn parses_names() {
        assert_eq!(parse_name("model.4.bias"), Some((4, "bias")));
        assert_eq!(parse_name("2.weight"), Some((2, "weight")));
        assert_eq!(parse_name("model.4.running_mean"), None);
        assert_eq!(parse_name("optimizer"), None);
    }
}
