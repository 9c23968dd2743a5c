//! Data: IDX and npy readers, the in-memory dataset, MNIST download and the 20x20 subset.

pub mod dataset;
pub mod digits5000;
pub mod download;
mod huge_pages;
pub mod idx;
pub mod image_folder;
pub mod mnist;
pub mod npy;
pub mod subset;

pub use dataset::{Dataset, PixelLayout, PixelScale, Pixels};

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The datasets `digits` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DatasetKind {
    /// MNIST: 60,000 training and 10,000 test images, 28x28.
    Mnist,
    /// The 5,000-image 20x20 subset of the Keras tutorial (X.npy, y.npy); no test split.
    Digits5000,
}

impl DatasetKind {
    /// Where `digits data download` / `digits data subset` put the files by default.
    pub fn default_dir(self) -> &'static str {
        match self {
            DatasetKind::Mnist => "data/mnist",
            DatasetKind::Digits5000 => "data/digits5000",
        }
    }

    /// (training set, test set if the dataset has one).
    pub fn load(self, dir: &Path) -> anyhow::Result<(Dataset, Option<Dataset>)> {
        match self {
            DatasetKind::Mnist => mnist::load_dir(dir).map(|(tr, te)| (tr, Some(te))),
            DatasetKind::Digits5000 => digits5000::load_dir(dir).map(|d| (d, None)),
        }
    }
}
