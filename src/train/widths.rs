//! A line reader trained on batches of many widths: its parameters do not depend on the
//! width, but its buffers do. For each width met, a copy of the model at that width and a
//! step's buffers for it; the parameters are copied in before each step.

use super::step::Stepper;
use crate::nn::Sequential;

/// The model at each width met so far, with its step buffers.
#[derive(Default)]
pub struct WidthViews {
    views: Vec<(usize, Sequential, Stepper)>,
}

impl WidthViews {
    /// The model (holding `model`'s current parameters) and step buffers for inputs `width`
    /// wide, for batches of up to `batch` rows on `threads` threads.
    pub fn at(
        &mut self,
        model: &Sequential,
        width: usize,
        batch: usize,
        threads: usize,
    ) -> Result<(&Sequential, &mut Stepper), String> {
        let k = match self.views.iter().position(|(w, ..)| *w == width) {
            Some(k) => k,
            None => {
                let view = model.with_input_width(width)?;
                let stepper = Stepper::new(&view, batch, threads);
                self.views.push((width, view, stepper));
                self.views.len() - 1
            }
        };
        let (_, view, stepper) = &mut self.views[k];
        view.params_mut().copy_from_slice(model.params());
        Ok((view, stepper))
    }
}
