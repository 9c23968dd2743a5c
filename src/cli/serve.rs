//! `digits serve`: the drawing page, the JSON API and `/metrics`, until SIGTERM or Ctrl-C
//! (then requests in flight finish and new connections are refused). Request logs through
//! `tracing`, off unless `RUST_LOG` asks (e.g. `RUST_LOG=digits=info`).

use super::model_arg::ModelArg;
use digits::data::PixelLayout;
use digits::default_model;
use digits::serve::limits::{connections_within_file_limit, Limits};
use digits::serve::{bind, serve_with_shutdown, AppState};
use digits::vision::reading::NumberReader;
use digits::vision::reject::parse_probability;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Serve no `/metrics` and count nothing.
    #[arg(long)]
    no_metrics: bool,
    /// Read numbers (`POST /api/read`) with this line reader (a `digits train-reader` file)
    /// instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    reader: Option<PathBuf>,
    /// Read numbers by cutting the ink into digits and classifying each with the served model
    /// (as `digits read --segment` does) instead of with the built-in number reader.
    #[arg(long, conflicts_with = "reader")]
    segment: bool,
    /// Seconds a client has to send a request's headers, and then its body (past it: closed,
    /// or 408); also how long an idle keep-alive connection stays open.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    request_timeout: f64,
    /// Connections open at once; more are answered 503 and closed [default: 1000, or fewer
    /// to fit under the open-file limit].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: Option<u64>,
    /// Largest picture (width x height) /api/predict and /api/read accept; larger: 413.
    #[arg(long, default_value_t = Limits::default().max_pixels, value_parser = clap::value_parser!(u64).range(1..))]
    max_pixels: u64,
    /// Say in every answer whether it is as sure as P (in [0, 1]): `"accepted": false` marks
    /// a digit or number to check by hand. A request's `?min_confidence=` overrides it.
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    min_confidence: Option<f32>,
    /// Pictures over 1 megapixel decoded and read at once [default: CPUs - 1, 1 to 4].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    large_workers: Option<u64>,
    /// Pictures over 1 megapixel waiting for a worker; more are answered 503.
    #[arg(long, default_value_t = Limits::default().large_queue as u64)]
    large_queue: u64,
    #[command(flatten)]
    model: ModelArg,
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds in (0, 86400]")),
    }
}

impl ServeArgs {
    fn limits(&self) -> Limits {
        let d = Limits::default();
        let wanted = self
            .max_connections
            .map_or(d.max_connections, |n| n as usize);
        let max_connections = connections_within_file_limit(wanted);
        if max_connections < wanted {
            eprintln!(
                "warning: at most {max_connections} connections, not {wanted}: the open-file \
                 limit (ulimit -n) is lower"
            );
        }
        Limits {
            request_timeout: Duration::from_secs_f64(self.request_timeout),
            max_connections,
            max_pixels: self.max_pixels,
            large_workers: self.large_workers.map_or(d.large_workers, |n| n as usize),
            large_queue: self.large_queue as usize,
            ..d
        }
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logs();
    let limits = args.limits();
    let mut state = load_model(args.model.model.as_deref())?
        .with_limits(limits.clone())
        .with_min_confidence(args.min_confidence);
    // /api/read (and the drawing page's number mode) read with the built-in number reader (the
    // line model checked by the digit model), as `digits read` does, unless another reader or
    // cutting into digits is asked for.
    let number_reader: Option<Arc<dyn NumberReader>> = match (&args.reader, args.segment) {
        (Some(path), _) => {
            let ckpt = digits::train::checkpoint::load(path)?;
            Some(Arc::new(
                digits::vision::line::reader::LineReader::new(ckpt.model)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            ))
        }
        (None, false) => Some(Arc::new(digits::default_reader::reader()?)),
        (None, true) => None,
    };
    if let Some(reader) = number_reader {
        state = state.with_reader(reader);
    }
    if args.no_metrics {
        state = state.without_metrics();
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let listener = bind(args.addr).await?;
        println!("Serving on http://{}", listener.local_addr()?);
        // On stderr: callers read the first line of stdout for the address, then may close it.
        eprintln!("limits: {}", limits.describe());
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
