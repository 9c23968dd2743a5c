//! Max pooling over ph x pw windows (the 2x1 and 1x2 pooling a line reader needs): against a
//! plain reference (ties to the first maximum), against the 2x2 kernel, and its backward pass
//! against finite differences.

use digits::nn::kernels::{
    maxpool2_backward, maxpool2_forward, maxpool_backward, maxpool_forward, pooled_size,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Plain loops: each window's first maximum and its position.
fn reference(
    n: usize,
    (h, w, c): (usize, usize, usize),
    (ph, pw): (usize, usize),
    x: &[f32],
) -> (Vec<f32>, Vec<u8>) {
    let (oh, ow) = (h / ph, w / pw);
    let (mut y, mut arg) = (vec![], vec![]);
    for img in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..c {
                    let (mut best, mut at) = (f32::NEG_INFINITY, 0);
                    for q in 0..ph * pw {
                        let (iy, ix) = (oy * ph + q / pw, ox * pw + q % pw);
                        let v = x[((img * h + iy) * w + ix) * c + ch];
                        if q == 0 || v > best {
                            (best, at) = (v, q as u8);
                        }
                    }
                    y.push(best);
                    arg.push(at);
                }
            }
        }
    }
    (y, arg)
}

const SHAPES: [(usize, usize, usize); 4] = [(8, 12, 3), (7, 9, 16), (4, 33, 1), (6, 5, 9)];
const WINDOWS: [(usize, usize); 6] = [(2, 1), (1, 2), (2, 2), (3, 2), (1, 1), (4, 4)];

#[test]
fn windows_match_the_reference_with_ties() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for (h, w, c) in SHAPES {
        for (ph, pw) in WINDOWS {
            if h < ph || w < pw {
                continue;
            }
            let n = 2;
            // Few distinct values: many ties, which must go to the first maximum.
            let x: Vec<f32> = (0..n * h * w * c)
                .map(|_| rng.gen_range(-3..3) as f32 * 0.5)
                .collect();
            let (want_y, want_arg) = reference(n, (h, w, c), (ph, pw), &x);
            let mut y = vec![0.0; want_y.len()];
            let mut arg = vec![0u8; y.len()];
            maxpool_forward(n, h, w, c, (ph, pw), &x, &mut y, &mut arg);
            assert_eq!(y, want_y, "{h}x{w}x{c} pooled {ph}x{pw}");
            assert_eq!(arg, want_arg, "{h}x{w}x{c} pooled {ph}x{pw}");
            if (ph, pw) == (2, 2) {
                let (mut y2, mut arg2) = (vec![0.0; y.len()], vec![0u8; y.len()]);
                maxpool2_forward(n, h, w, c, &x, &mut y2, &mut arg2);
                assert_eq!((y2, arg2), (y.clone(), arg.clone()));
                let dy: Vec<f32> = (0..y.len()).map(|i| i as f32 + 1.0).collect();
                let (mut dx, mut dx2) = (vec![f32::NAN; x.len()], vec![f32::NAN; x.len()]);
                maxpool_backward(n, h, w, c, (ph, pw), &dy, &arg, &mut dx);
                maxpool2_backward(n, h, w, c, &dy, &arg, &mut dx2);
                assert_eq!(dx, dx2, "{h}x{w}x{c}");
            }
        }
    }
}

#[test]
fn backward_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for (h, w, c) in SHAPES {
        for (ph, pw) in WINDOWS {
            if h < ph || w < pw {
                continue;
            }
            let n = 2;
            // Distinct values, far enough apart that a step of 1e-2 changes no window's winner.
            let mut x: Vec<f32> = (0..n * h * w * c).map(|i| i as f32 * 0.1).collect();
            for i in (1..x.len()).rev() {
                x.swap(i, rng.gen_range(0..=i));
            }
            let (oh, ow) = pooled_size(h, w, ph, pw).unwrap();
            let out = n * oh * ow * c;
            let dy: Vec<f32> = (0..out).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let loss = |x: &[f32]| -> f64 {
                let (mut y, mut arg) = (vec![0.0; out], vec![0u8; out]);
                maxpool_forward(n, h, w, c, (ph, pw), x, &mut y, &mut arg);
                y.iter().zip(&dy).map(|(&a, &b)| a as f64 * b as f64).sum()
            };
            let (mut y, mut arg) = (vec![0.0; out], vec![0u8; out]);
            maxpool_forward(n, h, w, c, (ph, pw), &x, &mut y, &mut arg);
            let mut dx = vec![f32::NAN; x.len()];
            maxpool_backward(n, h, w, c, (ph, pw), &dy, &arg, &mut dx);
            for i in 0..x.len() {
                let v = x[i];
                let (hi, lo) = (v + 1e-2, v - 1e-2);
                x[i] = hi;
                let up = loss(&x);
                x[i] = lo;
                let down = loss(&x);
                x[i] = v;
                // Divided by the step actually taken in f32.
                let numeric = (up - down) / (hi as f64 - lo as f64);
                assert!(
                    (numeric - dx[i] as f64).abs() < 1e-4,
                    "{h}x{w}x{c} pooled {ph}x{pw}, input {i}: {} vs {numeric}",
                    dx[i]
                );
            }
        }
    }
}

#[test]
fn windows_that_do_not_fit_are_errors() {
    assert_eq!(pooled_size(32, 100, 2, 1), Ok((16, 100)));
    assert_eq!(pooled_size(7, 5, 2, 2), Ok((3, 2)));
    let e = pooled_size(1, 100, 2, 1).unwrap_err();
    assert!(
        e.contains("2x1 pooling window does not fit a 1x100 input"),
        "{e}"
    );
    let e = pooled_size(8, 8, 0, 2).unwrap_err();
    assert!(e.contains("0x2 pooling window"), "{e}");
}
