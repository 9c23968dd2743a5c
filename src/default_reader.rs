//! The number reader built into the binary, used by `digits read` and `digits eval --numbers`
//! unless another is given (and by `digits serve` for `POST /api/read`): two line models
//! (`vision::line::reader::DEFAULT_LAYERS`, 136,015 parameters and 0.5 MB each) trained with CTC
//! on numbers composed from MNIST's training digits, both made from scratch by
//! `scripts/train_reader.sh` in about 90 minutes on a 2-core machine, reading
//! together (`LineReader::with_model`), checked where they are unsure by the built-in digit model
//! cutting the ink into digits (`vision::line::check`).

use crate::train::calibration::{Platt, ReaderCalibration};
use crate::train::checkpoint::{self, Checkpoint};
use crate::vision::line::check::CheckedReader;
use crate::vision::line::reader::LineReader;
use crate::vision::reading::SegmentReader;
use std::path::Path;

const BYTES: &[u8] = include_bytes!("../assets/default-reader.safetensors");
/// The second line model, reading beside the first.
const SECOND_BYTES: &[u8] = include_bytes!("../assets/default-reader-2.safetensors");

/// What errors and summaries call the built-in reader.
pub const NAME: &str = "(built-in number reader)";

/// The built-in reader's first line model's checkpoint.
pub fn load() -> anyhow::Result<Checkpoint> {
    checkpoint::load_bytes(BYTES.to_vec(), Path::new(NAME))
}

/// The built-in reader's second line model's checkpoint.
pub fn load_second() -> anyhow::Result<Checkpoint> {
    checkpoint::load_bytes(SECOND_BYTES.to_vec(), Path::new(NAME))
}

/// What the built-in reader's confidence in a number becomes: the chance that the number is
/// right (`train::calibration::Platt`), one map for numbers read untold and one for numbers
/// told their count of digits. Both fitted by `examples/number_calibration.rs` on the same
/// 4,000 numbers composed from MNIST training digits (seed 2027), read untold and told (see the
/// README, "How far a number's confidence can be trusted").
pub const CALIBRATION: ReaderCalibration = ReaderCalibration {
    untold: Platt {
        a: 1.2666,
        b: 1.0685,
    },
    told: Platt {
        a: 1.1755,
        b: 1.4239,
    },
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

/// The built-in line models reading together, unchecked.
pub fn line_reader() -> anyhow::Result<LineReader> {
    let (first, second) = (load()?.model, load_second()?.model);
    LineReader::new(first)
        .and_then(|r| r.with_model(second))
        .map_err(anyhow::Error::msg)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_built_in_reader_loads_and_is_small() {
        let r = super::line_reader().unwrap();
        assert_eq!(r.models(), 2);
        assert!(r.model().params().len() < 3_000_000 / 8);
        assert!(super::BYTES.len() + super::SECOND_BYTES.len() < 3 << 20);
    }
}
