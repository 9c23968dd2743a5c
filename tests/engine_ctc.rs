//! The CTC loss and its gradient: against PyTorch's `ctc_loss` on a fixture
//! (tests/fixtures/make_ctc_fixture.py), against finite differences, and against a brute-force
//! sum over every path on tiny tables; bad batches are errors that name what is wrong.

use digits::nn::ctc::{min_columns, CtcBatch, CtcLoss, Reduction};
use digits::nn::ctc_decode::labelling_log_prob;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

/// A fixture array of numbers as f64 (null as +inf).
fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::INFINITY))
        .collect()
}

/// (t, n, c) to the engine's (n, t, c).
fn tnc_to_ntc(v: &[f64], t: usize, n: usize, c: usize) -> Vec<f64> {
    let mut out = vec![0.0; v.len()];
    for col in 0..t {
        for i in 0..n {
            for k in 0..c {
                out[(i * t + col) * c + k] = v[(col * n + i) * c + k];
            }
        }
    }
    out
}

#[test]
fn matches_pytorch_ctc_loss() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ctc/ctc_torch.json"
    );
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut ctc = CtcLoss::new();
    for case in fixture["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let dim = |k: &str| case[k].as_u64().unwrap() as usize;
        let (t, n, c) = (dim("t"), dim("n"), dim("classes"));
        let logits: Vec<f32> = tnc_to_ntc(&numbers(&case["logits_tnc"]), t, n, c)
            .iter()
            .map(|&v| v as f32)
            .collect();
        let targets: Vec<u8> = numbers(&case["targets"]).iter().map(|&v| v as u8).collect();
        let target_lengths: Vec<usize> = numbers(&case["target_lengths"])
            .iter()
            .map(|&v| v as usize)
            .collect();
        let input_lengths: Vec<usize> = numbers(&case["input_lengths"])
            .iter()
            .map(|&v| v as usize)
            .collect();
        let batch = CtcBatch {
            logits: &logits,
            n,
            t,
            classes: c,
            input_lengths: Some(&input_lengths),
            targets: &targets,
            target_lengths: &target_lengths,
        };
        let expected_losses = numbers(&case["losses"]);
        let expected_impossible = expected_losses.iter().filter(|l| l.is_infinite()).count();
        for (reduction, key) in [(Reduction::Sum, "sum"), (Reduction::Mean, "mean")] {
            let mut losses = vec![0.0; n];
            let mut grad = vec![f32::NAN; logits.len()];
            let summary = ctc
                .compute(&batch, reduction, &mut losses, Some(&mut grad))
                .unwrap();
            for (i, (&got, &want)) in losses.iter().zip(&expected_losses).enumerate() {
                if want.is_infinite() {
                    assert_eq!(got, f64::INFINITY, "{name} sequence {i}");
                } else {
                    assert!(
                        (got - want).abs() <= 1e-9 * want.max(1.0),
                        "{name} sequence {i}: loss {got}, PyTorch {want}"
                    );
                }
            }
            let want = case[key].as_f64().unwrap();
            assert!(
                (summary.loss - want).abs() <= 1e-9 * want.max(1.0),
                "{name} {key}: {} vs PyTorch {want}",
                summary.loss
            );
            assert_eq!(summary.impossible, expected_impossible, "{name}");
            if reduction == Reduction::Mean {
                shares_add_up_to_the_batch(&batch, summary.loss, &grad);
            }
            let want_grad = tnc_to_ntc(&numbers(&case[&format!("grad_{key}_tnc")]), t, n, c);
            // The fixture keeps 7 significant digits; the engine's gradient is f32.
            for (j, (&g, &w)) in grad.iter().zip(&want_grad).enumerate() {
                assert!(
                    (g as f64 - w).abs() <= 2e-7 + 1e-6 * w.abs(),
                    "{name} {key}: gradient {j} is {g}, PyTorch {w}"
                );
            }
        }
    }
}

/// The batch in two shares (as two threads would take it), each with `MeanOf(n)`: their losses
/// add up to the whole batch's `Mean`, and their gradients are its gradient.
fn shares_add_up_to_the_batch(batch: &CtcBatch, loss: f64, grad: &[f32]) {
    let (n, t, c) = (batch.n, batch.t, batch.classes);
    let cut = n / 2;
    let labels_before = batch.target_lengths[..cut].iter().sum::<usize>();
    let (mut total, mut parts) = (0.0, Vec::new());
    for (rows, labels) in [
        (0..cut, 0..labels_before),
        (cut..n, labels_before..batch.targets.len()),
    ] {
        let share = CtcBatch {
            logits: &batch.logits[rows.start * t * c..rows.end * t * c],
            n: rows.len(),
            input_lengths: batch.input_lengths.map(|l| &l[rows.clone()]),
            targets: &batch.targets[labels],
            target_lengths: &batch.target_lengths[rows.clone()],
            ..*batch
        };
        let mut losses = vec![0.0; rows.len()];
        let mut g = vec![0.0; rows.len() * t * c];
        total += CtcLoss::new()
            .compute(&share, Reduction::MeanOf(n), &mut losses, Some(&mut g))
            .unwrap()
            .loss;
        parts.extend(g);
    }
    assert!(
        (total - loss).abs() < 1e-12 * loss.max(1.0),
        "{total} vs {loss}"
    );
    assert_eq!(parts, grad);
}

/// A random batch: labels of 0..=max_label characters over `classes` (repeats likely), input
/// lengths from just enough to t.
fn random_batch(
    rng: &mut ChaCha8Rng,
    n: usize,
    t: usize,
    classes: usize,
    scale: f32,
) -> (Vec<f32>, Vec<u8>, Vec<usize>, Vec<usize>) {
    let logits = (0..n * t * classes)
        .map(|_| rng.gen_range(-1.0..1.0f32) * scale)
        .collect();
    let (mut targets, mut target_lengths, mut input_lengths) = (vec![], vec![], vec![]);
    for _ in 0..n {
        loop {
            let len = rng.gen_range(0..=t / 2);
            let label: Vec<u8> = (0..len)
                .map(|_| rng.gen_range(1..classes.min(4)) as u8)
                .collect();
            if min_columns(&label) <= t {
                input_lengths.push(rng.gen_range(min_columns(&label).max(1)..=t));
                target_lengths.push(len);
                targets.extend(label);
                break;
            }
        }
    }
    (logits, targets, target_lengths, input_lengths)
}

#[test]
fn gradient_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    let mut ctc = CtcLoss::new();
    for (trial, scale) in [(0, 1.0f32), (1, 3.0), (2, 8.0)] {
        let (n, t, c) = (3, 7, 5);
        let (mut logits, targets, target_lengths, input_lengths) =
            random_batch(&mut rng, n, t, c, scale);
        for reduction in [Reduction::Sum, Reduction::Mean] {
            let mut losses = vec![0.0; n];
            let loss = |ctc: &mut CtcLoss, logits: &[f32], losses: &mut [f64]| {
                let batch = CtcBatch {
                    logits,
                    n,
                    t,
                    classes: c,
                    input_lengths: Some(&input_lengths),
                    targets: &targets,
                    target_lengths: &target_lengths,
                };
                ctc.compute(&batch, reduction, losses, None).unwrap().loss
            };
            let mut grad = vec![0.0f32; logits.len()];
            let batch = CtcBatch {
                logits: &logits,
                n,
                t,
                classes: c,
                input_lengths: Some(&input_lengths),
                targets: &targets,
                target_lengths: &target_lengths,
            };
            ctc.compute(&batch, reduction, &mut losses, Some(&mut grad))
                .unwrap();
            let mut worst = 0.0f64;
            for j in 0..logits.len() {
                let z = logits[j];
                let (up, down) = (z + 1e-3, z - 1e-3);
                logits[j] = up;
                let l_up = loss(&mut ctc, &logits, &mut losses);
                logits[j] = down;
                let l_down = loss(&mut ctc, &logits, &mut losses);
                logits[j] = z;
                // The steps actually taken in f32; the loss itself is computed in f64.
                let numeric = (l_up - l_down) / (up as f64 - down as f64);
                worst = worst.max((numeric - grad[j] as f64).abs());
            }
            assert!(
                worst < 2e-5,
                "trial {trial} {reduction:?}: gradient off finite differences by {worst}"
            );
        }
    }
}

/// Every path over `t` columns of `classes` classes collapsed to its labelling, with its
/// probability: the definition CTC's recursions compute.
fn brute_force(log_probs: &[Vec<f64>], classes: usize) -> Vec<(Vec<u8>, f64)> {
    let t = log_probs.len();
    let mut out: Vec<(Vec<u8>, f64)> = Vec::new();
    for code in 0..classes.pow(t as u32) {
        let (mut path, mut rest) = (Vec::new(), code);
        for _ in 0..t {
            path.push(rest % classes);
            rest /= classes;
        }
        let mut label = Vec::new();
        let mut prev = 0;
        let mut p = 0.0;
        for (col, &k) in path.iter().enumerate() {
            if k != 0 && k != prev {
                label.push(k as u8);
            }
            prev = k;
            p += log_probs[col][k];
        }
        match out.iter_mut().find(|(l, _)| *l == label) {
            Some(e) => e.1 += p.exp(),
            None => out.push((label, p.exp())),
        }
    }
    out
}

/// log softmax of each column, in f64.
pub fn log_softmax(logits: &[f32], classes: usize) -> Vec<Vec<f64>> {
    logits
        .chunks(classes)
        .map(|z| {
            let lse = z.iter().map(|&v| (v as f64).exp()).sum::<f64>().ln();
            z.iter().map(|&v| v as f64 - lse).collect()
        })
        .collect()
}

#[test]
fn loss_is_minus_log_of_the_sum_over_every_path() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let mut ctc = CtcLoss::new();
    for _ in 0..4 {
        let (t, c) = (6, 3);
        let logits: Vec<f32> = (0..t * c).map(|_| rng.gen_range(-2.0..2.0)).collect();
        let table = brute_force(&log_softmax(&logits, c), c);
        let total: f64 = table.iter().map(|e| e.1).sum();
        assert!((total - 1.0).abs() < 1e-12);
        for (label, p) in &table {
            let batch = CtcBatch {
                logits: &logits,
                n: 1,
                t,
                classes: c,
                input_lengths: None,
                targets: label,
                target_lengths: &[label.len()],
            };
            let mut losses = [0.0];
            ctc.compute(&batch, Reduction::Sum, &mut losses, None)
                .unwrap();
            assert!(
                (losses[0] + p.ln()).abs() < 1e-10,
                "{label:?}: loss {}, brute force {}",
                losses[0],
                -p.ln()
            );
            let lp = labelling_log_prob(&logits, c, label);
            assert!((lp - p.ln()).abs() < 1e-10, "{label:?}");
        }
        // A label with no path has none in the table, and is impossible for the loss.
        let too_long = [1u8, 1, 1, 1];
        assert!(!table.iter().any(|(l, _)| l == &too_long));
        assert_eq!(labelling_log_prob(&logits, c, &too_long), f64::NEG_INFINITY);
    }
}

#[test]
fn impossible_labels_count_as_zero_with_zero_gradient() {
    // "11" needs 3 columns (1, blank, 1); 2 are too few.
    let logits = [0.1f32, 0.7, -0.3, 0.2, -0.5, 0.9];
    let batch = CtcBatch {
        logits: &logits,
        n: 2,
        t: 1,
        classes: 3,
        input_lengths: None,
        targets: &[1, 1, 2],
        target_lengths: &[2, 1],
    };
    let mut losses = [0.0; 2];
    let mut grad = [f32::NAN; 6];
    let s = CtcLoss::new()
        .compute(&batch, Reduction::Mean, &mut losses, Some(&mut grad))
        .unwrap();
    assert_eq!(losses[0], f64::INFINITY);
    assert_eq!(s.impossible, 1);
    assert_eq!(&grad[..3], &[0.0; 3]);
    // The other is a plain softmax cross-entropy on class 2, halved by the mean over 2.
    let z = &logits[3..];
    let lse = z.iter().map(|&v| (v as f64).exp()).sum::<f64>().ln();
    assert!((losses[1] - (lse - z[2] as f64)).abs() < 1e-12);
    assert!((s.loss - losses[1] / 2.0).abs() < 1e-12);
    assert!(grad[5] < 0.0 && grad[3] > 0.0);

    // A NaN logit is not taken for an impossible label: the loss says NaN.
    let mut bad = logits;
    bad[4] = f32::NAN;
    let s = CtcLoss::new()
        .compute(
            &CtcBatch {
                logits: &bad,
                ..batch
            },
            Reduction::Mean,
            &mut losses,
            None,
        )
        .unwrap();
    assert!(s.loss.is_nan() && s.impossible == 1, "{s:?}");
}

#[test]
fn bad_batches_are_errors_that_say_what_is_wrong() {
    let logits = vec![0.0f32; 2 * 4 * 3];
    let mut losses = [0.0; 2];
    let batch = |targets: &'static [u8], lengths: &'static [usize]| CtcBatch {
        logits: &[],
        n: 2,
        t: 4,
        classes: 3,
        input_lengths: None,
        targets,
        target_lengths: lengths,
    };
    let mut ctc = CtcLoss::new();
    let mut run = |b: CtcBatch| {
        let b = CtcBatch {
            logits: if b.logits.is_empty() {
                &logits
            } else {
                b.logits
            },
            ..b
        };
        ctc.compute(&b, Reduction::Sum, &mut losses, None)
            .unwrap_err()
    };
    let e = run(batch(&[1, 0], &[1, 1]));
    assert!(e.contains("sequence 1 has label 0"), "{e}");
    let e = run(batch(&[1, 3], &[1, 1]));
    assert!(e.contains("sequence 1 has label 3"), "{e}");
    let e = run(batch(&[1, 2], &[1, 2]));
    assert!(e.contains("add up to 3 but there are 2 targets"), "{e}");
    let e = run(batch(&[1, 2], &[2]));
    assert!(e.contains("2 sequences but 1 target lengths"), "{e}");
    let e = run(CtcBatch {
        input_lengths: Some(&[4, 5]),
        ..batch(&[1, 2], &[1, 1])
    });
    assert!(e.contains("sequence 1 has input length 5"), "{e}");
    let e = run(CtcBatch {
        logits: &[0.0; 5],
        ..batch(&[1, 2], &[1, 1])
    });
    assert!(
        e.contains("5 logits for 2 sequences x 4 columns x 3 classes"),
        "{e}"
    );
}
