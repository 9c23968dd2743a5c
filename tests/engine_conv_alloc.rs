//! The convolution and pooling kernels allocate nothing: all they need is in the caller's
//! scratch (sized by `ConvShape::scratch_len`).

use digits::nn::kernels::{
    conv2d_backward, conv2d_forward, maxpool2_backward, maxpool2_forward, ConvShape,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

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

#[test]
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
