//! The architecture of a Sequential model: what a checkpoint stores to rebuild it.
//!
//! Serialised as JSON in checkpoints: `{"input_dim": 784, "layers": [{"type": "conv2d", ...}]}`.
//! Files written before convolutions existed name only Dense layers, without a `"type"`
//! (`{"units": 25, "activation": "relu"}`); they still load as Dense layers.

use super::Activation;
use serde::{Deserialize, Deserializer, Serialize};

/// Zero padding of a convolution: `valid` (none: the output shrinks by k - 1) or `same` (k / 2
/// on each side: the output keeps the input's size).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    #[default]
    Valid,
    Same,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum LayerSpec {
    /// Fully connected: `units` outputs, the activation fused after it.
    Dense {
        units: usize,
        activation: Activation,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// 2-D convolution, stride 1, `filters` outputs per position, a `kernel` x `kernel` window
    /// (odd), the activation fused after it.
    Conv2d {
        filters: usize,
        kernel: usize,
        #[serde(default)]
        padding: Padding,
        activation: Activation,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// Max pooling over `window` [ph, pw] (default 2x2) with the same stride: the output is
    /// (h / ph, w / pw); rows and columns past the last whole window are dropped.
    #[serde(rename = "maxpool2d")]
    MaxPool2d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window: Option<[usize; 2]>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// An image (h, w, c) as a vector of h*w*c values (in that order; no copy in memory).
    Flatten {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// Zeroes each value with probability `rate` while training (the rest scaled by
    /// 1 / (1 - rate)); the identity otherwise.
    Dropout {
        rate: f32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
}

impl LayerSpec {
    pub fn dense(units: usize, activation: Activation) -> Self {
        LayerSpec::Dense {
            units,
            activation,
            name: None,
        }
    }

    pub fn conv2d(filters: usize, kernel: usize, padding: Padding, activation: Activation) -> Self {
        LayerSpec::Conv2d {
            filters,
            kernel,
            padding,
            activation,
            name: None,
        }
    }

    pub fn maxpool2d() -> Self {
        LayerSpec::MaxPool2d {
            window: None,
            name: None,
        }
    }

    /// Max pooling over ph x pw windows, stride (ph, pw); 2x2 is written as the default.
    pub fn maxpool(ph: usize, pw: usize) -> Self {
        LayerSpec::MaxPool2d {
            window: (ph, pw).ne(&(2, 2)).then_some([ph, pw]),
            name: None,
        }
    }

    /// The pooling window (ph, pw) of a MaxPool2d layer.
    pub fn pool_window(&self) -> Option<(usize, usize)> {
        match self {
            LayerSpec::MaxPool2d { window, .. } => Some(window.map_or((2, 2), |[ph, pw]| (ph, pw))),
            _ => None,
        }
    }

    pub fn flatten() -> Self {
        LayerSpec::Flatten { name: None }
    }

    pub fn dropout(rate: f32) -> Self {
        LayerSpec::Dropout { rate, name: None }
    }

    pub fn named(mut self, new: &str) -> Self {
        *self.name_mut() = Some(new.to_string());
        self
    }

    /// The name given to the layer, if any (see [`LayerSpec::kind`] for the default).
    pub fn name(&self) -> Option<&str> {
        match self {
            LayerSpec::Dense { name, .. }
            | LayerSpec::Conv2d { name, .. }
            | LayerSpec::MaxPool2d { name, .. }
            | LayerSpec::Flatten { name }
            | LayerSpec::Dropout { name, .. } => name.as_deref(),
        }
    }

    fn name_mut(&mut self) -> &mut Option<String> {
        match self {
            LayerSpec::Dense { name, .. }
            | LayerSpec::Conv2d { name, .. }
            | LayerSpec::MaxPool2d { name, .. }
            | LayerSpec::Flatten { name }
            | LayerSpec::Dropout { name, .. } => name,
        }
    }

    /// Keras' name of the layer type, lower case: the default layer names are built from it
    /// (`conv2d`, `conv2d_1`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            LayerSpec::Dense { .. } => "dense",
            LayerSpec::Conv2d { .. } => "conv2d",
            LayerSpec::MaxPool2d { .. } => "max_pooling2d",
            LayerSpec::Flatten { .. } => "flatten",
            LayerSpec::Dropout { .. } => "dropout",
        }
    }

    /// The fused activation of a Dense or Conv2d layer.
    pub fn activation(&self) -> Option<Activation> {
        match self {
            LayerSpec::Dense { activation, .. } | LayerSpec::Conv2d { activation, .. } => {
                Some(*activation)
            }
            _ => None,
        }
    }

    /// The same layer without its name (to compare architectures).
    pub fn unnamed(&self) -> LayerSpec {
        let mut l = self.clone();
        *l.name_mut() = None;
        l
    }
}

/// The image an example's inputs are, stored HWC (row after row, channels innermost).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputShape {
    pub h: usize,
    pub w: usize,
    pub c: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Inputs per example. Without `input_shape`, image layers read them as a square
    /// one-channel image (784 = 28x28).
    pub input_dim: usize,
    /// The input image (h * w * c = `input_dim`), for images that are not square or have
    /// several channels. Absent in checkpoints written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_shape: Option<InputShape>,
    #[serde(deserialize_with = "layers_with_legacy_dense")]
    pub layers: Vec<LayerSpec>,
}

/// Layers as written now, or as written before layer types existed (Dense without "type").
fn layers_with_legacy_dense<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<LayerSpec>, D::Error> {
    let raw: Vec<serde_json::Value> = Vec::deserialize(d)?;
    raw.into_iter()
        .map(|mut v| {
            if let Some(obj) = v.as_object_mut() {
                obj.entry("type")
                    .or_insert_with(|| serde_json::Value::String("dense".into()));
            }
            serde_json::from_value(v).map_err(serde::de::Error::custom)
        })
        .collect()
}

impl ModelSpec {
    pub fn new(input_dim: usize, layers: Vec<LayerSpec>) -> Self {
        ModelSpec {
            input_dim,
            input_shape: None,
            layers,
        }
    }

    /// A model reading h x w images of c channels (HWC), e.g. a line of text 32 high.
    pub fn image(h: usize, w: usize, c: usize, layers: Vec<LayerSpec>) -> Self {
        ModelSpec {
            input_dim: h.saturating_mul(w).saturating_mul(c),
            input_shape: Some(InputShape { h, w, c }),
            layers,
        }
    }

    /// The tutorial shape: hidden ReLU layers of the given widths, then a linear layer of 10 logits.
    pub fn mlp(input_dim: usize, hidden: &[usize], classes: usize) -> Self {
        let mut layers: Vec<LayerSpec> = hidden
            .iter()
            .map(|&u| LayerSpec::dense(u, Activation::Relu))
            .collect();
        layers.push(LayerSpec::dense(classes, Activation::Linear));
        ModelSpec::new(input_dim, layers)
    }

    /// Keras' `mnist_convnet` (PyTorch: `baselines/torch_cnn.py`'s ConvNet), 34,826 parameters
    /// on 28x28 images: Conv2d 32 3x3 ReLU, MaxPool 2, Conv2d 64 3x3 ReLU, MaxPool 2, Flatten,
    /// Dropout 0.5, Dense `classes`.
    pub fn mnist_convnet(input_dim: usize, classes: usize) -> Self {
        let relu = Activation::Relu;
        ModelSpec::new(
            input_dim,
            vec![
                LayerSpec::conv2d(32, 3, Padding::Valid, relu),
                LayerSpec::maxpool2d(),
                LayerSpec::conv2d(64, 3, Padding::Valid, relu),
                LayerSpec::maxpool2d(),
                LayerSpec::flatten(),
                LayerSpec::dropout(0.5),
                LayerSpec::dense(classes, Activation::Linear),
            ],
        )
    }

    /// Whether any layer reads its input as an image (a convolution or pooling).
    pub fn has_image_layers(&self) -> bool {
        self.layers
            .iter()
            .any(|l| matches!(l, LayerSpec::Conv2d { .. } | LayerSpec::MaxPool2d { .. }))
    }

    /// The same architecture without layer names (to compare architectures).
    pub fn unnamed(&self) -> ModelSpec {
        ModelSpec {
            layers: self.layers.iter().map(LayerSpec::unnamed).collect(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_dense_layers_still_load() {
        let old = r#"{"input_dim":784,"layers":[{"units":25,"activation":"relu","name":"L1"},{"units":10,"activation":"linear"}]}"#;
        let spec: ModelSpec = serde_json::from_str(old).unwrap();
        assert_eq!(
            spec,
            ModelSpec::new(
                784,
                vec![
                    LayerSpec::dense(25, Activation::Relu).named("L1"),
                    LayerSpec::dense(10, Activation::Linear)
                ]
            )
        );
    }

    #[test]
    fn every_layer_type_round_trips() {
        let mut spec = ModelSpec::mnist_convnet(784, 10);
        spec.layers[0] = LayerSpec::conv2d(8, 5, Padding::Same, Activation::Relu).named("c");
        let json = serde_json::to_string(&spec).unwrap();
        assert!(json.contains(r#""type":"maxpool2d""#), "{json}");
        let back: ModelSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, spec);
        let bad = r#"{"input_dim":4,"layers":[{"type":"conv3d","filters":2}]}"#;
        let e = serde_json::from_str::<ModelSpec>(bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("conv3d"), "{e}");
    }

    #[test]
    fn input_shape_and_pool_window_are_optional_in_json() {
        // As written before either existed: the defaults (square input, 2x2 pooling).
        let old = r#"{"input_dim":784,"layers":[{"type":"conv2d","filters":2,"kernel":3,"activation":"relu"},{"type":"maxpool2d"},{"type":"flatten"}]}"#;
        let spec: ModelSpec = serde_json::from_str(old).unwrap();
        assert_eq!(spec.input_shape, None);
        assert_eq!(spec.layers[1], LayerSpec::maxpool2d());
        assert_eq!(spec.layers[1].pool_window(), Some((2, 2)));
        assert!(!serde_json::to_string(&spec).unwrap().contains("window"));
        let line = ModelSpec::image(
            32,
            128,
            1,
            vec![LayerSpec::maxpool(2, 1).named("p"), LayerSpec::flatten()],
        );
        let json = serde_json::to_string(&line).unwrap();
        assert!(
            json.contains(r#""input_shape":{"h":32,"w":128,"c":1}"#),
            "{json}"
        );
        assert!(json.contains(r#""window":[2,1]"#), "{json}");
        let back: ModelSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, line);
        assert_eq!(back.input_dim, 32 * 128);
        assert_eq!(back.unnamed().input_shape, line.input_shape);
    }
}
