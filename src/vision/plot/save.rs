//! Writing a plot as PNG: to a temporary file beside the target, then renamed over it, so a
//! reader never sees half a file.

use image::{ImageFormat, RgbImage};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct SaveError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Writes `img` as a PNG at `path`, creating missing parent folders.
pub fn save_png(img: &RgbImage, path: &Path) -> Result<(), SaveError> {
    let err = |source| SaveError {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let tmp = tempfile::Builder::new()
        .prefix(".plot-")
        .suffix(".png.tmp")
        .tempfile_in(dir)
        .map_err(err)?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        img.write_to(&mut w, ImageFormat::Png)
            .map_err(|e| err(std::io::Error::other(e)))?;
        w.flush().map_err(err)?;
    }
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}
