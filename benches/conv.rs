//! The convolution and pooling kernels on the Keras mnist_convnet's layer shapes, one thread,
//! batch 64: Conv(1->32, 3x3) on 28x28 and Conv(32->64, 3x3) on 13x13, forward and backward,
//! and the 2x2 max pools after them. Throughput in images. Then the line reader's first
//! convolution (one line 32 x 160, one channel in) and its last two (the line 40 columns wide
//! by then, 4 rows and 1 row high), `same` padding, as reading runs them: forward with the
//! weights packed on the call and packed beforehand; and its 2x1 and 4x1 max pools (a line 320
//! pixels wide: 80 columns of 64 channels, 8 and 4 rows high).
//! (examples/cnn_step_bench prints GFLOP/s and the whole stack's samples/s.)

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use digits::nn::kernels::{
    conv2d_backward, conv2d_forward, conv2d_forward_packed, flush_denormals, maxpool2_backward,
    maxpool2_forward, maxpool_forward, pack_weights, ConvShape,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

const N: usize = 64;

fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

fn conv(c: &mut Criterion, name: &str, s: ConvShape, with_dx: bool) {
    flush_denormals();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x = random(&mut rng, s.in_len());
    let w = random(&mut rng, s.weight_len());
    let b = random(&mut rng, s.cout);
    let dz = random(&mut rng, s.out_len());
    let mut z = vec![0.0; s.out_len()];
    let (mut dw, mut db, mut dx) = (vec![0.0; w.len()], vec![0.0; s.cout], vec![0.0; x.len()]);
    let mut scratch = vec![0.0; s.scratch_len()];
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(s.n as u64));
    g.bench_function("forward", |bch| {
        bch.iter(|| conv2d_forward(&s, black_box(&x), &w, &b, &mut z, &mut scratch))
    });
    g.bench_function("backward", |bch| {
        bch.iter(|| {
            let dx = with_dx.then_some(dx.as_mut_slice());
            conv2d_backward(
                &s,
                black_box(&x),
                &dz,
                &w,
                &mut dw,
                &mut db,
                dx,
                &mut scratch,
            )
        })
    });
    g.finish();
}

fn convs(c: &mut Criterion) {
    let c1 = ConvShape {
        n: N,
        h: 28,
        w: 28,
        cin: 1,
        k: 3,
        pad: 0,
        cout: 32,
    };
    let c2 = ConvShape {
        n: N,
        h: 13,
        w: 13,
        cin: 32,
        k: 3,
        pad: 0,
        cout: 64,
    };
    // The first layer needs no dx (its input is the image).
    conv(c, "conv1_28x28_1to32", c1, false);
    conv(c, "conv2_13x13_32to64", c2, true);
}

/// One line's convolution as reading runs it: packing the weights on the call, or not.
fn conv_reading(c: &mut Criterion, name: &str, s: ConvShape) {
    flush_denormals();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x = random(&mut rng, s.in_len());
    let w = random(&mut rng, s.weight_len());
    let b = random(&mut rng, s.cout);
    let packed = pack_weights(&s, &w);
    let mut z = vec![0.0; s.out_len()];
    let mut scratch = vec![0.0; s.scratch_len()];
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(s.n as u64));
    g.bench_function("forward", |bch| {
        bch.iter(|| conv2d_forward(&s, black_box(&x), &w, &b, &mut z, &mut scratch))
    });
    g.bench_function("forward_packed_beforehand", |bch| {
        bch.iter(|| conv2d_forward_packed(&s, black_box(&x), &packed, &b, &mut z, &mut scratch))
    });
    g.finish();
}

fn line_convs(c: &mut Criterion) {
    let line = |h, cin, cout| ConvShape {
        n: 1,
        h,
        w: 40,
        cin,
        k: 3,
        pad: 1,
        cout,
    };
    // The first layer (one channel in): a whole line 32 rows high.
    conv_reading(
        c,
        "line_32x160_1to16",
        ConvShape {
            w: 160,
            ..line(32, 1, 16)
        },
    );
    conv_reading(c, "line_4x40_64to64", line(4, 64, 64));
    conv_reading(c, "line_1x40_64to128", line(1, 64, 128));
}

fn pools(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut g = c.benchmark_group("maxpool2_26x26x32");
    g.throughput(Throughput::Elements(N as u64));
    let (h, w, ch) = (26, 26, 32);
    let x = random(&mut rng, N * h * w * ch);
    let mut y = vec![0.0; N * (h / 2) * (w / 2) * ch];
    let mut arg = vec![0u8; y.len()];
    let mut dx = vec![0.0; x.len()];
    g.bench_function("forward", |b| {
        b.iter(|| maxpool2_forward(N, h, w, ch, black_box(&x), &mut y, &mut arg))
    });
    let dy = y.clone();
    g.bench_function("backward", |b| {
        b.iter(|| maxpool2_backward(N, h, w, ch, black_box(&dy), &arg, &mut dx))
    });
    g.finish();
    for (h, window, name) in [
        (8, (2, 1), "maxpool2x1_8x80x64"),
        (4, (4, 1), "maxpool4x1_4x80x64"),
    ] {
        let (w, ch) = (80, 64);
        let x = random(&mut rng, h * w * ch);
        let mut y = vec![0.0; (h / window.0) * w * ch];
        let mut arg = vec![0u8; y.len()];
        c.bench_function(&format!("{name}/forward"), |b| {
            b.iter(|| maxpool_forward(1, h, w, ch, window, black_box(&x), &mut y, &mut arg))
        });
    }
}

criterion_group!(benches, convs, line_convs, pools);
criterion_main!(benches);
