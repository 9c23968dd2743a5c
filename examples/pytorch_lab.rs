//! The PyTorch MNIST lab, step by step: 784-25-15-10 with ReLU, CrossEntropyLoss, Adam 1e-3,
//! batch 64, 10 epochs, test loss and accuracy after each epoch, then the first training image.
//!
//!     cargo run --release --example pytorch_lab -- [MNIST_DIR] [--scaled] [--shuffle]
//!
//! As in the tutorial, the inputs are the raw 0..255 pixels in file order unless `--scaled`
//! (x / 255) or `--shuffle` is given, and the test loss printed is the sum of the per-batch mean
//! losses over the 157 test batches of 64.

use digits::data::{mnist, Dataset, PixelScale};
use digits::nn::loss::softmax_cross_entropy;
use digits::nn::{argmax, softmax, Init, ModelSpec, Sequential};
use digits::train::progress::Progress;
use digits::train::{FitConfig, Trainer};

/// The tutorial's test loop: sum of batch-mean losses over batches of 64, and accuracy.
fn test_loop(model: &Sequential, test: &Dataset, scale: PixelScale) -> (f64, f64) {
    let (mut loss_sum, mut correct) = (0.0, 0);
    let idx: Vec<usize> = (0..test.len()).collect();
    for batch in idx.chunks(64) {
        let logits = model.predict(&test.batch_x(batch, scale));
        let labels: Vec<u8> = batch.iter().map(|&i| test.labels[i]).collect();
        loss_sum += softmax_cross_entropy(&logits, &labels, 10, None) / batch.len() as f64;
        correct += logits
            .chunks(10)
            .zip(&labels)
            .filter(|(z, &y)| argmax(z) == y as usize)
            .count();
    }
    (loss_sum, correct as f64 / test.len() as f64)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or("data/mnist", String::as_str);
    let scale = if args.iter().any(|a| a == "--scaled") {
        PixelScale::Unit
    } else {
        PixelScale::Raw
    };
    let shuffle = args.iter().any(|a| a == "--shuffle");
    let (train, test) = mnist::load_dir(dir.as_ref())?;
    println!(
        "training images: {}, test images: {}",
        train.len(),
        test.len()
    );

    // class MinistNet(nn.Module): self.model = nn.Sequential(Linear(784,25), ReLU(), Linear(25,15), ReLU(), Linear(15,10))
    let mut model = Sequential::new(ModelSpec::mlp(784, &[25, 15], 10), Init::KaimingUniform, 0);
    let mut trainer = Trainer::new(
        &model,
        FitConfig {
            epochs: 10,
            batch_size: 64,
            lr: 1e-3,
            shuffle,
            scale,
            ..FitConfig::default()
        },
    );
    for epoch in 1..=10 {
        // One epoch of the ten, printed as `Epoch 3/10`.
        trainer.fit_until(epoch, &mut model, &train, None, &mut Progress::new())?;
        let (loss_sum, accuracy) = test_loop(&model, &test, scale);
        println!(
            "Test Error: Accuracy: {:.1}%, test loss (sum over batches): {loss_sum:.3}",
            accuracy * 100.0
        );
    }

    // Predict the first training image (a 5).
    let x = train.batch_x(&[0], scale);
    let logits = model.predict(&x);
    println!("\nfirst training image, label {}", train.labels[0]);
    println!("logits: {logits:?}");
    println!("probabilities: {:?}", softmax(&logits));
    println!("predicted digit: {}", argmax(&logits));
    Ok(())
}
