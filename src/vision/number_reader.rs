//! The one place a checkpoint becomes a [`NumberReader`]: `digits read`, `digits eval
//! --numbers`, `digits serve` (`POST /api/read`) and the Python module all make their reader
//! here, so a new kind of reader is wired in once for all of them.

use super::expect::Expected;
use super::line::reader::LineReader;
use super::preprocess::{self, PreprocessError, PIXELS};
use super::reading::{NumberReader, NumbersRead, Reading, SegmentReader};
use crate::data::PixelScale;
use crate::nn::Sequential;
use crate::train::checkpoint::Checkpoint;
use std::path::Path;

/// The reader for a loaded checkpoint (see [`reader_for`]).
pub fn number_reader(ckpt: Checkpoint) -> anyhow::Result<Box<dyn NumberReader>> {
    reader_for(ckpt.model, ckpt.meta.scale)
}

/// The reader for `model`, trained on pixels scaled as `scale`:
/// - a model of 28 x 28 = 784 inputs ending in one vector of class scores: a digit classifier,
///   read through [`SegmentReader`] (the ink cut into digits, each classified);
/// - a model with a sequence output (one row of logits per column, trained with CTC): a line
///   reader;
/// - anything else: an error saying what the model takes.
pub fn reader_for(model: Sequential, scale: PixelScale) -> anyhow::Result<Box<dyn NumberReader>> {
    if model.sequence_output().is_some() {
        return Ok(Box::new(
            LineReader::new(model).map_err(anyhow::Error::msg)?,
        ));
    }
    if model.input_dim() != PIXELS {
        anyhow::bail!(
            "the model takes {} inputs per image; numbers are read by a digit model of 28x28 = \
             {PIXELS} inputs or by a line model",
            model.input_dim()
        );
    }
    Ok(Box::new(SegmentReader {
        model,
        raw: scale == PixelScale::Raw,
    }))
}

/// The reading of the picture in the file at `path` (a blank picture reads as
/// [`Reading::empty`]); errors name the file.
pub fn read_path(reader: &dyn NumberReader, path: &Path) -> Result<Reading, PreprocessError> {
    read_path_as(reader, path, None)
}

/// [`read_path`], of a number of as many digits as `expected` says where it is given
/// ([`NumberReader::read_image_as`]).
pub fn read_path_as(
    reader: &dyn NumberReader,
    path: &Path,
    expected: Option<&Expected>,
) -> Result<Reading, PreprocessError> {
    let img = preprocess::decode_path(path)?;
    reader
        .read_image_as(&img, expected)
        .map_err(|e| preprocess::in_file(path, e))
}

/// Each number in the picture in the file at `path` (lines of writing, numbers far apart on a
/// line), read as a number of as many digits as `expected` says where it is given
/// ([`NumberReader::read_numbers_as`]); errors name the file.
pub fn read_numbers_path_as(
    reader: &dyn NumberReader,
    path: &Path,
    expected: Option<&Expected>,
) -> Result<NumbersRead, PreprocessError> {
    read_numbers_decoded(reader, path, &preprocess::decode_path(path)?, expected)
}

/// [`read_numbers_path_as`] of `img`, already decoded from the file at `path`.
pub fn read_numbers_decoded(
    reader: &dyn NumberReader,
    path: &Path,
    img: &image::DynamicImage,
    expected: Option<&Expected>,
) -> Result<NumbersRead, PreprocessError> {
    reader
        .read_numbers_as(img, expected)
        .map_err(|e| preprocess::in_file(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Init, ModelSpec};

    fn mlp(inputs: usize) -> Sequential {
        Sequential::new(ModelSpec::mlp(inputs, &[8], 10), Init::KaimingUniform, 1)
    }

    #[test]
    fn digit_models_read_and_others_are_refused_by_name() {
        assert!(reader_for(mlp(784), PixelScale::Unit).is_ok());
        let e = reader_for(mlp(400), PixelScale::Unit).err().unwrap();
        assert!(e.to_string().contains("400 inputs"), "{e}");
    }
}
