//! `digits summary`: the Keras-style summary of a network: one spelled with --arch/--layers, a
//! checkpoint's, or the built-in model's.

use super::train::ArchArgs;
use digits::default_model;
use digits::nn::{Init, Sequential};
use digits::train::checkpoint;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    arch: ArchArgs,
    /// Summarise this checkpoint's network instead.
    #[arg(long, conflicts_with_all = ["builtin", "arch", "layers", "inputs"])]
    model: Option<PathBuf>,
    /// Summarise the model built into the binary (the one `predict`, `read` and `serve` use).
    #[arg(long, conflicts_with_all = ["arch", "layers", "inputs"])]
    builtin: bool,
}

pub fn run(args: SummaryArgs) -> anyhow::Result<()> {
    let model = if args.builtin {
        default_model::load()?.model
    } else if let Some(path) = &args.model {
        checkpoint::load(path)?.model
    } else {
        Sequential::try_new(
            args.arch.spec(args.arch.inputs.unwrap_or(784))?,
            Init::default(),
            0,
        )
        .map_err(anyhow::Error::msg)?
    };
    print!("{}", model.summary());
    Ok(())
}
