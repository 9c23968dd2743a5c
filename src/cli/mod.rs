//! Subcommands, one file each.

mod data;
mod errors;
mod eval;
mod eval_images;
mod eval_numbers;
mod export;
mod model_arg;
mod predict;
mod read;
mod serve;
mod show;
mod summary;
mod train;
mod train_reader;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "digits",
    version,
    about = "Handwritten-digit recognition: train, evaluate and use networks (MLPs and CNNs) on MNIST; read digits and numbers from pictures; serve a drawing page"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a network (default: the PyTorch tutorial, MNIST 784-25-15-10, batch 64, 10 epochs).
    Train(train::TrainArgs),
    /// Train a number reader (a line model read with CTC) on numbers composed from MNIST.
    TrainReader(train_reader::TrainReaderArgs),
    /// Print the Keras-style summary of a network.
    Summary(summary::SummaryArgs),
    /// Download MNIST or build the 20x20 tutorial subset.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Evaluate a checkpoint on the test set.
    Eval(eval::EvalArgs),
    /// Predict digits with a checkpoint: images from the test set, or photos.
    Predict(predict::PredictArgs),
    /// Read the number in each picture: every digit, left to right.
    Read(read::ReadArgs),
    /// Draw digits, predictions, loss curves and confusion matrices as PNG files.
    Show(show::ShowArgs),
    /// List the test images a checkpoint gets wrong.
    Errors(errors::ErrorsArgs),
    /// Serve the drawing page and the JSON prediction API.
    Serve(serve::ServeArgs),
    /// Export a model as ONNX, or as a static page that reads digits in the browser.
    Export(export::ExportArgs),
}

/// Lets a command whose output is piped into a reader that stops early (`digits read *.png |
/// head -1`) end as other Unix tools do, by SIGPIPE, instead of panicking in `println!` (Rust
/// ignores SIGPIPE, so a write to the closed pipe fails). `serve` keeps it ignored: a write to
/// a client that went away must fail there, not end the server. Call before any thread starts.
pub fn end_quietly_on_a_closed_pipe(cli: &Cli) {
    #[cfg(unix)]
    if !matches!(cli.command, Command::Serve(_)) {
        // SAFETY: sets the default action of one signal; no other thread exists yet to race
        // with the change.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(a) => train::run(a),
        Command::TrainReader(a) => train_reader::run(a),
        Command::Summary(a) => summary::run(a),
        Command::Data(a) => data::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Predict(a) => predict::run(a),
        Command::Read(a) => read::run(a),
        Command::Show(a) => show::run(a),
        Command::Errors(a) => errors::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Export(a) => export::run(a),
    }
}
