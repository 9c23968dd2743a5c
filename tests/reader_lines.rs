//! The number reader's training: lines made beside the step are the same for the same seed
//! whatever the threads do, a reader's CTC steps through the Trainer lower its loss on lines
//! of several widths, and the loop reports through the usual observers.

use digits::nn::{Init, SequenceLabels, Sequential};
use digits::train::fit_lines::fit_lines;
use digits::train::line_source::LineSource;
use digits::train::{FitConfig, Trainer};
use digits::vision::line::reader::{reader_spec, score_lines, LineReader};
use digits::vision::line::synth::LineSynth;
use digits::vision::line::{CLASSES, HEIGHT};
use std::sync::Arc;

const SIDE: usize = 28;

/// Ten fake digits, each a bar of its own width and place.
fn bars() -> Arc<LineSynth> {
    let mut images = vec![0u8; 10 * SIDE * SIDE];
    for d in 0..10 {
        for y in 4..24 {
            for x in 6 + d..8 + 2 * d {
                images[d * SIDE * SIDE + y * SIDE + x.min(SIDE - 1)] = 255;
            }
        }
    }
    Arc::new(LineSynth::new(images, &(0..10).collect::<Vec<u8>>()).unwrap())
}

/// A small reader: 32 high -> 1, width / 4.
const SMALL: &str = "c8k3s,p2,c8k3s,p2,p8x1";

#[test]
fn the_same_seed_gives_the_same_batches() {
    let synth = bars();
    let mut a = LineSource::start(synth.clone(), 5, 0, 64, 4);
    let mut b = LineSource::start(synth.clone(), 5, 0, 64, 4);
    let mut c = LineSource::start(synth, 6, 0, 64, 4);
    let mut differs = false;
    for step in 0..4 {
        let (x, y, z) = (a.batch(8, step), b.batch(8, step), c.batch(8, step));
        assert_eq!(
            (x.width, &x.labels, &x.lengths),
            (y.width, &y.labels, &y.lengths)
        );
        assert_eq!(x.x, y.x);
        assert_eq!(x.x.len(), 8 * HEIGHT * x.width);
        assert_eq!(x.lengths.iter().sum::<usize>(), x.labels.len());
        differs |= x.labels != z.labels;
    }
    assert!(differs, "another seed gives other lines");
}

#[test]
fn line_steps_lower_the_loss_and_the_loop_evaluates() {
    let synth = bars();
    let mut source = LineSource::start(synth.clone(), 1, 0, 48, 0);
    let spec = reader_spec(SMALL, 64).unwrap();
    let mut model = Sequential::new(spec, Init::KaimingUniform, 2);
    let config = FitConfig {
        batch_size: 16,
        lr: 0.01,
        threads: 2,
        epochs: 1,
        ..FitConfig::default()
    };
    let mut trainer = Trainer::new(&model, config);
    // Two fixed batches (of whatever widths their lines have), stepped on in turn.
    let batches = [source.batch(16, 0), source.batch(16, 1)];
    let loss_of = |trainer: &mut Trainer, model: &mut Sequential, k: usize| {
        let b = &batches[k];
        let labels = SequenceLabels {
            labels: &b.labels,
            lengths: &b.lengths,
        };
        trainer
            .train_line_step(model, &b.x, b.width, &labels)
            .unwrap()
    };
    let first = loss_of(&mut trainer, &mut model, 0);
    let mut last = first;
    for step in 1..60 {
        last = loss_of(&mut trainer, &mut model, step % 2);
    }
    assert!(last < 0.6 * first, "loss {first} -> {last}");
    assert_eq!(trainer.global_step, 60);

    // The loop: one epoch of 3 steps, evaluated on lines of the same maker.
    let validation: Vec<_> = (0..6).map(|s| synth.sample(1000 + s)).collect();
    let mut fresh = LineSource::start(synth, 3, 0, 32, 2);
    let mut trainer = Trainer::new(&model, trainer.config.clone());
    let history = fit_lines(
        &mut trainer,
        &mut model,
        &mut fresh,
        3,
        &validation,
        &mut (),
    )
    .unwrap();
    assert_eq!(history.loss.len(), 1);
    assert_eq!(trainer.global_step, 3);
    let reader = LineReader::new(model.clone()).unwrap();
    let (loss, exact) = score_lines(&reader, &validation);
    assert_eq!(history.test_loss[0], loss);
    assert_eq!(history.test_accuracy[0], exact);
    assert!(loss.is_finite() && loss > 0.0);
}

#[test]
fn only_line_models_make_line_readers() {
    let digit_model = Sequential::new(
        digits::nn::ModelSpec::mlp(784, &[16], 10),
        Init::KaimingUniform,
        1,
    );
    assert!(LineReader::new(digit_model).is_err());
    let model = Sequential::new(reader_spec(SMALL, 64).unwrap(), Init::KaimingUniform, 1);
    assert_eq!(model.sequence_output(), Some((16, CLASSES)));
    assert!(LineReader::new(model).is_ok());
    assert!(reader_spec("c8k3s,p2", 64).is_err());
}

#[test]
fn models_read_together_weigh_every_look_of_each() {
    use digits::vision::reading::NumberReader;
    let model = digits::default_reader::load().unwrap().model;
    let picture = image::open("examples/pictures/zip.jpg").unwrap();
    let alone = LineReader::new(model.clone()).unwrap().with_settle(None);
    let twice = LineReader::new(model.clone())
        .unwrap()
        .with_settle(None)
        .with_model(model.clone())
        .unwrap();
    assert_eq!(twice.models(), 2);
    // Two copies of one model read as it does alone: the mean over twice the same looks.
    let (a, b) = (
        alone.read_image(&picture).unwrap(),
        twice.read_image(&picture).unwrap(),
    );
    assert_eq!(a.text, "90210");
    assert_eq!(b.text, a.text);
    assert!((a.confidence - b.confidence).abs() < 1e-6);
    // A second model whose logits are all zero gives every string of the columns the same
    // low probability: the pair is far less sure than the model alone, and reads the same.
    let mut blank = model.clone();
    for p in blank.params_mut() {
        *p = 0.0;
    }
    let with_blank = LineReader::new(model)
        .unwrap()
        .with_settle(None)
        .with_model(blank)
        .unwrap();
    let c = with_blank.read_image(&picture).unwrap();
    assert_eq!(c.text, a.text);
    assert!(
        c.confidence < 0.6 * a.confidence,
        "{} {}",
        c.confidence,
        a.confidence
    );
    // Only line models join.
    let digit_model = Sequential::new(
        digits::nn::ModelSpec::mlp(784, &[16], 10),
        Init::KaimingUniform,
        1,
    );
    assert!(alone.with_model(digit_model).is_err());
}
