//! Slow, obvious convolution and pooling (f64 sums), the twins the fast kernels are tested
//! against. Shapes and layouts as in `conv.rs` and `pool2d.rs`.

use super::conv::ConvShape;

/// x[n, iy, ix, ci] with zero outside the image (iy, ix may be "negative" via wrapping).
fn at(s: &ConvShape, x: &[f32], n: usize, iy: isize, ix: isize, ci: usize) -> f64 {
    if iy < 0 || ix < 0 || iy >= s.h as isize || ix >= s.w as isize {
        return 0.0;
    }
    x[((n * s.h + iy as usize) * s.w + ix as usize) * s.cin + ci] as f64
}

/// The input row/column under output (oy, ox) and kernel tap (ky, kx).
fn src(s: &ConvShape, o: usize, t: usize) -> isize {
    o as isize + t as isize - s.pad as isize
}

fn widx(s: &ConvShape, ky: usize, kx: usize, ci: usize, co: usize) -> usize {
    ((ky * s.k + kx) * s.cin + ci) * s.cout + co
}

/// z = conv(x) + b.
pub fn conv2d_forward(s: &ConvShape, x: &[f32], w: &[f32], b: &[f32], z: &mut [f32]) {
    let (oh, ow) = (s.oh(), s.ow());
    for n in 0..s.n {
        for oy in 0..oh {
            for ox in 0..ow {
                for co in 0..s.cout {
                    let mut acc = b[co] as f64;
                    for ky in 0..s.k {
                        for kx in 0..s.k {
                            for ci in 0..s.cin {
                                let xv = at(s, x, n, src(s, oy, ky), src(s, ox, kx), ci);
                                acc += xv * w[widx(s, ky, kx, ci, co)] as f64;
                            }
                        }
                    }
                    z[((n * oh + oy) * ow + ox) * s.cout + co] = acc as f32;
                }
            }
        }
    }
}

/// dw, db (overwritten) and dx (overwritten when given) for dz = dL/dz.
pub fn conv2d_backward(
    s: &ConvShape,
    x: &[f32],
    dz: &[f32],
    w: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    dx: Option<&mut [f32]>,
) {
    let (oh, ow) = (s.oh(), s.ow());
    let dzat = |n: usize, oy: usize, ox: usize, co: usize| {
        dz[((n * oh + oy) * ow + ox) * s.cout + co] as f64
    };
    for (co, d) in db.iter_mut().enumerate() {
        let mut acc = 0.0f64;
        for n in 0..s.n {
            for oy in 0..oh {
                for ox in 0..ow {
                    acc += dzat(n, oy, ox, co);
                }
            }
        }
        *d = acc as f32;
    }
    for ky in 0..s.k {
        for kx in 0..s.k {
            for ci in 0..s.cin {
                for co in 0..s.cout {
                    let mut acc = 0.0f64;
                    for n in 0..s.n {
                        for oy in 0..oh {
                            for ox in 0..ow {
                                let xv = at(s, x, n, src(s, oy, ky), src(s, ox, kx), ci);
                                acc += xv * dzat(n, oy, ox, co);
                            }
                        }
                    }
                    dw[widx(s, ky, kx, ci, co)] = acc as f32;
                }
            }
        }
    }
    let Some(dx) = dx else { return };
    assert_eq!(dx.len(), s.in_len(), "conv dx length");
    for n in 0..s.n {
        for iy in 0..s.h {
            for ix in 0..s.w {
                for ci in 0..s.cin {
                    let mut acc = 0.0f64;
                    for ky in 0..s.k {
                        for kx in 0..s.k {
                            // Output (oy, ox) reads input (oy + ky - pad, ox + kx - pad).
                            let oy = iy as isize - ky as isize + s.pad as isize;
                            let ox = ix as isize - kx as isize + s.pad as isize;
                            if oy < 0 || ox < 0 || oy >= oh as isize || ox >= ow as isize {
                                continue;
                            }
                            for co in 0..s.cout {
                                acc += dzat(n, oy as usize, ox as usize, co)
                                    * w[widx(s, ky, kx, ci, co)] as f64;
                            }
                        }
                    }
                    dx[((n * s.h + iy) * s.w + ix) * s.cin + ci] = acc as f32;
                }
            }
        }
    }
}

/// 2x2 stride-2 max pooling, first maximum wins.
pub fn maxpool2_forward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    x: &[f32],
    y: &mut [f32],
    argmax: &mut [u8],
) {
    let (ph, pw) = (h / 2, w / 2);
    for i in 0..n {
        for py in 0..ph {
            for px in 0..pw {
                for ch in 0..c {
                    let mut best = f32::NEG_INFINITY;
                    let mut arg = 0u8;
                    for q in 0..4 {
                        let (dy, dx) = (q / 2, q % 2);
                        let v = x[((i * h + 2 * py + dy) * w + 2 * px + dx) * c + ch];
                        if q == 0 || v > best {
                            best = v;
                            arg = q as u8;
                        }
                    }
                    let o = ((i * ph + py) * pw + px) * c + ch;
                    y[o] = best;
                    argmax[o] = arg;
                }
            }
        }
    }
}

/// dx = dy at each window's argmax, zero elsewhere.
pub fn maxpool2_backward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    dy: &[f32],
    argmax: &[u8],
    dx: &mut [f32],
) {
    dx.iter_mut().for_each(|v| *v = 0.0);
    let (ph, pw) = (h / 2, w / 2);
    for i in 0..n {
        for py in 0..ph {
            for px in 0..pw {
                for ch in 0..c {
                    let o = ((i * ph + py) * pw + px) * c + ch;
                    let q = argmax[o] as usize;
                    dx[((i * h + 2 * py + q / 2) * w + 2 * px + q % 2) * c + ch] = dy[o];
                }
            }
        }
    }
}
