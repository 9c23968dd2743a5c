//! The architecture of a Sequential model: what a checkpoint stores to rebuild it.

use super::Activation;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerSpec {
    pub units: usize,
    pub activation: Activation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl LayerSpec {
    pub fn dense(units: usize, activation: Activation) -> Self {
        LayerSpec {
            units,
            activation,
            name: None,
        }
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub input_dim: usize,
    pub layers: Vec<LayerSpec>,
}

impl ModelSpec {
    pub fn new(input_dim: usize, layers: Vec<LayerSpec>) -> Self {
        ModelSpec { input_dim, layers }
    }

    /// The tutorial shape: hidden ReLU layers of the given widths, then a linear layer of 10 logits.
    pub fn mlp(input_dim: usize, hidden: &[usize], classes: usize) -> Self {
        let mut layers: Vec<LayerSpec> = hidden
            .iter()
            .map(|&u| LayerSpec::dense(u, Activation::Relu))
            .collect();
        layers.push(LayerSpec::dense(classes, Activation::Linear));
        ModelSpec { input_dim, layers }
    }

    pub fn output_dim(&self) -> usize {
        self.layers.last().map_or(self.input_dim, |l| l.units)
    }

    /// Total parameters: sum over layers of in*out + out.
    pub fn param_count(&self) -> usize {
        let mut fan_in = self.input_dim;
        let mut total = 0;
        for l in &self.layers {
            total += fan_in * l.units + l.units;
            fan_in = l.units;
        }
        total
    }

    /// Checks the sizes make a usable network.
    pub fn validate(&self) -> Result<(), String> {
        if self.input_dim == 0 {
            return Err("input size must be at least 1".into());
        }
        if self.layers.is_empty() {
            return Err("a model needs at least one layer".into());
        }
        if let Some(l) = self.layers.iter().find(|l| l.units == 0) {
            return Err(format!(
                "layer {:?} has 0 units",
                l.name.as_deref().unwrap_or("dense")
            ));
        }
        Ok(())
    }
}
