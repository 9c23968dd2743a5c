//! The engine: layers (Dense, Conv2d, MaxPool2d, Flatten, Dropout) over one flat parameter
//! buffer, fused softmax cross-entropy, the CTC loss and its decoders (`ctc`, `ctc_decode`), the
//! CTC training pass of a model with per-column output (`sequence`), Adam.
//! Imports no other module of the crate.
//!
//! Layouts follow Keras: a Dense layer's `W` is (in, out) row-major, `b` is (out,); a Conv2d
//! layer's weights are (k, k, cin, cout), its bias (cout,); images are NHWC (channels last).

pub mod activation;
pub mod conv;
pub mod ctc;
pub mod ctc_counted;
pub mod ctc_decode;
pub mod dense;
pub mod dropout;
pub mod init;
pub mod kernels;
pub mod layer;
pub mod loss;
pub mod model;
pub mod optim;
mod params;
pub mod pool;
pub mod sequence;
pub mod simd;
pub mod spec;
pub mod split;
mod summary;
pub mod syntax;
pub mod workspace;

pub use activation::Activation;
pub use dropout::DropoutKey;
pub use init::Init;
pub use layer::{Layer, Shape};
pub use loss::{argmax, softmax, softmax_cross_entropy, softmax_in_place};
pub use model::Sequential;
pub use optim::Adam;
pub use sequence::SequenceLabels;
pub use spec::{LayerSpec, ModelSpec, Padding};
