//! Model API: summary counts, layer weights, init, Adam, threads, fit on separable data.

use digits::data::{Dataset, PixelLayout, Pixels};
use digits::nn::{Activation, Adam, DropoutKey, Init, LayerSpec, ModelSpec, Sequential};
use digits::train::step::Stepper;
use digits::train::{fit, FitConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn tutorial(input: usize) -> ModelSpec {
    ModelSpec::new(
        input,
        vec![
            LayerSpec::dense(25, Activation::Relu).named("L1"),
            LayerSpec::dense(15, Activation::Relu).named("L2"),
            LayerSpec::dense(10, Activation::Linear).named("L3"),
        ],
    )
}

#[test]
fn summary_counts_parameters_like_keras() {
    let m = Sequential::new(tutorial(400), Init::GlorotUniform, 1);
    let s = m.summary();
    for want in [
        "L1 (Dense)",
        "(None, 25)",
        "10,025",
        "390",
        "160",
        "Total params: 10,575",
    ] {
        assert!(s.contains(want), "missing {want:?} in\n{s}");
    }
    assert_eq!(
        Sequential::new(tutorial(784), Init::GlorotUniform, 1)
            .params()
            .len(),
        20_175
    );
    let (w, b) = m.weights(0);
    assert_eq!((w.len(), b.len()), (400 * 25, 25));
    let (w, b) = m.weights(2);
    assert_eq!((w.len(), b.len()), (15 * 10, 10));
}

#[test]
fn init_respects_bounds_and_seed() {
    let g = Sequential::new(tutorial(400), Init::GlorotUniform, 5);
    let limit = (6.0f32 / 425.0).sqrt();
    let (w, b) = g.weights(0);
    assert!(w.iter().all(|v| v.abs() <= limit) && w.iter().any(|v| v.abs() > 0.9 * limit));
    assert!(b.iter().all(|&v| v == 0.0));
    let k = Sequential::new(tutorial(784), Init::KaimingUniform, 5);
    let bound = 1.0 / 784f32.sqrt();
    let (w, b) = k.weights(0);
    assert!(w.iter().chain(b).all(|v| v.abs() <= bound) && b.iter().any(|&v| v != 0.0));
    assert_eq!(k, Sequential::new(tutorial(784), Init::KaimingUniform, 5));
    assert_ne!(k, Sequential::new(tutorial(784), Init::KaimingUniform, 6));
}

#[test]
fn adam_matches_the_pytorch_formula() {
    let mut adam = Adam::new(3, 0.01);
    let mut p = vec![1.0f32, -2.0, 0.5];
    let (mut m, mut v, mut q) = ([0.0f64; 3], [0.0f64; 3], [1.0f64, -2.0, 0.5]);
    for t in 1..=5 {
        let g: Vec<f32> = p.iter().map(|x| 2.0 * x + 0.1 * t as f32).collect();
        adam.step(&mut p, &g);
        for i in 0..3 {
            let gi = 2.0 * q[i] + 0.1 * t as f64;
            m[i] = 0.9 * m[i] + 0.1 * gi;
            v[i] = 0.999 * v[i] + 0.001 * gi * gi;
            let mh = m[i] / (1.0 - 0.9f64.powi(t));
            let vh = v[i] / (1.0 - 0.999f64.powi(t));
            q[i] -= 0.01 * mh / (vh.sqrt() + 1e-8);
        }
    }
    for i in 0..3 {
        assert!((p[i] as f64 - q[i]).abs() < 1e-5, "{p:?} vs {q:?}");
    }
}

#[test]
fn split_batch_gives_the_same_gradient_as_one_thread() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let model = Sequential::new(tutorial(50), Init::KaimingUniform, 2);
    let n = 64;
    let x: Vec<f32> = (0..n * 50).map(|_| rng.gen_range(0.0..1.0)).collect();
    let y: Vec<u8> = (0..n).map(|_| rng.gen_range(0..10)).collect();
    let mut one = Stepper::new(&model, n, 1);
    let mut two = Stepper::new(&model, n, 2);
    let (l1, l2) = (
        one.loss_and_grads(&model, &x, &y),
        two.loss_and_grads(&model, &x, &y),
    );
    assert!((l1 - l2).abs() < 1e-5);
    // An odd batch (the last of an epoch) splits unevenly.
    let (l1b, l2b) = (
        one.loss_and_grads(&model, &x[..37 * 50], &y[..37]),
        two.loss_and_grads(&model, &x[..37 * 50], &y[..37]),
    );
    assert!((l1b - l2b).abs() < 1e-5);
    let mut ws = model.workspace(n);
    let mut g = vec![0.0; model.params().len()];
    model.loss_and_grads(&x[..37 * 50], &y[..37], 37, &mut ws, &mut g);
    for ((a, b), c) in one.grads().iter().zip(two.grads()).zip(&g) {
        assert!((a - b).abs() < 1e-5 && (a - c).abs() < 1e-6);
    }
}

/// Two Gaussian blobs per class in 6 dimensions: easily separable.
fn blobs(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut px = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        let c = (i % 3) as u8;
        for d in 0..6 {
            let centre = if d % 3 == c as usize { 2.0 } else { 0.0 };
            px.push(centre + rng.gen_range(-0.5..0.5));
        }
        labels.push(c);
    }
    Dataset {
        pixels: Pixels::F32(px),
        labels,
        rows: 2,
        cols: 3,
        layout: PixelLayout::RowMajor,
    }
}

#[test]
fn fit_learns_separable_data_and_is_repeatable() {
    let (train, test) = (blobs(600, 1), blobs(150, 2));
    let spec = ModelSpec::mlp(6, &[8], 3);
    let config = FitConfig {
        epochs: 5,
        batch_size: 16,
        seed: 9,
        ..FitConfig::default()
    };
    let mut m1 = Sequential::new(spec.clone(), Init::GlorotUniform, 3);
    let h1 = fit(&mut m1, &train, Some(&test), &config, &mut ()).unwrap();
    assert_eq!(h1.loss.len(), 5);
    assert!(h1.loss[4] < h1.loss[0] * 0.5, "{:?}", h1.loss);
    assert!(h1.test_accuracy[4] > 0.97, "{:?}", h1.test_accuracy);
    let mut m2 = Sequential::new(spec, Init::GlorotUniform, 3);
    let h2 = fit(&mut m2, &train, Some(&test), &config, &mut ()).unwrap();
    assert_eq!(
        (h1.loss.clone(), h1.test_accuracy.clone()),
        (h2.loss, h2.test_accuracy)
    );
    assert_eq!(h1.epoch_seconds.len(), 5);
    assert_eq!(m1, m2);
}

#[test]
fn fit_rejects_mismatched_data() {
    let train = blobs(30, 1);
    let mut m = Sequential::new(ModelSpec::mlp(5, &[4], 3), Init::GlorotUniform, 3);
    let err = fit(&mut m, &train, None, &FitConfig::default(), &mut ())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("6 inputs") && err.contains("expects 5"),
        "{err}"
    );
    let mut m = Sequential::new(ModelSpec::mlp(6, &[4], 2), Init::GlorotUniform, 3);
    let err = fit(&mut m, &train, None, &FitConfig::default(), &mut ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("label 2"), "{err}");
}

#[test]
fn non_finite_loss_stops_with_epoch_and_step() {
    let mut train = blobs(64, 1);
    if let Pixels::F32(p) = &mut train.pixels {
        p[6 * 40] = f32::NAN; // image 40: in the 3rd batch of 16 without shuffling
    }
    let mut m = Sequential::new(ModelSpec::mlp(6, &[4], 3), Init::GlorotUniform, 3);
    let config = FitConfig {
        epochs: 2,
        batch_size: 16,
        shuffle: false,
        ..FitConfig::default()
    };
    let before = m.clone();
    let err = fit(&mut m, &train, None, &config, &mut ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("epoch 1, step 3"), "{err}");
    assert!(m.params().iter().all(|v| v.is_finite()));
    assert_ne!(m, before, "the two good steps were applied");
}

/// n random 28x28 byte images, mostly background, with random labels.
fn byte_images(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pixels: Vec<u8> = (0..n * 784)
        .map(|_| if rng.gen_bool(0.8) { 0 } else { rng.gen() })
        .collect();
    let labels: Vec<u8> = (0..n).map(|_| rng.gen_range(0..10)).collect();
    Dataset {
        pixels: Pixels::U8(pixels),
        labels,
        rows: 28,
        cols: 28,
        layout: PixelLayout::RowMajor,
    }
}

#[test]
fn images_as_bytes_train_like_dense_batches_on_any_thread_count() {
    // The sparse path (bytes -> nonzero list per thread) must give the step a dense batch gives.
    let n = 200;
    let data = byte_images(n, 12);
    let spec = ModelSpec::mlp(784, &[25, 15], 10);
    let idx: Vec<usize> = (0..64).map(|i| (i * 7) % n).collect();
    let x = data.batch_x(&idx, digits::data::PixelScale::Unit);
    let y: Vec<u8> = idx.iter().map(|&i| data.labels[i]).collect();
    let model = Sequential::new(spec, Init::KaimingUniform, 4);
    assert!(model.sparse_input());
    let mut dense = Stepper::new(&model, 64, 1);
    let loss = dense.loss_and_grads(&model, &x, &y);
    let want = dense.grads().to_vec();
    for threads in [1, 2, 3] {
        let mut s = Stepper::new(&model, 64, threads);
        let l = s.loss_and_grads_of(&model, &data, &idx, &[], digits::data::PixelScale::Unit);
        assert!((l - loss).abs() < 1e-6, "{threads} threads: {l} vs {loss}");
        for (a, b) in s.grads().iter().zip(&want) {
            assert!((a - b).abs() < 1e-6, "{threads} threads");
        }
    }
}

#[test]
fn predicting_a_large_batch_across_threads_equals_predicting_it_in_parts() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let model = Sequential::new(ModelSpec::mlp(50, &[16], 10), Init::KaimingUniform, 1);
    let n = 9000; // enough rows to be split across threads
    let x: Vec<f32> = (0..n * 50)
        .map(|_| {
            if rng.gen_bool(0.5) {
                0.0
            } else {
                rng.gen_range(0.0..1.0)
            }
        })
        .collect();
    let all = model.predict(&x);
    let parts: Vec<f32> = x.chunks(500 * 50).flat_map(|c| model.predict(c)).collect();
    assert_eq!(all.len(), n * 10);
    assert_eq!(all, parts);
}

#[test]
fn predictions_with_reused_buffers_equal_those_with_new_ones_as_models_alternate() {
    // `predict` keeps each thread's recent buffers for models of the same shapes: models of
    // other shapes in between, and more of them than it keeps, must not mix them up.
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let models: Vec<Sequential> =
        [(784, 10), (784, 12), (400, 10), (784, 10)]
            .iter()
            .enumerate()
            .map(|(seed, &(d, c))| {
                let spec = if d == 784 {
                    ModelSpec::mnist_convnet(d, c)
                } else {
                    tutorial(d)
                };
                Sequential::new(spec, Init::KaimingUniform, seed as u64 + 1)
            })
            .chain((0..5).map(|k| {
                Sequential::new(ModelSpec::mlp(30, &[8 + k], 10), Init::KaimingUniform, 9)
            }))
            .collect();
    for round in 0..3 {
        for (i, model) in models.iter().enumerate() {
            let rows = 1 + (round + i) % 3;
            let x: Vec<f32> = (0..rows * model.input_dim()).map(|_| rng.gen()).collect();
            let mut fresh = model.inference_workspace(rows);
            let want = model.forward(&x, rows, &mut fresh).to_vec();
            assert_eq!(model.predict(&x), want, "model {i}, round {round}");
        }
    }
}

#[test]
fn a_step_run_on_one_thread_or_on_its_threads_gives_the_same_weights_bit_for_bit() {
    // Under load the step's parts may run on the calling thread alone (see train::pace); that
    // must not change the result of a given thread count.
    let n = 256;
    let data = byte_images(n, 21);
    let dense = blobs(256, 3);
    let run = |sparse: bool, mode: Option<bool>, threads: usize| {
        let spec = ModelSpec::mlp(if sparse { 784 } else { dense.features() }, &[25, 15], 10);
        let mut model = Sequential::new(spec, Init::KaimingUniform, 4);
        let mut s = Stepper::new(&model, 64, threads);
        if let Some(parallel) = mode {
            s.fix_mode(parallel);
        }
        let mut adam = Adam::new(model.params().len(), 1e-3);
        for step in 0..12 {
            let idx: Vec<usize> = (0..64).map(|i| (step * 64 + i * 5) % n).collect();
            if sparse {
                s.loss_and_grads_of(&model, &data, &idx, &[], digits::data::PixelScale::Unit);
            } else {
                let x = dense.batch_x(&idx, digits::data::PixelScale::Unit);
                let y: Vec<u8> = idx.iter().map(|&i| dense.labels[i]).collect();
                s.loss_and_grads(&model, &x, &y);
            }
            s.adam_step(&mut adam, model.params_mut());
        }
        model.params().to_vec()
    };
    for sparse in [true, false] {
        for threads in [2, 3] {
            let parallel = run(sparse, Some(true), threads);
            assert_eq!(
                parallel,
                run(sparse, Some(false), threads),
                "{threads} threads"
            );
            assert_eq!(
                parallel,
                run(sparse, None, threads),
                "{threads} threads, timed"
            );
        }
    }
    // The parts really differ from one thread's split (else the test would show nothing).
    assert_ne!(run(true, None, 1), run(true, Some(true), 2));
}

#[test]
fn a_cnn_step_gives_the_same_weights_bit_for_bit_on_any_thread_count() {
    // A convolutional model's batch is cut into pieces of a fixed size that the threads take in
    // turn; the pieces' gradients are summed in piece order, so neither the thread count, nor
    // which thread ran which piece, nor running them all on one thread changes the result.
    let n = 40;
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let x: Vec<f32> = (0..n * 784).map(|_| rng.gen_range(0.0..1.0)).collect();
    let y: Vec<u8> = (0..n).map(|_| rng.gen_range(0..10)).collect();
    let run = |threads: usize, mode: Option<bool>| {
        let mut model = Sequential::new(ModelSpec::mnist_convnet(784, 10), Init::KaimingUniform, 2);
        let mut s = Stepper::new(&model, n, threads);
        if let Some(parallel) = mode {
            s.fix_mode(parallel);
        }
        let mut adam = Adam::new(model.params().len(), 1e-3);
        let mut losses = Vec::new();
        for step in 0..3 {
            s.set_dropout_key(7, step);
            losses.push(s.loss_and_grads(&model, &x, &y));
            s.adam_step(&mut adam, model.params_mut());
        }
        (losses, model.params().to_vec())
    };
    let one = run(1, None);
    assert!(one.0.iter().all(|l| l.is_finite()));
    for threads in [2, 3] {
        for mode in [Some(true), Some(false), None] {
            assert!(run(threads, mode) == one, "{threads} threads, {mode:?}");
        }
    }
}

#[test]
fn a_cnn_step_in_several_passes_equals_the_sum_of_its_rows() {
    // The Keras convnet runs a few rows at a time through its layers (to keep them in cache):
    // its loss and gradient over 8 rows must be the sums over each row alone, dropout included.
    let model = Sequential::new(ModelSpec::mnist_convnet(784, 10), Init::KaimingUniform, 3);
    let n = 8;
    assert!(model.rows_per_pass() < n, "8 rows take several passes");
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let x: Vec<f32> = (0..n * 784).map(|_| rng.gen_range(0.0..1.0)).collect();
    let y: Vec<u8> = (0..n).map(|_| rng.gen_range(0..10)).collect();
    let key = DropoutKey {
        seed: 9,
        step: 5,
        row0: 0,
    };
    let params = model.params().len();
    let mut ws = model.workspace(n);
    ws.dropout = key;
    let mut grads = vec![0.0f32; params];
    let loss = model.loss_and_grads(&x, &y, n, &mut ws, &mut grads);

    let (mut loss_rows, mut grads_rows) = (0.0, vec![0.0f64; params]);
    let mut one = model.workspace(1);
    let mut g = vec![0.0f32; params];
    for r in 0..n {
        one.dropout = DropoutKey { row0: r, ..key };
        loss_rows += model.loss_and_grads(
            &x[r * 784..(r + 1) * 784],
            &y[r..r + 1],
            n,
            &mut one,
            &mut g,
        );
        for (s, &v) in grads_rows.iter_mut().zip(&g) {
            *s += v as f64;
        }
    }
    assert!(
        (loss - loss_rows).abs() < 1e-5 * loss.abs().max(1.0),
        "{loss} vs {loss_rows}"
    );
    let worst = grads
        .iter()
        .zip(&grads_rows)
        .map(|(&a, &b)| (a as f64 - b).abs())
        .fold(0.0, f64::max);
    let scale = grads_rows.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        scale > 0.0 && worst < 1e-5 * scale,
        "largest difference {worst} of {scale}"
    );
}
