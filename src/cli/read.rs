//! `digits read`: the number in each picture (a zip code, an amount, a row of digits), its
//! digits read left to right, with how sure the reader is; in a picture of several numbers
//! (lines of writing, numbers far apart on a line), each one. Pictures are read in parallel and
//! reported in the order given.

use super::model_arg::{number_reader_of, ModelArg};
use anyhow::bail;
use digits::vision::expect::Expected;
use digits::vision::number_reader::{read_numbers_decoded, read_numbers_path_as};
use digits::vision::preprocess;
use digits::vision::reading::{NumberReader, PictureReading, Reading};
use digits::vision::reject::parse_probability;
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One picture's entry in `--json`: `{"file", "text", "formatted", "confidence", "digits"}`,
/// `"accepted"` with `--min-confidence`, and `"numbers"` where it holds several
/// ([`PictureReading`]).
#[derive(Serialize)]
struct FileReading<'a> {
    file: &'a Path,
    #[serde(flatten)]
    answer: PictureReading,
}

#[derive(clap::Args)]
pub struct ReadArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Pictures of numbers (PNG, JPEG, BMP, TIFF, WebP; dark on light or light on dark).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print JSON: [{"file", "text", "formatted", "confidence", "digits": [{"digit",
    /// "probability", "box": [x, y, w, h]}]}] ("accepted" too with --min-confidence; for a
    /// picture of several numbers, lines of writing or numbers far apart on a line, the one
    /// holding the most ink, and "numbers": each one's, line by line from the top).
    #[arg(long)]
    pub json: bool,
    /// The number of digits each number has, N or N-M (a zip code 5, a phone number 10;
    /// separators are not counted): the best reading that fits is given, and one that still
    /// does not fit gets confidence 0.
    #[arg(long, value_name = "N|N-M", value_parser = parse_expected)]
    pub digits: Option<Expected>,
    /// Mark the numbers read with a confidence below P (in [0, 1]) to be checked by hand.
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub min_confidence: Option<f32>,
    /// Read with the built-in digit model, cutting the ink into digits, instead of the
    /// built-in number reader (which reads the line whole).
    #[arg(long, conflicts_with = "model")]
    pub segment: bool,
    /// Write what the model was given for each picture to this folder, ink light on black:
    /// the line the number reader read (NAME.png), or with --segment each digit cut out
    /// (NAME.1.png, NAME.2.png, ...); for a picture of several numbers, NAME.number1.png (or
    /// NAME.number1.1.png, ...) for the first, and so on.
    #[arg(long, value_name = "DIR")]
    pub save_input: Option<PathBuf>,
}

pub fn run(args: ReadArgs) -> anyhow::Result<()> {
    let (reader, _) = number_reader_of(&args.model, args.segment)?;
    if let Some(dir) = &args.save_input {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let expected = args.digits.as_ref();
    let readings: Vec<_> = args
        .files
        .par_iter()
        .map(|file| match &args.save_input {
            None => Ok(read_numbers_path_as(reader.as_ref(), file, expected)?),
            Some(dir) => {
                // Decoded once, for the reading and for the inputs saved.
                let img = preprocess::decode_path(file)?;
                let read = read_numbers_decoded(reader.as_ref(), file, &img, expected)?;
                save_inputs(reader.as_ref(), file, &img, dir)?;
                Ok::<_, anyhow::Error>(read)
            }
        })
        .collect();
    let (mut out, mut failed) = (Vec::new(), 0);
    for (file, read) in args.files.iter().zip(readings) {
        let answer = match read {
            Ok(read) => PictureReading::of(read, args.min_confidence),
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
                continue;
            }
        };
        if args.json {
            out.push(FileReading { file, answer });
        } else if answer.numbers.is_empty() {
            print_reading(
                &file.display().to_string(),
                &answer.reading,
                args.min_confidence,
            );
        } else {
            let n = answer.numbers.len();
            for (k, number) in answer.numbers.iter().enumerate() {
                let name = format!("{}, number {} of {n}", file.display(), k + 1);
                print_reading(&name, &number.reading, args.min_confidence);
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string(&out)?);
    }
    if failed > 0 {
        bail!("{failed} of {} files could not be read", args.files.len());
    }
    Ok(())
}

/// `--digits`: N or N-M.
fn parse_expected(s: &str) -> Result<Expected, String> {
    s.parse()
}

/// Writes what `reader`'s model is given for `img`, decoded from `file`, to `dir`: NAME.png
/// for one input, NAME.1.png, NAME.2.png, ... for several; in a picture of several numbers,
/// NAME.number1.png (or NAME.number1.1.png, ...) for the first, and so on.
fn save_inputs(
    reader: &dyn NumberReader,
    file: &Path,
    img: &image::DynamicImage,
    dir: &Path,
) -> anyhow::Result<()> {
    let numbers = reader
        .model_inputs(img)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let stem = file.file_stem().unwrap_or_default().to_string_lossy();
    for (n, inputs) in numbers.iter().enumerate() {
        let number = match numbers.len() {
            1 => stem.to_string(),
            _ => format!("{stem}.number{}", n + 1),
        };
        for (k, input) in inputs.iter().enumerate() {
            let name = match inputs.len() {
                1 => format!("{number}.png"),
                _ => format!("{number}.{}.png", k + 1),
            };
            let out = dir.join(name);
            input
                .save(&out)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
        }
    }
    Ok(())
}

/// `name: text` (`name` the file, and which number in a picture of several), the formatted number
/// when it differs, each digit's probability, then the confidence (marked when below `min`).
fn print_reading(name: &str, reading: &Reading, min: Option<f32>) {
    let mark = match min {
        Some(p) if reading.confidence < p => format!(" (below {p}: check by hand)"),
        _ => String::new(),
    };
    if reading.text.is_empty() {
        println!("{name}: no digit found (the picture looks blank){mark}");
        return;
    }
    let formatted = if reading.formatted != reading.text {
        format!(" (formatted {})", reading.formatted)
    } else {
        String::new()
    };
    println!("{name}: {}{formatted}", reading.text);
    let each: Vec<String> = reading
        .digits
        .iter()
        .map(|d| format!("{} ({:.2})", d.digit, d.probability))
        .collect();
    if !each.is_empty() {
        println!("  {}", each.join("  "));
    }
    println!("  confidence {:.3}{mark}", reading.confidence);
}
