//! 2-D convolution over NHWC batches, stride 1, `valid` or `same` padding.
//!
//! Layouts (row-major): x (n, h, w, cin), weights (k, k, cin, cout) as Keras stores them,
//! bias (cout), z and dz (n, oh, ow, cout). Single-threaded: callers split the batch by images.
//!
//! All three products are implicit GEMMs over the im2col matrix A (n*oh*ow rows of k*k*cin,
//! row r = the input patch under output pixel r), read in place from x (zero-padded into the
//! scratch first when pad > 0), with K = k*k*cin:
//! - forward:   Z (rows x cout) = A * W, W (K x cout) packed once per call in 16-column panels;
//! - weights:   dW (K x cout) = A^T * dZ, one image at a time so its x and dZ stay in L1/L2;
//! - input:     dA = dZ * W^T (W^T packed in 16-column panels), each 16-column piece of a row
//!   of dA added straight into dx at its patch position (col2im fused into the store).
//!
//! Kernel rows that read only the zero padding for every output row of a tile are left out of
//! its walk (their products are zeros), in all three products: a 3x3 `same` convolution of an
//! image one row high reads one kernel row in three.
//!
//! Every product runs on the register tile of `conv_tile` (6 x 16 floats, 12 x 16 with AVX-512),
//! its operands laid out and walked by `conv_layout`.

use super::conv_layout::{
    by_rows, check_patches, copy_16, crop_from, live_kernel_rows, live_output_rows, pack_columns,
    pack_transposed, pad_into, patch_offset, Cols, Rows,
};
use super::conv_tile::{run, tile_rows, Init, Tile, MAX_ROWS};
use crate::nn::simd::{dispatch, level, Level};

/// The shape of one convolution call: a batch of n images h x w with cin channels, a k x k
/// kernel (odd k), `pad` zero rows/columns on each side (0 = valid, (k-1)/2 = same), cout outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub cin: usize,
    pub k: usize,
    pub pad: usize,
    pub cout: usize,
}

impl ConvShape {
    /// Output height: h + 2 pad - k + 1.
    pub fn oh(&self) -> usize {
        self.h + 2 * self.pad + 1 - self.k
    }

    /// Output width: w + 2 pad - k + 1.
    pub fn ow(&self) -> usize {
        self.w + 2 * self.pad + 1 - self.k
    }

    /// n * h * w * cin.
    pub fn in_len(&self) -> usize {
        self.n * self.h * self.w * self.cin
    }

    /// n * oh * ow * cout.
    pub fn out_len(&self) -> usize {
        self.n * self.oh() * self.ow() * self.cout
    }

    /// k * k * cin * cout.
    pub fn weight_len(&self) -> usize {
        self.k * self.k * self.cin * self.cout
    }

    /// Floats of caller-allocated scratch that `conv2d_forward` and `conv2d_backward` need.
    pub fn scratch_len(&self) -> usize {
        // Padded x and padded dx when pad > 0, then the packed weights (W or W^T panels).
        let padded = if self.pad > 0 {
            2 * self.padded_len()
        } else {
            0
        };
        let kk = self.k * self.k * self.cin;
        let packed = (kk * self.cout.div_ceil(16)).max(self.cout * kk.div_ceil(16)) * 16;
        // The weight gradient's packed dz panel (one image's output pixels x 16) sits in the
        // same place as the packed weights, which it never needs at the same time.
        padded + packed.max(self.oh() * self.ow() * 16)
    }

    /// Floats of W packed in 16-column panels ([`pack_weights`]).
    pub fn packed_len(&self) -> usize {
        self.k * self.k * self.cin * self.cout.div_ceil(16) * 16
    }

    pub(super) fn hp(&self) -> usize {
        self.h + 2 * self.pad
    }

    pub(super) fn wp(&self) -> usize {
        self.w + 2 * self.pad
    }

    pub(super) fn padded_len(&self) -> usize {
        self.n * self.hp() * self.wp() * self.cin
    }

    pub(crate) fn check(&self, x: &[f32], w: &[f32], b: &[f32], z: &[f32]) {
        assert_eq!(w.len(), self.weight_len(), "conv weight length");
        self.check_data(x, b, z);
    }

    /// The checks of `check` but the weights'.
    fn check_data(&self, x: &[f32], b: &[f32], z: &[f32]) {
        assert!(
            self.k % 2 == 1
                && self.pad < self.k
                && self.h + 2 * self.pad >= self.k
                && self.w + 2 * self.pad >= self.k
        );
        assert_eq!(x.len(), self.in_len(), "conv input length");
        assert_eq!(b.len(), self.cout, "conv bias length");
        assert_eq!(z.len(), self.out_len(), "conv output length");
    }
}

/// `$body(args, level)` run at the best level the CPU has: each level's entry point is compiled
/// with its features, so that the whole walk and every tile are inlined into it.
macro_rules! at_best_level {
    ($body:ident($($arg:ident: $ty:ty),* $(,)?)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f,avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx512($($arg: $ty),*) {
                $body($($arg),*, Level::Avx512)
            }
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx2($($arg: $ty),*) {
                $body($($arg),*, Level::Avx2)
            }
            match level() {
                // SAFETY: level() reports AVX-512F only when the CPU has it (and AVX2 and FMA).
                Level::Avx512 => return unsafe { avx512($($arg),*) },
                // SAFETY: level() reports AVX2 and FMA only when the CPU has them.
                Level::Avx2 => return unsafe { avx2($($arg),*) },
                Level::Portable => {}
            }
        }
        $body($($arg),*, Level::Portable)
    }};
}

/// z (n, oh, ow, cout) = conv(x) + b, no activation.
pub fn conv2d_forward(
    s: &ConvShape,
    x: &[f32],
    w: &[f32],
    b: &[f32],
    z: &mut [f32],
    scratch: &mut [f32],
) {
    s.check(x, w, b, z);
    forward_checked(s, x, Weights::Plain(w), b, z, scratch);
}

/// W (k, k, cin, cout) packed as `conv2d_forward` packs it on every call, for
/// [`conv2d_forward_packed`] to reuse while the weights do not change (reading, not training).
pub fn pack_weights(s: &ConvShape, w: &[f32]) -> Vec<f32> {
    assert_eq!(w.len(), s.weight_len(), "conv weight length");
    let mut packed = vec![0.0; s.packed_len()];
    pack_columns(w, s.k * s.k * s.cin, s.cout, &mut packed);
    packed
}

/// `conv2d_forward` with the weights already packed by [`pack_weights`] (the same bits).
pub fn conv2d_forward_packed(
    s: &ConvShape,
    x: &[f32],
    packed: &[f32],
    b: &[f32],
    z: &mut [f32],
    scratch: &mut [f32],
) {
    assert_eq!(packed.len(), s.packed_len(), "conv packed weight length");
    s.check_data(x, b, z);
    forward_checked(s, x, Weights::Packed(packed), b, z, scratch);
}

/// The forward pass's weights: as stored, or already packed.
#[derive(Clone, Copy)]
enum Weights<'a> {
    Plain(&'a [f32]),
    Packed(&'a [f32]),
}

/// The forward pass once its inputs are checked: the best level's walk.
fn forward_checked(
    s: &ConvShape,
    x: &[f32],
    w: Weights,
    b: &[f32],
    z: &mut [f32],
    scratch: &mut [f32],
) {
    assert!(scratch.len() >= s.scratch_len(), "conv scratch length");
    at_best_level!(forward_body(
        s: &ConvShape,
        x: &[f32],
        w: Weights,
        b: &[f32],
        z: &mut [f32],
        scratch: &mut [f32]
    ))
}

/// `conv2d_forward` after its checks; `level` says which tile to run.
#[inline(always)]
fn forward_body(
    s: &ConvShape,
    x: &[f32],
    w: Weights,
    b: &[f32],
    z: &mut [f32],
    scratch: &mut [f32],
    level: Level,
) {
    let (pad_x, rest) = scratch.split_at_mut(if s.pad > 0 { s.padded_len() } else { 0 });
    let xp: &[f32] = if s.pad > 0 {
        pad_into(s, x, pad_x);
        pad_x
    } else {
        x
    };
    let kk = s.k * s.k * s.cin;
    let packed: &[f32] = match w {
        Weights::Packed(p) => p,
        Weights::Plain(w) => {
            let packed = &mut rest[..s.packed_len()];
            pack_columns(w, kk, s.cout, packed);
            packed
        }
    };
    check_patches(s, xp.len());
    let m = s.n * s.oh() * s.ow();
    let mut rows = Rows::new(s);
    let mut r0 = 0;
    while r0 < m {
        let mr = (m - r0).min(tile_rows(level));
        let (bases, oy) = rows.next(mr);
        let ky = live_kernel_rows(s, oy);
        by_rows!(
            mr,
            forward_rows(s, xp, packed, b, z, r0, &bases, ky.start, ky.end, level)
        );
        r0 += mr;
    }
}

/// Gradients of `conv2d_forward` given dz = dL/dz: dw (k, k, cin, cout) and db (cout) are
/// overwritten with this batch's sums, dx (n, h, w, cin) is overwritten when given.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_backward(
    s: &ConvShape,
    x: &[f32],
    dz: &[f32],
    w: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    dx: Option<&mut [f32]>,
    scratch: &mut [f32],
) {
    s.check(x, w, db, dz);
    assert_eq!(dw.len(), s.weight_len(), "conv dw length");
    assert!(scratch.len() >= s.scratch_len(), "conv scratch length");
    if let Some(dx) = &dx {
        assert_eq!(dx.len(), s.in_len(), "conv dx length");
    }
    at_best_level!(backward_body(
        s: &ConvShape,
        x: &[f32],
        dz: &[f32],
        w: &[f32],
        dw: &mut [f32],
        db: &mut [f32],
        dx: Option<&mut [f32]>,
        scratch: &mut [f32]
    ))
}

/// `conv2d_backward` after its checks; `level` says which tile to run.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn backward_body(
    s: &ConvShape,
    x: &[f32],
    dz: &[f32],
    w: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    dx: Option<&mut [f32]>,
    scratch: &mut [f32],
    level: Level,
) {
    db.fill(0.0);
    let plen = if s.pad > 0 { s.padded_len() } else { 0 };
    let (pad_x, rest) = scratch.split_at_mut(plen);
    let (pad_dx, packed) = rest.split_at_mut(plen);
    let xp: &[f32] = if s.pad > 0 {
        pad_into(s, x, pad_x);
        pad_x
    } else {
        x
    };
    weight_grad(s, xp, dz, dw, db, packed, level);
    let Some(dx) = dx else { return };
    if s.pad > 0 {
        input_grad(s, dz, w, pad_dx, packed, level);
        crop_from(s, pad_dx, dx);
    } else {
        input_grad(s, dz, w, dx, packed, level);
    }
}

/// z rows r0..r0+MR = bias + their patches times every panel of W.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn forward_rows<const MR: usize>(
    s: &ConvShape,
    xp: &[f32],
    packed: &[f32],
    bias: &[f32],
    z: &mut [f32],
    r0: usize,
    bases: &[usize; MAX_ROWS],
    ky0: usize,
    ky1: usize,
    level: Level,
) {
    let kk = s.k * s.k * s.cin;
    let xo = xp.as_ptr();
    let zo = z.as_mut_ptr();
    // Kernel rows ky0..ky1 of each patch (the rest read only padding for these rows).
    let (a_skip, b_skip) = (ky0 * s.wp() * s.cin, ky0 * s.k * s.cin * 16);
    for (pn, panel) in packed.chunks_exact(kk * 16).enumerate() {
        let j0 = pn * 16;
        let nr = (s.cout - j0).min(16);
        // SAFETY: a_i walks kernel rows ky0..ky1 (ky1 <= k) of row i's patch inside xp, each
        // k * cin contiguous floats (taps kx, then channels); b walks the same rows' k * cin
        // rows of 16 in this panel; C row i is z[(r0 + i) * cout + j0..][..nr]; bias[j0..][..nr].
        unsafe {
            let t = Tile::<MR> {
                a: std::array::from_fn(|i| xo.add(bases[i] + a_skip)),
                a_step: 1,
                n1: ky1 - ky0,
                a1: s.wp() * s.cin,
                n2: 1,
                a2: 0,
                len: s.k * s.cin,
                b: panel.as_ptr().add(b_skip),
                b_step: 16,
                c: std::array::from_fn(|i| zo.add((r0 + i) * s.cout + j0)),
                nr,
                init: Init::Bias(bias.as_ptr().add(j0)),
            };
            run(&t, level);
        }
    }
}

/// dw (kk x cout) = A^T dZ and db += the sums of dZ's rows, image by image (while its dZ is
/// in cache). Each 16 columns of the image's dZ are first packed contiguously into `panel`
/// (rows x 16): read once per 6 rows of dW, a strided dZ (rows of cout floats) crowds fewer cache
/// sets and is evicted sooner.
#[inline(always)]
fn weight_grad(
    s: &ConvShape,
    xp: &[f32],
    dz: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    panel: &mut [f32],
    level: Level,
) {
    dw.fill(0.0);
    check_patches(s, xp.len());
    let kk = s.k * s.k * s.cin;
    let rows = s.oh() * s.ow();
    let panel = &mut panel[..rows * 16];
    for (img, dzi) in dz.chunks_exact(rows * s.cout).enumerate() {
        add_rows(dzi, db);
        for j0 in (0..s.cout).step_by(16) {
            for (dst, src) in panel.chunks_exact_mut(16).zip(dzi.chunks_exact(s.cout)) {
                copy_16(&src[j0..], dst);
            }
            let mut cols = Cols::new(s);
            let mut p0 = 0;
            while p0 < kk {
                let mr = (kk - p0).min(tile_rows(level));
                let offs: [usize; MAX_ROWS] =
                    std::array::from_fn(|i| if i < mr { cols.take(1) } else { 0 });
                // Columns p0..p0+mr lie in kernel rows ky0..=ky1 (column p: tap p / cin).
                let ky = (p0 / s.cin / s.k, (p0 + mr - 1) / s.cin / s.k);
                let oy = live_output_rows(s, ky);
                if !oy.is_empty() {
                    by_rows!(
                        mr,
                        weight_tile(s, xp, panel, dw, img, p0, j0, &offs, oy.start, oy.end, level)
                    );
                }
                p0 += mr;
            }
        }
    }
}

dispatch! {
    /// acc (n) += the sum of the rows of m (rows x n).
    pub fn add_rows(m: &[f32], acc: &mut [f32]) {
        for row in m.chunks_exact(acc.len()) {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a += v;
            }
        }
    }
}

/// dw rows p0..p0+MR, columns j0..j0+16 += image img's A columns p0.. times its dZ.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn weight_tile<const MR: usize>(
    s: &ConvShape,
    xp: &[f32],
    panel: &[f32],
    dw: &mut [f32],
    img: usize,
    p0: usize,
    j0: usize,
    offs: &[usize; MAX_ROWS],
    oy0: usize,
    oy1: usize,
    level: Level,
) {
    let ow = s.ow();
    let base = img * s.hp() * s.wp() * s.cin + oy0 * s.wp() * s.cin;
    let (xo, dwo) = (xp.as_ptr(), dw.as_mut_ptr());
    // SAFETY: a_i = x at patch column p0 + i of output (oy, ox) of this image, for
    // oy0 <= oy < oy1 <= oh and ox < ow, inside xp (valid convolution of the padded input);
    // b = the packed dz panel's row (oy, ox) (columns j0..j0+nr of the image's dz), from row
    // oy0's; C row i = dw[(p0 + i) * cout + j0..][..nr].
    unsafe {
        let t = Tile::<MR> {
            a: std::array::from_fn(|i| xo.add(base + offs[i])),
            a_step: s.cin,
            n1: oy1 - oy0,
            a1: s.wp() * s.cin,
            n2: 1,
            a2: 0,
            len: ow,
            b: panel.as_ptr().add(oy0 * ow * 16),
            b_step: 16,
            c: std::array::from_fn(|i| dwo.add((p0 + i) * s.cout + j0)),
            nr: (s.cout - j0).min(16),
            init: Init::Accumulate,
        };
        run(&t, level);
    }
}

/// dxp (n, hp, wp, cin) = col2im(dZ W^T), dxp overwritten.
#[inline(always)]
fn input_grad(
    s: &ConvShape,
    dz: &[f32],
    w: &[f32],
    dxp: &mut [f32],
    packed: &mut [f32],
    level: Level,
) {
    dxp.fill(0.0);
    let kk = s.k * s.k * s.cin;
    let packed = &mut packed[..kk.div_ceil(16) * s.cout * 16];
    pack_transposed(w, kk, s.cout, packed);
    check_patches(s, dxp.len());
    let m = s.n * s.oh() * s.ow();
    let mut rows = Rows::new(s);
    let mut r0 = 0;
    while r0 < m {
        // The block height sets the order in which rows add into a dx value their patches
        // share: AVX2's at every level, so that AVX-512 gives the same bits.
        let mr = (m - r0).min(tile_rows(Level::Avx2));
        let (bases, oy) = rows.next(mr);
        let ky = live_kernel_rows(s, oy);
        by_rows!(mr, input_rows(s, dz, packed, dxp, r0, &bases, ky, level));
        r0 += mr;
    }
}

/// Rows r0..r0+MR of dA = dZ W^T, added into dxp at their patches.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn input_rows<const MR: usize>(
    s: &ConvShape,
    dz: &[f32],
    packed: &[f32],
    dxp: &mut [f32],
    r0: usize,
    bases: &[usize; MAX_ROWS],
    ky: std::ops::Range<usize>,
    level: Level,
) {
    let kk = s.k * s.k * s.cin;
    // With cin a multiple of 16 every 16 columns of A lie in one tap: the tile adds them into
    // dxp in place (and skips the taps whose kernel row, `ky` aside, adds only into the
    // padding, which is cropped away); otherwise it writes a local tile that is added column
    // by column.
    let in_place = s.cin.is_multiple_of(16);
    let mut tile = [[0.0f32; 16]; MR];
    let dzo = dz.as_ptr();
    let dxo = dxp.as_mut_ptr();
    let mut cols = Cols::new(s);
    for (pn, panel) in packed.chunks_exact(s.cout * 16).enumerate() {
        let p0 = pn * 16;
        let nr = (kk - p0).min(16);
        let off = if in_place { cols.take(16) } else { 0 };
        if in_place && !ky.contains(&(p0 / s.cin / s.k)) {
            continue;
        }
        let tp = tile.as_mut_ptr() as *mut f32;
        // SAFETY: a_i walks dz row r0 + i (cout floats); b the cout rows of 16 in this panel;
        // C row i is dxp at row i's patch, columns p0..p0+16 of one tap (in place), or the
        // local tile's row i.
        unsafe {
            let t = Tile::<MR> {
                a: std::array::from_fn(|i| dzo.add((r0 + i) * s.cout)),
                a_step: 1,
                n1: 1,
                a1: 0,
                n2: 1,
                a2: 0,
                len: s.cout,
                b: panel.as_ptr(),
                b_step: 16,
                c: std::array::from_fn(|i| {
                    if in_place {
                        dxo.add(bases[i] + off)
                    } else {
                        tp.add(i * 16)
                    }
                }),
                nr: if in_place { 16 } else { nr },
                init: if in_place {
                    Init::Accumulate
                } else {
                    Init::Zero
                },
            };
            run(&t, level);
        }
        if !in_place {
            for (row, &base) in tile.iter().zip(bases) {
                for (c, &v) in row.iter().enumerate().take(nr) {
                    dxp[base + patch_offset(s, p0 + c)] += v;
                }
            }
        }
    }
}
