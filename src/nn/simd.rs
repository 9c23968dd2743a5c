//! Run-time choice of the instruction set for the kernels: AVX-512, AVX2+FMA, or portable code.
//!
//! The kernels are written once as plain loops that the compiler vectorises; each is compiled
//! again inside a `#[target_feature]` function per level, and `level()` picks one at run time.
//! No level fuses multiply and add differently (Rust never contracts `a * b + c`), and the
//! summation order is the same, so every level gives the same results.

use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Portable = 1,
    Avx2 = 2,
    Avx512 = 3,
}

static LEVEL: AtomicU8 = AtomicU8::new(0);

/// The best level this CPU has, or the one forced by `force` / `DIGITS_SIMD=portable|avx2|avx512`.
pub fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        1 => Level::Portable,
        2 => Level::Avx2,
        3 => Level::Avx512,
        _ => {
            let detected = detect();
            let chosen = match std::env::var("DIGITS_SIMD").as_deref() {
                Ok("portable") => Level::Portable,
                Ok("avx2") => Level::Avx2.min(detected),
                _ => detected,
            };
            LEVEL.store(chosen as u8, Ordering::Relaxed);
            chosen
        }
    }
}

/// Uses `want` (or the best available below it) from now on; returns the level in force.
pub fn force(want: Level) -> Level {
    let l = want.min(detect());
    LEVEL.store(l as u8, Ordering::Relaxed);
    l
}

pub fn detect() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            return Level::Avx512;
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Level::Avx2;
        }
    }
    Level::Portable
}

/// Defines `pub fn $name(args)` dispatching to `$body` compiled for each level.
macro_rules! dispatch {
    ($(#[$m:meta])* pub fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        pub fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn generic($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx2,fma")]
            unsafe fn avx512($($arg: $ty),*) $(-> $ret)? { generic($($arg),*) }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { generic($($arg),*) }
            match $crate::nn::simd::level() {
                // SAFETY: level() only reports what the CPU supports.
                #[cfg(target_arch = "x86_64")]
                $crate::nn::simd::Level::Avx512 => unsafe { avx512($($arg),*) },
                #[cfg(target_arch = "x86_64")]
                $crate::nn::simd::Level::Avx2 => unsafe { avx2($($arg),*) },
                _ => generic($($arg),*),
            }
        }
    };
}
pub(crate) use dispatch;
