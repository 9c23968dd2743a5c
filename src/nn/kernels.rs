//! Matrix kernels for small dense layers. Each has a slow obvious twin in `reference` that the
//! tests compare against.
//!
//! The layers here are narrow (10 to a few hundred outputs) and the batches small (64), so a
//! general GEMM spends more time packing its operands than multiplying. These kernels work row by
//! row instead, as a sum of scaled weight rows (`y_r = sum_k x_rk * W_k`), which vectorises along
//! the output and skips the zero inputs that make up most of an MNIST image.

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
}

dispatch! {
    /// y (n x o) = x (n x i) * w (i x o), row-major; zero entries of x may be skipped.
    pub fn matmul(x: &[f32], w: &[f32], y: &mut [f32], i: usize, o: usize) {
        by_width!(o, matmul_fixed(x, w, y, i), {
            for (xr, yr) in x.chunks_exact(i).zip(y.chunks_exact_mut(o)) {
                yr.fill(0.0);
                for (&a, wk) in xr.iter().zip(w.chunks_exact(o)) {
                    if a != 0.0 {
                        for (yv, &wv) in yr.iter_mut().zip(wk) {
                            *yv += a * wv;
                        }
                    }
                }
            }
        })
    }
}

/// `matmul` for a width known at compile time, R rows at a time: each row's O sums stay in
/// registers (in the same order as one row at a time). Narrow rows multiply the zeros too:
/// testing each input costs a mispredicted branch on ReLU outputs, more than it saves.
#[inline(always)]
fn matmul_fixed<const O: usize, const R: usize>(x: &[f32], w: &[f32], y: &mut [f32], i: usize) {
    let n = x.len() / i;
    let blocked = n - n % R;
    for (xs, ys) in x[..blocked * i]
        .chunks_exact(R * i)
        .zip(y.chunks_exact_mut(R * O))
    {
        let mut acc = [[0.0f32; O]; R];
        for (k, wk) in w.chunks_exact(O).take(i).enumerate() {
            let wk: &[f32; O] = wk.try_into().expect("a row of O weights");
            for (q, acc) in acc.iter_mut().enumerate() {
                let a = xs[q * i + k];
                if O > 32 && a == 0.0 {
                    continue;
                }
                for j in 0..O {
                    acc[j] += a * wk[j];
                }
            }
        }
        for (yr, acc) in ys.chunks_exact_mut(O).zip(&acc) {
            yr.copy_from_slice(acc);
        }
    }
    for (xr, yr) in x[blocked * i..]
        .chunks_exact(i)
        .zip(y[blocked * O..].chunks_exact_mut(O))
    {
        let mut acc = [0.0f32; O];
        for (&a, wk) in xr.iter().zip(w.chunks_exact(O)) {
            if O > 32 && a == 0.0 {
                continue;
            }
            for j in 0..O {
                acc[j] += a * wk[j];
            }
        }
        yr.copy_from_slice(&acc);
    }
}

dispatch! {
    /// dw (i x o) = x^T (i x n) * dz (n x o), for x (n x i) and dz (n x o); zero x may be skipped.
    pub fn matmul_tn(x: &[f32], dz: &[f32], dw: &mut [f32], i: usize, o: usize) {
        by_width!(o, matmul_tn_fixed(x, dz, dw, i), {
            dw.fill(0.0);
            for (xr, dzr) in x.chunks_exact(i).zip(dz.chunks_exact(o)) {
                for (&a, dwk) in xr.iter().zip(dw.chunks_exact_mut(o)) {
                    if a != 0.0 {
                        for (d, &g) in dwk.iter_mut().zip(dzr) {
                            *d += a * g;
                        }
                    }
                }
            }
        })
    }
}

/// `matmul_tn` for a width known at compile time, R rows of dw at a time: their sums stay in
/// registers while the rows of dz go by (each sum in row order, as one input at a time would).
#[inline(always)]
fn matmul_tn_fixed<const O: usize, const R: usize>(
    x: &[f32],
    dz: &[f32],
    dw: &mut [f32],
    i: usize,
) {
    let n = x.len() / i;
    let dz = &dz[..n * O];
    let blocked = i - i % R;
    for (b, dws) in dw[..blocked * O].chunks_exact_mut(R * O).enumerate() {
        let mut acc = [[0.0f32; O]; R];
        for (xr, g) in x.chunks_exact(i).zip(dz.chunks_exact(O)) {
            let g: &[f32; O] = g.try_into().expect("a row of O values");
            for (q, acc) in acc.iter_mut().enumerate() {
                let a = xr[b * R + q];
                for j in 0..O {
                    acc[j] += a * g[j];
                }
            }
        }
        for (dwk, acc) in dws.chunks_exact_mut(O).zip(&acc) {
            dwk.copy_from_slice(acc);
        }
    }
    for (k, dwk) in dw[blocked * O..i * O].chunks_exact_mut(O).enumerate() {
        let mut acc = [0.0f32; O];
        for (xr, g) in x.chunks_exact(i).zip(dz.chunks_exact(O)) {
            let a = xr[blocked + k];
            for j in 0..O {
                acc[j] += a * g[j];
            }
        }
        dwk.copy_from_slice(&acc);
    }
}

/// The nonzero entries of a batch of input rows (compressed sparse rows): row r's entries are
/// `idx[ptr[r]..ptr[r + 1]]` (column numbers) and the same range of `val`; entries past
/// `ptr[rows]` are scratch.
#[derive(Clone, Debug, Default)]
pub struct SparseRows {
    pub ptr: Vec<usize>,
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

impl SparseRows {
    /// Room for `rows` rows of `cols` values, so that `fill` never allocates.
    pub fn with_capacity(rows: usize, cols: usize) -> Self {
        let room = rows * cols + 16;
        SparseRows {
            ptr: Vec::with_capacity(rows + 1),
            idx: vec![0; room],
            val: vec![0.0; room],
        }
    }

    /// Replaces the contents with the nonzeros of x (rows of `cols` values).
    pub fn fill(&mut self, x: &[f32], cols: usize) {
        self.clear();
        for row in x.chunks_exact(cols) {
            self.push_row(row);
        }
    }

    /// Empties it (keeping the buffers).
    pub fn clear(&mut self) {
        self.ptr.clear();
        self.ptr.push(0);
    }

    /// Room for one more row of `cols` values after the `used` entries (never shrinks).
    fn reserve_row(&mut self, used: usize, cols: usize) {
        // Every value may be written (then overwritten when zero): room for all + a block.
        let room = used + cols + 16;
        if self.idx.len() < room {
            self.idx.resize(room, 0);
            self.val.resize(room, 0.0);
        }
    }

    /// Appends the nonzeros of one row.
    pub fn push_row(&mut self, row: &[f32]) {
        let used = *self.ptr.last().expect("cleared");
        self.reserve_row(used, row.len());
        #[cfg(target_arch = "x86_64")]
        if super::simd::level() == super::simd::Level::Avx512 {
            // SAFETY: level() reported AVX-512F; reserve_row made room for row.len() + 16 more.
            let c = unsafe {
                compress_row_avx512(row.len(), used, self, |k| row.as_ptr().add(k), false)
            };
            self.ptr.push(c);
            return;
        }
        let c = compress_row(row, used, self);
        self.ptr.push(c);
    }

    /// Appends the nonzeros of one row of 0..255 pixels, as `value / 255` when `unit` (exactly
    /// what `x / 255` gives) or the raw value: an image goes from bytes to this list directly.
    pub fn push_row_u8(&mut self, row: &[u8], unit: bool) {
        let used = *self.ptr.last().expect("cleared");
        self.reserve_row(used, row.len());
        #[cfg(target_arch = "x86_64")]
        if super::simd::level() == super::simd::Level::Avx512 {
            // SAFETY: as in push_row; the byte loads are masked to the row.
            let c = unsafe {
                compress_row_avx512(row.len(), used, self, |k| row.as_ptr().add(k), unit)
            };
            self.ptr.push(c);
            return;
        }
        let c = compress_row_u8(row, unit, used, self);
        self.ptr.push(c);
    }

    pub fn rows(&self) -> usize {
        self.ptr.len().saturating_sub(1)
    }
}

dispatch! {
    /// Writes the nonzeros of `row` after the first `used` entries; returns the new count.
    /// Background comes in runs: 16 values are tested at once and all-zero blocks skipped (the
    /// shift drops the sign bit, so -0.0 counts as zero too); the rest is compacted branch-free.
    pub fn compress_row(row: &[f32], used: usize, s: &mut SparseRows) -> usize {
        let mut c = used;
        for (b, block) in row.chunks(16).enumerate() {
            if block.iter().fold(0u32, |acc, v| acc | (v.to_bits() << 1)) == 0 {
                continue;
            }
            let (idx, val) = (&mut s.idx[c..c + 16], &mut s.val[c..c + 16]);
            let mut n = 0;
            for (k, &v) in block.iter().enumerate() {
                idx[n] = (b * 16 + k) as u32;
                val[n] = v;
                n += usize::from(v != 0.0);
            }
            c += n;
        }
        c
    }
}

dispatch! {
    /// `compress_row` for 0..255 pixels: 8 bytes tested at once, values converted as they are kept.
    pub fn compress_row_u8(row: &[u8], unit: bool, used: usize, s: &mut SparseRows) -> usize {
        let mut c = used;
        for (b, block) in row.chunks(8).enumerate() {
            if block.iter().all(|&v| v == 0) {
                continue;
            }
            for (k, &v) in block.iter().enumerate() {
                if v != 0 {
                    s.idx[c] = (b * 8 + k) as u32;
                    s.val[c] = if unit { v as f32 / 255.0 } else { v as f32 };
                    c += 1;
                }
            }
        }
        c
    }
}

/// One load of 16 lanes as f32: from f32 values, or from bytes (then divided by 255 if `unit`).
#[cfg(target_arch = "x86_64")]
trait Lanes: Copy {
    /// # Safety
    /// `p` must point at `n` <= 16 readable values; AVX-512F must be available.
    unsafe fn load16(p: *const Self, n: usize, unit: bool) -> std::arch::x86_64::__m512;
}

#[cfg(target_arch = "x86_64")]
impl Lanes for f32 {
    #[inline(always)]
    unsafe fn load16(p: *const f32, n: usize, _unit: bool) -> std::arch::x86_64::__m512 {
        use std::arch::x86_64::*;
        let mask: __mmask16 = if n >= 16 { 0xffff } else { (1u16 << n) - 1 };
        _mm512_maskz_loadu_ps(mask, p)
    }
}

#[cfg(target_arch = "x86_64")]
impl Lanes for u8 {
    #[inline(always)]
    unsafe fn load16(p: *const u8, n: usize, unit: bool) -> std::arch::x86_64::__m512 {
        use std::arch::x86_64::*;
        let raw = if n >= 16 {
            _mm_loadu_si128(p.cast())
        } else {
            // The row's last, partial block: copy it so nothing past the row is read.
            let mut bytes = [0u8; 16];
            std::ptr::copy_nonoverlapping(p, bytes.as_mut_ptr(), n);
            _mm_loadu_si128(bytes.as_ptr().cast())
        };
        let v = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(raw));
        if unit {
            _mm512_div_ps(v, _mm512_set1_ps(255.0))
        } else {
            v
        }
    }
}

/// `compress_row` with AVX-512's compress: 16 values tested and packed in a few instructions.
/// Gives exactly the entries of the portable versions, in the same order.
///
/// # Safety
/// AVX-512F must be available, `at(k)` must point at the row's value k, and `s` must have room
/// for `cols + 16` entries after `used`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,popcnt")]
unsafe fn compress_row_avx512<T: Lanes>(
    cols: usize,
    used: usize,
    s: &mut SparseRows,
    at: impl Fn(usize) -> *const T,
    unit: bool,
) -> usize {
    use std::arch::x86_64::*;
    let mut c = used;
    let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let mut k = 0;
    while k < cols {
        let n = (cols - k).min(16);
        let v = T::load16(at(k), n, unit);
        let nonzero = _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(v, _mm512_setzero_ps())
            & if n == 16 { 0xffff } else { (1u16 << n) - 1 };
        if nonzero != 0 {
            let vals = _mm512_maskz_compress_ps(nonzero, v);
            let idx = _mm512_maskz_compress_epi32(
                nonzero,
                _mm512_add_epi32(lanes, _mm512_set1_epi32(k as i32)),
            );
            _mm512_storeu_ps(s.val.as_mut_ptr().add(c), vals);
            _mm512_storeu_si512(s.idx.as_mut_ptr().add(c).cast(), idx);
            c += nonzero.count_ones() as usize;
        }
        k += 16;
    }
    c
}

dispatch! {
    /// y (n x o) = x * w for x given by its nonzeros; the same sums in the same order as `matmul`.
    pub fn sparse_matmul(x: &SparseRows, w: &[f32], y: &mut [f32], o: usize) {
        by_width!(o, sparse_matmul_fixed(x, w, y), {
            for (r, yr) in y.chunks_exact_mut(o).take(x.rows()).enumerate() {
                yr.fill(0.0);
                let range = x.ptr[r]..x.ptr[r + 1];
                for (&k, &a) in x.idx[range.clone()].iter().zip(&x.val[range]) {
                    let wk = &w[k as usize * o..][..o];
                    for (yv, &wv) in yr.iter_mut().zip(wk) {
                        *yv += a * wv;
                    }
                }
            }
        })
    }
}

#[inline(always)]
fn sparse_matmul_fixed<const O: usize, const R: usize>(x: &SparseRows, w: &[f32], y: &mut [f32]) {
    for (r, yr) in y.chunks_exact_mut(O).take(x.rows()).enumerate() {
        let mut acc = [0.0f32; O];
        let range = x.ptr[r]..x.ptr[r + 1];
        for (&k, &a) in x.idx[range.clone()].iter().zip(&x.val[range]) {
            let wk: &[f32; O] = w[k as usize * O..][..O]
                .try_into()
                .expect("a row of O weights");
            for j in 0..O {
                acc[j] += a * wk[j];
            }
        }
        yr.copy_from_slice(&acc);
    }
}

dispatch! {
    /// dw (i x o) = x^T * dz for x given by its nonzeros; the same sums in the same order as `matmul_tn`.
    pub fn sparse_matmul_tn(x: &SparseRows, dz: &[f32], dw: &mut [f32], o: usize) {
        by_width!(o, sparse_matmul_tn_fixed(x, dz, dw), {
            dw.fill(0.0);
            for (r, g) in dz.chunks_exact(o).take(x.rows()).enumerate() {
                let range = x.ptr[r]..x.ptr[r + 1];
                for (&k, &a) in x.idx[range.clone()].iter().zip(&x.val[range]) {
                    for (d, &gv) in dw[k as usize * o..][..o].iter_mut().zip(g) {
                        *d += a * gv;
                    }
                }
            }
        })
    }
}

#[inline(always)]
fn sparse_matmul_tn_fixed<const O: usize, const R: usize>(
    x: &SparseRows,
    dz: &[f32],
    dw: &mut [f32],
) {
    dw.fill(0.0);
    for (r, g) in dz.chunks_exact(O).take(x.rows()).enumerate() {
        let g: &[f32; O] = g.try_into().expect("a row of O values");
        let range = x.ptr[r]..x.ptr[r + 1];
        for (&k, &a) in x.idx[range.clone()].iter().zip(&x.val[range]) {
            let dwk: &mut [f32; O] = (&mut dw[k as usize * O..][..O])
                .try_into()
                .expect("a row of O values");
            for j in 0..O {
                dwk[j] += a * g[j];
            }
        }
    }
}

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

/// A general matrix product through `matrixmultiply`, the yardstick for large GEMMs (the layers
/// use the kernels above).
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
