//! `POST /api/read`: the number in a drawing or picture, read by the state's
//! [`crate::vision::reading::NumberReader`] (the one `digits read` makes from the same model), as
//! `{"text", "formatted", "confidence", "digits": [...]}`, and `"numbers": [...]` (each one's
//! reading) where the picture holds several numbers, as `digits read --json` gives it
//! ([`PictureReading`]); `?digits=5` (or `4-8`) reads each as a number of that many digits,
//! as `digits read --digits` does.

use super::error::ApiError;
use super::input::{declared_pixels, to_api, BodyKind};
use super::pixels;
use super::query::{expected_digits, min_confidence};
use super::state::AppState;
use crate::vision::preprocess;
use crate::vision::reading::PictureReading;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What a picture with no digit answers (200, with an empty `text`).
pub const NOTHING_FOUND: &str = "no digit found: the picture is blank";

/// The answer: the reading (with `accepted`: whether the confidence reaches
/// `?min_confidence=`, else the server's `--min-confidence`; absent when neither asks for a
/// level), and a message when nothing was found.
#[derive(Serialize)]
pub struct ReadAnswer {
    #[serde(flatten)]
    pub answer: PictureReading,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
}

/// `{"pixels": [width * height numbers], "width": W, "height": H}` (28 x 28 when not given):
/// grey levels in 0..1 or 0..255, row-major; light on dark or dark on light (told by the border).
#[derive(Deserialize)]
struct PictureRequest {
    pixels: Vec<f32>,
    #[serde(default = "side")]
    width: usize,
    #[serde(default = "side")]
    height: usize,
}

fn side() -> usize {
    preprocess::SIDE
}

pub async fn read(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ReadAnswer>, ApiError> {
    let body = body?;
    let min = min_confidence(&state, query.as_deref())?;
    let expected = expected_digits(query.as_deref())?;
    let kind = BodyKind::of_request(
        &headers,
        &body,
        "{\"pixels\": [...], \"width\": W, \"height\": H}",
    )?;
    // Decoding and segmenting take milliseconds (seconds for a huge photo): in the picture's
    // work lane, chosen by its pixel count: declared in an image's header; for JSON, at most
    // one per two bytes ("0,"), checked against the budget once parsed.
    let pixels = match kind {
        BodyKind::Image => declared_pixels(&body, &state.limits)?,
        BodyKind::Json => (body.len() as u64).div_ceil(2),
    };
    let work = state.work.clone();
    work.run(pixels, move || {
        let img = match kind {
            BodyKind::Json => {
                let (px, w, h) = picture_of_json(&body)?;
                state.limits.check_pixels(w as u64, h as u64)?;
                gray_image(&px, w, h)
            }
            BodyKind::Image => preprocess::decode_bytes(&body).map_err(to_api)?,
        };
        let read = state
            .reader
            .read_numbers_as(&img, expected.as_ref())
            .map_err(to_api)?;
        let answer = PictureReading::of(read, min);
        Ok(Json(ReadAnswer {
            message: answer.reading.text.is_empty().then_some(NOTHING_FOUND),
            answer,
        }))
    })
    .await
}

/// The grey levels (in 0..1) and size of a JSON picture.
fn picture_of_json(body: &[u8]) -> Result<(Vec<f32>, usize, usize), ApiError> {
    let req: PictureRequest = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "malformed JSON: {e}; expected {{\"pixels\": [width * height numbers in 0..1 or \
             0..255], \"width\": W, \"height\": H}}"
        ))
    })?;
    let px = pixels::normalise_sized(req.pixels, req.width, req.height)?;
    Ok((px, req.width, req.height))
}

/// Grey levels in 0..1 (row-major, `w * h` of them, as [`picture_of_json`] checked) as an
/// 8-bit grey picture, the form a reader takes.
fn gray_image(px: &[f32], w: usize, h: usize) -> image::DynamicImage {
    let levels = px.iter().map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8);
    let buf = image::GrayImage::from_raw(w as u32, h as u32, levels.collect())
        .unwrap_or_else(|| image::GrayImage::new(w as u32, h as u32));
    image::DynamicImage::ImageLuma8(buf)
}
