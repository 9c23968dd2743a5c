//! Weight initialisation matching the framework being reproduced.

use super::layer::Layer;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// Keras Dense and Conv2D: W ~ U(-l, l) with l = sqrt(6 / (fan_in + fan_out)); b = 0.
    GlorotUniform,
    /// PyTorch nn.Linear and nn.Conv2d (kaiming_uniform_ with a = sqrt(5)): W and b ~
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    #[default]
    KaimingUniform,
}

impl Init {
    /// Fills the layer's weights, then its bias, from `rng` (layers without parameters draw
    /// nothing). Fans: Dense (in, out); Conv2d (k*k*cin, k*k*cout).
    pub fn fill(self, layer: &Layer, params: &mut [f32], rng: &mut ChaCha8Rng) {
        let (fans, w, b) = match layer {
            Layer::Dense(l) => (
                (l.in_dim, l.out_dim),
                l.w_offset..l.b_offset,
                l.b_offset..l.b_offset + l.out_dim,
            ),
            Layer::Conv2d(l) => (
                l.fans(),
                l.w_offset..l.b_offset,
                l.b_offset..l.b_offset + l.cout,
            ),
            _ => return,
        };
        let (i, o) = (fans.0 as f32, fans.1 as f32);
        let (w_limit, b_limit) = match self {
            Init::GlorotUniform => ((6.0 / (i + o)).sqrt(), 0.0),
            Init::KaimingUniform => (1.0 / i.sqrt(), 1.0 / i.sqrt()),
        };
        for v in &mut params[w] {
            *v = rng.gen_range(-w_limit..=w_limit);
        }
        for v in &mut params[b] {
            *v = if b_limit > 0.0 {
                rng.gen_range(-b_limit..=b_limit)
            } else {
                0.0
            };
        }
    }
}
