//! Matrix kernels for small dense layers. Each has a slow obvious twin in `reference` that the
//! tests compare against.
//!
//! The layers here are narrow (10 to a few hundred outputs) and the batches small (64), so a
//! general GEMM spends more time packing its operands than multiplying. These kernels work row by
//! row instead, as a sum of scaled weight rows (`y_r = sum_k x_rk * W_k`), which vectorises along
//! the output and skips the zero inputs that make up most of an MNIST image.
//!
//! Convolutions (`conv`) are the opposite case, large products over NHWC images: implicit GEMMs
//! on an FMA register tile, 6x16 with AVX2 and 12x16 with AVX-512 (`conv_tile`; the operands' walks
//! and copies in `conv_layout`); 2x2 max pooling is in `pool2d`, other windows
//! (2x1, 1x2, ...) in `pool_window`.

use super::simd::dispatch;

/// Calls `$fixed::<O, R>` for the layer widths worth register-resident sums, else `$general`:
/// O sums for each of R rows (or inputs) at once, about 8 vector registers, so that R
/// independent chains of additions hide each other's latency.
macro_rules! by_width {
    ($o:expr, $fixed:ident($($arg:expr),*), $general:expr) => {
        match $o {
            10 => $fixed::<10, 4>($($arg),*),
            15 => $fixed::<15, 4>($($arg),*),
            16 => $fixed::<16, 4>($($arg),*),
            25 => $fixed::<25, 4>($($arg),*),
            32 => $fixed::<32, 4>($($arg),*),
            64 => $fixed::<64, 2>($($arg),*),
            128 => $fixed::<128, 1>($($arg),*),
            _ => $general,
        }
    };
    // The same widths for kernels that work one row at a time (no R).
    (rows $o:expr, $fixed:ident($($arg:expr),*), $general:expr) => {
        match $o {
            10 => $fixed::<10>($($arg),*),
            15 => $fixed::<15>($($arg),*),
            16 => $fixed::<16>($($arg),*),
            25 => $fixed::<25>($($arg),*),
            32 => $fixed::<32>($($arg),*),
            64 => $fixed::<64>($($arg),*),
            128 => $fixed::<128>($($arg),*),
            _ => $general,
        }
    };
}

mod conv;
mod conv_backward;
mod conv_layout;
mod conv_reference;
mod conv_single;
mod conv_tile;
mod dense;
mod pool2d;
mod pool_window;
mod sparse;
mod sparse_rows;

pub use conv::{
    conv2d_forward, conv2d_forward_packed, pack_weights, pack_weights_into,
    pack_weights_transposed_into, ConvShape,
};
pub use conv_backward::{conv2d_backward, conv2d_backward_packed};
pub use dense::{matmul, matmul_tn};
pub use pool2d::{maxpool2_backward, maxpool2_forward};
pub use pool_window::{maxpool_backward, maxpool_forward, pooled_size};
pub use sparse::{sparse_matmul, sparse_matmul_tn};
pub use sparse_rows::{compress_row, compress_row_u8, SparseRows};

dispatch! {
    /// Whether every value is finite (no NaN, no infinity). Integer max over the magnitude bits,
    /// so it vectorises, unlike a float sum, and never mistakes a large finite sum for overflow.
    pub fn all_finite(v: &[f32]) -> bool {
        v.iter().fold(0u32, |m, x| m.max(x.to_bits() & 0x7fff_ffff)) < 0x7f80_0000
    }
}

/// wt (o x i) = w^T for w (i x o).
pub fn transpose(w: &[f32], i: usize, o: usize, wt: &mut [f32]) {
    for (k, row) in w.chunks_exact(o).take(i).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            wt[j * i + k] = v;
        }
    }
}

/// A general matrix product through `matrixmultiply`: not used by the engine, only by tests,
/// benchmarks and examples as the yardstick for large GEMMs.
/// C (m x n) = A (m x k) * B (k x n) + beta * C, all row-major; `a_t`/`b_t` read A or B transposed
/// (then A is stored k x m, B is stored n x k).
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    a_t: bool,
    b: &[f32],
    b_t: bool,
    beta: f32,
    c: &mut [f32],
) {
    debug_assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    let (rsa, csa) = if a_t {
        (1, m as isize)
    } else {
        (k as isize, 1)
    };
    let (rsb, csb) = if b_t {
        (1, k as isize)
    } else {
        (n as isize, 1)
    };
    // SAFETY: the slices hold at least the m*k, k*n and m*n elements the strides address.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// Adds the bias `b` (n) to every row of `c` (m x n).
pub fn add_bias(c: &mut [f32], b: &[f32]) {
    for row in c.chunks_exact_mut(b.len()) {
        for (v, &bv) in row.iter_mut().zip(b) {
            *v += bv;
        }
    }
}

/// db (n) = sum over the rows of dz (m x n).
pub fn sum_rows(dz: &[f32], db: &mut [f32]) {
    db.iter_mut().for_each(|v| *v = 0.0);
    for row in dz.chunks_exact(db.len()) {
        for (d, &g) in db.iter_mut().zip(row) {
            *d += g;
        }
    }
}

/// Slow, obvious versions of the kernels, in f64, for tests.
pub mod reference {
    pub use super::conv_reference::{
        conv2d_backward, conv2d_forward, maxpool2_backward, maxpool2_forward,
    };

    /// y = x * w (see `super::matmul`).
    pub fn matmul(x: &[f32], w: &[f32], y: &mut [f32], i: usize, o: usize) {
        let n = x.len() / i;
        gemm(n, i, o, x, false, w, false, 0.0, y);
    }

    /// dw = x^T * dz (see `super::matmul_tn`).
    pub fn matmul_tn(x: &[f32], dz: &[f32], dw: &mut [f32], i: usize, o: usize) {
        let n = x.len() / i;
        gemm(i, n, o, x, true, dz, false, 0.0, dw);
    }

    /// dx = dz * w^T (see `super::matmul_nt`).
    pub fn matmul_nt(dz: &[f32], w: &[f32], dx: &mut [f32], i: usize, o: usize) {
        let n = dz.len() / o;
        gemm(n, o, i, dz, false, w, true, 0.0, dx);
    }

    /// C = op(A) * op(B) + beta * C, with the same conventions as `super::gemm`.
    #[allow(clippy::too_many_arguments)]
    pub fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: &[f32],
        a_t: bool,
        b: &[f32],
        b_t: bool,
        beta: f32,
        c: &mut [f32],
    ) {
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                for p in 0..k {
                    let av = if a_t { a[p * m + i] } else { a[i * k + p] };
                    let bv = if b_t { b[j * k + p] } else { b[p * n + j] };
                    s += av as f64 * bv as f64;
                }
                c[i * n + j] = (s + beta as f64 * c[i * n + j] as f64) as f32;
            }
        }
    }
}

/// Flushes denormals to zero (FTZ) and treats denormal inputs as zero (DAZ) on this thread.
/// Tiny gradients otherwise make the FPU take a slow path (measured 40x on these networks).
pub fn flush_denormals() {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[allow(deprecated)]
    // SAFETY: setting MXCSR's FTZ (bit 15) and DAZ (bit 6) flags only changes rounding of denormals.
    unsafe {
        #[cfg(target_arch = "x86")]
        use std::arch::x86::{_mm_getcsr, _mm_setcsr};
        #[cfg(target_arch = "x86_64")]
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        _mm_setcsr(_mm_getcsr() | 0x8040);
    }
}
