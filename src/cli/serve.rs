//! `digits serve`: the drawing page and the JSON API.

use super::model_arg::ModelArg;
use digits::data::PixelLayout;
use digits::default_model;
use digits::serve::{bind, serve_with_shutdown, AppState};
use std::net::SocketAddr;
use std::path::Path;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    #[command(flatten)]
    model: ModelArg,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let state = load_model(args.model.model.as_deref())?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let listener = bind(args.addr).await?;
        println!("Serving on http://{}", listener.local_addr()?);
        serve_with_shutdown(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("shutting down");
        })
        .await
    })
}

/// The model to serve: the checkpoint at `path`, or the built-in model.
pub fn load_model(path: Option<&Path>) -> anyhow::Result<AppState> {
    let ckpt = default_model::load_or_default(path)?;
    let name = path.map_or(default_model::NAME.to_string(), |p| p.display().to_string());
    // The page and the preprocessing make row-major 28x28 images.
    if ckpt.meta.layout == Some(PixelLayout::ColumnMajor) {
        anyhow::bail!("{name} reads column-major images; the server makes row-major 28x28 ones");
    }
    AppState::new(ckpt.model, ckpt.meta.scale, name.clone())
        .map_err(|e| anyhow::anyhow!("cannot serve {name}: {e}"))
}
