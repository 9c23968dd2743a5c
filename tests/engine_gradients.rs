//! Every layer's gradient and the loss's agree with finite differences of an independent f64
//! reference forward pass, on random small networks.

use digits::nn::workspace::Workspace;
use digits::nn::{Activation, Init, LayerSpec, ModelSpec, Sequential};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Mean cross-entropy of the network in f64, written out with plain loops.
fn reference_loss(model: &Sequential, params: &[f64], x: &[f64], y: &[u8]) -> f64 {
    let n = y.len();
    let mut total = 0.0;
    for r in 0..n {
        let mut a: Vec<f64> = x[r * model.input_dim()..(r + 1) * model.input_dim()].to_vec();
        for l in model.layers() {
            let mut z = vec![0.0; l.out_dim];
            for (j, zj) in z.iter_mut().enumerate() {
                let mut s = params[l.b_offset + j];
                for (i, ai) in a.iter().enumerate() {
                    s += ai * params[l.w_offset + i * l.out_dim + j];
                }
                *zj = match l.activation {
                    Activation::Relu => s.max(0.0),
                    Activation::Sigmoid => 1.0 / (1.0 + (-s).exp()),
                    Activation::Linear => s,
                };
            }
            a = z;
        }
        let max = a.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = a.iter().map(|v| (v - max).exp()).sum::<f64>().ln() + max;
        total += lse - a[y[r] as usize];
    }
    total / n as f64
}

fn random_network(rng: &mut ChaCha8Rng) -> Sequential {
    let input = rng.gen_range(2..7);
    let hidden = rng.gen_range(1..3);
    let acts = [Activation::Relu, Activation::Sigmoid, Activation::Linear];
    let mut layers: Vec<LayerSpec> = (0..hidden)
        .map(|_| LayerSpec::dense(rng.gen_range(2..6), acts[rng.gen_range(0..3)]))
        .collect();
    let classes = rng.gen_range(2..5);
    layers.push(LayerSpec::dense(classes, Activation::Linear));
    Sequential::new(
        ModelSpec::new(input, layers),
        Init::KaimingUniform,
        rng.gen(),
    )
}

/// The engine's loss and gradients for (x, y) against the f64 reference and its central finite
/// differences, parameter by parameter.
fn check_against_finite_differences(model: &Sequential, x: &[f32], y: &[u8], case: usize) {
    let n = y.len();
    let mut ws = Workspace::new(model, n);
    let mut grads = vec![0.0f32; model.params().len()];
    let loss = model.loss_and_grads(x, y, n, &mut ws, &mut grads) / n as f64;

    let p64: Vec<f64> = model.params().iter().map(|&v| v as f64).collect();
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let ref_loss = reference_loss(model, &p64, &x64, y);
    assert!(
        (loss - ref_loss).abs() < 1e-5 * (1.0 + ref_loss.abs()),
        "case {case}: loss {loss} vs {ref_loss}"
    );

    let h = 1e-6;
    for k in 0..p64.len() {
        let mut p = p64.clone();
        p[k] += h;
        let up = reference_loss(model, &p, &x64, y);
        p[k] -= 2.0 * h;
        let down = reference_loss(model, &p, &x64, y);
        let fd = (up - down) / (2.0 * h);
        let g = grads[k] as f64;
        assert!(
            (g - fd).abs() <= 1e-4 + 1e-3 * fd.abs(),
            "case {case}, parameter {k}: analytic {g} vs finite difference {fd}"
        );
    }
}

#[test]
fn gradients_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for case in 0..25 {
        let model = random_network(&mut rng);
        let n = rng.gen_range(1..6);
        let x: Vec<f32> = (0..n * model.input_dim())
            .map(|_| rng.gen_range(-2.0..2.0))
            .collect();
        let y: Vec<u8> = (0..n)
            .map(|_| rng.gen_range(0..model.output_dim()) as u8)
            .collect();
        check_against_finite_differences(&model, &x, &y, case);
    }
}

#[test]
fn gradients_match_finite_differences_with_a_sparse_first_layer() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    for case in 0..4 {
        // Image-like input: wide enough for the first layer to read it sparsely, mostly zeros.
        let model = Sequential::new(
            ModelSpec::mlp(70, &[5], 3),
            Init::KaimingUniform,
            case as u64,
        );
        assert!(model.sparse_input());
        let n = rng.gen_range(1..6);
        let x: Vec<f32> = (0..n * model.input_dim())
            .map(|_| {
                if rng.gen_bool(0.7) {
                    0.0
                } else {
                    rng.gen_range(0.0..1.0)
                }
            })
            .collect();
        assert!(x.iter().filter(|&&v| v == 0.0).count() > x.len() / 2);
        let y: Vec<u8> = (0..n)
            .map(|_| rng.gen_range(0..model.output_dim()) as u8)
            .collect();
        check_against_finite_differences(&model, &x, &y, case);
    }
}

#[test]
fn gradients_accumulate_nothing_between_steps() {
    // Two identical calls give identical gradients: buffers are overwritten, not summed.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let model = random_network(&mut rng);
    let x: Vec<f32> = (0..4 * model.input_dim())
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    let y = vec![0u8, 1, 1, 0];
    let mut ws = Workspace::new(&model, 4);
    let mut g1 = vec![0.0f32; model.params().len()];
    model.loss_and_grads(&x, &y, 4, &mut ws, &mut g1);
    let mut g2 = g1.clone();
    model.loss_and_grads(&x, &y, 4, &mut ws, &mut g2);
    assert_eq!(g1, g2);
    assert!(g1.iter().any(|&g| g != 0.0));
}
