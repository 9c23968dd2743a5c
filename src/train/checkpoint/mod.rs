//! Checkpoints in safetensors, interchangeable with PyTorch.
//!
//! - `<name>.safetensors` is the state dict of the PyTorch tutorial's module (its layers in
//!   `self.model = nn.Sequential(...)`): `model.<i>.weight` [out, in] and `model.<i>.bias` [out],
//!   F32, with metadata `"format": "pt"` and `digits.*` keys (architecture, preprocessing,
//!   dataset, epoch, step, fit config, history) so the file alone rebuilds the model. PyTorch
//!   loads it with `load_state_dict(load_file(path))` (strict); a state dict saved from PyTorch
//!   with `safetensors.torch.save_file` loads here, its architecture read from the shapes.
//! - `<name>.optim.safetensors` beside it holds Adam's state for resuming (see [`optim`]).
//!
//! Every write is atomic (temporary file, fsync, rename): a crash leaves the previous file.
//!
//! ```no_run
//! use digits::train::checkpoint;
//! let ckpt = checkpoint::load("model.safetensors".as_ref()).unwrap();
//! println!("epoch {}, scale {:?}", ckpt.meta.epoch, ckpt.meta.scale);
//! ```

pub mod atomic;
mod file;
pub mod meta;
mod model;
pub mod names;
pub mod optim;
mod resume;
mod saver;

pub use meta::CheckpointMeta;
pub(crate) use model::torch_perm;
pub use model::{check_compatible, load, load_as, load_bytes, save_model, Checkpoint};
pub use names::describe;
pub use optim::{load_optimizer, optim_path};
pub use resume::{resume, save, Resumed};
pub use saver::CheckpointSaver;
