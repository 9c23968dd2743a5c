//! Limits on what a request may ask of the server.

/// Largest request body accepted (a 280x280 canvas PNG is ~10 KiB; a phone photo fits).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Largest image side accepted before decoding; a PNG header can claim 100000x100000.
pub const MAX_IMAGE_SIDE: u32 = 8192;

/// A pixel at or below this (on the 0..1 scale, ink = 1) counts as empty.
pub const INK_THRESHOLD: f32 = 0.1;
