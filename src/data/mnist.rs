//! MNIST from a directory of the four IDX files (.gz or raw).
use super::idx;
use super::{Dataset, PixelLayout, Pixels};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// The four files, by their usual names (`<stem>-idx3-ubyte`); the dotted variant
/// (`train-images.idx3-ubyte`) and `.gz` versions are found too.
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// (train, test) from `dir`, which holds train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz),
/// t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz).
pub fn load_dir(dir: &Path) -> anyhow::Result<(Dataset, Dataset)> {
    let paths = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS]
        .map(|name| find_file(dir, name))
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    // The training images dominate (47 MB to inflate): load them beside the rest.
    let (train, test) = std::thread::scope(|s| {
        let train = s.spawn(|| load_pair(&paths[0], &paths[1]));
        let test = load_pair(&paths[2], &paths[3]);
        let train = train
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("MNIST loader thread panicked")));
        (train, test)
    });
    let (train, test) = (train?, test?);
    if (train.rows, train.cols) != (test.rows, test.cols) {
        bail!(
            "{}: test images are {}x{} but the training images ({}) are {}x{}",
            paths[2].display(),
            test.rows,
            test.cols,
            paths[0].display(),
            train.rows,
            train.cols
        );
    }
    Ok((train, test))
}

/// The test split alone (t10k-images, t10k-labels) from `dir`.
pub fn load_test(dir: &Path) -> Result<Dataset> {
    load_pair(&find_file(dir, TEST_IMAGES)?, &find_file(dir, TEST_LABELS)?)
}

/// One split from its image and label files.
pub fn load_pair(images_path: &Path, labels_path: &Path) -> Result<Dataset> {
    let images = idx::read_images(images_path)?;
    let labels = idx::read_labels(labels_path)?;
    if images.n != labels.len() {
        bail!(
            "{}: {} images, but {} has {} labels; the counts must match",
            images_path.display(),
            images.n,
            labels_path.display(),
            labels.len()
        );
    }
    if images.n == 0 {
        bail!("{}: contains no images", images_path.display());
    }
    if let Some((i, &l)) = labels.iter().enumerate().find(|(_, &l)| l > 9) {
        bail!(
            "{}: label {l} at index {i} is not a digit 0..9",
            labels_path.display()
        );
    }
    Ok(Dataset {
        pixels: Pixels::U8(images.pixels),
        labels,
        rows: images.rows,
        cols: images.cols,
        layout: PixelLayout::RowMajor,
    })
}

/// `dir/<name>`, `dir/<name>.gz`, or the dotted variants (`train-images.idx3-ubyte`).
pub fn find_file(dir: &Path, name: &str) -> Result<PathBuf> {
    let dotted = dotted_name(name);
    for base in [name, dotted.as_str()] {
        for suffix in ["", ".gz"] {
            let p = dir.join(format!("{base}{suffix}"));
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    let hint = if dir.is_dir() {
        String::new()
    } else {
        " (the directory does not exist)".to_string()
    };
    Err(anyhow::anyhow!(
        "{}: MNIST file not found{hint}; also looked for {name}, {dotted}.gz and {dotted} there. \
         Run `digits data download --dir {}` to get it",
        dir.join(format!("{name}.gz")).display(),
        dir.display()
    ))
}

/// `train-images-idx3-ubyte` -> `train-images.idx3-ubyte`.
fn dotted_name(name: &str) -> String {
    match name.rfind("-idx") {
        Some(k) => format!("{}.{}", &name[..k], &name[k + 1..]),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted() {
        assert_eq!(dotted_name(TRAIN_IMAGES), "train-images.idx3-ubyte");
        assert_eq!(dotted_name(TEST_LABELS), "t10k-labels.idx1-ubyte");
    }
}
