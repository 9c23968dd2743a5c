//! TensorBoard logging: event files that TensorBoard (and `read_tb.py`) read, written without
//! TensorFlow.
//!
//! An event file is a sequence of TFRecords (`record`), each holding one `Event` protobuf
//! (`proto`). `SummaryWriter` appends scalars to a new file in a log directory,
//! `TensorBoardLogger` plugs it into the fit loop as the PyTorch tutorial does, and
//! `read_scalars` reads the curves back (checking every checksum), e.g. for plotting.
//!
//! ```no_run
//! use digits::train::tensorboard::{read_scalars, SummaryWriter};
//!
//! let mut w = SummaryWriter::new("runs/demo").unwrap();
//! w.add_scalar("train_loss", 0.25, 100).unwrap();
//! w.flush().unwrap();
//! let scalars = read_scalars("runs/demo").unwrap();
//! assert_eq!(scalars["train_loss"].last(), Some(&(100, 0.25)));
//! ```

pub mod logger;
pub mod proto;
pub mod reader;
pub mod record;
pub mod writer;

pub use logger::TensorBoardLogger;
pub use reader::{read_scalars, Scalars};
pub use writer::SummaryWriter;
