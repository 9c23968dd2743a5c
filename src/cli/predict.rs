//! `digits predict` (being written).

#[derive(clap::Args)]
pub struct PredictArgs {}

pub fn run(_args: PredictArgs) -> anyhow::Result<()> {
    anyhow::bail!("digits predict is not built yet")
}
