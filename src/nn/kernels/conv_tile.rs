//! The register tile under every convolution product: C (MR rows x up to 16 columns) =
//! init + sum over steps t of a_i(t) * b(t)[0..16], where a_i(t) is one float broadcast from
//! row i's pointer and b(t) 16 contiguous floats. The steps walk a two-level grid of segments
//! (n1 x n2, e.g. kernel rows and columns, or images and output rows), `len` steps each, so
//! the convolution is read in place (no im2col copy) as an implicit GEMM.
//!
//! AVX2+FMA: 6 x 16 = 12 accumulators, 2 vector loads and 6 broadcasts for 12 FMAs per step.
//! AVX-512: a row of 16 is one register, so 12 rows take 12 accumulators, one vector load and
//! 12 FMAs per step (each with its broadcast folded in); every sum is fused and ordered as
//! AVX2's, so both give the same bits.
//! Portable: the same walk with plain arrays (multiply, then add).

use crate::nn::simd::Level;

/// The most rows a tile takes (AVX-512's block height).
pub(super) const MAX_ROWS: usize = 12;

/// Rows per tile at `level`: as many as the accumulators fit in the registers with the
/// operands (AVX2: 12 of 16 for 6 rows; AVX-512: 12 of 32 for 12 rows, the FMA latency hidden).
pub(super) fn tile_rows(level: Level) -> usize {
    match level {
        Level::Avx512 => MAX_ROWS,
        Level::Avx2 | Level::Portable => 6,
    }
}

/// How the tile's sums start before the products are added.
#[derive(Clone, Copy)]
pub(super) enum Init {
    Zero,
    /// bias[0..nr], the same for every row.
    Bias(*const f32),
    /// The values in C already (C += products).
    Accumulate,
}

/// One tile's operands. Pointers address floats the caller has checked are in bounds for
/// every step (the a rows, b over all steps, and C's rows for nr columns).
pub(super) struct Tile<const MR: usize> {
    /// Row i's broadcast operand at step 0 of segment (0, 0).
    pub a: [*const f32; MR],
    /// Floats between a's steps within a segment.
    pub a_step: usize,
    /// Offsets of a between segments: s1 * a1 + s2 * a2.
    pub n1: usize,
    pub a1: usize,
    pub n2: usize,
    pub a2: usize,
    /// Steps per segment.
    pub len: usize,
    /// The vector operand at step 0; it advances by b_step floats every step, segments included.
    pub b: *const f32,
    pub b_step: usize,
    /// Row i of the result (nr <= 16 floats; fewer than 16 are loaded and stored masked).
    pub c: [*mut f32; MR],
    pub nr: usize,
    pub init: Init,
}

/// Runs the tile at the best level available (checked by the caller once per call).
///
/// # Safety
/// Every address the walk reads or writes must be valid (see `Tile`), `level` only one the CPU
/// has, and the caller compiled with that level's features (so that the tile is inlined).
#[inline(always)]
pub(super) unsafe fn run<const MR: usize>(t: &Tile<MR>, level: Level) {
    #[cfg(target_arch = "x86_64")]
    match level {
        Level::Avx512 => return tile_avx512(t),
        Level::Avx2 => return tile_avx2(t),
        Level::Portable => {}
    }
    let _ = level;
    tile_portable(t)
}

/// Calls `step(a, b)` for every step of the tile's walk, in order: `a` the rows' broadcast
/// operands at that step, `b` the vector operand's 16 floats.
///
/// # Safety
/// The tile's pointers must be valid for every step (see `Tile`).
#[inline(always)]
unsafe fn walk<const MR: usize>(t: &Tile<MR>, mut step: impl FnMut(&[*const f32; MR], *const f32)) {
    let mut b = t.b;
    for s1 in 0..t.n1 {
        for s2 in 0..t.n2 {
            let off = s1 * t.a1 + s2 * t.a2;
            let mut a = t.a.map(|p| p.add(off));
            for _ in 0..t.len {
                step(&a, b);
                for p in a.iter_mut() {
                    *p = p.add(t.a_step);
                }
                b = b.add(t.b_step);
            }
        }
    }
}

/// # Safety
/// As `run`.
#[inline(always)]
unsafe fn tile_portable<const MR: usize>(t: &Tile<MR>) {
    let mut acc = [[0.0f32; 16]; MR];
    for (i, row) in acc.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate().take(t.nr) {
            *v = match t.init {
                Init::Zero => 0.0,
                Init::Bias(b) => *b.add(j),
                Init::Accumulate => *t.c[i].add(j),
            };
        }
    }
    let mut bv = [0.0f32; 16];
    walk(t, |a, b| {
        for (j, v) in bv.iter_mut().enumerate().take(t.nr) {
            *v = *b.add(j);
        }
        for (row, &p) in acc.iter_mut().zip(a) {
            let av = *p;
            for (r, &w) in row.iter_mut().zip(&bv) {
                *r += av * w;
            }
        }
    });
    for (row, c) in acc.iter().zip(t.c) {
        for (j, &v) in row.iter().enumerate().take(t.nr) {
            *c.add(j) = v;
        }
    }
}

/// Inlined into the callers' walks, which are compiled with AVX2 and FMA enabled (see
/// `conv.rs`), so the intrinsics compile to single instructions.
///
/// # Safety
/// As `run`, on a CPU with AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn tile_avx2<const MR: usize>(t: &Tile<MR>) {
    use std::arch::x86_64::*;
    // Lane masks for columns 0..nr of the two halves.
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let nr = t.nr as i32;
    let m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lanes);
    let m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lanes);
    let full = t.nr == 16;
    let load = |p: *const f32| -> (__m256, __m256) {
        if full {
            (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)))
        } else {
            (_mm256_maskload_ps(p, m0), _mm256_maskload_ps(p.add(8), m1))
        }
    };
    let mut acc = [[_mm256_setzero_ps(); 2]; MR];
    match t.init {
        Init::Zero => {}
        Init::Bias(b) => {
            let (b0, b1) = load(b);
            acc = [[b0, b1]; MR];
        }
        Init::Accumulate => {
            for (row, &c) in acc.iter_mut().zip(&t.c) {
                let (c0, c1) = load(c);
                *row = [c0, c1];
            }
        }
    }
    walk(t, |a, b| {
        let (b0, b1) = load(b);
        for (row, &p) in acc.iter_mut().zip(a) {
            let av = _mm256_broadcast_ss(&*p);
            row[0] = _mm256_fmadd_ps(av, b0, row[0]);
            row[1] = _mm256_fmadd_ps(av, b1, row[1]);
        }
    });
    for (row, &c) in acc.iter().zip(&t.c) {
        if full {
            _mm256_storeu_ps(c, row[0]);
            _mm256_storeu_ps(c.add(8), row[1]);
        } else {
            _mm256_maskstore_ps(c, m0, row[0]);
            _mm256_maskstore_ps(c.add(8), m1, row[1]);
        }
    }
}

/// Inlined into the callers' walks, which are compiled with AVX-512F enabled (see `conv.rs`).
/// Each FMA adds the same products in the same order as `tile_avx2`'s.
///
/// # Safety
/// As `run`, on a CPU with AVX-512F.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn tile_avx512<const MR: usize>(t: &Tile<MR>) {
    use std::arch::x86_64::*;
    // Columns 0..nr of the row; masked loads and stores touch no memory past them.
    let mask: __mmask16 = if t.nr >= 16 { !0 } else { (1u16 << t.nr) - 1 };
    let load = |p: *const f32| -> __m512 { _mm512_maskz_loadu_ps(mask, p) };
    let mut acc = [_mm512_setzero_ps(); MR];
    match t.init {
        Init::Zero => {}
        Init::Bias(b) => acc = [load(b); MR],
        Init::Accumulate => {
            for (row, &c) in acc.iter_mut().zip(&t.c) {
                *row = load(c);
            }
        }
    }
    walk(t, |a, b| {
        let bv = load(b);
        for (row, &p) in acc.iter_mut().zip(a) {
            *row = _mm512_fmadd_ps(_mm512_set1_ps(*p), bv, *row);
        }
    });
    for (row, &c) in acc.iter().zip(&t.c) {
        _mm512_mask_storeu_ps(c, mask, *row);
    }
}

/// Two tiles side by side with AVX-512: C (MR rows x 32 columns) = init + the sums of `t` (its
/// first 16 columns) and of the same walk over the vector operand `b2` (16 floats at every step,
/// advancing as `t.b` does) into the 16 floats after each row of C. Every sum is fused and
/// ordered as two runs of [`run`] would make it, so the bits are the same. Each step loads two
/// vectors for twice the FMAs of one tile, so its broadcasts are shared: with 6 rows the 12
/// accumulators hide the FMA's latency, which 6 alone do not (the input gradient keeps AVX2's
/// 6-row blocks for its bits); with 12 rows (the forward pass) 24 accumulators, the two vectors
/// and a broadcast fill 27 of the 32 registers.
///
/// # Safety
/// As `run` for both halves (`t.nr` must be 16; a bias init reads 32 floats), on a CPU with
/// AVX-512F, the caller compiled with it.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn run_pair_avx512<const MR: usize>(t: &Tile<MR>, b2: *const f32) {
    use std::arch::x86_64::*;
    debug_assert!(t.nr == 16);
    let mut acc = [[_mm512_setzero_ps(); 2]; MR];
    match t.init {
        Init::Zero => {}
        Init::Bias(b) => acc = [[_mm512_loadu_ps(b), _mm512_loadu_ps(b.add(16))]; MR],
        Init::Accumulate => {
            for (row, &c) in acc.iter_mut().zip(&t.c) {
                *row = [_mm512_loadu_ps(c), _mm512_loadu_ps(c.add(16))];
            }
        }
    }
    let gap = b2.offset_from(t.b);
    walk(t, |a, b| {
        let (v0, v1) = (_mm512_loadu_ps(b), _mm512_loadu_ps(b.offset(gap)));
        for (row, &p) in acc.iter_mut().zip(a) {
            let av = _mm512_set1_ps(*p);
            row[0] = _mm512_fmadd_ps(av, v0, row[0]);
            row[1] = _mm512_fmadd_ps(av, v1, row[1]);
        }
    });
    for (row, &c) in acc.iter().zip(&t.c) {
        _mm512_storeu_ps(c, row[0]);
        _mm512_storeu_ps(c.add(16), row[1]);
    }
}
