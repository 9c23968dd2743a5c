//! A model's parameters, kept with its convolutions' weights packed for reading
//! ([`pack_weights`]) rather than packed again on every forward pass: a model that reads many
//! small inputs one call at a time (a line reader's looks at a picture, one picture per
//! request) spent about 8% of its time packing the same weights again. Packed from the values
//! they sit beside, they are shared with them and forgotten when they change.

use super::kernels::pack_weights;
use super::layer::Layer;
use std::fmt;
use std::sync::OnceLock;

pub(crate) struct Params {
    values: Vec<f32>,
    /// Each layer's packed weights (empty for a layer without convolution weights), made by
    /// the first inference pass.
    packed: OnceLock<Vec<Vec<f32>>>,
}

impl Params {
    pub fn new(values: Vec<f32>) -> Self {
        Params {
            values,
            packed: OnceLock::new(),
        }
    }

    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The values to change: the packed weights are forgotten first (emptied in place,
    /// allocating nothing: a training step allocates nothing).
    pub fn values_mut(&mut self) -> &mut [f32] {
        drop(self.packed.take());
        &mut self.values
    }

    /// Every layer's packed weights, packed from the values on the first call.
    pub fn packed(&self, layers: &[Layer]) -> &[Vec<f32>] {
        self.packed.get_or_init(|| {
            layers
                .iter()
                .map(|l| match l {
                    Layer::Conv2d(c) => pack_weights(&c.shape(1), c.w(&self.values)),
                    _ => Vec::new(),
                })
                .collect()
        })
    }
}

/// A copy is made to be changed (`Arc::make_mut`): the packed weights stay behind.
impl Clone for Params {
    fn clone(&self) -> Self {
        Params::new(self.values.clone())
    }
}

/// The packed weights are a function of the values.
impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let packed = if self.packed.get().is_some() {
            "PackedWeights(packed)"
        } else {
            "PackedWeights(not packed)"
        };
        f.debug_struct("Params")
            .field("values", &self.values)
            .field("packed", &format_args!("{packed}"))
            .finish()
    }
}
