//! Listing the nonzero inputs of a batch (images are mostly background).

use crate::nn::simd::dispatch;

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
        if crate::nn::simd::level() == crate::nn::simd::Level::Avx512 {
            // SAFETY: level() reported AVX-512F; reserve_row made room for row.len() + 16 more.
            let c = unsafe { compress_floats_avx512(row, used, self) };
            self.ptr.push(c);
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if crate::nn::simd::level() == crate::nn::simd::Level::Avx2 {
            // SAFETY: level() reported AVX2; reserve_row made room for row.len() + 16 more.
            let c = unsafe { compress_floats_avx2(row, used, self) };
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
        if crate::nn::simd::level() == crate::nn::simd::Level::Avx512 {
            // SAFETY: as in push_row.
            let c = unsafe { compress_bytes_avx512(row, unit, used, self) };
            self.ptr.push(c);
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if crate::nn::simd::level() == crate::nn::simd::Level::Avx2 {
            // SAFETY: as in push_row.
            let c = unsafe { compress_bytes_avx2(row, unit, used, self) };
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

/// `compress_row` with AVX-512's compress: 16 values tested and packed in a few instructions.
/// Gives exactly the entries of the portable versions, in the same order.
///
/// # Safety
/// AVX-512F must be available, and `s` must have room for `row.len() + 16` entries after `used`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,popcnt")]
unsafe fn compress_floats_avx512(row: &[f32], used: usize, s: &mut SparseRows) -> usize {
    use std::arch::x86_64::*;
    let mut c = used;
    for k in (0..row.len()).step_by(16) {
        let n = (row.len() - k).min(16);
        let in_row: __mmask16 = if n == 16 { 0xffff } else { (1u16 << n) - 1 };
        let v = _mm512_maskz_loadu_ps(in_row, row.as_ptr().add(k));
        let nonzero = _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(v, _mm512_setzero_ps()) & in_row;
        if nonzero != 0 {
            c += store_compressed(s, c, nonzero, v, k);
        }
    }
    c
}

/// The 16 bytes of `row` from `k` (zeros past its end) and the mask of those that are not zero.
///
/// # Safety
/// `k` must lie inside `row` (SSE2, which every x86_64 CPU has, does the rest).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn byte_block(row: &[u8], k: usize) -> (std::arch::x86_64::__m128i, u16) {
    use std::arch::x86_64::*;
    let n = (row.len() - k).min(16);
    let raw = if n == 16 {
        _mm_loadu_si128(row.as_ptr().add(k).cast())
    } else {
        // The row's last, partial block: copy it so nothing past the row is read.
        let mut bytes = [0u8; 16];
        bytes[..n].copy_from_slice(&row[k..]);
        _mm_loadu_si128(bytes.as_ptr().cast())
    };
    let zero = _mm_movemask_epi8(_mm_cmpeq_epi8(raw, _mm_setzero_si128())) as u16;
    (raw, !zero)
}

/// `compress_row_u8` with AVX-512: each 16 bytes are tested as bytes first (blank background
/// costs a compare and a mask), and only blocks with ink are widened, scaled (`unit_scale`: the
/// same values as `x / 255`) and packed.
///
/// # Safety
/// AVX-512F must be available, and `s` must have room for `row.len() + 16` entries after `used`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,popcnt")]
unsafe fn compress_bytes_avx512(row: &[u8], unit: bool, used: usize, s: &mut SparseRows) -> usize {
    use std::arch::x86_64::*;
    let mut c = used;
    for k in (0..row.len()).step_by(16) {
        let (raw, nonzero) = byte_block(row, k);
        if nonzero == 0 {
            continue;
        }
        let ints = _mm512_cvtepu8_epi32(raw);
        let v = if unit {
            unit_scale(ints)
        } else {
            _mm512_cvtepi32_ps(ints)
        };
        c += store_compressed(s, c, nonzero, v, k);
    }
    c
}

/// x / 255 in f32 for 16 integers 0..=255, without a division (a 512-bit divide takes about 10
/// cycles here): the product with 1/255 in f64, rounded once to f32, is the correctly rounded
/// quotient for every byte (none lies near a rounding boundary; checked for all 256 in tests).
///
/// # Safety
/// AVX-512F must be available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn unit_scale(ints: std::arch::x86_64::__m512i) -> std::arch::x86_64::__m512 {
    use std::arch::x86_64::*;
    let inv = _mm512_set1_pd(1.0 / 255.0);
    let lo = _mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(ints)), inv);
    let hi = _mm512_mul_pd(
        _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64::<1>(ints)),
        inv,
    );
    let (lo, hi) = (_mm512_cvtpd_ps(lo), _mm512_cvtpd_ps(hi));
    let both = _mm512_insertf64x4::<1>(
        _mm512_castpd256_pd512(_mm256_castps_pd(lo)),
        _mm256_castps_pd(hi),
    );
    _mm512_castpd_ps(both)
}

/// Writes the lanes of `values` picked by `keep`, packed, at entry `at` of `s`, with their column
/// numbers (lane + `first_column`); returns how many were written.
///
/// # Safety
/// AVX-512F must be available, and `s` must have room for 16 entries from `at`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,popcnt")]
#[inline]
unsafe fn store_compressed(
    s: &mut SparseRows,
    at: usize,
    keep: u16,
    values: std::arch::x86_64::__m512,
    first_column: usize,
) -> usize {
    use std::arch::x86_64::*;
    let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let columns = _mm512_add_epi32(lanes, _mm512_set1_epi32(first_column as i32));
    _mm512_storeu_ps(
        s.val.as_mut_ptr().add(at),
        _mm512_maskz_compress_ps(keep, values),
    );
    _mm512_storeu_si512(
        s.idx.as_mut_ptr().add(at).cast(),
        _mm512_maskz_compress_epi32(keep, columns),
    );
    keep.count_ones() as usize
}

/// For each 8-bit mask, the lanes whose bit is set, in order (then zeros): the permutation that
/// packs those lanes to the front, AVX2 having no compress instruction.
#[cfg(target_arch = "x86_64")]
static PACK_LANES: [[u32; 8]; 256] = {
    let mut table = [[0u32; 8]; 256];
    let mut mask = 0;
    while mask < 256 {
        let (mut lane, mut n) = (0, 0);
        while lane < 8 {
            if mask & (1 << lane) != 0 {
                table[mask][n] = lane as u32;
                n += 1;
            }
            lane += 1;
        }
        mask += 1;
    }
    table
};

/// Writes the lanes of `values` picked by `keep`, packed, at entry `at` of `s`, with their column
/// numbers (lane + `first_column`); returns how many were written. The AVX2 twin of
/// `store_compressed`: a permutation from `PACK_LANES` instead of a compress.
///
/// # Safety
/// AVX2 must be available, and `s` must have room for 8 entries from `at`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
#[inline]
unsafe fn store_packed_avx2(
    s: &mut SparseRows,
    at: usize,
    keep: u8,
    values: std::arch::x86_64::__m256,
    first_column: usize,
) -> usize {
    use std::arch::x86_64::*;
    let lanes = _mm256_loadu_si256(PACK_LANES[keep as usize].as_ptr().cast());
    _mm256_storeu_ps(
        s.val.as_mut_ptr().add(at),
        _mm256_permutevar8x32_ps(values, lanes),
    );
    _mm256_storeu_si256(
        s.idx.as_mut_ptr().add(at).cast(),
        _mm256_add_epi32(lanes, _mm256_set1_epi32(first_column as i32)),
    );
    keep.count_ones() as usize
}

/// `compress_row` with AVX2: 8 values tested at once and packed with a permutation. Gives exactly
/// the entries of the portable version, in the same order.
///
/// # Safety
/// AVX2 must be available, and `s` must have room for `row.len() + 16` entries after `used`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,popcnt")]
unsafe fn compress_floats_avx2(row: &[f32], used: usize, s: &mut SparseRows) -> usize {
    use std::arch::x86_64::*;
    let mut c = used;
    for k in (0..row.len()).step_by(8) {
        let n = (row.len() - k).min(8);
        let v = if n == 8 {
            _mm256_loadu_ps(row.as_ptr().add(k))
        } else {
            // The row's last, partial block: copy it so nothing past the row is read.
            let mut block = [0.0f32; 8];
            block[..n].copy_from_slice(&row[k..]);
            _mm256_loadu_ps(block.as_ptr())
        };
        // Not equal, or unordered: NaN is kept and -0.0 dropped, as `v != 0.0` does.
        let nonzero = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NEQ_UQ>(v, _mm256_setzero_ps()));
        if nonzero != 0 {
            c += store_packed_avx2(s, c, nonzero as u8, v, k);
        }
    }
    c
}

/// `compress_row_u8` with AVX2: each 16 bytes are tested as bytes first (blank background costs
/// a compare and a mask); only 8-byte halves with ink are widened, scaled (`unit_scale_avx2`: the
/// same values as `x / 255`) and packed.
///
/// # Safety
/// AVX2 must be available, and `s` must have room for `row.len() + 16` entries after `used`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,popcnt")]
unsafe fn compress_bytes_avx2(row: &[u8], unit: bool, used: usize, s: &mut SparseRows) -> usize {
    use std::arch::x86_64::*;
    let mut c = used;
    for k in (0..row.len()).step_by(16) {
        let (raw, nonzero) = byte_block(row, k);
        if nonzero == 0 {
            continue;
        }
        for (half, bytes) in [(0, raw), (1, _mm_srli_si128::<8>(raw))] {
            let keep = (nonzero >> (8 * half)) as u8;
            if keep == 0 {
                continue;
            }
            let ints = _mm256_cvtepu8_epi32(bytes);
            let v = if unit {
                unit_scale_avx2(ints)
            } else {
                _mm256_cvtepi32_ps(ints)
            };
            c += store_packed_avx2(s, c, keep, v, k + 8 * half);
        }
    }
    c
}

/// `unit_scale` for 8 integers with AVX2: the product with 1/255 in f64, rounded once to f32.
///
/// # Safety
/// AVX2 must be available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn unit_scale_avx2(ints: std::arch::x86_64::__m256i) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    let inv = _mm256_set1_pd(1.0 / 255.0);
    let lo = _mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(ints)), inv);
    let hi = _mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256::<1>(ints)), inv);
    _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo))
}
