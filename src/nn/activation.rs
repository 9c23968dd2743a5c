//! Element-wise activations and their derivatives, expressed through the activation's output.

use super::simd::dispatch;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Relu,
    Sigmoid,
    Linear,
}

impl Activation {
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Linear => "linear",
        }
    }

    pub fn parse(s: &str) -> Option<Activation> {
        match s.to_ascii_lowercase().as_str() {
            "relu" => Some(Activation::Relu),
            "sigmoid" => Some(Activation::Sigmoid),
            "linear" | "none" => Some(Activation::Linear),
            _ => None,
        }
    }

    /// a = f(z), in place.
    pub fn apply(self, z: &mut [f32]) {
        match self {
            Activation::Relu => relu(z),
            Activation::Sigmoid => z.iter_mut().for_each(|v| *v = sigmoid(*v)),
            Activation::Linear => {}
        }
    }

    /// dz = da * f'(z), with f'(z) written in terms of a = f(z) (relu: a > 0; sigmoid: a(1-a)).
    pub fn backward(self, a: &[f32], da_to_dz: &mut [f32]) {
        match self {
            Activation::Relu => relu_backward(a, da_to_dz),
            Activation::Sigmoid => {
                for (g, &av) in da_to_dz.iter_mut().zip(a) {
                    *g *= av * (1.0 - av);
                }
            }
            Activation::Linear => {}
        }
    }
}

// Both ReLU loops are written as selects, not branches: half the values are zero in no
// predictable pattern, and a mispredicted branch per value cost more than the layers' arithmetic.
dispatch! {
    /// max(z, 0) in place, written so NaN passes through (as in PyTorch) instead of being hidden.
    pub fn relu(z: &mut [f32]) {
        for v in z.iter_mut() {
            *v = if *v < 0.0 { 0.0 } else { *v };
        }
    }
}

dispatch! {
    /// da becomes dz: zero where the output a is not positive.
    pub fn relu_backward(a: &[f32], da_to_dz: &mut [f32]) {
        for (g, &av) in da_to_dz.iter_mut().zip(a) {
            *g = if av <= 0.0 { 0.0 } else { *g };
        }
    }
}

pub fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}
