//! `digits data`: download MNIST, or build the 20x20 tutorial set from it.

use digits::data::{download, mnist, subset, DatasetKind};
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum DataCommand {
    /// Download the four MNIST .gz files (MD5-checked; files already present are kept).
    Download {
        /// Target directory.
        #[arg(long, default_value = DatasetKind::Mnist.default_dir())]
        dir: PathBuf,
        /// Base URL to fetch from instead of the default mirrors (repeat to try several in order).
        #[arg(long = "mirror", value_name = "URL")]
        mirrors: Vec<String>,
    },
    /// Build the 5000-image 20x20 set (X.npy, y.npy) from the MNIST training images.
    Subset {
        /// Directory holding MNIST.
        #[arg(long, default_value = DatasetKind::Mnist.default_dir())]
        mnist_dir: PathBuf,
        /// Where to write X.npy and y.npy.
        #[arg(long, default_value = DatasetKind::Digits5000.default_dir())]
        out: PathBuf,
        /// Images of each digit.
        #[arg(long, default_value_t = 500)]
        per_class: usize,
        /// Seed choosing the images.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

pub fn run(cmd: DataCommand) -> anyhow::Result<()> {
    match cmd {
        DataCommand::Download { dir, mirrors } => {
            let mirrors: Vec<&str> = if mirrors.is_empty() {
                download::DEFAULT_MIRRORS.to_vec()
            } else {
                mirrors.iter().map(String::as_str).collect()
            };
            download::download_mnist(&dir, &mirrors)?;
            println!("MNIST is in {}", dir.display());
        }
        DataCommand::Subset {
            mnist_dir,
            out,
            per_class,
            seed,
        } => {
            let (train, _) = mnist::load_dir(&mnist_dir)?;
            let set = subset::build(&train, per_class, seed)?;
            subset::write_dir(&set, &out)?;
            println!(
                "wrote {} images of 20x20 ({per_class} per digit) to {}",
                set.len(),
                out.display()
            );
        }
    }
    Ok(())
}
