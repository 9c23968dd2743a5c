//! `digits serve`: the drawing page and the JSON API.

use digits::data::PixelScale;
use digits::nn::{Init, ModelSpec, Sequential};
use digits::serve::{bind, serve_with_shutdown, AppState};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Checkpoint to serve (default: the built-in model).
    #[arg(long, value_name = "PATH")]
    model: Option<PathBuf>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let state = load_model(args.model.as_deref())?;
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

/// The model to serve: the checkpoint at `path`, or the default model.
// The default is an untrained 784-25-15-10 network until a trained one ships with the crate.
pub fn load_model(path: Option<&Path>) -> anyhow::Result<AppState> {
    if let Some(path) = path {
        anyhow::bail!(
            "cannot load {}: checkpoint loading is not wired into `digits serve` yet",
            path.display()
        );
    }
    eprintln!("warning: no --model given; serving an untrained network (predictions are noise)");
    let model = Sequential::new(ModelSpec::mlp(784, &[25, 15], 10), Init::KaimingUniform, 42);
    AppState::new(model, PixelScale::Unit, "untrained, seed 42")
}
