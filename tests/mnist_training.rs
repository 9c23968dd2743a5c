//! Training quality on real MNIST, as the engine issue asks: the PyTorch tutorial setting reaches
//! the accuracy PyTorch does, the raw-pixel setting trains without diverging, the Keras lab's
//! network fits the 20x20 set built from MNIST, and the Keras CNN reaches PyTorch's accuracy.

mod common;

use digits::data::{mnist, PixelScale};
use digits::nn::{Init, ModelSpec, Sequential};
use digits::train::{fit, FitConfig};

fn tutorial_run(seed: u64, scale: PixelScale, shuffle: bool) -> (f64, Vec<f64>) {
    let (train, test) = mnist::load_dir(&common::mnist_dir()).expect("MNIST (see tests/common)");
    let mut model = Sequential::new(
        ModelSpec::mlp(784, &[25, 15], 10),
        Init::KaimingUniform,
        seed,
    );
    let config = FitConfig {
        epochs: 10,
        batch_size: 64,
        lr: 1e-3,
        shuffle,
        seed,
        scale,
        ..FitConfig::default()
    };
    let history = fit(&mut model, &train, Some(&test), &config, &mut ()).unwrap();
    (history.test_accuracy[9], history.loss)
}

#[test]
fn scaled_shuffled_tutorial_reaches_pytorch_accuracy() {
    let mut acc: Vec<f64> = (1..=3)
        .map(|seed| tutorial_run(seed, PixelScale::Unit, true).0)
        .collect();
    acc.sort_by(f64::total_cmp);
    println!("test accuracy over 3 seeds: {acc:?}");
    assert!(
        acc[1] >= 0.955,
        "median test accuracy {} < 0.955 ({acc:?})",
        acc[1]
    );
}

#[test]
fn raw_pixels_in_file_order_train_without_diverging() {
    let (acc, loss) = tutorial_run(0, PixelScale::Raw, false);
    println!("raw pixels, no shuffle: test accuracy {acc}, losses {loss:?}");
    assert!(loss.iter().all(|l| l.is_finite()));
    assert!(loss[9] < loss[0], "{loss:?}");
    // PyTorch reaches 0.926-0.953 here.
    assert!(acc > 0.90, "test accuracy {acc}");
}

#[test]
fn keras_lab_network_fits_the_20x20_set() {
    let (train, _) = mnist::load_dir(&common::mnist_dir()).unwrap();
    let set = digits::data::subset::build(&train, 500, 0).unwrap();
    assert_eq!((set.len(), set.features()), (5000, 400));
    let mut model = Sequential::new(
        ModelSpec::mlp(400, &[25, 15], 10),
        Init::GlorotUniform,
        1234,
    );
    let config = FitConfig {
        epochs: 40,
        batch_size: 32,
        seed: 1234,
        ..FitConfig::default()
    };
    let history = fit(&mut model, &set, None, &config, &mut ()).unwrap();
    println!(
        "20x20 set: first loss {}, last loss {}",
        history.loss[0], history.loss[39]
    );
    assert!(
        history.loss[39] < 0.05,
        "training loss after 40 epochs {}",
        history.loss[39]
    );
}

#[test]
fn keras_convnet_passes_0985_after_two_epochs() {
    // Keras' mnist_convnet (torch_cnn.py's ConvNet) with Keras' default batch of 32: more steps
    // per epoch than the tutorial's 128 (with which PyTorch reaches 0.977 after one epoch and
    // 0.982 after two, and digits 0.975 and 0.980), the same Adam 1e-3.
    let (train, test) = mnist::load_dir(&common::mnist_dir()).unwrap();
    let mut model = Sequential::new(ModelSpec::mnist_convnet(784, 10), Init::KaimingUniform, 1);
    let config = FitConfig {
        epochs: 2,
        batch_size: 32,
        seed: 1,
        ..FitConfig::default()
    };
    let history = fit(&mut model, &train, Some(&test), &config, &mut ()).unwrap();
    println!(
        "convnet: test accuracy {:?}, epoch seconds {:?}",
        history.test_accuracy, history.epoch_seconds
    );
    // Measured 0.9810 and 0.9859 with this seed on 2 threads.
    assert!(
        history.test_accuracy[1] > 0.985,
        "{:?}",
        history.test_accuracy
    );
    assert!(history.test_accuracy[1] > history.test_accuracy[0]);
}
