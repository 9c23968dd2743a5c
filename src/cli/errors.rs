//! `digits errors` (being written).

#[derive(clap::Args)]
pub struct ErrorsArgs {}

pub fn run(_args: ErrorsArgs) -> anyhow::Result<()> {
    anyhow::bail!("digits errors is not built yet")
}
