//! `digits data`: download MNIST, or build the 20x20 tutorial set from it.

use digits::data::{download, mnist, subset, DatasetKind};
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum DataCommand {
    /// Download the four MNIST .gz files (MD5-checked; files already present are kept).
    Download {
        /// Target directory (default: $DIGITS_DATA, else data/mnist).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Base URL to fetch from instead of the default mirrors (repeat to try several in order).
        #[arg(long = "mirror", value_name = "URL")]
        mirrors: Vec<String>,
    },
    /// Build the 5000-image 20x20 set (X.npy, y.npy) from the MNIST training images.
    Subset {
        /// Directory holding MNIST (default: $DIGITS_DATA, else data/mnist).
        #[arg(long)]
        mnist_dir: Option<PathBuf>,
        /// Where to write X.npy and y.npy (default: $DIGITS_DATA/digits5000, else data/digits5000).
        #[arg(long)]
        out: Option<PathBuf>,
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
            let dir = DatasetKind::Mnist.resolve_dir(dir.as_deref());
            download::download_mnist(&dir, &mirrors).map_err(|e| {
                anyhow::anyhow!(
                    "{e:#}\nMNIST was not downloaded. Download its four files ({}) from one of the \
                     addresses above on a machine with the internet, put them in a folder, and \
                     give it to the data commands with `--data-dir FOLDER` or `{}=FOLDER`.",
                    download::MNIST_FILES.map(|f| f.name).join(", "),
                    digits::data::DATA_ENV
                )
            })?;
            println!("MNIST is in {}", dir.display());
        }
        DataCommand::Subset {
            mnist_dir,
            out,
            per_class,
            seed,
        } => {
            let mnist_dir = DatasetKind::Mnist.resolve_dir(mnist_dir.as_deref());
            let out = match out {
                Some(out) => out,
                None => std::env::var_os(digits::data::DATA_ENV)
                    .filter(|root| !root.is_empty())
                    .map(|root| PathBuf::from(root).join(DatasetKind::Digits5000.folder_name()))
                    .unwrap_or_else(|| DatasetKind::Digits5000.default_dir().into()),
            };
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
