//! What the fuzz tests share: a tracking allocator that records the largest single allocation
//! made on the parsing thread, a runner that counts its cases (`PROPTEST_CASES=N` for more), and
//! the byte corruptions applied to valid encodings.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;

// ---------------------------------------------------------------------------------------------
// The largest single allocation made by this thread while a closure runs.

struct Tracking;

thread_local! {
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

pub fn note(size: usize) {
    let _ = PEAK.try_with(|p| {
        if size > p.get() {
            p.set(size)
        }
    });
}

// SAFETY: every call is passed on unchanged to the system allocator; `note` only reads sizes
// and touches a thread-local Cell (try_with: no panic while the thread is torn down).
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note(l.size());
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note(l.size());
        System.alloc_zeroed(l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(p, l, new_size)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Runs `f`, returning its value and the largest single allocation it made on this thread.
pub fn largest_alloc<T>(f: impl FnOnce() -> T) -> (T, usize) {
    PEAK.with(|p| p.set(0));
    let out = f();
    (out, PEAK.with(|p| p.get()))
}

// ---------------------------------------------------------------------------------------------
// Running many cases and counting them.

/// `PROPTEST_CASES` when set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Runs `body` over `cases` inputs of `strategy` (shrinking a failure to a minimal input) and
/// prints how many executions ran.
pub fn fuzz<S: Strategy>(
    what: &str,
    default_cases: u32,
    strategy: S,
    body: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let runs = Cell::new(0u64);
    let mut runner = TestRunner::new(Config {
        cases: cases(default_cases),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |v| {
        runs.set(runs.get() + 1);
        body(v)
    });
    println!("fuzz {what}: {} executions", runs.get());
    if let Err(e) = result {
        panic!("fuzz {what}: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Generic byte corruptions.

#[derive(Clone, Debug)]
pub enum Corrupt {
    None,
    /// Keep this fraction (per mille) of the bytes.
    Truncate(u16),
    /// XOR the byte at this position (per mille of the length) with a non-zero mask.
    Flip(u16, u8),
    /// Overwrite bytes at this position (per mille) with these.
    Overwrite(u16, Vec<u8>),
    Append(Vec<u8>),
}

pub fn corrupt() -> impl Strategy<Value = Corrupt> {
    prop_oneof![
        1 => Just(Corrupt::None),
        3 => (0u16..1000).prop_map(Corrupt::Truncate),
        3 => (0u16..1000, 1u8..=255).prop_map(|(p, m)| Corrupt::Flip(p, m)),
        2 => (0u16..1000, prop::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(p, b)| Corrupt::Overwrite(p, b)),
        1 => prop::collection::vec(any::<u8>(), 1..9).prop_map(Corrupt::Append),
    ]
}

pub fn at(len: usize, per_mille: u16) -> usize {
    len * per_mille as usize / 1000
}

pub fn apply(bytes: &mut Vec<u8>, c: &Corrupt) {
    match c {
        Corrupt::None => {}
        Corrupt::Truncate(k) => bytes.truncate(at(bytes.len(), *k)),
        Corrupt::Flip(p, m) => {
            if !bytes.is_empty() {
                let i = at(bytes.len(), *p);
                bytes[i] ^= m;
            }
        }
        Corrupt::Overwrite(p, b) => {
            let i = at(bytes.len(), *p);
            for (k, v) in b.iter().enumerate() {
                if let Some(x) = bytes.get_mut(i + k) {
                    *x = *v;
                }
            }
        }
        Corrupt::Append(b) => bytes.extend_from_slice(b),
    }
}

/// 32-bit header values that break parsers: zero, one, huge, "4 billion images".
pub fn header_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(1),
        Just(28),
        Just(4_000_000_000),
        Just(u32::MAX),
        Just(0x7fff_ffff),
        Just(1 << 16),
        any::<u32>(),
    ]
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A small bound on memory: a multiple of the input plus a fixed allowance.
pub fn check_peak(peak: usize, bound: usize, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        peak <= bound,
        "{what}: largest allocation {peak} bytes exceeds the bound {bound}"
    );
    Ok(())
}
