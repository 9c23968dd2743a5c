//! The step's input for a model whose first layer reads pixels sparsely (the column-split step
//! of `step.rs`): each thread lists the nonzeros of its input columns of the batch's images
//! straight from the dataset's bytes, with no dense batch in between, and meanwhile asks the CPU
//! to fetch the same columns of the next step's images.

use crate::data::{Dataset, PixelScale, Pixels};
use crate::nn::kernels::SparseRows;
use std::ops::Range;

/// Lists the nonzeros of the input columns `cols` of the images `indices` of `data` in `out`,
/// one row each (column numbers counted from `cols.start`). Also prefetches the same columns of
/// the images `ahead` (those of the next step), one per image filled: shuffled images are
/// scattered over the whole set, and waiting for each from memory cost a fifth of a step.
pub fn fill_sparse_cols(
    data: &Dataset,
    indices: &[usize],
    ahead: &[usize],
    cols: Range<usize>,
    scale: PixelScale,
    out: &mut SparseRows,
) {
    let f = data.features();
    out.clear();
    for (k, &i) in indices.iter().enumerate() {
        let image = |i: usize| i * f + cols.start..i * f + cols.end;
        match &data.pixels {
            Pixels::U8(p) => {
                if let Some(&next) = ahead.get(k) {
                    prefetch_range(&p[image(next)]);
                }
                out.push_row_u8(&p[image(i)], scale == PixelScale::Unit)
            }
            Pixels::F32(p) => {
                if let Some(&next) = ahead.get(k) {
                    prefetch_range(&p[image(next)]);
                }
                out.push_row(&p[image(i)])
            }
        }
    }
}

/// Prefetches every cache line of `values` into all cache levels (x86_64; elsewhere nothing).
/// Into L1 (T0) measured faster than into L2 only: the lines are read within a step.
fn prefetch_range<T>(values: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = std::mem::size_of_val(values);
        let start = values.as_ptr().cast::<i8>();
        // Every 64-byte line the range touches, the last one included.
        for offset in (0..bytes).step_by(64).chain(bytes.checked_sub(1)) {
            // SAFETY: the address lies inside `values`; a prefetch never faults anyway.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}
