//! The first layer on inputs given by their nonzeros.

use super::SparseRows;
use crate::nn::simd::dispatch;

dispatch! {
    /// y (n x o) = x * w for x given by its nonzeros; the same sums in the same order as `matmul`.
    pub fn sparse_matmul(x: &SparseRows, w: &[f32], y: &mut [f32], o: usize) {
        by_width!(rows o, sparse_matmul_fixed(x, w, y), {
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
fn sparse_matmul_fixed<const O: usize>(x: &SparseRows, w: &[f32], y: &mut [f32]) {
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
        by_width!(rows o, sparse_matmul_tn_fixed(x, dz, dw), {
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
fn sparse_matmul_tn_fixed<const O: usize>(x: &SparseRows, dz: &[f32], dw: &mut [f32]) {
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
