//! Request bodies to MNIST-style inputs: images by content type, or JSON pixels.

use super::error::ApiError;
use super::limits::Limits;
use super::pixels;
use crate::vision::preprocess::{self, PreprocessError};
use crate::vision::second_opinion::SecondOpinion;
use axum::http::{header, HeaderMap, StatusCode};

/// What the body holds, from its Content-Type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Image,
}

impl BodyKind {
    /// The kind of a request's body (see [`BodyKind::of`]); an empty body is a 400 whose message
    /// says what to send (`expected`, e.g. `{"pixels": [784 numbers]}`).
    pub fn of_request(headers: &HeaderMap, body: &[u8], expected: &str) -> Result<Self, ApiError> {
        if body.is_empty() {
            return Err(ApiError::bad_request(format!(
                "empty body: send an image or {expected}"
            )));
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("(not text)"));
        Self::of(content_type, body)
    }

    /// JSON for application/json; an image for image/* and application/octet-stream; with no
    /// Content-Type, JSON when the body starts like an object.
    pub fn of(content_type: Option<&str>, body: &[u8]) -> Result<Self, ApiError> {
        let Some(ct) = content_type else {
            let first = body.iter().find(|b| !b.is_ascii_whitespace());
            return Ok(if first == Some(&b'{') {
                BodyKind::Json
            } else {
                BodyKind::Image
            });
        };
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime == "application/json" {
            Ok(BodyKind::Json)
        } else if mime.starts_with("image/") || mime == "application/octet-stream" {
            Ok(BodyKind::Image)
        } else {
            Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "unsupported Content-Type {ct:?}: send an image (image/png, image/jpeg, \
                     image/bmp, image/tiff, image/webp or application/octet-stream) or application/json \
                     {{\"pixels\": [784 numbers]}}"
                ),
            ))
        }
    }
}

/// 784 pixel values from JSON, framed the MNIST way (cropped, 20x20, centre of mass), or
/// taken as given with `"framed": true` (blank still refused).
/// Light ink on dark is expected; dark on light is detected from the border and inverted.
pub fn from_json(body: &[u8]) -> Result<Vec<f32>, ApiError> {
    let (px, framed) = pixels::parse(body)?;
    if framed {
        return if px.iter().all(|&v| v == 0.0) {
            Err(ApiError::blank())
        } else {
            Ok(px)
        };
    }
    preprocess::from_gray(&px, 28, 28, None).map_err(to_api)
}

/// The pixel count an encoded picture declares, refused (413) over `limits`' budget and
/// (415) when it is not a PNG, JPEG, BMP, TIFF or WebP, all before anything is decoded.
pub fn declared_pixels(body: &[u8], limits: &Limits) -> Result<u64, ApiError> {
    let (w, h) = preprocess::dimensions(body).map_err(to_api)?;
    limits.check_pixels(w.into(), h.into())
}

/// An encoded PNG, JPEG, BMP, TIFF or WebP (a photo, a scan or a canvas).
pub fn from_image(body: &[u8]) -> Result<Vec<f32>, ApiError> {
    preprocess::from_bytes(body).map_err(to_api)
}

/// Likewise, with the line model's opinion of the digit in it (`vision::second_opinion`).
pub fn from_image_with_opinion(
    body: &[u8],
    second: &SecondOpinion,
) -> Result<(Vec<f32>, Option<[f64; 10]>), ApiError> {
    let (x, ink) = preprocess::input_and_ink_from_bytes(body).map_err(to_api)?;
    Ok((x, second.opinion(&ink)))
}

/// 415 for what is not a supported image, 422 for an image that cannot be read as a digit.
pub fn to_api(e: PreprocessError) -> ApiError {
    let status = match e.root() {
        PreprocessError::NotAnImage | PreprocessError::Unsupported(_) => {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
        PreprocessError::BadDimensions { .. } | PreprocessError::BadPixel { .. } => {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let k = |ct| BodyKind::of(ct, b"x");
        assert_eq!(
            k(Some("application/json; charset=utf-8")),
            Ok(BodyKind::Json)
        );
        assert_eq!(k(Some("image/png")), Ok(BodyKind::Image));
        assert_eq!(k(Some("application/octet-stream")), Ok(BodyKind::Image));
        assert_eq!(
            k(Some("text/plain")).unwrap_err().status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        assert_eq!(BodyKind::of(None, b" {\"pixels\":[]}"), Ok(BodyKind::Json));
        assert_eq!(BodyKind::of(None, b"\x89PNG"), Ok(BodyKind::Image));
    }
}
