//! 2-D convolution over NHWC batches, stride 1, `valid` or `same` padding.
//!
//! Layouts (row-major): x (n, h, w, cin), weights (k, k, cin, cout) as Keras stores them,
//! bias (cout), z and dz (n, oh, ow, cout). Single-threaded: callers split the batch by images.
//!
//! All three products are implicit GEMMs over the im2col matrix A (n*oh*ow rows of k*k*cin,
//! row r = the input patch under output pixel r), read in place from x (zero-padded into the
//! scratch first when pad > 0), with K = k*k*cin:
//! - forward:   Z (rows x cout) = A * W, W (K x cout) packed in 16-column panels on the call
//!   or beforehand (`pack_weights`: a model keeps them for reading, and a training step packs
//!   W and W^T once for all its passes);
//! - weights:   dW (K x cout) = A^T * dZ, one image at a time so its x and dZ stay in L1/L2;
//! - input:     dA = dZ * W^T (W^T packed in 16-column panels), each 16-column piece of a row
//!   of dA added straight into dx at its patch position (col2im fused into the store).
//!
//! Kernel rows that read only the zero padding for every output row of a tile are left out of
//! its walk (their products are zeros), in all three products: a 3x3 `same` convolution of an
//! image one row high reads one kernel row in three.
//!
//! The forward product is here, the two gradients in `conv_backward`. Every product runs on
//! the register tile of `conv_tile` (6 x 16 floats, 12 x 16 with AVX-512; with AVX-512 the
//! forward pass 12 x 32 where 32 output channels remain, and the input gradient 6 x 32 where 32
//! channels of a tap lie side by side: one broadcast serves two vectors), its operands laid out and
//! walked by `conv_layout`, but the forward pass of a 3x3 kernel over one channel with AVX-512
//! (`conv_single`: a patch of 9 taps is too short a walk for the tile). All give the same bits.

use super::conv_layout::{
    by_rows, check_patches, live_kernel_rows, pack_columns, pack_transposed, pad_into, Rows,
};
use super::conv_single;
#[cfg(target_arch = "x86_64")]
use super::conv_tile::run_pair_avx512;
use super::conv_tile::{run, tile_rows, Init, Tile, MAX_ROWS};
use crate::nn::simd::{level, Level};

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
        // The weight gradient's packed dz panels (one image's output pixels x 16, two of them
        // with AVX-512) sit in the same place as the packed weights, which it never needs at
        // the same time.
        padded + packed.max(self.oh() * self.ow() * 32)
    }

    /// Floats of W packed in 16-column panels ([`pack_weights`]).
    pub fn packed_len(&self) -> usize {
        self.k * self.k * self.cin * self.cout.div_ceil(16) * 16
    }

    /// Floats of W^T packed in 16-column panels ([`pack_weights_transposed_into`]).
    pub fn packed_t_len(&self) -> usize {
        self.cout * (self.k * self.k * self.cin).div_ceil(16) * 16
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
    pub(super) fn check_data(&self, x: &[f32], b: &[f32], z: &[f32]) {
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
pub(super) use at_best_level;

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
    let mut packed = vec![0.0; s.packed_len()];
    pack_weights_into(s, w, &mut packed);
    packed
}

/// [`pack_weights`] into `packed` (`packed_len` floats).
pub fn pack_weights_into(s: &ConvShape, w: &[f32], packed: &mut [f32]) {
    assert_eq!(w.len(), s.weight_len(), "conv weight length");
    assert_eq!(packed.len(), s.packed_len(), "conv packed weight length");
    pack_columns(w, s.k * s.k * s.cin, s.cout, packed);
}

/// W^T packed into `packed` (`packed_t_len` floats) as `conv2d_backward` packs it on every
/// call, for [`conv2d_backward_packed`] to reuse over a training step's passes.
pub fn pack_weights_transposed_into(s: &ConvShape, w: &[f32], packed: &mut [f32]) {
    assert_eq!(w.len(), s.weight_len(), "conv weight length");
    assert_eq!(packed.len(), s.packed_t_len(), "conv packed weight length");
    pack_transposed(w, s.k * s.k * s.cin, s.cout, packed);
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

/// A product's weights: as stored, or already packed for it (W for the forward pass, W^T for
/// the input gradient).
#[derive(Clone, Copy)]
pub(super) enum Weights<'a> {
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
    #[cfg(target_arch = "x86_64")]
    if matches!(level, Level::Avx512) && conv_single::handles(s) {
        // SAFETY: level() found AVX-512F, and this body is compiled with it at that level.
        unsafe { conv_single::forward_avx512(s, xp, packed, b, z) };
        return;
    }
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
    let panels = packed.len() / (kk * 16);
    let mut pn = 0;
    while pn < panels {
        let panel = &packed[pn * kk * 16..(pn + 1) * kk * 16];
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
            // With AVX-512, two full panels run as one tile 32 wide. SAFETY: level is AVX-512
            // and this walk is compiled with it; the next panel (kk rows of 16 after this one
            // in `packed`) holds columns j0 + 16..j0 + 32 <= cout, read as this one is, and
            // C's rows and the bias hold those columns too.
            #[cfg(target_arch = "x86_64")]
            if matches!(level, Level::Avx512) && s.cout >= j0 + 32 {
                run_pair_avx512(&t, packed.as_ptr().add((pn + 1) * kk * 16 + b_skip));
                pn += 2;
                continue;
            }
            run(&t, level);
        }
        pn += 1;
    }
}
