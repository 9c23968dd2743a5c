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
use std::path::{Path, PathBuf};

/// The datasets `digits` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DatasetKind {
    /// MNIST: 60,000 training and 10,000 test images, 28x28.
    Mnist,
    /// The 5,000-image 20x20 subset of the Keras tutorial (X.npy, y.npy); no test split.
    Digits5000,
}

/// The environment variable the data commands read when no `--data-dir` is given: a folder
/// holding `mnist/` and `digits5000/`, or the dataset's files themselves.
pub const DATA_ENV: &str = "DIGITS_DATA";

impl DatasetKind {
    /// The dataset's folder under a data root: `mnist` or `digits5000`.
    pub fn folder_name(self) -> &'static str {
        match self {
            DatasetKind::Mnist => "mnist",
            DatasetKind::Digits5000 => "digits5000",
        }
    }

    /// Where `digits data download` / `digits data subset` put the files when neither a
    /// directory nor `DIGITS_DATA` is given.
    pub fn default_dir(self) -> &'static str {
        match self {
            DatasetKind::Mnist => "data/mnist",
            DatasetKind::Digits5000 => "data/digits5000",
        }
    }

    /// The dataset's directory: `explicit` (a `--data-dir`), else from `DIGITS_DATA` (see
    /// [`DatasetKind::dir_under`]), else [`DatasetKind::default_dir`].
    pub fn resolve_dir(self, explicit: Option<&Path>) -> PathBuf {
        if let Some(dir) = explicit {
            return dir.to_path_buf();
        }
        match std::env::var_os(DATA_ENV) {
            Some(root) if !root.is_empty() => self.dir_under(Path::new(&root)),
            _ => PathBuf::from(self.default_dir()),
        }
    }

    /// The dataset's directory under a data root: the root itself when it holds the dataset's
    /// files (`DIGITS_DATA=~/Downloads/mnist`), else `root/mnist` or `root/digits5000`.
    pub fn dir_under(self, root: &Path) -> PathBuf {
        let holds_files = match self {
            DatasetKind::Mnist => mnist::find_file(root, mnist::TEST_IMAGES).is_ok(),
            DatasetKind::Digits5000 => root.join("X.npy").is_file(),
        };
        if holds_files {
            root.to_path_buf()
        } else {
            root.join(self.folder_name())
        }
    }

    /// (training set, test set if the dataset has one).
    pub fn load(self, dir: &Path) -> anyhow::Result<(Dataset, Option<Dataset>)> {
        self.check_present(dir)?;
        match self {
            DatasetKind::Mnist => mnist::load_dir(dir).map(|(tr, te)| (tr, Some(te))),
            DatasetKind::Digits5000 => digits5000::load_dir(dir).map(|d| (d, None)),
        }
    }

    /// The images to evaluate on and the split's name: MNIST's test set alone (the training
    /// files are not read, nor needed), or the whole set of a dataset without a test split.
    pub fn load_eval(self, dir: &Path) -> anyhow::Result<(Dataset, &'static str)> {
        self.check_present(dir)?;
        match self {
            DatasetKind::Mnist => mnist::load_test(dir).map(|t| (t, "test")),
            DatasetKind::Digits5000 => digits5000::load_dir(dir).map(|d| (d, "train")),
        }
    }

    /// An error that says once what is missing and every way to get it, when `dir` has none of
    /// the dataset's files (a file that is there but broken is left to the readers' messages).
    fn check_present(self, dir: &Path) -> anyhow::Result<()> {
        let present = match self {
            DatasetKind::Mnist => [mnist::TEST_IMAGES, mnist::TRAIN_IMAGES]
                .iter()
                .any(|name| mnist::find_file(dir, name).is_ok()),
            DatasetKind::Digits5000 => dir.join("X.npy").is_file(),
        };
        if present {
            return Ok(());
        }
        let place = if dir.is_dir() {
            format!("no {self:?} files in {}", dir.display())
        } else {
            format!("no {self:?} files: {} does not exist", dir.display())
        };
        let get = match self {
            DatasetKind::Mnist => format!(
                "Get them with `digits data download --dir {dir}` (needs the internet), or \
                 download the four MNIST .gz files elsewhere and give their folder with \
                 `--data-dir FOLDER` or `{DATA_ENV}=FOLDER`",
                dir = dir.display()
            ),
            DatasetKind::Digits5000 => format!(
                "Build X.npy and y.npy from MNIST with `digits data subset --out {dir}`, or give \
                 the folder that holds them with `--data-dir FOLDER` or `{DATA_ENV}=FOLDER`",
                dir = dir.display()
            ),
        };
        anyhow::bail!("{place}. {get}.")
    }
}
