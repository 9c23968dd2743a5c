//! The `digits` command line.

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    cli::end_quietly_on_a_closed_pipe(&args);
    if let Err(e) = cli::run(args) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
