//! The forward product of a 3x3 convolution of one input channel (the first layer of the digit
//! CNN and of the line model) with AVX-512: the same sums as `conv`'s tile (bias, then the
//! live kernel rows' taps in order, each fused), so the same bits, at a fraction of the cost.
//!
//! With one channel a patch has only 9 taps, so the general tile spends most of its time
//! setting up walks of 3 steps. Here an output row's kernel rows are known once per row, the
//! panel's 9 weight vectors stay in registers across the row, and each block of 12 pixels is
//! 9 x 12 FMAs with their inputs read straight from the padded row.

use super::conv::ConvShape;
use super::conv_layout::{by_rows, live_kernel_rows};

/// Whether [`forward_avx512`] computes this shape.
pub(super) fn handles(s: &ConvShape) -> bool {
    s.cin == 1 && s.k == 3
}

/// z (n, oh, ow, cout) = bias + the 3x3 one-channel convolution of xp (n, hp, wp, the input
/// already padded), W packed in 16-column panels of 9 rows (tap ky * 3 + kx).
///
/// # Safety
/// The CPU must have AVX-512F, and the caller be compiled with it (the kernel is inlined).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn forward_avx512(
    s: &ConvShape,
    xp: &[f32],
    packed: &[f32],
    bias: &[f32],
    z: &mut [f32],
) {
    debug_assert!(handles(s));
    let (oh, ow, wp) = (s.oh(), s.ow(), s.wp());
    assert!(xp.len() >= s.n * s.hp() * wp && z.len() == s.n * oh * ow * s.cout);
    assert_eq!(packed.len(), 9 * s.cout.div_ceil(16) * 16);
    assert_eq!(bias.len(), s.cout);
    for img in 0..s.n {
        for oy in 0..oh {
            let ky = live_kernel_rows(s, (oy, oy));
            let x_row = (img * s.hp() + oy) * wp;
            let z_row = (img * oh + oy) * ow;
            for (pn, panel) in packed.chunks_exact(9 * 16).enumerate() {
                let j0 = pn * 16;
                let row = Row {
                    x: xp.as_ptr().add(x_row),
                    wp,
                    ky0: ky.start,
                    ky1: ky.end,
                    panel: panel.as_ptr(),
                    bias: bias.as_ptr().add(j0),
                    z: z.as_mut_ptr().add(z_row * s.cout + j0),
                    cout: s.cout,
                    nr: (s.cout - j0).min(16),
                };
                let mut ox = 0;
                while ox < ow {
                    let mr = (ow - ox).min(12);
                    by_rows!(mr, block(&row, ox));
                    ox += mr;
                }
            }
        }
    }
}

/// One output row's operands for one 16-column panel.
struct Row {
    /// The padded input at the row's first patch (its top-left tap).
    x: *const f32,
    wp: usize,
    /// The kernel rows that read the image for this output row.
    ky0: usize,
    ky1: usize,
    /// The panel's 9 rows of 16 weights.
    panel: *const f32,
    /// bias[j0..], z at the row's first pixel, column j0.
    bias: *const f32,
    z: *mut f32,
    cout: usize,
    nr: usize,
}

/// Pixels ox..ox+MR of the row: bias, then each live tap (ky, then kx) fused in, as the tile
/// adds them.
///
/// # Safety
/// As [`forward_avx512`]; ox + MR <= ow.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn block<const MR: usize>(r: &Row, ox: usize) {
    use std::arch::x86_64::*;
    let mask: __mmask16 = if r.nr >= 16 { !0 } else { (1u16 << r.nr) - 1 };
    let mut acc = [_mm512_maskz_loadu_ps(mask, r.bias); MR];
    for ky in r.ky0..r.ky1 {
        // SAFETY: the patch of pixel ox + i at kernel row ky starts at x + ky * wp + ox + i,
        // and its 3 taps lie in the padded row (ox + i + 2 < wp).
        let x = r.x.add(ky * r.wp + ox);
        let w = r.panel.add(ky * 3 * 16);
        let w0 = _mm512_maskz_loadu_ps(mask, w);
        let w1 = _mm512_maskz_loadu_ps(mask, w.add(16));
        let w2 = _mm512_maskz_loadu_ps(mask, w.add(32));
        for (i, a) in acc.iter_mut().enumerate() {
            *a = _mm512_fmadd_ps(_mm512_set1_ps(*x.add(i)), w0, *a);
            *a = _mm512_fmadd_ps(_mm512_set1_ps(*x.add(i + 1)), w1, *a);
            *a = _mm512_fmadd_ps(_mm512_set1_ps(*x.add(i + 2)), w2, *a);
        }
    }
    for (i, a) in acc.iter().enumerate() {
        // SAFETY: pixel ox + i's row of z, columns j0..j0+nr.
        _mm512_mask_storeu_ps(r.z.add((ox + i) * r.cout), mask, *a);
    }
}
