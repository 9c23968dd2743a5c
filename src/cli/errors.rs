//! `digits errors`: the test images a model gets wrong: a count, a list, and a PNG gallery of the
//! most confident mistakes with label, prediction and probability.

use super::eval::{load_images, DataArgs};
use super::model_arg::ModelArg;
use digits::vision::plot::{error_gallery, find_errors, save_png, titled};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ErrorsArgs {
    #[command(flatten)]
    pub model: ModelArg,
    #[command(flatten)]
    pub data: DataArgs,
    /// How many errors to list (the most confident first).
    #[arg(long, default_value_t = 20)]
    pub list: usize,
    /// Write a gallery of up to 64 misclassified images to this PNG file.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

pub fn run(args: ErrorsArgs) -> anyhow::Result<()> {
    let (ckpt, name) = args.model.load()?;
    let (data, split, scale) = load_images(&args.data, &ckpt, &name)?;
    let all: Vec<usize> = (0..data.len()).collect();
    let probs = ckpt.model.predict_proba(&data.batch_x(&all, scale));
    let errors = find_errors(&data, &probs, data.len());
    println!("{} errors out of {} images", errors.len(), data.len());
    for e in errors.iter().take(args.list) {
        println!(
            "{split} image {}: label {}, predicted {} ({:.2})",
            e.index, e.label, e.pred, e.prob
        );
    }
    if let Some(out) = &args.out {
        let shown = &errors[..errors.len().min(64)];
        let title = format!(
            "{} of {} errors: label / prediction (probability)",
            shown.len(),
            errors.len()
        );
        save_png(&titled(&error_gallery(shown, data.rows), &title), out)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}
