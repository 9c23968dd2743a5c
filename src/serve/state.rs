//! What every request shares: the model and how its inputs are scaled, and the number reader
//! made from it.

use super::limits::Limits;
use super::metrics::Metrics;
use super::work::Work;
use crate::data::PixelScale;
use crate::nn::Sequential;
use crate::vision::number_reader::reader_for;
use crate::vision::reading::NumberReader;
use crate::vision::second_opinion::SecondOpinion;
use std::sync::Arc;

/// Inputs the server makes: 28x28 MNIST-style images, row-major.
pub const INPUT_DIM: usize = 784;

#[derive(Clone)]
pub struct AppState {
    pub model: Sequential,
    /// What `POST /api/read` reads numbers with, made from `model` once at startup
    /// (`vision::number_reader`, as `digits read` makes its own).
    pub reader: Arc<dyn NumberReader>,
    /// The scale the model was trained on; inputs are made in [0, 1] and scaled to it.
    pub scale: PixelScale,
    /// Where the model came from (a path, or the built-in model), shown by `GET /api/model`.
    pub source: String,
    /// What clients may ask of the server (timeouts, connections, picture sizes).
    pub limits: Limits,
    /// The lanes picture work runs on, bounded by `limits`.
    pub work: Arc<Work>,
    /// Counters for `GET /metrics`; None turns them off.
    pub metrics: Option<Arc<Metrics>>,
    /// The built-in line model, for `POST /api/predict?second_opinion=1`.
    pub second_opinion: Arc<SecondOpinion>,
    /// The level answers are accepted from when a request names none (`vision::reject`):
    /// answers then say `"accepted"`. None: only requests that ask get it.
    pub min_confidence: Option<f32>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("model", &self.model)
            .field("scale", &self.scale)
            .field("source", &self.source)
            .field("limits", &self.limits)
            .field("work", &self.work)
            .field("metrics", &self.metrics)
            .field("min_confidence", &self.min_confidence)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Fails unless the model reads 784 inputs (28x28 images).
    pub fn new(
        model: Sequential,
        scale: PixelScale,
        source: impl Into<String>,
    ) -> anyhow::Result<Self> {
        if model.input_dim() != INPUT_DIM {
            anyhow::bail!(
                "the server needs a model of 28x28 = {INPUT_DIM} inputs; this one reads {}",
                model.input_dim()
            );
        }
        let source = source.into();
        let limits = Limits::default();
        let reader = Arc::from(reader_for(model.clone(), scale)?);
        Ok(AppState {
            reader,
            second_opinion: Arc::new(SecondOpinion::built_in()?),
            metrics: Some(Arc::new(Metrics::new(&model, &source))),
            model,
            scale,
            source,
            work: Arc::new(Work::new(&limits)),
            limits,
            min_confidence: None,
        })
    }

    /// The same state with other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.work = Arc::new(Work::new(&limits));
        self.limits = limits;
        self
    }

    /// The same state reading numbers (`POST /api/read`) with `reader`.
    pub fn with_reader(mut self, reader: Arc<dyn NumberReader>) -> Self {
        self.reader = reader;
        self
    }

    /// The same state accepting answers from `min` when a request names no level.
    pub fn with_min_confidence(mut self, min: Option<f32>) -> Self {
        self.min_confidence = min;
        self
    }

    /// The same state without metrics (`/metrics` answers 404).
    pub fn without_metrics(mut self) -> Self {
        self.metrics = None;
        self
    }

    /// The model's input for MNIST-style pixels in [0, 1].
    pub fn scaled(&self, mut x: Vec<f32>) -> Vec<f32> {
        if self.scale == PixelScale::Raw {
            x.iter_mut().for_each(|v| *v *= 255.0);
        }
        x
    }
}
