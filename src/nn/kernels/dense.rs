//! Dense rows times weights: the layers above the first, and dense inputs.

use crate::nn::simd::dispatch;

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
