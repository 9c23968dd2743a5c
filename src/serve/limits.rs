//! Limits on what a request may ask of the server (image sizes are bounded by
//! `vision::preprocess`, which checks the declared dimensions before decoding).

/// Largest request body accepted (a 280x280 canvas PNG is ~10 KiB; a phone photo fits).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
