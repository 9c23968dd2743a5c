//! Every layer's gradient and the loss's agree with finite differences of an independent f64
//! reference forward pass, on random small networks: MLPs, and CNNs with valid and same
//! padding, pooling (with ties), flatten and dropout (the engine's mask, held fixed).

use digits::nn::{
    Activation, DropoutKey, Init, Layer, LayerSpec, ModelSpec, Padding, SequenceLabels, Sequential,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One example through one layer in f64, written out with plain loops; `mask` is the dropout
/// mask the engine drew for this example (1 keeps).
fn reference_layer(layer: &Layer, p: &[f64], a: &[f64], mask: &[u8]) -> Vec<f64> {
    let act = |s: f64, f: Activation| match f {
        Activation::Relu => s.max(0.0),
        Activation::Sigmoid => 1.0 / (1.0 + (-s).exp()),
        Activation::Linear => s,
    };
    match layer {
        Layer::Dense(l) => (0..l.out_dim)
            .map(|j| {
                let mut s = p[l.b_offset + j];
                for (i, ai) in a.iter().enumerate() {
                    s += ai * p[l.w_offset + i * l.out_dim + j];
                }
                act(s, l.activation)
            })
            .collect(),
        Layer::Conv2d(c) => {
            let (oh, ow) = (c.h + 2 * c.pad + 1 - c.k, c.w + 2 * c.pad + 1 - c.k);
            let mut out = vec![0.0; oh * ow * c.cout];
            for oy in 0..oh {
                for ox in 0..ow {
                    for co in 0..c.cout {
                        let mut s = p[c.b_offset + co];
                        for ky in 0..c.k {
                            for kx in 0..c.k {
                                let (iy, ix) = (oy + ky, ox + kx);
                                if iy < c.pad
                                    || ix < c.pad
                                    || iy - c.pad >= c.h
                                    || ix - c.pad >= c.w
                                {
                                    continue; // zero padding
                                }
                                let (iy, ix) = (iy - c.pad, ix - c.pad);
                                for ci in 0..c.cin {
                                    let wi = ((ky * c.k + kx) * c.cin + ci) * c.cout + co;
                                    s += a[(iy * c.w + ix) * c.cin + ci] * p[c.w_offset + wi];
                                }
                            }
                        }
                        out[(oy * ow + ox) * c.cout + co] = act(s, c.activation);
                    }
                }
            }
            out
        }
        Layer::MaxPool2d(m) => {
            let (oh, ow) = (m.h / m.ph, m.w / m.pw);
            let mut out = vec![f64::NEG_INFINITY; oh * ow * m.c];
            for oy in 0..oh {
                for ox in 0..ow {
                    for ch in 0..m.c {
                        for dy in 0..m.ph {
                            for dx in 0..m.pw {
                                let v = a[((m.ph * oy + dy) * m.w + m.pw * ox + dx) * m.c + ch];
                                let o = &mut out[(oy * ow + ox) * m.c + ch];
                                *o = o.max(v);
                            }
                        }
                    }
                }
            }
            out
        }
        Layer::Flatten { .. } => a.to_vec(),
        Layer::Dropout(d) => a
            .iter()
            .zip(mask)
            .map(|(&v, &m)| {
                if m != 0 {
                    v / (1.0 - d.rate as f64)
                } else {
                    0.0
                }
            })
            .collect(),
    }
}

/// Mean cross-entropy of the network in f64; `masks[l]` holds layer l's dropout masks (rows x
/// width; empty for other layers).
fn reference_loss(
    model: &Sequential,
    params: &[f64],
    x: &[f64],
    y: &[u8],
    masks: &[Vec<u8>],
) -> f64 {
    let n = y.len();
    let mut total = 0.0;
    for r in 0..n {
        let mut a: Vec<f64> = x[r * model.input_dim()..(r + 1) * model.input_dim()].to_vec();
        for (l, layer) in model.layers().iter().enumerate() {
            let width = layer.cache_len();
            let mask = masks[l].get(r * width..(r + 1) * width).unwrap_or(&[]);
            a = reference_layer(layer, params, &a, mask);
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
    let mut ws = model.workspace(n);
    ws.dropout = DropoutKey {
        seed: case as u64,
        step: 3,
        row0: 0,
    };
    let mut grads = vec![0.0f32; model.params().len()];
    let loss = model.loss_and_grads(x, y, n, &mut ws, &mut grads) / n as f64;
    // The masks the engine drew, for the reference to apply too.
    let masks: Vec<Vec<u8>> = model
        .layers()
        .iter()
        .zip(&ws.caches)
        .map(|(l, c)| match l {
            Layer::Dropout(_) => c[..n * l.cache_len()].to_vec(),
            _ => Vec::new(),
        })
        .collect();

    let p64: Vec<f64> = model.params().iter().map(|&v| v as f64).collect();
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let ref_loss = reference_loss(model, &p64, &x64, y, &masks);
    assert!(
        (loss - ref_loss).abs() < 1e-5 * (1.0 + ref_loss.abs()),
        "case {case}: loss {loss} vs {ref_loss}"
    );

    let h = 1e-6;
    for k in 0..p64.len() {
        let mut p = p64.clone();
        p[k] += h;
        let up = reference_loss(model, &p, &x64, y, &masks);
        p[k] -= 2.0 * h;
        let down = reference_loss(model, &p, &x64, y, &masks);
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
    let mut ws = model.workspace(4);
    let mut g1 = vec![0.0f32; model.params().len()];
    model.loss_and_grads(&x, &y, 4, &mut ws, &mut g1);
    let mut g2 = g1.clone();
    model.loss_and_grads(&x, &y, 4, &mut ws, &mut g2);
    assert_eq!(g1, g2);
    assert!(g1.iter().any(|&g| g != 0.0));
}

/// A random small CNN on s x s one-channel images: one or two convolutions (1x1, 3x3 or 5x5,
/// valid or same), maybe pooling, flatten, maybe dropout, maybe a hidden Dense layer.
fn random_cnn(rng: &mut ChaCha8Rng) -> Sequential {
    let acts = [Activation::Relu, Activation::Sigmoid, Activation::Linear];
    loop {
        let side = rng.gen_range(4..8);
        let mut layers = Vec::new();
        for _ in 0..rng.gen_range(1..3) {
            let k = [1, 3, 3, 5][rng.gen_range(0..4)];
            let pad = if rng.gen_bool(0.5) {
                Padding::Same
            } else {
                Padding::Valid
            };
            layers.push(LayerSpec::conv2d(
                rng.gen_range(1..4),
                k,
                pad,
                acts[rng.gen_range(0..3)],
            ));
            if rng.gen_bool(0.5) {
                layers.push(LayerSpec::maxpool2d());
            }
        }
        if rng.gen_bool(0.3) {
            layers.push(LayerSpec::dropout(0.4)); // on an image
        }
        layers.push(LayerSpec::flatten());
        if rng.gen_bool(0.5) {
            layers.push(LayerSpec::dropout(rng.gen_range(0.1..0.6)));
        }
        if rng.gen_bool(0.5) {
            layers.push(LayerSpec::dense(
                rng.gen_range(2..5),
                acts[rng.gen_range(0..3)],
            ));
        }
        layers.push(LayerSpec::dense(rng.gen_range(2..4), Activation::Linear));
        let spec = ModelSpec::new(side * side, layers);
        if spec.param_count().is_ok_and(|p| p < 400) {
            return Sequential::new(spec, Init::KaimingUniform, rng.gen());
        }
    }
}

#[test]
fn cnn_gradients_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    // `relu_pooled`: pools that apply the ReLU of the convolution below (the deferred ReLU).
    let (mut same, mut pooled, mut dropped, mut relu_pooled) = (0, 0, 0, 0);
    for case in 0..30 {
        let model = random_cnn(&mut rng);
        for l in model.layers() {
            match l {
                Layer::Conv2d(c) if c.pad > 0 => same += 1,
                Layer::MaxPool2d(m) => {
                    pooled += 1;
                    relu_pooled += m.relu as usize;
                }
                Layer::Dropout(_) => dropped += 1,
                _ => {}
            }
        }
        let n = rng.gen_range(1..4);
        let x: Vec<f32> = (0..n * model.input_dim())
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        let y: Vec<u8> = (0..n)
            .map(|_| rng.gen_range(0..model.output_dim()) as u8)
            .collect();
        check_against_finite_differences(&model, &x, &y, case);
    }
    assert!(
        same > 3 && pooled > 3 && dropped > 3 && relu_pooled > 2,
        "{same} {pooled} {dropped} {relu_pooled}"
    );
}

/// A random small CNN on h x w images of 1 or 2 channels (h != w), pooling with windows that
/// shrink height and width differently (2x1, 1x2, 3x1, 1x3, 2x2).
fn random_line_cnn(rng: &mut ChaCha8Rng) -> Sequential {
    let acts = [Activation::Relu, Activation::Sigmoid, Activation::Linear];
    let windows = [(2, 1), (1, 2), (3, 1), (1, 3), (2, 2)];
    loop {
        let (h, w, c) = (
            rng.gen_range(3..7),
            rng.gen_range(3..10),
            rng.gen_range(1..3),
        );
        if h == w {
            continue;
        }
        let mut layers = Vec::new();
        for _ in 0..rng.gen_range(1..3) {
            let k = [1, 3][rng.gen_range(0..2)];
            let pad = [Padding::Same, Padding::Valid][rng.gen_range(0..2)];
            layers.push(LayerSpec::conv2d(
                rng.gen_range(1..4),
                k,
                pad,
                acts[rng.gen_range(0..3)],
            ));
            let (ph, pw) = windows[rng.gen_range(0..windows.len())];
            layers.push(LayerSpec::maxpool(ph, pw));
        }
        layers.push(LayerSpec::flatten());
        layers.push(LayerSpec::dense(rng.gen_range(2..4), Activation::Linear));
        let spec = ModelSpec::image(h, w, c, layers);
        if spec.param_count().is_ok_and(|p| p < 400) {
            return Sequential::new(spec, Init::KaimingUniform, rng.gen());
        }
    }
}

#[test]
fn non_square_cnn_gradients_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let (mut odd_windows, mut channels) = (0, 0);
    for case in 0..30 {
        let model = random_line_cnn(&mut rng);
        for l in model.layers() {
            match l {
                Layer::MaxPool2d(m) if m.ph != m.pw => odd_windows += 1,
                Layer::Conv2d(c) if c.cin > 1 => channels += 1,
                _ => {}
            }
        }
        let n = rng.gen_range(1..4);
        let x: Vec<f32> = (0..n * model.input_dim())
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        let y: Vec<u8> = (0..n)
            .map(|_| rng.gen_range(0..model.output_dim()) as u8)
            .collect();
        check_against_finite_differences(&model, &x, &y, 100 + case);
    }
    assert!(odd_windows > 10 && channels > 5, "{odd_windows} {channels}");
}

#[test]
fn pooling_ties_send_the_gradient_to_one_value() {
    // 1x1 convolution then pooling on images made of 2x2 blocks of equal pixels: every window
    // is a tie, and the finite differences see all the tied values move together.
    let spec = ModelSpec::new(
        36,
        vec![
            LayerSpec::conv2d(2, 1, Padding::Valid, Activation::Linear),
            LayerSpec::maxpool2d(),
            LayerSpec::flatten(),
            LayerSpec::dense(3, Activation::Linear),
        ],
    );
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let model = Sequential::new(spec, Init::KaimingUniform, 2);
    let n = 2;
    let mut x = vec![0.0f32; n * 36];
    for r in 0..n {
        for by in 0..3 {
            for bx in 0..3 {
                let v = rng.gen_range(-1.0..1.0);
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    x[r * 36 + (2 * by + dy) * 6 + 2 * bx + dx] = v;
                }
            }
        }
    }
    check_against_finite_differences(&model, &x, &[0, 2], 0);
    // And the pool's input gradient has one nonzero per window and channel, not four.
    let mut ws = model.workspace(n);
    let mut grads = vec![0.0f32; model.params().len()];
    model.loss_and_grads(&x, &[0, 2], n, &mut ws, &mut grads);
    let dz = &ws.grads[0][..n * 36 * 2];
    let nonzero = dz.iter().filter(|&&g| g != 0.0).count();
    assert_eq!(nonzero, n * 9 * 2, "{dz:?}");
}

#[test]
fn dropout_masks_follow_the_step_and_not_the_thread_split() {
    let model = Sequential::new(
        ModelSpec::new(
            8,
            vec![
                LayerSpec::dense(50, Activation::Relu),
                LayerSpec::dropout(0.5),
                LayerSpec::dense(2, Activation::Linear),
            ],
        ),
        Init::KaimingUniform,
        1,
    );
    let x: Vec<f32> = (0..4 * 8).map(|i| (i as f32 * 0.37).sin()).collect();
    let y = [0u8, 1, 1, 0];
    let masks = |rows: std::ops::Range<usize>, step: u64| {
        let mut ws = model.workspace(4);
        ws.dropout = DropoutKey {
            seed: 9,
            step,
            row0: rows.start,
        };
        let mut g = vec![0.0; model.params().len()];
        model.loss_and_grads(
            &x[rows.start * 8..rows.end * 8],
            &y[rows.clone()],
            4,
            &mut ws,
            &mut g,
        );
        ws.caches[1][..rows.len() * 50].to_vec()
    };
    let whole = masks(0..4, 1);
    assert_eq!([masks(0..2, 1), masks(2..4, 1)].concat(), whole);
    assert_ne!(masks(0..4, 2), whole);
    let kept = whole.iter().filter(|&&m| m != 0).count();
    assert!((60..140).contains(&kept), "{kept} of 200 kept");
}

/// -log p(label) of per-column logits z (t x classes) by brute force: the sum of the
/// probabilities of every path of t classes that collapses (repeats merged, blanks 0 removed) to
/// the label. Independent of the engine's alpha-beta recursions; for tiny t only.
fn brute_force_ctc(z: &[f64], t: usize, classes: usize, label: &[u8]) -> f64 {
    let log_p: Vec<f64> = z
        .chunks_exact(classes)
        .flat_map(|col| {
            let lse = col.iter().map(|v| v.exp()).sum::<f64>().ln();
            col.iter().map(move |v| v - lse).collect::<Vec<_>>()
        })
        .collect();
    let mut total = 0.0;
    for code in 0..classes.pow(t as u32) {
        let (mut c, mut path) = (code, Vec::with_capacity(t));
        for _ in 0..t {
            path.push(c % classes);
            c /= classes;
        }
        let mut collapsed = Vec::new();
        for (i, &k) in path.iter().enumerate() {
            if k != 0 && (i == 0 || path[i - 1] != k) {
                collapsed.push(k as u8);
            }
        }
        if collapsed == label {
            total += path
                .iter()
                .enumerate()
                .map(|(i, &k)| log_p[i * classes + k])
                .sum::<f64>()
                .exp();
        }
    }
    -total.ln()
}

/// PyTorch's `mean` CTC loss of the network in f64 (each loss over its label length, then the
/// mean over the batch), the layers by the reference forward pass.
fn reference_ctc_loss(
    model: &Sequential,
    params: &[f64],
    x: &[f64],
    labels: &SequenceLabels,
) -> f64 {
    let (t, classes) = model.sequence_output().unwrap();
    let n = labels.lengths.len();
    let (mut total, mut start) = (0.0, 0);
    for r in 0..n {
        let mut a: Vec<f64> = x[r * model.input_dim()..(r + 1) * model.input_dim()].to_vec();
        for layer in model.layers() {
            a = reference_layer(layer, params, &a, &[]);
        }
        let len = labels.lengths[r];
        let label = &labels.labels[start..start + len];
        start += len;
        total += brute_force_ctc(&a, t, classes, label) / len as f64;
    }
    total / n as f64
}

#[test]
fn ctc_gradients_through_a_per_column_model_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let acts = [Activation::Relu, Activation::Sigmoid, Activation::Linear];
    for case in 0..8 {
        // A 4-high line, pooled to height 1 (and maybe to half its width), then a 1x1
        // convolution: per-column logits over `classes` (blank included).
        let (w, classes) = (rng.gen_range(3..9), rng.gen_range(3..5));
        let mut layers = vec![
            LayerSpec::conv2d(2, 3, Padding::Same, acts[rng.gen_range(0..3)]),
            LayerSpec::maxpool(2, 1),
        ];
        if w > 5 {
            layers.push(LayerSpec::maxpool(2, 2));
        } else {
            layers.push(LayerSpec::maxpool(2, 1));
        }
        layers.push(LayerSpec::conv2d(
            classes,
            1,
            Padding::Valid,
            Activation::Linear,
        ));
        let model = Sequential::new(
            ModelSpec::image(4, w, 1, layers),
            Init::KaimingUniform,
            rng.gen(),
        );
        let (t, c) = model.sequence_output().expect("per-column output");
        assert_eq!((t, c), (if w > 5 { w / 2 } else { w }, classes));
        let n = rng.gen_range(1..4);
        let x: Vec<f32> = (0..n * model.input_dim())
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        let lengths: Vec<usize> = (0..n).map(|_| rng.gen_range(1..=t.min(2))).collect();
        let mut labels: Vec<u8> = Vec::new();
        for &len in &lengths {
            // Different neighbours, so that every label fits t columns.
            let mut last = 0;
            for _ in 0..len {
                let mut k = rng.gen_range(1..classes as u8);
                if k == last {
                    k = if k + 1 < classes as u8 { k + 1 } else { 1 };
                }
                labels.push(k);
                last = k;
            }
        }
        let seqs = SequenceLabels {
            labels: &labels,
            lengths: &lengths,
        };
        let mut ws = model.workspace(n);
        let mut grads = vec![0.0f32; model.params().len()];
        let loss = model
            .ctc_loss_and_grads(&x, &seqs, n, &mut ws, &mut grads)
            .unwrap()
            / n as f64;
        let p64: Vec<f64> = model.params().iter().map(|&v| v as f64).collect();
        let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let ref_loss = reference_ctc_loss(&model, &p64, &x64, &seqs);
        assert!(
            (loss - ref_loss).abs() < 1e-5 * (1.0 + ref_loss.abs()),
            "case {case}: loss {loss} vs {ref_loss}"
        );
        let h = 1e-6;
        for k in 0..p64.len() {
            let mut p = p64.clone();
            p[k] += h;
            let up = reference_ctc_loss(&model, &p, &x64, &seqs);
            p[k] -= 2.0 * h;
            let down = reference_ctc_loss(&model, &p, &x64, &seqs);
            let fd = (up - down) / (2.0 * h);
            let g = grads[k] as f64;
            assert!(
                (g - fd).abs() <= 1e-4 + 1e-3 * fd.abs(),
                "case {case}, parameter {k}: analytic {g} vs finite difference {fd}"
            );
        }
    }
}
