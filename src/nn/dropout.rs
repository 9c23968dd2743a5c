//! Dropout: while training each value is zeroed with probability `rate` and the others scaled
//! by 1 / (1 - rate) (PyTorch's and Keras' inverted dropout); otherwise the identity.
//!
//! The mask is a hash of (seed, step, the example's row in the batch, layer, position), not a
//! random stream: it is the same however the batch is split across threads, and a resumed run
//! (which knows its seed and step) draws the masks the uninterrupted run drew.

use super::layer::Shape;

#[derive(Clone, Debug, PartialEq)]
pub struct Dropout {
    pub name: String,
    pub rate: f32,
    pub shape: Shape,
    /// The layer's position in the model (keys its masks apart from other dropout layers').
    pub index: usize,
}

/// What a training step's masks are drawn from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DropoutKey {
    pub seed: u64,
    pub step: u64,
    /// The batch row of the first example given to this forward pass (a thread's share starts
    /// part-way into the batch).
    pub row0: usize,
}

/// splitmix64's finaliser: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Dropout {
    /// 1 keeps, 0 drops, for each value of `mask` (n rows of the layer's width).
    pub fn fill_mask(&self, key: DropoutKey, mask: &mut [u8]) {
        let width = self.shape.len();
        // Dropped when the top 24 bits of the hash fall below rate * 2^24.
        let threshold = (self.rate as f64 * (1u64 << 24) as f64) as u64;
        let layer = mix(key.seed ^ mix(key.step ^ mix(self.index as u64 + 0x5bd1_e995)));
        for (r, row) in mask.chunks_exact_mut(width.max(1)).enumerate() {
            let base = mix(layer ^ mix((key.row0 + r) as u64));
            for (j, m) in row.iter_mut().enumerate() {
                let h = mix(base.wrapping_add((j as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)));
                *m = u8::from(h >> 40 >= threshold);
            }
        }
    }

    /// y = x * mask / (1 - rate) while training (`key` given), y = x otherwise.
    pub fn forward(&self, x: &[f32], y: &mut [f32], mask: &mut [u8], key: Option<DropoutKey>) {
        match key {
            Some(key) if self.rate > 0.0 => {
                self.fill_mask(key, mask);
                apply_mask(x, mask, 1.0 / (1.0 - self.rate), y);
            }
            _ => {
                y.copy_from_slice(x);
                mask.fill(1);
            }
        }
    }

    /// dx = dy * mask / (1 - rate), with the mask of a training forward pass.
    pub fn backward(&self, dy: &[f32], mask: &[u8], dx: &mut [f32]) {
        apply_mask(dy, mask, 1.0 / (1.0 - self.rate), dx);
    }
}

/// y = x * scale where mask is 1, exactly 0 where it is 0 (even for an infinite x). Without
/// branches: half the values are dropped at random, which a branch would mispredict.
fn apply_mask(x: &[f32], mask: &[u8], scale: f32, y: &mut [f32]) {
    for ((yv, &xv), &m) in y.iter_mut().zip(x).zip(mask) {
        let keep = u32::from(m != 0).wrapping_neg();
        *yv = f32::from_bits(xv.to_bits() & keep) * scale;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_drop_about_the_rate_and_repeat_for_the_same_key() {
        let d = Dropout {
            name: "dropout".into(),
            rate: 0.5,
            shape: Shape::Flat(1000),
            index: 5,
        };
        let key = DropoutKey {
            seed: 1,
            step: 7,
            row0: 0,
        };
        let mut a = vec![0u8; 4000];
        d.fill_mask(key, &mut a);
        let kept = a.iter().filter(|&&m| m != 0).count();
        assert!((1850..2150).contains(&kept), "{kept} of 4000 kept");
        // Rows 2 and 3 of the batch, computed by a thread whose share starts at row 2.
        let mut b = vec![0u8; 2000];
        d.fill_mask(DropoutKey { row0: 2, ..key }, &mut b);
        assert_eq!(&a[2000..], &b[..]);
        d.fill_mask(DropoutKey { step: 8, ..key }, &mut b);
        assert_ne!(&a[..2000], &b[..]);
    }
}
