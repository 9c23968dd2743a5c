//! The gradients of `conv` (see its comment for the layouts and the three products): dW = A^T dZ
//! image by image, and dA = dZ W^T added into dx at its patches (col2im fused into the store),
//! on the same register tile, leaving out the kernel rows that add only zeros.

use super::conv::{at_best_level, ConvShape, Weights};
use super::conv_layout::{
    by_rows, check_patches, copy_16, crop_from, live_kernel_rows, live_output_rows,
    pack_transposed, pad_into, patch_offset, Cols, Rows,
};
#[cfg(target_arch = "x86_64")]
use super::conv_tile::run_pair_avx512;
use super::conv_tile::{run, tile_rows, Init, Tile, MAX_ROWS};
use crate::nn::simd::{dispatch, level, Level};

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
    backward_checked(s, x, dz, Weights::Plain(w), dw, db, dx, scratch);
}

/// `conv2d_backward` with W^T already packed by [`pack_weights_transposed_into`] (the same
/// bits).
#[allow(clippy::too_many_arguments)]
pub fn conv2d_backward_packed(
    s: &ConvShape,
    x: &[f32],
    dz: &[f32],
    packed_t: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    dx: Option<&mut [f32]>,
    scratch: &mut [f32],
) {
    assert_eq!(
        packed_t.len(),
        s.packed_t_len(),
        "conv packed weight length"
    );
    s.check_data(x, db, dz);
    backward_checked(s, x, dz, Weights::Packed(packed_t), dw, db, dx, scratch);
}

/// The backward pass once its inputs are checked (but dw, dx and the scratch): the best
/// level's walks.
#[allow(clippy::too_many_arguments)]
fn backward_checked(
    s: &ConvShape,
    x: &[f32],
    dz: &[f32],
    w: Weights,
    dw: &mut [f32],
    db: &mut [f32],
    dx: Option<&mut [f32]>,
    scratch: &mut [f32],
) {
    assert_eq!(dw.len(), s.weight_len(), "conv dw length");
    assert!(scratch.len() >= s.scratch_len(), "conv scratch length");
    if let Some(dx) = &dx {
        assert_eq!(dx.len(), s.in_len(), "conv dx length");
    }
    at_best_level!(backward_body(
        s: &ConvShape,
        x: &[f32],
        dz: &[f32],
        w: Weights,
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
    w: Weights,
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

/// dw (kk x cout) = A^T dZ and db += the sums of dZ's rows, image by image (while its dZ is
/// in cache). Each 16 columns of the image's dZ are first packed contiguously into `panels`
/// (rows x 16; with AVX-512 two such, for a tile 32 wide): read once per block of rows of dW, a
/// strided dZ (rows of cout floats) crowds fewer cache sets and is evicted sooner.
#[inline(always)]
fn weight_grad(
    s: &ConvShape,
    xp: &[f32],
    dz: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    panels: &mut [f32],
    level: Level,
) {
    dw.fill(0.0);
    check_patches(s, xp.len());
    let kk = s.k * s.k * s.cin;
    let rows = s.oh() * s.ow();
    let panels = &mut panels[..rows * 32];
    for (img, dzi) in dz.chunks_exact(rows * s.cout).enumerate() {
        add_rows(dzi, db);
        let mut j0 = 0;
        while j0 < s.cout {
            // With AVX-512, columns j0..j0 + 32 in two panels, one after the other, where they
            // are there (a tile 32 wide); else j0..j0 + 16.
            let pair = matches!(level, Level::Avx512) && s.cout >= j0 + 32;
            // With 16 columns the image's dz is its own panel.
            let panel: &[f32] = if s.cout == 16 {
                dzi
            } else {
                let (first, second) = panels.split_at_mut(rows * 16);
                for (dst, src) in first.chunks_exact_mut(16).zip(dzi.chunks_exact(s.cout)) {
                    copy_16(&src[j0..], dst);
                }
                if pair {
                    for (dst, src) in second.chunks_exact_mut(16).zip(dzi.chunks_exact(s.cout)) {
                        copy_16(&src[j0 + 16..], dst);
                    }
                }
                panels
            };
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
                    let cols = (j0, pair);
                    by_rows!(
                        mr,
                        weight_tile(
                            s, xp, panel, dw, img, p0, cols, &offs, oy.start, oy.end, level
                        )
                    );
                }
                p0 += mr;
            }
            j0 += if pair { 32 } else { 16 };
        }
    }
}

dispatch! {
    /// acc (n) += the sum of the rows of m (rows x n), row after row. For 16 to 128 columns the
    /// sums stay in registers down the rows (kept in acc, each add would wait for the last
    /// one's store); every column adds its values in the same order either way.
    pub fn add_rows(m: &[f32], acc: &mut [f32]) {
        match acc.len() {
            16 => add_rows_in_registers::<16>(m, acc),
            32 => add_rows_in_registers::<32>(m, acc),
            64 => add_rows_in_registers::<64>(m, acc),
            128 => add_rows_in_registers::<128>(m, acc),
            n => {
                for row in m.chunks_exact(n) {
                    for (a, &v) in acc.iter_mut().zip(row) {
                        *a += v;
                    }
                }
            }
        }
    }
}

/// `add_rows` for N columns, the sums in N / 16 vector registers.
#[inline(always)]
fn add_rows_in_registers<const N: usize>(m: &[f32], acc: &mut [f32]) {
    let mut sums: [f32; N] = acc.try_into().expect("N columns");
    for row in m.chunks_exact(N) {
        for (a, &v) in sums.iter_mut().zip(row) {
            *a += v;
        }
    }
    acc.copy_from_slice(&sums);
}

/// dw rows p0..p0+MR, columns j0..j0+16 (j0..j0+32 when `cols` is (j0, true): the panel's
/// second 16 columns follow its first, the same rows) += image img's A columns p0.. times its
/// dZ.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn weight_tile<const MR: usize>(
    s: &ConvShape,
    xp: &[f32],
    panel: &[f32],
    dw: &mut [f32],
    img: usize,
    p0: usize,
    (j0, pair): (usize, bool),
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
        // With AVX-512 (`pair` is only set then, and this walk is compiled with it): the
        // panel's second half, rows * 16 floats on, walked as the first; C's columns j0 + 16..
        // j0 + 32 <= cout.
        #[cfg(target_arch = "x86_64")]
        if pair {
            run_pair_avx512(&t, t.b.add(s.oh() * ow * 16));
            return;
        }
        run(&t, level);
    }
}

/// dxp (n, hp, wp, cin) = col2im(dZ W^T), dxp overwritten; W^T packed into `scratch` unless
/// given packed.
#[inline(always)]
fn input_grad(
    s: &ConvShape,
    dz: &[f32],
    w: Weights,
    dxp: &mut [f32],
    scratch: &mut [f32],
    level: Level,
) {
    dxp.fill(0.0);
    let kk = s.k * s.k * s.cin;
    let packed: &[f32] = match w {
        Weights::Packed(p) => p,
        Weights::Plain(w) => {
            let packed = &mut scratch[..s.packed_t_len()];
            pack_transposed(w, kk, s.cout, packed);
            packed
        }
    };
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
    // With AVX-512 and cin a multiple of 32, two panels of one tap (channels 16 apart, each
    // row's two pieces of dx side by side) run as one tile of 32 columns: both of one tap, so
    // no dx value takes from both, and each takes its products in the same order.
    #[cfg(target_arch = "x86_64")]
    if matches!(level, Level::Avx512) && s.cin.is_multiple_of(32) {
        input_rows_in_place::<MR>(s, dz, packed, dxp, r0, bases, ky, 32, level);
        return;
    }
    // With cin a multiple of 16 every 16 columns of A lie in one tap: the tile adds them into
    // dxp in place.
    if s.cin.is_multiple_of(16) {
        input_rows_in_place::<MR>(s, dz, packed, dxp, r0, bases, ky, 16, level);
        return;
    }
    // Otherwise a panel's columns may span taps: the tile is written locally, then added
    // column by column.
    let dzo = dz.as_ptr();
    let kk = s.k * s.k * s.cin;
    let mut tile = [[0.0f32; 16]; MR];
    for (pn, panel) in packed.chunks_exact(s.cout * 16).enumerate() {
        let p0 = pn * 16;
        let nr = (kk - p0).min(16);
        let tp = tile.as_mut_ptr() as *mut f32;
        // SAFETY: a_i walks dz row r0 + i (cout floats); b the cout rows of 16 in this panel;
        // C row i is the local tile's row i.
        unsafe {
            let c = std::array::from_fn(|i| tp.add(i * 16));
            let t = dz_times_panel::<MR>(s, dzo, r0, panel.as_ptr(), c, nr, Init::Zero);
            run(&t, level);
        }
        for (row, &base) in tile.iter().zip(bases) {
            for (c, &v) in row.iter().enumerate().take(nr) {
                dxp[base + patch_offset(s, p0 + c)] += v;
            }
        }
    }
}

/// The panels of `packed` (each cout rows of `width`; cin a multiple of `width`, so each lies
/// in one tap) with the offset of their tap's columns in a patch, leaving out the taps whose
/// kernel row is not in `ky`: they add only into the padding, which is cropped away.
fn live_tap_panels<'a>(
    s: &'a ConvShape,
    packed: &'a [f32],
    width: usize,
    ky: std::ops::Range<usize>,
) -> impl Iterator<Item = (usize, &'a [f32])> {
    let mut cols = Cols::new(s);
    packed
        .chunks_exact(s.cout * width)
        .enumerate()
        // Every panel moves the column walk on, the left-out ones too.
        .map(move |(pn, panel)| (pn * width, cols.take(width), panel))
        .filter(move |&(p0, _, _)| ky.contains(&(p0 / s.cin / s.k)))
        .map(|(_, off, panel)| (off, panel))
}

/// `input_rows` for cin a multiple of `width`: the live panels `width` columns at a time, each
/// one tap's, added into dxp in place; 16 (one panel), or 32 (two panels as one tile, at
/// AVX-512 only). The tiles run here, not in a closure, so that they are compiled inline at the
/// caller's SIMD level.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn input_rows_in_place<const MR: usize>(
    s: &ConvShape,
    dz: &[f32],
    packed: &[f32],
    dxp: &mut [f32],
    r0: usize,
    bases: &[usize; MAX_ROWS],
    ky: std::ops::Range<usize>,
    width: usize,
    level: Level,
) {
    let dzo = dz.as_ptr();
    let dxo = dxp.as_mut_ptr();
    for (off, panels) in live_tap_panels(s, packed, width, ky) {
        // SAFETY: a_i walks dz row r0 + i (cout floats); b the cout rows of 16 of the first
        // panel; C row i is dxp at row i's patch, the `width` columns of one tap at `off`.
        unsafe {
            let c = std::array::from_fn(|i| dxo.add(bases[i] + off));
            let t = dz_times_panel::<MR>(s, dzo, r0, panels.as_ptr(), c, 16, Init::Accumulate);
            // The second panel is the cout rows of 16 after the first; the caller found
            // AVX-512F for a width of 32, and this walk is compiled with it.
            #[cfg(target_arch = "x86_64")]
            if width == 32 {
                run_pair_avx512(&t, panels.as_ptr().add(s.cout * 16));
                continue;
            }
            run(&t, level);
        }
    }
}

/// The tile of dZ rows r0..r0+MR (a_i: row r0 + i of `dz`, cout floats) times one panel of W^T
/// (`b`: cout rows of 16), into `c` (nr columns).
///
/// # Safety
/// `dz` must hold rows r0..r0+MR.
#[inline(always)]
unsafe fn dz_times_panel<const MR: usize>(
    s: &ConvShape,
    dz: *const f32,
    r0: usize,
    b: *const f32,
    c: [*mut f32; MR],
    nr: usize,
    init: Init,
) -> Tile<MR> {
    Tile {
        a: std::array::from_fn(|i| dz.add((r0 + i) * s.cout)),
        a_step: 1,
        n1: 1,
        a1: 0,
        n2: 1,
        a2: 0,
        len: s.cout,
        b,
        b_step: 16,
        c,
        nr,
        init,
    }
}

#[cfg(test)]
mod tests {
    use super::add_rows;

    #[test]
    fn add_rows_adds_each_column_row_after_row_onto_what_it_holds() {
        // Values whose sums depend on their order; 32 columns are summed in registers, 40 not.
        for n in [16, 32, 40] {
            let rows = 7;
            let m: Vec<f32> = (0..rows * n)
                .map(|i| match i % 5 {
                    0 => 1e8,
                    1 => 1.0 + i as f32 * 1e-3,
                    2 => -1e8,
                    3 => 3.3e-2 * i as f32,
                    _ => -7.0,
                })
                .collect();
            let start: Vec<f32> = (0..n).map(|j| 0.1 * j as f32 - 1.7).collect();
            let mut want = start.clone();
            for row in m.chunks_exact(n) {
                for (a, &v) in want.iter_mut().zip(row) {
                    *a += v;
                }
            }
            let mut got = start;
            add_rows(&m, &mut got);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "{n} columns");
        }
    }
}
