//! Speed of the convolution kernels on the Keras mnist_convnet stack, one thread, batch 64:
//! Conv(1->32, 3x3) ReLU, pool 2, Conv(32->64, 3x3) ReLU, pool 2, Dense 1600->10, forward and
//! backward (no optimizer). Prints each kernel's best time and GFLOP/s, then the whole step's
//! samples/s and GFLOP/s (best of `--reps` steps, default 30), and inference samples/s.
//! Times are this thread's CPU time (best wall time in brackets), so that other processes on a
//! shared machine count less. `--threads T` then runs T such steps at once, one batch per
//! thread (as the trainer splits a batch of 128 over 2 threads), and prints the wall-clock
//! samples/s of all of them together.
//!
//!     cargo run --release --example cnn_step_bench [-- --reps 30 --batch 64 --threads 2]

use digits::nn::kernels::{
    conv2d_backward, conv2d_forward, flush_denormals, gemm, maxpool2_backward, maxpool2_forward,
    ConvShape,
};
use digits::nn::{Init, ModelSpec, Sequential};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

/// This thread's CPU time in seconds: on a shared machine it leaves out the time other
/// processes held the core (wall time is printed too).
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Best thread-CPU time of `reps` runs of f, in seconds (and the best wall time printed).
fn best(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let (mut cpu, mut wall) = (f64::INFINITY, f64::INFINITY);
    let mut walls = Vec::with_capacity(reps);
    for _ in 0..reps {
        let (t, c) = (Instant::now(), thread_cpu());
        f();
        cpu = cpu.min(thread_cpu() - c);
        let w = t.elapsed().as_secs_f64();
        walls.push(w);
        wall = wall.min(w);
    }
    walls.sort_by(f64::total_cmp);
    print!(
        "[wall {:>8.1} us, median {:>8.1}] ",
        wall * 1e6,
        walls[walls.len() / 2] * 1e6
    );
    cpu
}

fn random(rng: &mut ChaCha8Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-scale..scale)).collect()
}

fn relu_mask(z: &mut [f32]) {
    z.iter_mut().for_each(|v| *v = v.max(0.0));
}

/// dz = dy where the ReLU output y was positive (a select, not a branch: a mispredicted
/// branch per value costs more than the whole convolution backward on these sizes).
fn relu_back(y: &[f32], dy: &mut [f32]) {
    for (d, &v) in dy.iter_mut().zip(y) {
        *d = if v > 0.0 { *d } else { 0.0 };
    }
}

struct Net {
    c1: ConvShape,
    c2: ConvShape,
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
    w3: Vec<f32>,
    x: Vec<f32>,
    z1: Vec<f32>,
    p1: Vec<f32>,
    a1: Vec<u8>,
    z2: Vec<f32>,
    p2: Vec<f32>,
    a2: Vec<u8>,
    logits: Vec<f32>,
    dw1: Vec<f32>,
    db1: Vec<f32>,
    dw2: Vec<f32>,
    db2: Vec<f32>,
    dw3: Vec<f32>,
    dp2: Vec<f32>,
    dz2: Vec<f32>,
    dp1: Vec<f32>,
    dz1: Vec<f32>,
    scratch: Vec<f32>,
}

impl Net {
    fn new(n: usize) -> Net {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let c1 = ConvShape {
            n,
            h: 28,
            w: 28,
            cin: 1,
            k: 3,
            pad: 0,
            cout: 32,
        };
        let c2 = ConvShape {
            n,
            h: 13,
            w: 13,
            cin: 32,
            k: 3,
            pad: 0,
            cout: 64,
        };
        let x = (0..c1.in_len())
            .map(|_| if rng.gen_bool(0.19) { rng.gen() } else { 0.0 })
            .collect();
        Net {
            w1: random(&mut rng, c1.weight_len(), 0.3),
            b1: random(&mut rng, 32, 0.1),
            w2: random(&mut rng, c2.weight_len(), 0.08),
            b2: random(&mut rng, 64, 0.1),
            w3: random(&mut rng, 1600 * 10, 0.05),
            x,
            z1: vec![0.0; c1.out_len()],
            p1: vec![0.0; c2.in_len()],
            a1: vec![0; c2.in_len()],
            z2: vec![0.0; c2.out_len()],
            p2: vec![0.0; n * 1600],
            a2: vec![0; n * 1600],
            logits: vec![0.0; n * 10],
            dw1: vec![0.0; c1.weight_len()],
            db1: vec![0.0; 32],
            dw2: vec![0.0; c2.weight_len()],
            db2: vec![0.0; 64],
            dw3: vec![0.0; 16000],
            dp2: vec![0.0; n * 1600],
            dz2: vec![0.0; c2.out_len()],
            dp1: vec![0.0; c2.in_len()],
            dz1: vec![0.0; c1.out_len()],
            scratch: vec![0.0; c1.scratch_len().max(c2.scratch_len())],
            c1,
            c2,
        }
    }

    fn conv1(&mut self) {
        conv2d_forward(
            &self.c1,
            &self.x,
            &self.w1,
            &self.b1,
            &mut self.z1,
            &mut self.scratch,
        );
    }
    fn conv2(&mut self) {
        conv2d_forward(
            &self.c2,
            &self.p1,
            &self.w2,
            &self.b2,
            &mut self.z2,
            &mut self.scratch,
        );
    }
    fn conv2_back(&mut self) {
        let s = &self.c2;
        conv2d_backward(
            s,
            &self.p1,
            &self.dz2,
            &self.w2,
            &mut self.dw2,
            &mut self.db2,
            Some(&mut self.dp1),
            &mut self.scratch,
        );
    }
    fn conv1_back(&mut self) {
        let s = &self.c1;
        conv2d_backward(
            s,
            &self.x,
            &self.dz1,
            &self.w1,
            &mut self.dw1,
            &mut self.db1,
            None,
            &mut self.scratch,
        );
    }

    fn forward(&mut self) {
        let n = self.c1.n;
        self.conv1();
        relu_mask(&mut self.z1);
        maxpool2_forward(n, 26, 26, 32, &self.z1, &mut self.p1, &mut self.a1);
        self.conv2();
        relu_mask(&mut self.z2);
        maxpool2_forward(n, 11, 11, 64, &self.z2, &mut self.p2, &mut self.a2);
        gemm(
            n,
            1600,
            10,
            &self.p2,
            false,
            &self.w3,
            false,
            0.0,
            &mut self.logits,
        );
    }

    fn backward(&mut self) {
        let n = self.c1.n;
        // Stand-in for the softmax gradient: the logits themselves, scaled.
        let dl: Vec<f32> = self.logits.iter().map(|v| v * 0.01).collect();
        gemm(1600, n, 10, &self.p2, true, &dl, false, 0.0, &mut self.dw3);
        gemm(n, 10, 1600, &dl, false, &self.w3, true, 0.0, &mut self.dp2);
        maxpool2_backward(n, 11, 11, 64, &self.dp2, &self.a2, &mut self.dz2);
        relu_back(&self.z2, &mut self.dz2);
        self.conv2_back();
        maxpool2_backward(n, 26, 26, 32, &self.dp1, &self.a1, &mut self.dz1);
        relu_back(&self.z1, &mut self.dz1);
        self.conv1_back();
    }
}

fn conv_flops(s: &ConvShape) -> f64 {
    2.0 * (s.n * s.oh() * s.ow() * s.k * s.k * s.cin * s.cout) as f64
}

fn main() {
    flush_denormals();
    let reps = arg("--reps", 30);
    let n = arg("--batch", 64);
    let mut net = Net::new(n);
    net.forward();
    net.backward();
    let (f1, f2) = (conv_flops(&net.c1), conv_flops(&net.c2));
    let report = |name: &str, t: f64, flops: f64| {
        println!(
            "{name:<28} {:>8.1} us  {:>6.1} GFLOP/s",
            t * 1e6,
            flops / t / 1e9
        );
    };
    println!(
        "SIMD level {:?}, batch {n}, best of {reps} runs",
        digits::nn::simd::level()
    );
    report("conv1 forward", best(reps, || net.conv1()), f1);
    report("conv1 backward (dw)", best(reps, || net.conv1_back()), f1);
    report("conv2 forward", best(reps, || net.conv2()), f2);
    report(
        "conv2 backward (dw, dx)",
        best(reps, || net.conv2_back()),
        2.0 * f2,
    );
    let t = best(reps, || {
        let s = &net.c2;
        conv2d_backward(
            s,
            &net.p1,
            &net.dz2,
            &net.w2,
            &mut net.dw2,
            &mut net.db2,
            None,
            &mut net.scratch,
        );
    });
    report("conv2 backward (dw only)", t, f2);
    let t = best(reps, || {
        maxpool2_forward(n, 26, 26, 32, &net.z1, &mut net.p1, &mut net.a1);
    });
    report("pool1 forward", t, 0.0);
    let t = best(reps, || {
        maxpool2_backward(n, 26, 26, 32, &net.dp1, &net.a1, &mut net.dz1);
    });
    report("pool1 backward", t, 0.0);
    let dense = 2.0 * (n * 1600 * 10) as f64;
    let step_flops = 2.0 * f1 + 3.0 * f2 + 3.0 * dense;
    let t = best(reps, || {
        net.forward();
        net.backward();
    });
    println!(
        "training step (fwd+bwd)      {:>8.1} us  {:>6.1} GFLOP/s  {:>7.0} samples/s  ({:.2} MFLOP/sample)",
        t * 1e6,
        step_flops / t / 1e9,
        n as f64 / t,
        step_flops / n as f64 / 1e6
    );
    // The same step through the model (Sequential::loss_and_grads: ReLU, dropout, the loss and
    // the layers' walk included), as each training thread runs it on its share of a batch.
    let model = Sequential::new(ModelSpec::mnist_convnet(784, 10), Init::KaimingUniform, 1);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x: Vec<f32> = (0..n * 784).map(|_| rng.gen_range(0.0..1.0)).collect();
    let y: Vec<u8> = (0..n).map(|_| rng.gen_range(0..10)).collect();
    let (mut ws, mut grads) = (model.workspace(n), vec![0.0; model.params().len()]);
    let t = best(reps, || {
        model.loss_and_grads(&x, &y, n, &mut ws, &mut grads);
    });
    println!(
        "model step (loss_and_grads)  {:>8.1} us  {:>6.1} GFLOP/s  {:>7.0} samples/s",
        t * 1e6,
        step_flops / t / 1e9,
        n as f64 / t
    );
    let t = best(reps, || net.forward());
    println!(
        "inference (fwd)              {:>8.1} us  {:>6.1} GFLOP/s  {:>7.0} samples/s",
        t * 1e6,
        (f1 + f2 + dense) / t / 1e9,
        n as f64 / t
    );
    let threads = arg("--threads", 1);
    if threads > 1 {
        // Every thread steps its own network; the wall time of the slowest, best of reps.
        let barrier = std::sync::Barrier::new(threads);
        let wall = std::thread::scope(|sc| {
            let runs: Vec<_> = (0..threads)
                .map(|_| {
                    sc.spawn(|| {
                        flush_denormals();
                        let mut net = Net::new(n);
                        (0..reps + 1)
                            .map(|_| {
                                barrier.wait();
                                let t = Instant::now();
                                net.forward();
                                net.backward();
                                t.elapsed().as_secs_f64()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let times: Vec<Vec<f64>> = runs.into_iter().map(|h| h.join().unwrap()).collect();
            (1..=reps)
                .map(|r| times.iter().map(|t| t[r]).fold(0.0, f64::max))
                .fold(f64::INFINITY, f64::min)
        });
        println!(
            "{threads} threads x batch {n} (wall) {:>8.1} us  {:>6.1} GFLOP/s  {:>7.0} samples/s",
            wall * 1e6,
            threads as f64 * step_flops / wall / 1e9,
            (threads * n) as f64 / wall
        );
    }
}
