//! Convolution and pooling kernels agree with definitions written out here, with their slow
//! twins in `kernels::reference`, and with finite differences, at every SIMD level.

use digits::nn::kernels::{
    conv2d_backward, conv2d_backward_packed, conv2d_forward, conv2d_forward_packed,
    maxpool2_backward, maxpool2_forward, pack_weights, pack_weights_transposed_into, reference,
    ConvShape,
};
use digits::nn::simd::{detect, force, Level};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Mutex;

fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// Random shapes covering valid and same padding, k = 1, 3, 5, one and many channels, plus the
/// two layers of the Keras convnet (small batches).
fn shapes(rng: &mut ChaCha8Rng) -> Vec<ConvShape> {
    let mut v = vec![
        ConvShape {
            n: 2,
            h: 28,
            w: 28,
            cin: 1,
            k: 3,
            pad: 0,
            cout: 32,
        },
        ConvShape {
            n: 2,
            h: 13,
            w: 13,
            cin: 32,
            k: 3,
            pad: 0,
            cout: 64,
        },
        ConvShape {
            n: 1,
            h: 7,
            w: 9,
            cin: 3,
            k: 5,
            pad: 2,
            cout: 5,
        },
        ConvShape {
            n: 3,
            h: 5,
            w: 4,
            cin: 2,
            k: 1,
            pad: 0,
            cout: 3,
        },
        ConvShape {
            n: 1,
            h: 3,
            w: 3,
            cin: 4,
            k: 3,
            pad: 0,
            cout: 1,
        },
    ];
    // A line reader's shapes: images a few rows high, or one, where most kernel rows read only
    // padding (and 16 channels or more, whose input gradient is added in place), and its first
    // layer's (one channel in, 16 out: the weight gradient reads dz as its own panel; 20 out:
    // a second, partial panel), whose forward pass has a kernel of its own with AVX-512; and 32
    // or 64 channels in, whose input gradient takes two panels at a time with AVX-512 (as the
    // forward pass does 32 or more channels out: two panels, then a full or partial one).
    for (h, w, cin, cout) in [
        (6, 29, 1, 16),
        (1, 13, 1, 16),
        (2, 5, 1, 20),
        (1, 10, 16, 20),
        (3, 7, 64, 24),
        (1, 3, 64, 16),
        (4, 6, 32, 16),
        (2, 5, 16, 33),
        (3, 4, 8, 48),
    ] {
        v.push(ConvShape {
            n: 2,
            h,
            w,
            cin,
            k: 3,
            pad: 1,
            cout,
        });
    }
    v.push(ConvShape {
        n: 2,
        h: 2,
        w: 4,
        cin: 16,
        k: 5,
        pad: 2,
        cout: 7,
    });
    for _ in 0..12 {
        let k = [1, 3, 3, 5][rng.gen_range(0..4)];
        let pad = if rng.gen_bool(0.5) { 0 } else { (k - 1) / 2 };
        v.push(ConvShape {
            n: rng.gen_range(1..4),
            h: rng.gen_range(k - 2 * pad..k + 9),
            w: rng.gen_range(k..k + 9),
            cin: rng.gen_range(1..12),
            k,
            pad,
            cout: rng.gen_range(1..40),
        });
    }
    v
}

/// The SIMD level is process-wide: tests that force it hold this lock, so that another test
/// cannot switch it between the two calls a test compares.
static LEVEL: Mutex<()> = Mutex::new(());

fn levels() -> Vec<Level> {
    [Level::Portable, Level::Avx2, Level::Avx512]
        .into_iter()
        .filter(|&l| l <= detect())
        .collect()
}

/// The convolution as a scatter: every input value times every kernel tap adds to one output.
fn conv_by_scatter(s: &ConvShape, x: &[f32], w: &[f32], b: &[f32]) -> Vec<f64> {
    let (oh, ow) = (s.oh() as isize, s.ow() as isize);
    let mut z = vec![0.0f64; s.out_len()];
    for (i, zv) in z.iter_mut().enumerate() {
        *zv = b[i % s.cout] as f64;
    }
    for n in 0..s.n {
        for iy in 0..s.h {
            for ix in 0..s.w {
                for ky in 0..s.k {
                    for kx in 0..s.k {
                        let oy = iy as isize + s.pad as isize - ky as isize;
                        let ox = ix as isize + s.pad as isize - kx as isize;
                        if oy < 0 || ox < 0 || oy >= oh || ox >= ow {
                            continue;
                        }
                        let zo = ((n as isize * oh + oy) * ow + ox) as usize * s.cout;
                        for ci in 0..s.cin {
                            let xv = x[((n * s.h + iy) * s.w + ix) * s.cin + ci] as f64;
                            let wo = ((ky * s.k + kx) * s.cin + ci) * s.cout;
                            for co in 0..s.cout {
                                z[zo + co] += xv * w[wo + co] as f64;
                            }
                        }
                    }
                }
            }
        }
    }
    z
}

/// Every result in `runs` has the same bits as the first.
fn same_bits(runs: &[Vec<f32>], what: &str) {
    for run in runs.iter().skip(1) {
        let differ = run
            .iter()
            .zip(&runs[0])
            .position(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(differ, None, "{what}: the SIMD levels differ");
    }
}

fn close(a: f32, b: f64, tol: f64) -> bool {
    (a as f64 - b).abs() <= tol * (1.0 + b.abs())
}

#[test]
fn conv_forward_matches_its_definition_at_every_simd_level() {
    let _level = LEVEL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for s in shapes(&mut rng) {
        let x = random(&mut rng, s.in_len());
        let w = random(&mut rng, s.weight_len());
        let b = random(&mut rng, s.cout);
        let want = conv_by_scatter(&s, &x, &w, &b);
        let mut slow = vec![0.0; s.out_len()];
        reference::conv2d_forward(&s, &x, &w, &b, &mut slow);
        for (i, (&z, &t)) in slow.iter().zip(&want).enumerate() {
            assert!(close(z, t, 1e-5), "reference {s:?} at {i}: {z} vs {t}");
        }
        let mut fused = Vec::new();
        for level in levels() {
            force(level);
            let mut z = vec![f32::NAN; s.out_len()];
            let mut scratch = vec![f32::NAN; s.scratch_len()];
            conv2d_forward(&s, &x, &w, &b, &mut z, &mut scratch);
            for (i, (&z, &t)) in z.iter().zip(&want).enumerate() {
                assert!(close(z, t, 1e-4), "{level:?} {s:?} at {i}: {z} vs {t}");
            }
            // With the weights packed beforehand (reading): the same bits.
            let mut zp = vec![f32::NAN; s.out_len()];
            conv2d_forward_packed(&s, &x, &pack_weights(&s, &w), &b, &mut zp, &mut scratch);
            same_bits(
                &[z.clone(), zp],
                &format!("{level:?} packed beforehand {s:?}"),
            );
            if level >= Level::Avx2 {
                fused.push(z);
            }
        }
        // AVX2 and AVX-512 fuse and order the same sums: the same bits.
        same_bits(&fused, &format!("forward {s:?}"));
    }
    force(detect());
}

/// L = sum(z * r) in f64, so dL/dz = r; L is linear in w, b and x, so central differences are
/// exact up to rounding whatever the step.
fn loss(s: &ConvShape, x: &[f32], w: &[f32], b: &[f32], r: &[f32]) -> f64 {
    let mut z = vec![0.0; s.out_len()];
    let mut scratch = vec![0.0; s.scratch_len()];
    conv2d_forward(s, x, w, b, &mut z, &mut scratch);
    z.iter().zip(r).map(|(&z, &r)| z as f64 * r as f64).sum()
}

fn central(f: impl Fn(f32) -> f64, v: f32) -> f64 {
    let h = 0.5f32;
    (f(v + h) - f(v - h)) / (2.0 * h as f64)
}

#[test]
fn conv_backward_matches_finite_differences_and_its_twin_at_every_simd_level() {
    let _level = LEVEL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for s in shapes(&mut rng).into_iter().skip(2) {
        let x = random(&mut rng, s.in_len());
        let w = random(&mut rng, s.weight_len());
        let b = random(&mut rng, s.cout);
        let dz = random(&mut rng, s.out_len());
        // Finite differences of the forward at a few coordinates of each gradient.
        let mut fd_w = Vec::new();
        for _ in 0..6 {
            let i = rng.gen_range(0..w.len());
            let g = central(
                |v| {
                    let mut w2 = w.clone();
                    w2[i] = v;
                    loss(&s, &x, &w2, &b, &dz)
                },
                w[i],
            );
            fd_w.push((i, g));
        }
        let mut fd_x = Vec::new();
        for _ in 0..6 {
            let i = rng.gen_range(0..x.len());
            let g = central(
                |v| {
                    let mut x2 = x.clone();
                    x2[i] = v;
                    loss(&s, &x2, &w, &b, &dz)
                },
                x[i],
            );
            fd_x.push((i, g));
        }
        let co = rng.gen_range(0..s.cout);
        let fd_b = central(
            |v| {
                let mut b2 = b.clone();
                b2[co] = v;
                loss(&s, &x, &w, &b2, &dz)
            },
            b[co],
        );
        let (mut sw, mut sb, mut sx) = (vec![0.0; w.len()], vec![0.0; s.cout], vec![0.0; x.len()]);
        reference::conv2d_backward(&s, &x, &dz, &w, &mut sw, &mut sb, Some(&mut sx));
        let mut fused = Vec::new();
        for level in levels() {
            force(level);
            // Garbage in the outputs: they must be overwritten, not accumulated into.
            let (mut dw, mut db, mut dx) =
                (vec![7.0; w.len()], vec![7.0; s.cout], vec![7.0; x.len()]);
            let mut scratch = vec![f32::NAN; s.scratch_len()];
            conv2d_backward(
                &s,
                &x,
                &dz,
                &w,
                &mut dw,
                &mut db,
                Some(&mut dx),
                &mut scratch,
            );
            let tag = format!("{level:?} {s:?}");
            for &(i, g) in &fd_w {
                assert!(close(dw[i], g, 1e-3), "{tag} dw[{i}]: {} vs {g}", dw[i]);
            }
            for &(i, g) in &fd_x {
                assert!(close(dx[i], g, 1e-3), "{tag} dx[{i}]: {} vs {g}", dx[i]);
            }
            assert!(close(db[co], fd_b, 1e-3), "{tag} db: {} vs {fd_b}", db[co]);
            for (name, fast, slow) in [("dw", &dw, &sw), ("db", &db, &sb), ("dx", &dx, &sx)] {
                for (i, (&f, &r)) in fast.iter().zip(slow.iter()).enumerate() {
                    assert!(close(f, r as f64, 1e-4), "{tag} {name}[{i}]: {f} vs {r}");
                }
            }
            // With W^T packed beforehand (a training step's passes): the same bits.
            let mut wt = vec![0.0; s.packed_t_len()];
            pack_weights_transposed_into(&s, &w, &mut wt);
            let (mut dw3, mut db3, mut dx3) =
                (vec![5.0; w.len()], vec![5.0; s.cout], vec![5.0; x.len()]);
            conv2d_backward_packed(
                &s,
                &x,
                &dz,
                &wt,
                &mut dw3,
                &mut db3,
                Some(&mut dx3),
                &mut scratch,
            );
            same_bits(
                &[
                    [dw.clone(), db.clone(), dx.clone()].concat(),
                    [dw3, db3, dx3].concat(),
                ],
                &format!("{tag} packed beforehand"),
            );
            // Without dx, dw and db are the same.
            let (mut dw2, mut db2) = (vec![-3.0; w.len()], vec![-3.0; s.cout]);
            conv2d_backward(&s, &x, &dz, &w, &mut dw2, &mut db2, None, &mut scratch);
            assert_eq!((&dw2, &db2), (&dw, &db), "{tag} without dx");
            if level >= Level::Avx2 {
                fused.push([dw, db, dx].concat());
            }
        }
        same_bits(&fused, &format!("backward {s:?}"));
    }
    force(detect());
}

/// Values on a coarse grid so that windows often hold ties.
fn coarse(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-2..3) as f32).collect()
}

#[test]
fn maxpool_matches_its_definition_with_ties_and_odd_sizes_at_every_simd_level() {
    let _level = LEVEL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mut cases = vec![(2, 26, 26, 32), (2, 11, 11, 64), (1, 2, 2, 1), (3, 5, 4, 3)];
    for _ in 0..10 {
        cases.push((
            rng.gen_range(1..4),
            rng.gen_range(2..12),
            rng.gen_range(2..12),
            rng.gen_range(1..20),
        ));
    }
    for (n, h, w, c) in cases {
        let x = coarse(&mut rng, n * h * w * c);
        let (ph, pw) = (h / 2, w / 2);
        let len = n * ph * pw * c;
        let dy = random(&mut rng, len);
        // The definition: the window's values in order top-left, top-right, bottom-left,
        // bottom-right; the first index holding the maximum.
        let mut want = Vec::new();
        let mut want_dx = vec![0.0f32; x.len()];
        for i in 0..n {
            for py in 0..ph {
                for px in 0..pw {
                    for ch in 0..c {
                        let idx =
                            |q: usize| ((i * h + 2 * py + q / 2) * w + 2 * px + q % 2) * c + ch;
                        let vals: Vec<f32> = (0..4).map(|q| x[idx(q)]).collect();
                        let m = vals.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                        let q = vals.iter().position(|&v| v == m).unwrap();
                        want_dx[idx(q)] = dy[want.len()];
                        want.push((m, q as u8));
                    }
                }
            }
        }
        for level in levels() {
            force(level);
            let mut y = vec![f32::NAN; len];
            let mut arg = vec![9u8; len];
            maxpool2_forward(n, h, w, c, &x, &mut y, &mut arg);
            let got: Vec<(f32, u8)> = y.iter().cloned().zip(arg.iter().cloned()).collect();
            assert_eq!(got, want, "{level:?} ({n}, {h}, {w}, {c})");
            let mut dx = vec![5.0; x.len()];
            maxpool2_backward(n, h, w, c, &dy, &arg, &mut dx);
            assert_eq!(dx, want_dx, "{level:?} ({n}, {h}, {w}, {c}) backward");
        }
    }
    force(detect());
}
