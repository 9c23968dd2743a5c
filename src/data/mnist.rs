//! MNIST from a directory of the four IDX files (.gz or raw).
use super::Dataset;
use std::path::Path;

/// (train, test) from `dir`, which holds train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz),
/// t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz).
pub fn load_dir(dir: &Path) -> anyhow::Result<(Dataset, Dataset)> {
    todo!("{}", dir.display())
}
