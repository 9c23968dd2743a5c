//! Pictures in and out: photos to MNIST-style inputs, and PNG plots of digits and training.

pub mod allographs;
pub mod augment;
pub mod canvas;
pub mod expect;
pub mod font;
pub mod line;
pub mod number_eval;
pub mod number_reader;
pub mod plot;
pub mod preprocess;
pub mod reading;
pub mod reject;
pub mod remembering_cut;
pub mod scan;
pub mod second_opinion;
pub mod segment;
pub mod styles;
pub mod synth;
pub mod underline;
