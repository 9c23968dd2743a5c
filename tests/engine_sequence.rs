//! Lines that are not square, pooled by windows that shrink height and width apart, and a model
//! with per-column output (a sequence reader): its shapes, its CTC training step (the
//! same split across threads or not), and a tiny one that learns a few synthetic lines.

use digits::nn::ctc_decode::greedy_decode;
use digits::nn::layer;
use digits::nn::{
    Activation, Adam, Init, LayerSpec, ModelSpec, Padding, SequenceLabels, Sequential, Shape,
};
use digits::train::step::Stepper;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const H: usize = 8;
const W: usize = 32;
const GLYPH_W: usize = 5;
/// Classes: the blank (0) and four characters.
const CLASSES: usize = 5;

/// Lines H x W: conv, pool the height away (2x1 then 4x1), halve the width (T = 16 columns),
/// a 1x1 convolution (a Dense per column) gives the scores.
fn line_reader(seed: u64) -> Sequential {
    let relu = Activation::Relu;
    let spec = ModelSpec::image(
        H,
        W,
        1,
        vec![
            LayerSpec::conv2d(8, 3, Padding::Same, relu),
            LayerSpec::maxpool(2, 1),
            LayerSpec::conv2d(16, 3, Padding::Same, relu),
            LayerSpec::maxpool(4, 1),
            LayerSpec::maxpool(1, 2),
            LayerSpec::conv2d(CLASSES, 1, Padding::Valid, Activation::Linear),
        ],
    );
    Sequential::new(spec, Init::KaimingUniform, seed)
}

/// `count` lines of 1 to 4 characters, each character a fixed random H x 5 glyph, placed left
/// to right with gaps of 1 to 3 columns; returns (pixels, labels, lengths).
fn synthetic_lines(count: usize, seed: u64) -> (Vec<f32>, Vec<u8>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let glyphs: Vec<Vec<f32>> = (0..CLASSES - 1)
        .map(|_| {
            (0..H * GLYPH_W)
                .map(|_| if rng.gen_bool(0.5) { 1.0 } else { 0.0 })
                .collect()
        })
        .collect();
    let (mut x, mut labels, mut lengths) = (vec![0.0; count * H * W], Vec::new(), Vec::new());
    for line in 0..count {
        let len = rng.gen_range(1..=4);
        let mut col = rng.gen_range(0..3);
        for _ in 0..len {
            let k = rng.gen_range(1..CLASSES as u8);
            for y in 0..H {
                for gx in 0..GLYPH_W {
                    x[(line * H + y) * W + col + gx] = glyphs[k as usize - 1][y * GLYPH_W + gx];
                }
            }
            labels.push(k);
            col += GLYPH_W + rng.gen_range(1..4);
        }
        lengths.push(len);
    }
    (x, labels, lengths)
}

#[test]
fn non_square_inputs_and_windows_shrink_height_and_width_apart() {
    let relu = Activation::Relu;
    let spec = ModelSpec::image(
        32,
        100,
        1,
        vec![
            LayerSpec::conv2d(8, 3, Padding::Same, relu),
            LayerSpec::maxpool2d(),
            LayerSpec::conv2d(16, 3, Padding::Valid, relu),
            LayerSpec::maxpool(2, 1),
            LayerSpec::maxpool(7, 1),
            LayerSpec::flatten(),
            LayerSpec::dense(3, Activation::Linear),
        ],
    );
    let (layers, total) = layer::build(&spec).unwrap();
    let shapes: Vec<String> = layers.iter().map(|l| l.output_shape().keras()).collect();
    assert_eq!(
        shapes,
        [
            "(None, 32, 100, 8)",
            "(None, 16, 50, 8)",
            "(None, 14, 48, 16)",
            "(None, 7, 48, 16)",
            "(None, 1, 48, 16)",
            "(None, 768)",
            "(None, 3)"
        ]
    );
    assert_eq!(total, 9 * 8 + 8 + 9 * 8 * 16 + 16 + 768 * 3 + 3);
    assert_eq!(layers[0].in_len(), 3200);
    // Three channels in, and a shape that does not make input_dim.
    let rgb = ModelSpec::image(
        4,
        6,
        3,
        vec![LayerSpec::maxpool(1, 3), LayerSpec::flatten()],
    );
    let (layers, _) = layer::build(&rgb).unwrap();
    assert_eq!(layers[0].output_shape(), Shape::Image { h: 4, w: 2, c: 3 });
    let mut bad = rgb.clone();
    bad.input_dim = 70;
    assert!(layer::build(&bad).unwrap_err().contains("4x6x3"));
    let e = layer::build(&ModelSpec::image(
        4,
        6,
        1,
        vec![LayerSpec::maxpool(5, 1), LayerSpec::flatten()],
    ))
    .unwrap_err();
    assert!(
        e.contains("layer 1 (max_pooling2d)")
            && e.contains("5x1 pooling window does not fit a 4x6"),
        "{e}"
    );
}

#[test]
fn a_model_may_end_in_one_row_of_per_column_logits() {
    let model = line_reader(1);
    assert_eq!(model.sequence_output(), Some((16, CLASSES)));
    assert_eq!(model.output_dim(), 16 * CLASSES);
    let mut tall = model.spec().clone();
    tall.layers.remove(3); // without the 4x1 pool the output is 4 rows high
    let e = Sequential::try_new(tall, Init::KaimingUniform, 1).unwrap_err();
    assert!(
        e.contains("(None, 4, 16, 5)") && e.contains("height"),
        "{e}"
    );
    let classifier = Sequential::new(ModelSpec::mnist_convnet(784, 10), Init::KaimingUniform, 1);
    assert_eq!(classifier.sequence_output(), None);
    // CTC refuses a classifier and labels that do not fit.
    let mut ws = classifier.workspace(1);
    let mut g = vec![0.0; classifier.params().len()];
    let one = SequenceLabels {
        labels: &[1],
        lengths: &[1],
    };
    let e = classifier
        .ctc_loss_and_grads(&[0.0; 784], &one, 1, &mut ws, &mut g)
        .unwrap_err();
    assert!(e.contains("per-column"), "{e}");
    let mut ws = model.workspace(1);
    let mut g = vec![0.0; model.params().len()];
    let x = vec![0.0; H * W];
    for (labels, lengths, says) in [
        (&[5u8][..], &[1usize][..], "label 5 is out of range"),
        (&[0][..], &[1][..], "label 0"),
        (&[1, 2][..], &[1][..], "add up to 1 but 2"),
    ] {
        let bad = SequenceLabels { labels, lengths };
        let e = model
            .ctc_loss_and_grads(&x, &bad, 1, &mut ws, &mut g)
            .unwrap_err();
        assert!(e.contains(says), "{e}");
    }
}

#[test]
fn the_ctc_step_is_the_same_on_one_thread_or_two() {
    let model = line_reader(2);
    let (x, labels, lengths) = synthetic_lines(12, 3);
    let seqs = SequenceLabels {
        labels: &labels,
        lengths: &lengths,
    };
    let mut ws = model.workspace(12);
    let mut direct = vec![0.0; model.params().len()];
    let loss = model
        .ctc_loss_and_grads(&x, &seqs, 12, &mut ws, &mut direct)
        .unwrap();
    let mut results = Vec::new();
    for threads in [1, 2] {
        let mut stepper = Stepper::new(&model, 12, threads);
        let l = stepper.ctc_loss_and_grads(&model, &x, &seqs).unwrap();
        assert!(stepper.grads_finite());
        results.push((l, stepper.grads().to_vec()));
    }
    assert_eq!(results[0], results[1]);
    let (l, g) = &results[0];
    assert!(
        ((*l as f64) - loss / 12.0).abs() < 1e-5,
        "{l} vs {}",
        loss / 12.0
    );
    for (a, b) in g.iter().zip(&direct) {
        assert!((a - b).abs() <= 1e-5 + 1e-4 * b.abs(), "{a} vs {b}");
    }
    assert!(direct.iter().any(|&v| v != 0.0));
}

#[test]
fn a_tiny_reader_learns_synthetic_lines() {
    let mut model = line_reader(4);
    let n = 32;
    let (x, labels, lengths) = synthetic_lines(n, 5);
    let seqs = SequenceLabels {
        labels: &labels,
        lengths: &lengths,
    };
    let mut adam = Adam::new(model.params().len(), 0.01);
    let mut stepper = Stepper::new(&model, n, 2);
    let first = stepper.ctc_loss_and_grads(&model, &x, &seqs).unwrap();
    let mut loss = first;
    for _ in 0..600 {
        stepper.adam_step(&mut adam, model.params_mut());
        loss = stepper.ctc_loss_and_grads(&model, &x, &seqs).unwrap();
        if loss < 0.01 {
            break;
        }
    }
    assert!(first > 1.0 && loss < 0.01, "loss {first} -> {loss}");
    let (t, classes) = model.sequence_output().unwrap();
    let logits = model.predict(&x);
    let mut start = 0;
    for (i, &len) in lengths.iter().enumerate() {
        let read = greedy_decode(&logits[i * t * classes..(i + 1) * t * classes], classes);
        assert_eq!(read.labels, &labels[start..start + len], "line {i}");
        start += len;
    }
}

#[test]
fn a_reader_runs_on_other_widths_with_the_same_parameters() {
    let model = line_reader(6);
    let (x, _, _) = synthetic_lines(3, 7);
    let wide = model.with_input_width(2 * W).unwrap();
    assert_eq!(wide.params(), model.params());
    assert_eq!(wide.sequence_output(), Some((W, CLASSES)));
    // The same line padded with blank columns on the right: the first columns' scores do not
    // change beyond the reach of the convolutions (two 3x3: 2 pixels, i.e. the last column).
    let mut padded = vec![0.0; 3 * H * 2 * W];
    for (row, src) in x.chunks_exact(W).enumerate() {
        padded[row * 2 * W..row * 2 * W + W].copy_from_slice(src);
    }
    let (narrow_out, wide_out) = (model.predict(&x), wide.predict(&padded));
    let t = W / 2;
    for line in 0..3 {
        for col in 0..t - 1 {
            for k in 0..CLASSES {
                let a = narrow_out[(line * t + col) * CLASSES + k];
                let b = wide_out[(line * 2 * t + col) * CLASSES + k];
                assert!((a - b).abs() < 1e-5, "line {line} column {col}: {a} vs {b}");
            }
        }
    }
    assert!(model
        .with_input_width(1)
        .unwrap_err()
        .contains("at width 1"));
    let flat = Sequential::new(ModelSpec::mnist_convnet(784, 10), Init::KaimingUniform, 1);
    assert!(flat
        .with_input_width(30)
        .unwrap_err()
        .contains("no input shape"));
    let dense_after = Sequential::new(
        ModelSpec::image(
            4,
            6,
            1,
            vec![
                LayerSpec::flatten(),
                LayerSpec::dense(2, Activation::Linear),
            ],
        ),
        Init::KaimingUniform,
        1,
    );
    let e = dense_after.with_input_width(8).unwrap_err();
    assert!(e.contains("depend on the width"), "{e}");
}

/// Reading packs the convolutions' weights once and keeps them, and a model's copy at another
/// width shares its parameters and packed weights: whatever changes the parameters afterwards,
/// each model reads as a model built fresh with its own parameters does, bit for bit.
#[test]
fn copies_share_parameters_and_packed_weights_only_while_they_stand() {
    let (x, ..) = synthetic_lines(4, 7);
    let fresh = |m: &Sequential| {
        let mut f = Sequential::zeros(m.spec().clone()).unwrap();
        f.params_mut().copy_from_slice(m.params());
        f
    };
    let mut model = line_reader(3);
    let first = model.predict(&x);
    assert_eq!(first, fresh(&model).predict(&x));
    // The model alone holds its packed weights: they are emptied in place.
    model.params_mut()[1] -= 0.25;
    let before = model.predict(&x);
    assert_ne!(before, first, "the changed weight is read");
    assert_eq!(before, fresh(&model).predict(&x));
    let wide = model.with_input_width(2 * W).unwrap();
    let packed = |m: &Sequential| format!("{m:?}").contains("PackedWeights(packed)");
    assert!(
        packed(&wide),
        "the copy reads with the packed weights its original made"
    );
    let shared = |a: &Sequential, b: &Sequential| std::ptr::eq(a.params(), b.params());
    assert!(
        shared(&wide, &model),
        "the copy holds no parameters of its own"
    );
    let x_wide: Vec<f32> = x.chunks(W).flat_map(|row| [row, row].concat()).collect();
    let wide_before = wide.predict(&x_wide);
    assert_eq!(wide_before, fresh(&wide).predict(&x_wide));

    // Another moved: the model reads with it (its parameters copied, without the packed
    // weights it shared), its wider copy still without it.
    model.params_mut()[0] += 0.5;
    let after = model.predict(&x);
    assert_ne!(after, before, "the changed weight is read");
    assert_eq!(after, fresh(&model).predict(&x));
    assert_eq!(wide.predict(&x_wide), wide_before);
    assert!(
        !shared(&wide, &model),
        "changed, the model's parameters are its own"
    );

    // set_weights, and a clone changed after its original read.
    let (w, b) = model.weights(0);
    let (w, b) = (w.iter().map(|v| v * 0.5).collect::<Vec<_>>(), b.to_vec());
    let mut copy = model.clone();
    copy.set_weights(0, &w, &b).unwrap();
    assert_eq!(copy.predict(&x), fresh(&copy).predict(&x));
    assert_ne!(copy.predict(&x), after);
    assert_eq!(model.predict(&x), after);
}

/// A thread keeps its inference buffers from one reading for the next, resized when the next
/// is at another width (a line reader reads each picture at several): what the last reading
/// left in them never reaches the next one. Each reads as it does on a fresh thread.
#[test]
fn readings_at_other_widths_on_one_thread_read_as_on_a_fresh_one() {
    let model = line_reader(4);
    let (x, ..) = synthetic_lines(2, 9);
    let wide = model.with_input_width(3 * W).unwrap();
    let x_wide: Vec<f32> = x
        .chunks(W)
        .flat_map(|row| [row, row, row].concat())
        .collect();
    let on_fresh_thread = |m: &Sequential, x: &[f32]| {
        std::thread::scope(|s| s.spawn(|| m.predict(x)).join().unwrap())
    };
    let (narrow_alone, wide_alone) = (on_fresh_thread(&model, &x), on_fresh_thread(&wide, &x_wide));
    std::thread::scope(|s| {
        s.spawn(|| {
            assert_eq!(wide.predict(&x_wide), wide_alone);
            assert_eq!(model.predict(&x), narrow_alone, "after a wider reading");
            assert_eq!(wide.predict(&x_wide), wide_alone, "after a narrower one");
            assert_eq!(
                model.predict(&x[..H * W]),
                narrow_alone[..narrow_alone.len() / 2]
            );
        });
    });
}
