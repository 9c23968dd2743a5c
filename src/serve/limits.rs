//! Limits on what a request may ask of the server (image sizes are bounded by
//! `vision::preprocess`, which checks the declared dimensions before decoding).

/// Largest request body accepted (a 280x280 canvas PNG is ~10 KiB; a phone photo fits).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

use std::sync::atomic::{AtomicUsize, Ordering};

/// Bounds the image decodes running at once: each may hold up to the decoder's allocation
/// limit, so a burst of large uploads answers 503 instead of exhausting memory.
#[derive(Debug)]
pub struct DecodeSlots {
    busy: AtomicUsize,
    max: usize,
}

/// A taken slot, given back when dropped.
pub struct Slot<'a>(&'a DecodeSlots);

impl DecodeSlots {
    pub fn new(max: usize) -> Self {
        DecodeSlots {
            busy: AtomicUsize::new(0),
            max: max.max(1),
        }
    }

    /// Twice the CPUs, at least 4.
    pub fn for_this_machine() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new((2 * cpus).max(4))
    }

    /// A slot, or None when all are taken.
    pub fn try_take(&self) -> Option<Slot<'_>> {
        let taken = self
            .busy
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                (b < self.max).then_some(b + 1)
            })
            .is_ok();
        taken.then_some(Slot(self))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_given_back() {
        let s = DecodeSlots::new(2);
        let a = s.try_take().unwrap();
        let b = s.try_take().unwrap();
        assert!(s.try_take().is_none());
        drop(a);
        assert!(s.try_take().is_some());
        drop(b);
    }
}
