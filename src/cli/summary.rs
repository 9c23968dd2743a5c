//! `digits summary`: the Keras-style summary of a network.

use super::train::ArchArgs;
use digits::nn::{Init, Sequential};

#[derive(clap::Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    arch: ArchArgs,
}

pub fn run(args: SummaryArgs) -> anyhow::Result<()> {
    let model = Sequential::try_new(
        args.arch.spec(args.arch.inputs.unwrap_or(784))?,
        Init::default(),
        0,
    )
    .map_err(anyhow::Error::msg)?;
    print!("{}", model.summary());
    Ok(())
}
