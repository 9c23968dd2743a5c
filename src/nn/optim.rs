//! Adam over the flat parameter buffer: one pass, no allocation.

use super::simd::dispatch;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    /// Steps taken so far.
    pub t: u64,
    pub m: Vec<f32>,
    pub v: Vec<f32>,
}

impl Adam {
    /// Adam for `n` parameters with the usual betas (0.9, 0.999) and PyTorch's eps 1e-8.
    pub fn new(n: usize, lr: f32) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            t: 0,
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }

    /// One update, PyTorch's formulation:
    /// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
    pub fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        let c = self.begin_step();
        adam_update(params, grads, &mut self.m, &mut self.v, c);
    }

    /// Counts a step and returns the coefficients of `adam_update` for it (so the update can be
    /// applied in chunks, e.g. by several threads).
    pub fn begin_step(&mut self) -> [f32; 5] {
        self.t += 1;
        let t = self.t as i32;
        let bc1 = 1.0 - (self.beta1 as f64).powi(t);
        let bc2 = 1.0 - (self.beta2 as f64).powi(t);
        let step = (self.lr as f64 / bc1) as f32;
        let inv_sqrt_bc2 = (1.0 / bc2.sqrt()) as f32;
        [self.beta1, self.beta2, self.eps, step, inv_sqrt_bc2]
    }
}

dispatch! {
    /// The element-wise Adam update; `c` = [beta1, beta2, eps, lr / (1 - beta1^t), 1 / sqrt(1 - beta2^t)].
    pub fn adam_update(params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32], c: [f32; 5]) {
        let [b1, b2, eps, step, inv_sqrt_bc2] = c;
        for (((p, &g), m), v) in params.iter_mut().zip(grads).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= step * *m / (v.sqrt() * inv_sqrt_bc2 + eps);
        }
    }
}
