//! Where picture work (decoding, finding and reading digits) runs: on the blocking pool, never
//! on the runtime's threads, so `/healthz` and JSON predictions stay fast. Two lanes, by the
//! picture's pixel count: small pictures (the drawing page's) take a free slot or get 503 at
//! once; large ones take one of a few workers, waiting in a short queue when all are busy,
//! and get 503 when the queue is full or the wait outlasts the request timeout. Memory is
//! bounded too: at most `large_workers` pictures of up to `max_pixels` are decoded at once.

use super::error::ApiError;
use super::limits::{Limits, SMALL_PICTURE_PIXELS};
use axum::http::StatusCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug)]
pub struct Work {
    small: Arc<Semaphore>,
    large: Arc<Semaphore>,
    large_waiting: AtomicUsize,
    large_queue: usize,
    large_workers: usize,
    max_wait: Duration,
}

/// A place in the large lane's queue, given back when dropped (served, refused or cancelled).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn busy(message: String) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
}

impl Work {
    pub fn new(limits: &Limits) -> Self {
        Work {
            small: Arc::new(Semaphore::new(limits.small_workers.max(1))),
            large: Arc::new(Semaphore::new(limits.large_workers.max(1))),
            large_waiting: AtomicUsize::new(0),
            large_queue: limits.large_queue,
            large_workers: limits.large_workers.max(1),
            max_wait: limits.request_timeout,
        }
    }

    /// Runs `job` (on a picture of `pixels` pixels) on the blocking pool, in its lane.
    pub async fn run<T: Send + 'static>(
        &self,
        pixels: u64,
        job: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = if pixels <= SMALL_PICTURE_PIXELS {
            self.small.clone().try_acquire_owned().map_err(|_| {
                busy("too many pictures being decoded at once; retry shortly".into())
            })?
        } else {
            self.large_permit(pixels).await?
        };
        // The permit goes with the job: a client that hangs up does not free its worker
        // before the work is done.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("working on the picture failed: {e}"),
            )
        })?
    }

    async fn large_permit(&self, pixels: u64) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(p) = self.large.clone().try_acquire_owned() {
            return Ok(p);
        }
        let queued = self
            .large_waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.large_queue).then_some(n + 1)
            })
            .is_ok();
        if !queued {
            return Err(busy(format!(
                "too many large pictures ({pixels} pixels; over {SMALL_PICTURE_PIXELS} is \
                 large): {} being read and {} waiting; retry shortly or send a smaller picture",
                self.large_workers, self.large_queue
            )));
        }
        let _waiting = Waiting(&self.large_waiting);
        match tokio::time::timeout(self.max_wait, self.large.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(p),
            // The semaphore is never closed; a timeout is the only real failure.
            _ => Err(busy(format!(
                "waited {} s for a worker for this large picture ({pixels} pixels); retry \
                 shortly or send a smaller picture",
                self.max_wait.as_secs_f64()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn limits(small: usize, large: usize, queue: usize, wait_ms: u64) -> Limits {
        Limits {
            small_workers: small,
            large_workers: large,
            large_queue: queue,
            request_timeout: Duration::from_millis(wait_ms),
            ..Limits::default()
        }
    }

    /// A job that holds its worker until told to go.
    fn held(
        rx: Arc<std::sync::Mutex<mpsc::Receiver<()>>>,
    ) -> impl FnOnce() -> Result<u8, ApiError> {
        move || {
            let _ = rx.lock().unwrap().recv();
            Ok(1)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn small_pictures_are_refused_when_all_slots_are_busy() {
        let work = Arc::new(Work::new(&limits(1, 1, 0, 1000)));
        let (tx, rx) = mpsc::channel();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let w = work.clone();
        let first = tokio::spawn({
            let rx = rx.clone();
            async move { w.run(100, held(rx)).await }
        });
        while work.small.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let e = work.run(100, || Ok(2)).await.unwrap_err();
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        // A large picture is on its own lane: not held up by the small one.
        assert_eq!(work.run(SMALL_PICTURE_PIXELS + 1, || Ok(3)).await, Ok(3));
        tx.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Ok(1));
        assert_eq!(work.run(100, || Ok(4)).await, Ok(4));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn large_pictures_queue_then_are_refused() {
        let big = SMALL_PICTURE_PIXELS * 4;
        let work = Arc::new(Work::new(&limits(4, 1, 1, 300)));
        let (tx, rx) = mpsc::channel();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let running = tokio::spawn({
            let (w, rx) = (work.clone(), rx.clone());
            async move { w.run(big, held(rx)).await }
        });
        while work.large.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let queued = tokio::spawn({
            let w = work.clone();
            async move { w.run(big, || Ok(5)).await }
        });
        while work.large_waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        // The queue (of one) is full: refused at once.
        let e = work.run(big, || Ok(6)).await.unwrap_err();
        assert!(e.message.contains("1 waiting"), "{}", e.message);
        // The queued one outwaits the 300 ms limit while the worker is held.
        let e = queued.await.unwrap().unwrap_err();
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(e.message.contains("waited 0.3 s"), "{}", e.message);
        assert_eq!(work.large_waiting.load(Ordering::Acquire), 0);
        tx.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Ok(1));
        assert_eq!(work.run(big, || Ok(7)).await, Ok(7));
    }
}
