//! `digits serve`: the drawing page, the JSON API and `/metrics`, until SIGTERM or Ctrl-C
//! (then requests in flight finish and new connections are refused). Request logs through
//! `tracing`, off unless `RUST_LOG` asks (e.g. `RUST_LOG=digits=info`).

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
    /// Serve no `/metrics` and count nothing.
    #[arg(long)]
    no_metrics: bool,
    #[command(flatten)]
    model: ModelArg,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logs();
    let mut state = load_model(args.model.model.as_deref())?;
    if args.no_metrics {
        state = state.without_metrics();
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let listener = bind(args.addr).await?;
        println!("Serving on http://{}", listener.local_addr()?);
        serve_with_shutdown(listener, state, async {
            let signal = stop_signal().await;
            eprintln!("{signal}: shutting down (requests in flight finish, new ones are refused)");
        })
        .await?;
        eprintln!("stopped");
        Ok(())
    })
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM (what `docker stop` and Kubernetes send); names it.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "interrupted",
                _ = term.recv() => "SIGTERM",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "interrupted"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "interrupted"
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (`digits=info` shows each request); warnings only
/// by default.
fn init_logs() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => v.parse::<Targets>().unwrap_or_else(|e| {
            eprintln!("warning: ignoring RUST_LOG={v:?} ({e}); logging warnings only");
            Targets::new().with_default(LevelFilter::WARN)
        }),
        _ => Targets::new().with_default(LevelFilter::WARN),
    };
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .with(filter)
        .try_init();
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
