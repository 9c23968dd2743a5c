//! A training step allocates nothing once its buffers exist (on one thread and on several), for
//! the MLP's column-split step and for a CNN's step split by images.

use digits::data::{Dataset, PixelLayout, PixelScale, Pixels};
use digits::nn::{Adam, Init, ModelSpec, Sequential};
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

/// One test: the count is process-wide, and the test harness allocates when another test ends.
#[test]
fn training_steps_allocate_nothing_after_the_first() {
    mlp_steps_allocate_nothing();
    cnn_steps_allocate_nothing();
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
