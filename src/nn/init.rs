//! Weight initialisation matching the framework being reproduced.

use super::dense::Dense;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// Keras Dense: W ~ U(-l, l) with l = sqrt(6 / (in + out)); b = 0.
    GlorotUniform,
    /// PyTorch nn.Linear (kaiming_uniform_ with a = sqrt(5)): W and b ~ U(-1/sqrt(in), 1/sqrt(in)).
    #[default]
    KaimingUniform,
}

impl Init {
    pub fn fill(self, layer: &Dense, params: &mut [f32], rng: &mut ChaCha8Rng) {
        let (i, o) = (layer.in_dim as f32, layer.out_dim as f32);
        let (w_limit, b_limit) = match self {
            Init::GlorotUniform => ((6.0 / (i + o)).sqrt(), 0.0),
            Init::KaimingUniform => (1.0 / i.sqrt(), 1.0 / i.sqrt()),
        };
        for w in &mut params[layer.w_offset..layer.b_offset] {
            *w = rng.gen_range(-w_limit..=w_limit);
        }
        for b in &mut params[layer.b_offset..layer.b_offset + layer.out_dim] {
            *b = if b_limit > 0.0 {
                rng.gen_range(-b_limit..=b_limit)
            } else {
                0.0
            };
        }
    }
}
