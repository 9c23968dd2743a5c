//! The misclassified test images, most confident mistakes first.

use super::grid::{digit_grid, Caption};
use crate::data::Dataset;
use crate::nn::argmax;
use image::RgbImage;

/// One mistake: the upright image, its label, the prediction and the prediction's probability.
#[derive(Clone, Debug, PartialEq)]
pub struct Misclassified {
    /// Index in the dataset.
    pub index: usize,
    pub image: Vec<f32>,
    pub label: u8,
    pub pred: usize,
    pub prob: f32,
}

/// The images of `data` whose most likely class in `probs` (n x classes row-major, e.g. from
/// `Sequential::predict_proba`) is not the label, most confident first, at most `limit`.
pub fn find_errors(data: &Dataset, probs: &[f32], limit: usize) -> Vec<Misclassified> {
    let classes = if data.is_empty() {
        return Vec::new();
    } else {
        probs.len() / data.len()
    };
    if classes == 0 {
        return Vec::new();
    }
    let mut wrong: Vec<(usize, usize, f32)> = probs
        .chunks_exact(classes)
        .zip(&data.labels)
        .enumerate()
        .filter_map(|(i, (p, &label))| {
            let pred = argmax(p);
            (pred != label as usize).then_some((i, pred, p[pred]))
        })
        .collect();
    wrong.sort_by(|a, b| b.2.total_cmp(&a.2));
    wrong
        .into_iter()
        .take(limit)
        .map(|(index, pred, prob)| Misclassified {
            index,
            image: data.display_image(index),
            label: data.labels[index],
            pred,
            prob,
        })
        .collect()
}

/// A grid of mistakes (images `side` x `side`) captioned "label 5" / "pred 3 (0.87)".
pub fn error_gallery(errors: &[Misclassified], side: usize) -> RgbImage {
    let images: Vec<Vec<f32>> = errors.iter().map(|e| e.image.clone()).collect();
    let captions: Vec<Caption> = errors.iter().map(error_caption).collect();
    digit_grid(&images, side, &captions)
}

/// The caption of one mistake in the gallery: "label 5" over "pred 3 (0.87)", in red.
pub fn error_caption(e: &Misclassified) -> Caption {
    Caption {
        text: format!("label {}\npred {} ({:.2})", e.label, e.pred, e.prob),
        wrong: true,
    }
}
