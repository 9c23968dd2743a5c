//! The softmax exercise of the Keras tutorial: write softmax, compare it with the library's,
//! see why the stable form (and a linear output with a from-logits loss) is preferred.
//!
//!     cargo run --example softmax

use digits::nn::loss::softmax_cross_entropy;
use digits::nn::softmax;

/// The textbook formula, as a learner first writes it: a_j = e^z_j / sum_k e^z_k.
fn my_softmax(z: &[f32]) -> Vec<f32> {
    let ez: Vec<f32> = z.iter().map(|v| v.exp()).collect();
    let sum: f32 = ez.iter().sum();
    ez.iter().map(|v| v / sum).collect()
}

fn main() {
    let z = [1.0, 2.0, 3.0, 4.0];
    let mine = my_softmax(&z);
    let lib = softmax(&z);
    println!("z                = {z:?}");
    println!("my_softmax(z)    = {}", fmt(&mine));
    println!("digits softmax   = {}", fmt(&lib));
    let max_diff = mine
        .iter()
        .zip(&lib)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    println!(
        "largest difference {max_diff:.2e}; sums to {:.6}",
        lib.iter().sum::<f32>()
    );

    let big = [1000.0, 1001.0];
    println!("\nLarge logits z = {big:?}:");
    println!(
        "my_softmax(z)    = {} (e^1000 overflows f32)",
        fmt(&my_softmax(&big))
    );
    println!(
        "digits softmax   = {} (max subtracted first)",
        fmt(&softmax(&big))
    );

    // The loss is computed from the logits directly: log-sum-exp, no probabilities in between.
    let loss = softmax_cross_entropy(&big, &[0], 2, None);
    println!("\nCross-entropy of label 0 from these logits: {loss:.4} (= ln(1 + e))");
    println!("This is why the tutorial's last layer is linear and the loss is 'from logits'.");
}

fn fmt(v: &[f32]) -> String {
    let items: Vec<String> = v.iter().map(|x| format!("{x:.3}")).collect();
    format!("[{}]", items.join(", "))
}
