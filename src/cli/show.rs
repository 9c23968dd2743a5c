//! `digits show` (being written).

#[derive(clap::Args)]
pub struct ShowArgs {}

pub fn run(_args: ShowArgs) -> anyhow::Result<()> {
    anyhow::bail!("digits show is not built yet")
}
