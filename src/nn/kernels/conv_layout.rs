//! Where the convolution's implicit GEMM operands lie (see `conv`): the walks over the rows
//! and columns of the im2col matrix A, and the copies made before a product (weights packed
//! into 16-column panels, the input padded with zeros, the padded gradient cropped).

use super::conv::ConvShape;
use super::conv_tile::MAX_ROWS;
use std::ops::Range;

/// Calls `$f::<MR>(args)` for the block height mr in 1..=MAX_ROWS.
macro_rules! by_rows {
    ($mr:expr, $f:ident($($arg:expr),*)) => {
        match $mr {
            12 => $f::<12>($($arg),*),
            11 => $f::<11>($($arg),*),
            10 => $f::<10>($($arg),*),
            9 => $f::<9>($($arg),*),
            8 => $f::<8>($($arg),*),
            7 => $f::<7>($($arg),*),
            6 => $f::<6>($($arg),*),
            5 => $f::<5>($($arg),*),
            4 => $f::<4>($($arg),*),
            3 => $f::<3>($($arg),*),
            2 => $f::<2>($($arg),*),
            _ => $f::<1>($($arg),*),
        }
    };
}
pub(super) use by_rows;

/// Walks the output rows (row r = output pixel (img, oy, ox) in NHWC order), giving the
/// offsets of their patches in the padded input (n, hp, wp, cin) without divisions.
pub(super) struct Rows<'a> {
    s: &'a ConvShape,
    oy: usize,
    ox: usize,
    base: usize,
}

impl<'a> Rows<'a> {
    pub(super) fn new(s: &'a ConvShape) -> Self {
        Rows {
            s,
            oy: 0,
            ox: 0,
            base: 0,
        }
    }

    /// The next mr rows' patch offsets, and the rows' output rows oy: the lowest and the highest.
    #[inline(always)]
    pub(super) fn next(&mut self, mr: usize) -> ([usize; MAX_ROWS], (usize, usize)) {
        let s = self.s;
        let mut bases = [0; MAX_ROWS];
        let (mut lo, mut hi) = (self.oy, self.oy);
        for b in bases.iter_mut().take(mr) {
            *b = self.base;
            (lo, hi) = (lo.min(self.oy), hi.max(self.oy));
            self.base += s.cin;
            self.ox += 1;
            if self.ox == s.ow() {
                // Skip the k - 1 columns of the padded row that start no patch.
                (self.ox, self.oy) = (0, self.oy + 1);
                self.base += (s.k - 1) * s.cin;
                if self.oy == s.oh() {
                    self.oy = 0;
                    self.base += (s.k - 1) * s.wp() * s.cin;
                }
            }
        }
        (bases, (lo, hi))
    }
}

/// The kernel rows ky that read the image (not only its zero padding) for some output row
/// from `oy.0` to `oy.1`: output row oy reads input row oy + ky - pad. The others add only
/// zeros to those rows' sums, so the products skip them (the sums keep their bits).
#[inline(always)]
pub(super) fn live_kernel_rows(s: &ConvShape, oy: (usize, usize)) -> Range<usize> {
    s.pad.saturating_sub(oy.1)..(s.h + s.pad - oy.0).min(s.k)
}

/// The output rows oy for which some kernel row from `ky.0` to `ky.1` reads the image: the
/// rows whose products a weight-gradient tile over those kernel rows' columns needs.
#[inline(always)]
pub(super) fn live_output_rows(s: &ConvShape, ky: (usize, usize)) -> Range<usize> {
    s.pad.saturating_sub(ky.1)..(s.h + s.pad).saturating_sub(ky.0).min(s.oh())
}

/// Walks the columns p of A (tap (ky, kx), then channel ci), giving each one's offset within
/// a patch: (ky * wp + kx) * cin + ci.
pub(super) struct Cols<'a> {
    s: &'a ConvShape,
    kx: usize,
    ci: usize,
    off: usize,
}

impl<'a> Cols<'a> {
    pub(super) fn new(s: &'a ConvShape) -> Self {
        Cols {
            s,
            kx: 0,
            ci: 0,
            off: 0,
        }
    }

    /// The current column's offset, then moves `by` columns on (by <= cin - ci: no tap skipped
    /// past).
    pub(super) fn take(&mut self, by: usize) -> usize {
        let (s, at) = (self.s, self.off);
        self.ci += by;
        self.off += by;
        if self.ci == s.cin {
            self.ci = 0;
            self.kx += 1;
            if self.kx == s.k {
                self.kx = 0;
                self.off += (s.wp() - s.k) * s.cin;
            }
        }
        at
    }
}

/// Checks once per call what the tiles' pointers rely on: the last output row's patch ends
/// inside the padded input of length `len` (the row walks only go up from there).
pub(super) fn check_patches(s: &ConvShape, len: usize) {
    let last = ((s.n * s.hp() - s.k) * s.wp() + s.ow() - 1) * s.cin;
    let kk = s.k * s.k * s.cin;
    assert!(
        last + patch_offset(s, kk - 1) < len,
        "conv patches out of the input"
    );
}

/// Offset within a patch of column p of A (the slow way, for the odd-shaped paths).
pub(super) fn patch_offset(s: &ConvShape, p: usize) -> usize {
    let (tap, ci) = (p / s.cin, p % s.cin);
    ((tap / s.k) * s.wp() + tap % s.k) * s.cin + ci
}

/// packed (panels, rows, 16) = m (rows x cols) cut into 16-column panels, zero beyond cols.
pub(super) fn pack_columns(m: &[f32], rows: usize, cols: usize, packed: &mut [f32]) {
    for (pn, panel) in packed.chunks_exact_mut(rows * 16).enumerate() {
        let j0 = pn * 16;
        for (row, dst) in m.chunks_exact(cols).zip(panel.chunks_exact_mut(16)) {
            copy_16(&row[j0..], dst);
        }
    }
}

/// dst[..16] = src[..16], zero past the end of src. A full panel's copy has a constant length,
/// so it compiles to two vector moves instead of a call to memmove.
#[inline(always)]
pub(super) fn copy_16(src: &[f32], dst: &mut [f32]) {
    if src.len() >= 16 {
        dst[..16].copy_from_slice(&src[..16]);
    } else {
        dst[..src.len()].copy_from_slice(src);
        dst[src.len()..16].fill(0.0);
    }
}

/// packed (panels, cols, 16) = m^T (cols x rows) cut into 16-column panels, zero beyond rows.
pub(super) fn pack_transposed(m: &[f32], rows: usize, cols: usize, packed: &mut [f32]) {
    if !rows.is_multiple_of(16) {
        let last = (rows / 16) * cols * 16;
        packed[last..].fill(0.0);
    }
    // Rows of m are read in order; each lands in one lane of its panel's rows of 16.
    for (i, row) in m.chunks_exact(cols).enumerate().take(rows) {
        let (pn, lane) = (i / 16, i % 16);
        let panel = &mut packed[pn * cols * 16..(pn + 1) * cols * 16];
        for (dst, &v) in panel.chunks_exact_mut(16).zip(row) {
            dst[lane] = v;
        }
    }
}

/// xp (n, h + 2 pad, w + 2 pad, cin) = x with zero borders.
pub(super) fn pad_into(s: &ConvShape, x: &[f32], xp: &mut [f32]) {
    xp.fill(0.0);
    let row = s.w * s.cin;
    for (i, src) in x.chunks_exact(row).enumerate() {
        let (img, y) = (i / s.h, i % s.h);
        let at = ((img * s.hp() + y + s.pad) * s.wp() + s.pad) * s.cin;
        xp[at..at + row].copy_from_slice(src);
    }
}

/// dx = the interior of the padded dxp.
pub(super) fn crop_from(s: &ConvShape, dxp: &[f32], dx: &mut [f32]) {
    let row = s.w * s.cin;
    for (i, dst) in dx.chunks_exact_mut(row).enumerate() {
        let (img, y) = (i / s.h, i % s.h);
        let at = ((img * s.hp() + y + s.pad) * s.wp() + s.pad) * s.cin;
        dst.copy_from_slice(&dxp[at..at + row]);
    }
}
