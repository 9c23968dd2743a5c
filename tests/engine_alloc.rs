//! A training step allocates nothing once its buffers exist (on one thread and on several), for
//! the MLP's column-split step and for a CNN's step split by images; nor do the convolution and
//! pooling kernels, nor the CTC loss once its buffers have grown.

use digits::data::{Dataset, PixelLayout, PixelScale, Pixels};
use digits::nn::ctc::{CtcBatch, CtcLoss, Reduction};
use digits::nn::kernels::{
    conv2d_backward, conv2d_forward, maxpool2_backward, maxpool2_forward, ConvShape,
};
use digits::nn::{
    Activation, Adam, Init, LayerSpec, ModelSpec, Padding, SequenceLabels, Sequential,
};
use digits::train::step::Stepper;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts every allocation of the process (the step's pool threads included).
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The count is process-wide, so this test has no harness (`harness = false` in Cargo.toml):
/// libtest's main thread allocates while a test runs, when the scheduler lets it (once, 4
/// allocations fell inside a measured step on a busy machine). Here the only threads are this
/// one and the step's own, whose allocations are what is counted. A failed check panics, and the
/// test fails.
fn main() {
    let checks: [(&str, fn()); 7] = [
        ("mlp_steps_allocate_nothing", mlp_steps_allocate_nothing),
        ("cnn_steps_allocate_nothing", cnn_steps_allocate_nothing),
        (
            "conv_and_pool_kernels_allocate_nothing",
            conv_and_pool_kernels_allocate_nothing,
        ),
        ("ctc_loss_allocates_nothing", ctc_loss_allocates_nothing),
        ("ctc_steps_allocate_nothing", ctc_steps_allocate_nothing),
        (
            "predicting_again_allocates_only_the_answer",
            predicting_again_allocates_only_the_answer,
        ),
        (
            "reading_at_a_narrower_width_allocates_only_the_answer",
            reading_at_a_narrower_width_allocates_only_the_answer,
        ),
    ];
    for (name, check) in checks {
        check();
        println!("engine_alloc: {name} ... ok");
    }
}

/// Predicting one picture again on the same thread reuses the buffers of the first call (a
/// number reader predicts many small pictures one by one): only the logits are allocated.
fn predicting_again_allocates_only_the_answer() {
    let model = Sequential::new(ModelSpec::mnist_convnet(784, 10), Init::KaimingUniform, 1);
    let x: Vec<f32> = (0..784).map(|i| (i % 7) as f32 / 7.0).collect();
    let first = ALLOCATIONS.load(Ordering::SeqCst);
    let want = model.predict(&x);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    assert!(before - first > 3, "the first call makes the buffers");
    for _ in 0..5 {
        assert_eq!(model.predict(&x), want);
    }
    let allocated = ALLOCATIONS.load(Ordering::SeqCst) - before;
    assert!(
        allocated <= 5,
        "{allocated} allocations in 5 predictions of one picture"
    );
}

/// A line model reads each picture at several widths (a model of other sizes for each): after
/// a reading at one width, the first at a narrower width on the same thread resizes the buffers
/// the first left, in place, and allocates only the answer.
fn reading_at_a_narrower_width_allocates_only_the_answer() {
    let wide = Sequential::new(line_model_spec(), Init::KaimingUniform, 1);
    let narrow = wide.with_input_width(24).unwrap();
    let x: Vec<f32> = (0..8 * 40).map(|i| (i % 5) as f32 / 5.0).collect();
    // The narrow reading's answer, from another thread (whose buffers this one does not see).
    let want = std::thread::scope(|s| s.spawn(|| narrow.predict(&x[..8 * 24])).join().unwrap());
    wide.predict(&x);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(narrow.predict(&x[..8 * 24]), want);
    let allocated = ALLOCATIONS.load(Ordering::SeqCst) - before;
    assert!(
        allocated <= 1,
        "{allocated} allocations reading at a narrower width"
    );
}

/// A small line model: lines 8 x 40, 20 columns of 12 classes.
fn line_model_spec() -> ModelSpec {
    let relu = Activation::Relu;
    ModelSpec::image(
        8,
        40,
        1,
        vec![
            LayerSpec::conv2d(8, 3, Padding::Same, relu),
            LayerSpec::maxpool(2, 2),
            LayerSpec::conv2d(16, 3, Padding::Same, relu),
            LayerSpec::maxpool(4, 1),
            LayerSpec::conv2d(12, 1, Padding::Valid, Activation::Linear),
        ],
    )
}

/// CTC training steps of a line reader (per-column output): after a first step on short labels
/// (the step may start its threads), labels of any length its 20 columns allow need nothing
/// more: the workspace sizes the CTC buffers.
fn ctc_steps_allocate_nothing() {
    let spec = line_model_spec();
    let batch = 24;
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let steps: Vec<(Vec<f32>, Vec<u8>, Vec<usize>)> = (0..6)
        .map(|s| {
            let x = (0..batch * 320).map(|_| rng.gen()).collect();
            let longest = if s == 0 { 3 } else { 20 };
            let lengths: Vec<usize> = (0..batch).map(|_| rng.gen_range(0..=longest)).collect();
            let labels = (0..lengths.iter().sum())
                .map(|_| rng.gen_range(1..12))
                .collect();
            (x, labels, lengths)
        })
        .collect();
    for threads in [1, 2] {
        let mut model = Sequential::new(spec.clone(), Init::KaimingUniform, 1);
        let mut adam = Adam::new(model.params().len(), 1e-3);
        let mut stepper = Stepper::new(&model, batch, threads);
        let mut step = |(x, labels, lengths): &(Vec<f32>, Vec<u8>, Vec<usize>)| {
            let seqs = SequenceLabels { labels, lengths };
            let loss = stepper.ctc_loss_and_grads(&model, x, &seqs).unwrap();
            assert!(loss.is_finite() && stepper.grads_finite());
            stepper.adam_step(&mut adam, model.params_mut());
        };
        step(&steps[0]);
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        steps[1..].iter().for_each(&mut step);
        let allocated = ALLOCATIONS.load(Ordering::SeqCst) - before;
        assert_eq!(
            allocated, 0,
            "{threads} thread(s): {allocated} allocations in 5 CTC steps"
        );
    }
}

fn mlp_steps_allocate_nothing() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let n = 256;
    let pixels: Vec<u8> = (0..n * 784)
        .map(|_| if rng.gen_bool(0.8) { 0 } else { rng.gen() })
        .collect();
    let data = Dataset {
        pixels: Pixels::U8(pixels),
        labels: (0..n).map(|_| rng.gen_range(0..10)).collect(),
        rows: 28,
        cols: 28,
        layout: PixelLayout::RowMajor,
    };
    let batches: Vec<Vec<usize>> = (0..12)
        .map(|_| (0..64).map(|_| rng.gen_range(0..n)).collect())
        .collect();
    for threads in [1, 2] {
        let mut model =
            Sequential::new(ModelSpec::mlp(784, &[25, 15], 10), Init::KaimingUniform, 1);
        let mut adam = Adam::new(model.params().len(), 1e-3);
        let mut stepper = Stepper::new(&model, 64, threads);
        let mut step = |b: usize| {
            let next = batches.get(b + 1).map_or(&[][..], |v| &v[..]);
            let loss =
                stepper.loss_and_grads_of(&model, &data, &batches[b], next, PixelScale::Unit);
            assert!(loss.is_finite() && stepper.grads_finite());
            stepper.adam_step(&mut adam, model.params_mut());
        };
        step(0); // the first step may size what it needs
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        for b in 1..batches.len() {
            step(b);
        }
        let allocated = ALLOCATIONS.load(Ordering::SeqCst) - before;
        assert_eq!(
            allocated, 0,
            "{threads} thread(s): {allocated} allocations in 11 steps"
        );
    }
}

fn cnn_steps_allocate_nothing() {
    // Keras' mnist_convnet through the batch split by images (dropout masks, pool argmax and
    // the convolutions' scratch all live in buffers made once).
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let batch = 32;
    let xs: Vec<Vec<f32>> = (0..6)
        .map(|_| {
            (0..batch * 784)
                .map(|_| if rng.gen_bool(0.8) { 0.0 } else { rng.gen() })
                .collect()
        })
        .collect();
    let y: Vec<u8> = (0..batch).map(|_| rng.gen_range(0..10)).collect();
    for threads in [1, 2] {
        let mut model = Sequential::new(ModelSpec::mnist_convnet(784, 10), Init::KaimingUniform, 1);
        assert!(!model.sparse_input());
        let mut adam = Adam::new(model.params().len(), 1e-3);
        let mut stepper = Stepper::new(&model, batch, threads);
        let mut step = |b: usize| {
            stepper.set_dropout_key(1, b as u64);
            let loss = stepper.loss_and_grads(&model, &xs[b], &y);
            assert!(loss.is_finite() && stepper.grads_finite());
            stepper.adam_step(&mut adam, model.params_mut());
        };
        step(0);
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        for b in 1..xs.len() {
            step(b);
        }
        let allocated = ALLOCATIONS.load(Ordering::SeqCst) - before;
        assert_eq!(
            allocated, 0,
            "{threads} thread(s): {allocated} allocations in 5 CNN steps"
        );
    }
}

/// The convolution and pooling kernels allocate nothing: all they need is in the caller's
/// scratch (sized by `ConvShape::scratch_len`).
fn conv_and_pool_kernels_allocate_nothing() {
    // Valid and same padding, aligned (cin 32) and unaligned (cin 3) channel counts.
    for s in [
        ConvShape {
            n: 3,
            h: 13,
            w: 13,
            cin: 32,
            k: 3,
            pad: 0,
            cout: 64,
        },
        ConvShape {
            n: 2,
            h: 9,
            w: 7,
            cin: 3,
            k: 5,
            pad: 2,
            cout: 20,
        },
    ] {
        let x: Vec<f32> = (0..s.in_len()).map(|i| (i % 7) as f32 - 3.0).collect();
        let w: Vec<f32> = (0..s.weight_len()).map(|i| (i % 5) as f32 * 0.1).collect();
        let b = vec![0.5; s.cout];
        let dz: Vec<f32> = (0..s.out_len()).map(|i| (i % 3) as f32 - 1.0).collect();
        let mut z = vec![0.0; s.out_len()];
        let (mut dw, mut db, mut dx) = (vec![0.0; w.len()], vec![0.0; s.cout], vec![0.0; x.len()]);
        let mut scratch = vec![0.0; s.scratch_len()];
        let (ph, pw) = (s.oh() / 2, s.ow() / 2);
        let mut y = vec![0.0; s.n * ph * pw * s.cout];
        let mut arg = vec![0u8; y.len()];
        let mut dp = vec![0.0; s.out_len()];
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        conv2d_forward(&s, &x, &w, &b, &mut z, &mut scratch);
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
        maxpool2_forward(s.n, s.oh(), s.ow(), s.cout, &z, &mut y, &mut arg);
        maxpool2_backward(s.n, s.oh(), s.ow(), s.cout, &y, &arg, &mut dp);
        assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), before, "{s:?}");
        // The calls did their work.
        assert!(z.iter().any(|&v| v != 0.0) && dw.iter().any(|&v| v != 0.0));
        assert!(dx.iter().any(|&v| v != 0.0) && dp.iter().any(|&v| v != 0.0));
    }
}

/// The CTC loss allocates nothing after the first batch of its largest size (nor at all when made
/// `with_capacity`).
fn ctc_loss_allocates_nothing() {
    let (n, t, c) = (4, 20, 15);
    let logits: Vec<f32> = (0..n * t * c)
        .map(|i| (i % 11) as f32 * 0.3 - 1.5)
        .collect();
    let targets = [1u8, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    let batch = CtcBatch {
        logits: &logits,
        n,
        t,
        classes: c,
        input_lengths: Some(&[20, 18, 20, 9]),
        targets: &targets,
        target_lengths: &[4, 0, 8, 1],
    };
    let mut losses = vec![0.0; n];
    let mut grad = vec![0.0; logits.len()];
    for (mut ctc, reserved) in [
        (CtcLoss::new(), false),
        (CtcLoss::with_capacity(t, c, 8), true),
    ] {
        let start = ALLOCATIONS.load(Ordering::SeqCst);
        let first = ctc.compute(&batch, Reduction::Mean, &mut losses, Some(&mut grad));
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        assert_eq!(before > start, !reserved, "reserved: {reserved}");
        let again = ctc.compute(&batch, Reduction::Mean, &mut losses, Some(&mut grad));
        assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), before);
        assert_eq!(first, again);
        assert!(again.unwrap().loss > 0.0 && grad.iter().any(|&g| g != 0.0));
    }
}
