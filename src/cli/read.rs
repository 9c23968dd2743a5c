//! `digits read`: the number in each picture (a zip code, an amount, a row of digits), its
//! digits read left to right.

use super::model_arg::ModelArg;
use anyhow::bail;
use digits::data::PixelScale;
use digits::vision::preprocess::{self, PreprocessError};
use digits::vision::reading::Reading;
use digits::vision::segment::{read_digits, FoundDigit};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One picture's entry in `--json`: `{"file", "text", "digits"}`.
#[derive(Serialize)]
struct FileReading<'a> {
    file: &'a Path,
    #[serde(flatten)]
    reading: Reading,
}

#[derive(clap::Args)]
pub struct ReadArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Pictures of numbers (PNG, JPEG, BMP; dark on light or light on dark).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print JSON: [{"file", "text", "digits": [{"digit", "probability", "box": [x, y, w, h]}]}].
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ReadArgs) -> anyhow::Result<()> {
    let (ckpt, name) = args.model.load()?;
    if ckpt.model.input_dim() != preprocess::PIXELS {
        bail!(
            "{} takes {} inputs per image; digits are read as 28x28 = 784",
            name.display(),
            ckpt.model.input_dim()
        );
    }
    let raw = ckpt.meta.scale == PixelScale::Raw;
    let classify = |x: &[f32]| {
        if raw {
            let scaled: Vec<f32> = x.iter().map(|v| v * 255.0).collect();
            ckpt.model.predict_proba(&scaled)
        } else {
            ckpt.model.predict_proba(x)
        }
    };
    let (mut out, mut failed) = (Vec::new(), 0);
    for file in &args.files {
        let found: Vec<FoundDigit> = match preprocess::ink_from_path(file) {
            Ok(ink) => read_digits(&ink, &classify),
            Err(e) if matches!(e.root(), PreprocessError::Blank) => Vec::new(),
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
                continue;
            }
        };
        let reading = Reading::of(&found);
        if args.json {
            out.push(FileReading { file, reading });
        } else if found.is_empty() {
            println!(
                "{}: no digit found (the picture looks blank)",
                file.display()
            );
        } else {
            println!("{}: {}", file.display(), reading.text);
            let each: Vec<String> = found
                .iter()
                .map(|d| format!("{} ({:.2})", d.digit, d.probability))
                .collect();
            println!("  {}", each.join("  "));
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
