//! A run taken an epoch at a time (`Trainer::fit_until`, as the PyTorch tutorial's loop and
//! `examples/pytorch_lab` do) reports each epoch out of the whole run (`Epoch 3/10`, not
//! `Epoch 3/3`) and trains as one call would.

use digits::data::{Dataset, PixelLayout, Pixels};
use digits::nn::{Init, ModelSpec, Sequential};
use digits::train::{EpochReport, FitConfig, Observer, Trainer};

fn data() -> Dataset {
    let (n, f) = (100, 16);
    let labels: Vec<u8> = (0..n).map(|i| (i % 4) as u8).collect();
    let pixels = (0..n * f)
        .map(|k| {
            if k % f == labels[k / f] as usize * 4 {
                250
            } else {
                (k * 37 % 50) as u8
            }
        })
        .collect();
    Dataset {
        pixels: Pixels::U8(pixels),
        labels,
        rows: 4,
        cols: 4,
        layout: PixelLayout::RowMajor,
    }
}

/// The (epoch, epochs) of every begin and end event.
#[derive(Default)]
struct Record(Vec<(usize, usize)>, Vec<(usize, usize)>);

impl Observer for Record {
    fn on_epoch_begin(&mut self, epoch: usize, epochs: usize, _steps: usize) {
        self.0.push((epoch, epochs));
    }
    fn on_epoch_end(
        &mut self,
        r: &EpochReport,
        _model: &Sequential,
        _trainer: &Trainer,
    ) -> anyhow::Result<()> {
        self.1.push((r.epoch, r.epochs));
        Ok(())
    }
}

#[test]
fn epochs_taken_one_at_a_time_are_reported_out_of_the_whole_run() {
    let data = data();
    let model = || Sequential::new(ModelSpec::mlp(16, &[8], 4), Init::KaimingUniform, 3);
    let config = |epochs| FitConfig {
        epochs,
        batch_size: 10,
        threads: 1,
        ..FitConfig::default()
    };
    let mut m = model();
    let mut t = Trainer::new(&m, config(10));
    let mut rec = Record::default();
    for epoch in 1..=3 {
        t.fit_until(epoch, &mut m, &data, None, &mut rec).unwrap();
        assert_eq!(t.epochs_done, epoch);
    }
    assert_eq!(rec.0, [(1, 10), (2, 10), (3, 10)]);
    assert_eq!(rec.1, rec.0);
    // Beyond the run's length it stops at the end.
    t.fit_until(99, &mut m, &data, None, &mut ()).unwrap();
    assert_eq!(t.epochs_done, 10);

    // The same weights as 3 epochs in one call.
    let (mut a, mut b) = (model(), model());
    let mut ta = Trainer::new(&a, config(10));
    for epoch in 1..=3 {
        ta.fit_until(epoch, &mut a, &data, None, &mut ()).unwrap();
    }
    Trainer::new(&b, config(3))
        .fit(&mut b, &data, None, &mut ())
        .unwrap();
    assert_eq!(a.params(), b.params());
}
