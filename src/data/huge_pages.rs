//! Large pixel buffers on 2 MB pages where Linux allows it (transparent huge pages on request).
//!
//! Training visits the images in random order: with 4 KB pages nearly every image of MNIST's
//! 47 MB costs a page-table walk, and prefetching it early helps less. With 2 MB pages the whole
//! set needs a couple of dozen TLB entries. This is advice only: where it is not taken, nothing
//! changes but the speed.

/// Buffers smaller than this are left alone (they gain little).
const WORTH_IT: usize = 4 << 20;

/// Asks for the 2 MB-aligned part of `buffer` (not yet touched) to be backed by huge pages.
pub fn advise<T>(buffer: &mut [std::mem::MaybeUninit<T>]) {
    let len = std::mem::size_of_val(buffer);
    if len < WORTH_IT {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = buffer.as_mut_ptr() as usize;
        let first = start.next_multiple_of(HUGE);
        let end = (start + len) / HUGE * HUGE;
        if end > first {
            // SAFETY: the range lies inside `buffer`, which this call borrows mutably; madvise
            // with MADV_HUGEPAGE changes how the memory is backed, never its contents.
            unsafe {
                libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
            }
        }
    }
}
