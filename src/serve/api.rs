//! The JSON API: `POST /api/predict`, `GET /api/model`, `GET /healthz`.

use super::error::ApiError;
use super::input::{self, BodyKind};
use super::query::{flag, min_confidence};
use super::state::AppState;
use crate::nn::{argmax, softmax};
use crate::vision::reject::accepted;
use crate::vision::second_opinion::geometric_mean;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Json;
use serde::Serialize;
use std::sync::Arc;

#[derive(Serialize)]
pub struct Prediction {
    pub digit: usize,
    pub probabilities: Vec<f32>,
    /// The digit model's (with `?second_opinion=1` the probabilities are not their softmax).
    pub logits: Vec<f32>,
    /// Whether the digit's probability reaches `?min_confidence=` (else the server's
    /// `--min-confidence`); absent when neither asks for a level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
    /// The 784 values the model saw, with `?debug=1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preprocessed: Option<Vec<f32>>,
}

pub async fn predict(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Prediction>, ApiError> {
    let body = body?;
    let second = flag(query.as_deref(), "second_opinion");
    let min = min_confidence(&state, query.as_deref())?;
    let (x, opinion) = match BodyKind::of_request(&headers, &body, "{\"pixels\": [784 numbers]}")? {
        BodyKind::Json if second => {
            return Err(ApiError::bad_request(
                "second_opinion=1 needs a picture (PNG, JPEG, BMP, TIFF or WebP): the line model reads ink, not 784 pixels",
            ))
        }
        // Small and fast (microseconds): done on the runtime's thread.
        BodyKind::Json => (input::from_json(&body)?, None),
        // Decoding takes milliseconds (seconds for a huge photo), the line model's looks about
        // a millisecond more: in the picture's work lane.
        BodyKind::Image => {
            let pixels = input::declared_pixels(&body, &state.limits)?;
            let line = state.second_opinion.clone();
            state
                .work
                .run(pixels, move || {
                    if second {
                        input::from_image_with_opinion(&body, &line)
                    } else {
                        input::from_image(&body).map(|x| (x, None))
                    }
                })
                .await?
        }
    };
    let logits = state.model.predict(&state.scaled(x.clone()));
    let probabilities = match &opinion {
        Some(line) => geometric_mean(&softmax(&logits), line),
        None => softmax(&logits),
    };
    let digit = argmax(&probabilities);
    Ok(Json(Prediction {
        digit,
        accepted: accepted(probabilities[digit], min),
        probabilities,
        logits,
        preprocessed: flag(query.as_deref(), "debug").then_some(x),
    }))
}

#[derive(Serialize)]
pub struct LayerInfo {
    pub name: String,
    pub units: usize,
    pub activation: String,
    pub params: usize,
}

#[derive(Serialize)]
pub struct ModelInfo {
    pub summary: String,
    pub layers: Vec<LayerInfo>,
    pub params: usize,
    pub input: usize,
    pub output: usize,
    pub source: String,
    /// The level answers are accepted from when a request names none (`digits serve
    /// --min-confidence`); null when the server has none.
    pub min_confidence: Option<f32>,
}

pub async fn model(State(state): State<Arc<AppState>>) -> Json<ModelInfo> {
    let m = &state.model;
    let layers = m
        .layers()
        .iter()
        .map(|l| LayerInfo {
            name: l.name().to_string(),
            units: l.out_len(),
            activation: l.activation().map_or("none", |a| a.name()).to_string(),
            params: l.param_count(),
        })
        .collect();
    Json(ModelInfo {
        summary: m.summary(),
        layers,
        params: m.params().len(),
        input: m.input_dim(),
        output: m.output_dim(),
        source: state.source.clone(),
        min_confidence: state.min_confidence,
    })
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("not found: {}", uri.path()))
}
