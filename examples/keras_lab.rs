//! The Keras lab on the 20x20 set ("Neural Networks for Handwritten Digit Recognition, Multiclass"),
//! step by step: load X (5000x400) and y, build the 400-25-15-10 model, print its summary and weight
//! shapes, train 40 epochs at batch 32, predict one image with its probabilities, count the errors.
//!
//!     cargo run --release --example keras_lab -- [DIR_WITH_X_AND_Y_NPY | --from-mnist MNIST_DIR]
//!
//! Without the course's X.npy, `--from-mnist` builds a same-shaped set from MNIST first
//! (the same as `digits data subset`).

use anyhow::Context;
use digits::data::{digits5000, mnist, subset, Dataset};
use digits::nn::{argmax, softmax, Activation, Init, LayerSpec, ModelSpec, Sequential};
use digits::train::progress::Progress;
use digits::train::{FitConfig, Trainer};

fn load(args: &[String]) -> anyhow::Result<Dataset> {
    match args {
        [flag, dir] if flag == "--from-mnist" => {
            let (train, _) = mnist::load_dir(dir.as_ref())?;
            subset::build(&train, 500, 0)
        }
        [dir] => digits5000::load_dir(dir.as_ref()),
        _ => digits5000::load_dir("data/digits5000".as_ref())
            .context("pass the directory with X.npy and y.npy, or --from-mnist MNIST_DIR"),
    }
}

/// A 20x20 image as text, upright (the set stores pixels column-major).
fn ascii(data: &Dataset, i: usize) -> String {
    let img = data.display_image(i);
    let mut s = String::new();
    for row in img.chunks(data.cols) {
        s.extend(row.iter().map(|&v| match v {
            v if v > 0.6 => '#',
            v if v > 0.3 => '+',
            v if v > 0.1 => '.',
            _ => ' ',
        }));
        s.push('\n');
    }
    s
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = load(&args)?;
    println!("The shape of X is: ({}, {})", data.len(), data.features());
    println!("The shape of y is: ({}, 1)", data.len());

    // model = Sequential([Input(400), Dense(25, relu, "L1"), Dense(15, relu, "L2"), Dense(10, linear, "L3")])
    let spec = ModelSpec::new(
        400,
        vec![
            LayerSpec::dense(25, Activation::Relu).named("L1"),
            LayerSpec::dense(15, Activation::Relu).named("L2"),
            LayerSpec::dense(10, Activation::Linear).named("L3"),
        ],
    );
    let mut model = Sequential::new(spec, Init::GlorotUniform, 1234);
    print!("{}", model.summary());
    for (k, layer) in model.layers().iter().enumerate() {
        println!(
            "W{} shape = ({}, {}), b{} shape = ({},)",
            k + 1,
            layer.in_len(),
            layer.out_len(),
            k + 1,
            layer.out_len()
        );
    }

    // model.compile(loss=SparseCategoricalCrossentropy(from_logits=True), optimizer=Adam(0.001))
    // history = model.fit(X, y, epochs=40)   (Keras' default batch size is 32)
    let config = FitConfig {
        epochs: 40,
        batch_size: 32,
        lr: 1e-3,
        seed: 1234,
        ..FitConfig::default()
    };
    let mut trainer = Trainer::new(&model, config);
    let history = trainer.fit(&mut model, &data, None, &mut Progress::new())?;
    println!(
        "loss: first epoch {:.4}, last epoch {:.4}",
        history.loss[0],
        history.loss[history.loss.len() - 1]
    );

    // Predict one image: a "2" in the course's data set (image 1015).
    let i = 1015.min(data.len() - 1);
    println!(
        "\nImage {i}, label {}:\n{}",
        data.labels[i],
        ascii(&data, i)
    );
    let logits = model.predict(&data.batch_x(&[i], trainer.config.scale));
    let probs = softmax(&logits);
    println!("predicting a {}:\n{:?}", data.labels[i], logits);
    println!("largest prediction index: {}", argmax(&logits));
    println!(
        "probabilities: {:?}\nsum: {:.3}",
        probs,
        probs.iter().sum::<f32>()
    );

    // Errors on the training set, as the lab counts them.
    let all: Vec<usize> = (0..data.len()).collect();
    let predicted = model.predict_digits(&data.batch_x(&all, trainer.config.scale));
    let errors = predicted
        .iter()
        .zip(&data.labels)
        .filter(|(p, &y)| **p != y as usize)
        .count();
    println!("\n{errors} errors out of {} images", data.len());
    Ok(())
}
