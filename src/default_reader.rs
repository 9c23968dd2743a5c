//! The number reader built into the binary, used by `digits read` and `digits eval --numbers`
//! unless another is given (and by `digits serve` for `POST /api/read`): a line model
//! (`vision::line::reader::DEFAULT_LAYERS`, 136,015 parameters, 0.5 MB) trained with CTC on
//! numbers composed from MNIST's training digits by `scripts/train_reader.sh` (0.9245 exact on
//! the shared numbers, with its five looks), checked where it is unsure by the built-in digit
//! model cutting the ink into digits (`vision::line::check`; 0.9432).

use crate::train::calibration::Platt;
use crate::train::checkpoint::{self, Checkpoint};
use crate::vision::line::check::CheckedReader;
use crate::vision::line::reader::LineReader;
use crate::vision::reading::SegmentReader;
use std::path::Path;

const BYTES: &[u8] = include_bytes!("../assets/default-reader.safetensors");

/// What errors and summaries call the built-in reader.
pub const NAME: &str = "(built-in number reader)";

/// The built-in reader's checkpoint.
pub fn load() -> anyhow::Result<Checkpoint> {
    checkpoint::load_bytes(BYTES.to_vec(), Path::new(NAME))
}

/// What the built-in reader's confidence in a number becomes: the chance that the number is
/// right (`train::calibration::Platt`). Fitted by `examples/number_calibration.rs` on 4,000
/// numbers composed from MNIST training digits (seed 2027; see the README, "How far a number's
/// confidence can be trusted").
pub const CALIBRATION: Platt = Platt {
    a: 1.1809,
    b: 1.4326,
};

/// The built-in reader: the line reader, checked by the built-in digit model, its confidence
/// calibrated ([`CALIBRATION`]).
pub fn reader() -> anyhow::Result<CheckedReader> {
    let digits = crate::default_model::load()?;
    Ok(CheckedReader {
        line: line_reader()?,
        cut: SegmentReader {
            raw: digits.meta.scale == crate::data::PixelScale::Raw,
            model: digits.model,
        },
        calibration: Some(CALIBRATION),
    })
}

/// The built-in line reader alone, unchecked.
pub fn line_reader() -> anyhow::Result<LineReader> {
    LineReader::new(load()?.model).map_err(anyhow::Error::msg)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_built_in_reader_loads_and_is_small() {
        let r = super::line_reader().unwrap();
        assert!(r.model().params().len() < 3_000_000 / 4);
        assert!(super::BYTES.len() < 3 << 20);
    }
}
