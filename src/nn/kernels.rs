//! Matrix kernels. The products go to `matrixmultiply` (runtime-dispatched AVX2/FMA microkernels);
//! each has a slow obvious twin in `reference` that the tests compare against.

/// C (m x n) = A (m x k) * B (k x n) + beta * C, all row-major; `a_t`/`b_t` read A or B transposed
/// (then A is stored k x m, B is stored n x k).
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
