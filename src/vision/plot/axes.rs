//! Axis ranges with round tick values.

/// A linear axis from `lo` to `hi` with ticks every `step`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub step: f64,
}

/// 1, 2 or 5 times a power of ten, giving about `target` steps over `range`.
fn nice_step(range: f64, target: f64) -> f64 {
    let raw = (range / target).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|&m| m >= norm)
        .unwrap_or(10.0);
    m * mag
}

impl Axis {
    /// Covers [min, max]; `round_out` widens the ends to whole ticks (and to 0 for data that
    /// is all positive), otherwise the ends are the data's.
    pub fn new(min: f64, max: f64, round_out: bool) -> Axis {
        let (mut min, mut max) = if min.is_finite() && max.is_finite() && min <= max {
            (min, max)
        } else {
            (0.0, 1.0)
        };
        if round_out && min >= 0.0 {
            min = 0.0;
        }
        if max - min < 1e-12 {
            min -= 0.5;
            max += 0.5;
        }
        let step = nice_step(max - min, 6.0);
        if round_out {
            Axis {
                lo: (min / step).floor() * step,
                hi: (max / step).ceil() * step,
                step,
            }
        } else {
            Axis {
                lo: min,
                hi: max,
                step,
            }
        }
    }

    /// Like `new`, for values counted in whole units (epochs): the ticks fall on whole numbers
    /// (1, 2, 3, not 1.0, 1.5, 2.0).
    pub fn whole(min: f64, max: f64, round_out: bool) -> Axis {
        let mut a = Axis::new(min, max, round_out);
        if a.step < 1.0 {
            a.step = 1.0;
            if round_out {
                (a.lo, a.hi) = (a.lo.floor(), a.hi.ceil());
            }
        }
        a
    }

    /// Tick values inside the axis.
    pub fn ticks(&self) -> Vec<f64> {
        let first = (self.lo / self.step - 1e-9).ceil() as i64;
        let last = (self.hi / self.step + 1e-9).floor() as i64;
        (first..=last).map(|k| k as f64 * self.step).collect()
    }

    /// A tick value with as many decimals as the step needs.
    pub fn label(&self, v: f64) -> String {
        let decimals = (-self.step.log10().floor()).max(0.0) as usize;
        let s = format!("{v:.decimals$}");
        if s.starts_with('-') && s.trim_start_matches(['-', '0', '.']).is_empty() {
            s[1..].to_string() // no "-0.0"
        } else {
            s
        }
    }

    /// Fraction of the way from `lo` to `hi`.
    pub fn frac(&self, v: f64) -> f64 {
        (v - self.lo) / (self.hi - self.lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_ticks() {
        let a = Axis::new(0.08, 2.31, true);
        assert_eq!((a.lo, a.hi, a.step), (0.0, 2.5, 0.5));
        assert_eq!(a.ticks().len(), 6);
        assert_eq!(a.label(1.5), "1.5");
        let x = Axis::new(1.0, 10.0, false);
        assert_eq!(x.step, 2.0);
        assert_eq!(x.ticks(), vec![2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(x.label(4.0), "4");
        let flat = Axis::new(3.0, 3.0, false);
        assert!(flat.lo < 3.0 && flat.hi > 3.0);
    }

    #[test]
    fn whole_units_get_whole_ticks() {
        // Three epochs: 1.0, 1.5, ... with `new`; 1, 2, 3 with `whole`.
        assert_eq!(Axis::new(1.0, 3.0, false).step, 0.5);
        let a = Axis::whole(1.0, 3.0, false);
        assert_eq!(a.ticks(), vec![1.0, 2.0, 3.0]);
        let labels: Vec<String> = a.ticks().iter().map(|&v| a.label(v)).collect();
        assert_eq!(labels, ["1", "2", "3"]);
        assert_eq!(Axis::whole(1.0, 2.0, false).ticks(), vec![1.0, 2.0]);
        // Longer runs keep the round steps of `new`.
        assert_eq!(Axis::whole(1.0, 40.0, false), Axis::new(1.0, 40.0, false));
        // One epoch: a whole tick on it.
        assert_eq!(Axis::whole(1.0, 1.0, false).ticks(), vec![1.0]);
    }
}
