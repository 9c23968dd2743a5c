//! Each fast kernel agrees with its slow obvious twin.

use digits::nn::kernels::{add_bias, gemm, reference, sum_rows};
use digits::nn::loss::softmax_cross_entropy;
use digits::nn::{argmax, softmax};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

#[test]
fn gemm_matches_reference_for_every_transpose() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for _ in 0..40 {
        let (m, k, n) = (
            rng.gen_range(1..70),
            rng.gen_range(1..90),
            rng.gen_range(1..40),
        );
        for (a_t, b_t) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = random(&mut rng, m * k);
            let b = random(&mut rng, k * n);
            let beta = [0.0, 1.0, 0.5][rng.gen_range(0..3)];
            let c0 = random(&mut rng, m * n);
            let (mut fast, mut slow) = (c0.clone(), c0);
            gemm(m, k, n, &a, a_t, &b, b_t, beta, &mut fast);
            reference::gemm(m, k, n, &a, a_t, &b, b_t, beta, &mut slow);
            for (f, s) in fast.iter().zip(&slow) {
                assert!(
                    (f - s).abs() < 1e-4,
                    "{m}x{k}x{n} a_t={a_t} b_t={b_t}: {f} vs {s}"
                );
            }
        }
    }
}

#[test]
fn bias_and_row_sums_match_loops() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (m, n) = (13, 7);
    let c0 = random(&mut rng, m * n);
    let b = random(&mut rng, n);
    let mut c = c0.clone();
    add_bias(&mut c, &b);
    let mut db = vec![9.0; n];
    sum_rows(&c0, &mut db);
    for j in 0..n {
        let mut s = 0.0;
        for i in 0..m {
            assert_eq!(c[i * n + j], c0[i * n + j] + b[j]);
            s += c0[i * n + j];
        }
        assert!((db[j] - s).abs() < 1e-5);
    }
}

#[test]
fn softmax_is_stable_and_correct() {
    let p = softmax(&[1.0, 2.0, 3.0, 4.0]);
    let want = [0.032, 0.087, 0.237, 0.644];
    for (a, b) in p.iter().zip(want) {
        assert!((a - b).abs() < 5e-4, "{p:?}");
    }
    let big = softmax(&[1000.0, 1001.0]);
    assert!(big.iter().all(|v| v.is_finite()));
    assert!(
        (big[0] - 0.268_941_4).abs() < 1e-6 && (big[1] - 0.731_058_6).abs() < 1e-6,
        "{big:?}"
    );
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    assert_eq!(argmax(&p), 3);
}

#[test]
fn cross_entropy_from_logits_is_stable_and_matches_log_softmax() {
    // -log softmax([1000, 1001])[0] = log(1 + e) = 1.3132617
    let loss = softmax_cross_entropy(&[1000.0, 1001.0], &[0], 2, None);
    assert!((loss - 1.313_261_7).abs() < 1e-5, "{loss}");
    // Fused gradient: (softmax - onehot) * scale
    let mut d = vec![0.0; 4];
    let z = [1.0, 2.0, 3.0, 4.0];
    let l = softmax_cross_entropy(&z, &[2], 4, Some((&mut d, 0.5)));
    let p = softmax(&z);
    assert!((l - -(p[2] as f64).ln()).abs() < 1e-6);
    for j in 0..4 {
        let want = 0.5 * (p[j] - if j == 2 { 1.0 } else { 0.0 });
        assert!((d[j] - want).abs() < 1e-7);
    }
}

#[test]
fn layer_kernels_match_reference_at_every_simd_level() {
    use digits::nn::kernels::{matmul, matmul_tn, transpose};
    use digits::nn::simd::{detect, force, Level};
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for level in [Level::Portable, Level::Avx2, Level::Avx512] {
        if level > detect() {
            continue;
        }
        assert_eq!(force(level), level);
        // Every width with its own kernel, then random ones.
        let fixed = [10, 15, 16, 25, 32, 64, 128];
        for round in 0..40 {
            let (n, i, o) = (
                rng.gen_range(1..20),
                rng.gen_range(1..70),
                fixed
                    .get(round)
                    .copied()
                    .unwrap_or_else(|| rng.gen_range(1..40)),
            );
            // Inputs with many exact zeros, like image pixels.
            let x: Vec<f32> = (0..n * i)
                .map(|_| {
                    if rng.gen_bool(0.6) {
                        0.0
                    } else {
                        rng.gen_range(-1.0..1.0)
                    }
                })
                .collect();
            let w = random(&mut rng, i * o);
            let dz = random(&mut rng, n * o);
            let check = |fast: &[f32], slow: &[f32], what: &str| {
                for (f, s) in fast.iter().zip(slow) {
                    assert!(
                        (f - s).abs() < 1e-4,
                        "{what} {level:?} n={n} i={i} o={o}: {f} vs {s}"
                    );
                }
            };
            let (mut f, mut s) = (vec![7.0; n * o], vec![0.0; n * o]);
            matmul(&x, &w, &mut f, i, o);
            reference::matmul(&x, &w, &mut s, i, o);
            check(&f, &s, "matmul");
            let (mut f, mut s) = (vec![7.0; i * o], vec![0.0; i * o]);
            matmul_tn(&x, &dz, &mut f, i, o);
            reference::matmul_tn(&x, &dz, &mut s, i, o);
            check(&f, &s, "matmul_tn");
            let (mut f, mut s) = (vec![7.0; n * i], vec![0.0; n * i]);
            let mut wt = vec![0.0; i * o];
            transpose(&w, i, o, &mut wt);
            matmul(&dz, &wt, &mut f, o, i);
            reference::matmul_nt(&dz, &w, &mut s, i, o);
            check(&f, &s, "dx = dz * w^T");
        }
    }
    force(detect());
}

#[test]
fn every_simd_level_gives_identical_results() {
    use digits::nn::kernels::matmul;
    use digits::nn::simd::{detect, force, Level};
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (n, i, o) = (9, 57, 25);
    let x = random(&mut rng, n * i);
    let w = random(&mut rng, i * o);
    let mut outs = Vec::new();
    for level in [Level::Portable, Level::Avx2, Level::Avx512] {
        if level <= detect() {
            force(level);
            let mut y = vec![0.0; n * o];
            matmul(&x, &w, &mut y, i, o);
            outs.push(y);
        }
    }
    force(detect());
    assert!(outs.windows(2).all(|p| p[0] == p[1]));
}

#[test]
fn sparse_rows_are_the_same_at_every_simd_level_and_match_dense_kernels() {
    use digits::nn::kernels::{reference, sparse_matmul, sparse_matmul_tn, SparseRows};
    use digits::nn::simd::{detect, force, Level};
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for cols in [7usize, 16, 33, 784] {
        let n = 5;
        let mut x: Vec<f32> = (0..n * cols)
            .map(|_| {
                if rng.gen_bool(0.7) {
                    0.0
                } else {
                    rng.gen_range(-1.0..1.0)
                }
            })
            .collect();
        x[1] = -0.0; // counts as zero
        x[2] = f32::NAN; // kept: NaN must reach the loss
        let mut seen = Vec::new();
        for level in [Level::Portable, Level::Avx2, Level::Avx512] {
            if level > detect() {
                continue;
            }
            force(level);
            let mut s = SparseRows::with_capacity(n, cols);
            s.fill(&x, cols);
            let end = s.ptr[n];
            let entries: Vec<(u32, u32)> =
                (0..end).map(|e| (s.idx[e], s.val[e].to_bits())).collect();
            seen.push((s.ptr.clone(), entries));
        }
        force(detect());
        assert!(seen.windows(2).all(|p| p[0] == p[1]), "cols {cols}");
        let (ptr, entries) = &seen[0];
        let nonzero: Vec<(u32, u32)> = x
            .chunks(cols)
            .flat_map(|r| {
                r.iter()
                    .enumerate()
                    .filter(|(_, v)| **v != 0.0 || v.is_nan())
                    .map(|(k, v)| (k as u32, v.to_bits()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(entries, &nonzero);
        assert_eq!(ptr.len(), n + 1);

        // Sparse products equal the dense references (on the NaN-free part).
        x[2] = 0.5;
        let mut s = SparseRows::with_capacity(n, cols);
        s.fill(&x, cols);
        for o in [3usize, 25] {
            let w = random(&mut rng, cols * o);
            let dz = random(&mut rng, n * o);
            let (mut f, mut r) = (vec![9.0; n * o], vec![0.0; n * o]);
            sparse_matmul(&s, &w, &mut f, o);
            reference::matmul(&x, &w, &mut r, cols, o);
            assert!(f.iter().zip(&r).all(|(a, b)| (a - b).abs() < 1e-4));
            let (mut f, mut r) = (vec![9.0; cols * o], vec![0.0; cols * o]);
            sparse_matmul_tn(&s, &dz, &mut f, o);
            reference::matmul_tn(&x, &dz, &mut r, cols, o);
            assert!(f.iter().zip(&r).all(|(a, b)| (a - b).abs() < 1e-4));
        }
    }
}

#[test]
fn byte_rows_list_the_same_nonzeros_as_their_scaled_values_at_every_simd_level() {
    use digits::nn::kernels::SparseRows;
    use digits::nn::simd::{detect, force, Level};
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    // Random rows, and one with every byte value (each must scale exactly as x / 255).
    for cols in [5usize, 16, 37, 784, 256] {
        let row: Vec<u8> = (0..cols)
            .map(|i| match cols {
                256 => i as u8,
                _ if rng.gen_bool(0.6) => 0,
                _ => rng.gen(),
            })
            .collect();
        for unit in [true, false] {
            let scaled: Vec<f32> = row
                .iter()
                .map(|&v| if unit { v as f32 / 255.0 } else { v as f32 })
                .collect();
            for level in [Level::Portable, Level::Avx2, Level::Avx512] {
                if level > detect() {
                    continue;
                }
                force(level);
                let (mut a, mut b) = (SparseRows::default(), SparseRows::default());
                a.clear();
                a.push_row_u8(&row, unit);
                b.fill(&scaled, cols);
                let end = b.ptr[1];
                assert_eq!(a.ptr, b.ptr, "{level:?} cols {cols}");
                assert_eq!(a.idx[..end], b.idx[..end], "{level:?} cols {cols}");
                assert_eq!(
                    a.val[..end],
                    b.val[..end],
                    "{level:?} cols {cols} unit {unit}"
                );
            }
            force(detect());
        }
    }
}
