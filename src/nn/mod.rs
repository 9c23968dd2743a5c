//! The engine: Dense layers over one flat parameter buffer, fused softmax cross-entropy, Adam.
//!
//! Layout follows Keras: a Dense layer's `W` is (in, out) row-major, `b` is (out,).

pub mod activation;
pub mod dense;
pub mod init;
pub mod kernels;
pub mod loss;
pub mod model;
pub mod optim;
pub mod simd;
pub mod spec;
pub mod split;
pub mod workspace;

pub use activation::Activation;
pub use init::Init;
pub use loss::{argmax, softmax, softmax_in_place};
pub use model::Sequential;
pub use optim::Adam;
pub use spec::{LayerSpec, ModelSpec};
