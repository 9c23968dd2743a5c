//! The JSON request `{"pixels": [784 numbers], "framed": false}`: checked and brought to [0, 1].

use super::error::ApiError;
use super::state::INPUT_DIM;
use serde::Deserialize;

#[derive(Deserialize)]
struct PixelsRequest {
    pixels: Vec<f32>,
    /// The pixels are already an MNIST-style input (framed like `vision::preprocess` does, or
    /// as the drawing page makes them): the model reads them as given, as the exported ONNX
    /// model would.
    #[serde(default)]
    framed: bool,
}

/// Parses the body: the pixels (values in 0..1, or in 0..255 when any exceeds 1, then divided
/// by 255) and whether they are already framed.
pub fn parse(body: &[u8]) -> Result<(Vec<f32>, bool), ApiError> {
    let req: PixelsRequest = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "malformed JSON: {e}; expected {{\"pixels\": [{INPUT_DIM} numbers in 0..1 or 0..255]}}"
        ))
    })?;
    Ok((normalise(req.pixels)?, req.framed))
}

/// Checks count (784) and range, and scales 0..255 values to 0..1.
pub fn normalise(px: Vec<f32>) -> Result<Vec<f32>, ApiError> {
    normalise_sized(px, 28, 28)
}

/// Like [`normalise`] for a `width` x `height` picture.
pub fn normalise_sized(
    mut px: Vec<f32>,
    width: usize,
    height: usize,
) -> Result<Vec<f32>, ApiError> {
    if Some(px.len()) != width.checked_mul(height) {
        return Err(ApiError::bad_request(format!(
            "expected {} pixel values ({width}x{height}, row-major), got {}",
            width.saturating_mul(height),
            px.len()
        )));
    }
    // NaN fails the range test too (JSON has no NaN, but a huge number becomes infinity).
    if let Some((i, v)) = px
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=255.0).contains(*v))
    {
        return Err(ApiError::bad_request(format!(
            "pixel {i} is {v}: values must be in 0..1 (or 0..255)"
        )));
    }
    if px.iter().any(|&v| v > 1.0) {
        px.iter_mut().for_each(|v| *v /= 255.0);
    }
    Ok(px)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_0_255_and_keeps_0_1() {
        let mut px = vec![0.0; INPUT_DIM];
        px[5] = 255.0;
        px[6] = 51.0;
        let out = normalise(px).unwrap();
        assert_eq!((out[5], out[6]), (1.0, 0.2));
        let mut px = vec![0.0; INPUT_DIM];
        px[5] = 0.5;
        assert_eq!(normalise(px).unwrap()[5], 0.5);
    }

    #[test]
    fn refuses_bad_counts_and_values() {
        assert!(normalise(vec![0.0; 783])
            .unwrap_err()
            .message
            .contains("got 783"));
        let mut px = vec![0.0; INPUT_DIM];
        px[3] = -1.0;
        assert!(normalise(px.clone())
            .unwrap_err()
            .message
            .contains("pixel 3"));
        px[3] = 256.0;
        assert!(normalise(px.clone()).is_err());
        px[3] = f32::NAN;
        assert!(normalise(px).is_err());
        let e = parse(b"{\"pixels\": [1, 2,").unwrap_err();
        assert!(e.message.starts_with("malformed JSON"), "{}", e.message);
        assert!(parse(b"{\"pixels\": [1e60]}").is_err());
    }
}
