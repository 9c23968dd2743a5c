//! Convolution weights packed once for reading ([`pack_weights`]) rather than on every forward
//! pass: a model that reads many small inputs one call at a time (a line reader's looks at a
//! picture, one picture per request) spent about 8% of its time packing the same weights again.

use super::kernels::pack_weights;
use super::layer::Layer;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// Each layer's packed weights (empty for a layer without convolution weights), made by the
/// first inference pass and shared with the model's copies at other widths
/// (`Sequential::with_input_width`). None: packed on every pass instead (a model whose
/// parameters changed while another held these).
#[derive(Clone)]
pub(crate) struct PackedWeights(Option<Arc<OnceLock<Vec<Vec<f32>>>>>);

impl PackedWeights {
    pub fn new() -> Self {
        PackedWeights(Some(Arc::default()))
    }

    /// Forgets the packed weights before the parameters change, allocating nothing (a training
    /// step allocates nothing): emptied in place when this model alone holds them, else let go.
    pub fn forget(&mut self) {
        if let Some(shared) = &mut self.0 {
            match Arc::get_mut(shared) {
                Some(own) => drop(own.take()),
                None => self.0 = None,
            }
        }
    }

    /// Every layer's packed weights, packed from `params` on the first call; None when this
    /// model keeps none.
    pub fn get(&self, layers: &[Layer], params: &[f32]) -> Option<&[Vec<f32>]> {
        let cell = self.0.as_ref()?;
        let packed = cell.get_or_init(|| {
            layers
                .iter()
                .map(|l| match l {
                    Layer::Conv2d(c) => pack_weights(&c.shape(1), c.w(params)),
                    _ => Vec::new(),
                })
                .collect()
        });
        Some(packed)
    }
}

/// The packed weights are a function of the parameters, which the model compares.
impl PartialEq for PackedWeights {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for PackedWeights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let packed = self.0.as_ref().is_some_and(|c| c.get().is_some());
        write!(
            f,
            "PackedWeights({})",
            if packed { "packed" } else { "not packed" }
        )
    }
}
