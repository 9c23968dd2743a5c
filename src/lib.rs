//! `digits`: handwritten-digit recognition in Rust.
//!
//! It trains the small multilayer perceptrons of the Keras and PyTorch MNIST tutorials with a
//! hand-written engine over one flat parameter buffer (see `nn`), and uses them to read digits
//! from MNIST, from the 20x20 tutorial subset, from photos and from a drawing page.
//!
//! ```no_run
//! use digits::data::{mnist, PixelScale};
//! use digits::nn::{Activation, Init, LayerSpec, ModelSpec, Sequential};
//! use digits::train::{fit, FitConfig};
//!
//! let (train, test) = mnist::load_dir("../shared/data/mnist".as_ref()).unwrap();
//! let spec = ModelSpec::new(784, vec![
//!     LayerSpec::dense(25, Activation::Relu),
//!     LayerSpec::dense(15, Activation::Relu),
//!     LayerSpec::dense(10, Activation::Linear),
//! ]);
//! let mut model = Sequential::new(spec, Init::KaimingUniform, 42);
//! println!("{}", model.summary());
//! let config = FitConfig { epochs: 10, batch_size: 64, ..FitConfig::default() };
//! let history = fit(&mut model, &train, Some(&test), &config, &mut ()).unwrap();
//! println!("last loss {}", history.loss.last().unwrap());
//! let logits = model.predict(test.batch_x(&[0], PixelScale::Unit).as_slice());
//! println!("digit {}", digits::nn::argmax(&logits));
//! ```

pub mod data;
pub mod default_model;
pub mod default_reader;
pub mod export;
pub mod nn;
pub mod serve;
pub mod train;
pub mod vision;
