//! Limits on what clients may ask of the server, so that slow or hostile ones cannot starve
//! the rest: a deadline on reading each request, a bound on open connections, a pixel budget
//! for pictures, and bounds on the picture work running or waiting at once (see the private
//! `serve::work` module). `digits serve` sets them from its flags.

use super::error::ApiError;
use axum::http::StatusCode;
use std::time::Duration;

/// Largest request body accepted (a 280x280 canvas PNG is ~10 KiB; a phone photo fits).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Pictures up to this many pixels (1024 x 1024) are "small": decoded on a lane of their own,
/// so a queue of big ones never delays a drawing from the page.
pub const SMALL_PICTURE_PIXELS: u64 = 1 << 20;

/// The limits, with defaults fit for this machine ([`Limits::default`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Time to send a request's headers, and then its body: past it, the connection is closed
    /// (headers) or answered 408 (body). Also how long an idle keep-alive connection is kept.
    pub request_timeout: Duration,
    /// Connections open at once; one more is answered 503 and closed at once.
    pub max_connections: usize,
    /// Largest picture (width x height, as its header declares) `/api/predict` and `/api/read`
    /// accept; a larger one is refused (413) before it is decoded.
    pub max_pixels: u64,
    /// Small pictures (up to [`SMALL_PICTURE_PIXELS`]) decoded and read at once; more get 503.
    pub small_workers: usize,
    /// Large pictures decoded and read at once (each may take a few hundred MB).
    pub large_workers: usize,
    /// Large pictures waiting for a worker; more get 503 at once, and one that waits longer than
    /// `request_timeout` gets 503 too.
    pub large_queue: usize,
}

impl Default for Limits {
    /// 10 s to send a request, 1000 connections (fewer when the open-file limit is lower),
    /// pictures up to 16 megapixels (4096 x 4096, more than a 12 MP phone photo), small pictures
    /// on twice the CPUs, large ones on one CPU less than there are (1 to 4), 8 waiting.
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Limits {
            request_timeout: Duration::from_secs(10),
            max_connections: connections_within_file_limit(1000),
            max_pixels: 4096 * 4096,
            small_workers: (2 * cpus).max(4),
            large_workers: cpus.saturating_sub(1).clamp(1, 4),
            large_queue: 8,
        }
    }
}

impl Limits {
    /// Refuses (413, naming the limit) a `width` x `height` picture over the pixel budget.
    pub fn check_pixels(&self, width: u64, height: u64) -> Result<u64, ApiError> {
        let pixels = width.saturating_mul(height);
        if pixels > self.max_pixels {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "picture too large: {width}x{height} = {pixels} pixels; the limit is {} \
                     pixels (--max-pixels); a number reads well at a few hundred pixels high",
                    self.max_pixels
                ),
            ));
        }
        Ok(pixels)
    }

    /// One line for the startup message.
    pub fn describe(&self) -> String {
        format!(
            "request timeout {} s, at most {} connections, pictures up to {} pixels, \
             {} small and {} large pictures at once ({} large waiting)",
            self.request_timeout.as_secs_f64(),
            self.max_connections,
            self.max_pixels,
            self.small_workers,
            self.large_workers,
            self.large_queue
        )
    }
}

/// Files a connection may not take: the listener, the model, logs, stdio, refusals being
/// answered (32) and some slack.
const FILES_KEPT_BACK: u64 = 64;

/// `wanted`, or fewer so that that many connections fit under the soft open-file limit
/// (`ulimit -n`): past it, accepting fails for everyone.
pub fn connections_within_file_limit(wanted: usize) -> usize {
    match open_file_limit() {
        Some(files) => wanted.min(files.saturating_sub(FILES_KEPT_BACK).max(1) as usize),
        None => wanted,
    }
}

#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not everywhere.
fn open_file_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the rlimit we own and pass by valid pointer.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
    (ok && lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur as u64)
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_budget_names_the_limit() {
        let limits = Limits {
            max_pixels: 1000,
            ..Limits::default()
        };
        assert_eq!(limits.check_pixels(10, 100), Ok(1000));
        let e = limits.check_pixels(8000, 8000).unwrap_err();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(e.message.contains("8000x8000"), "{}", e.message);
        assert!(
            e.message.contains("the limit is 1000 pixels"),
            "{}",
            e.message
        );
        assert!(limits.check_pixels(u64::MAX, 2).is_err());
    }

    #[test]
    fn connections_fit_under_the_file_limit() {
        let n = connections_within_file_limit(usize::MAX);
        assert!(n >= 1);
        if let Some(files) = open_file_limit() {
            assert!((n as u64) < files, "{n} connections with {files} files");
        }
        assert!(connections_within_file_limit(3) <= 3);
    }
}
