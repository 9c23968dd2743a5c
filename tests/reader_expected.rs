//! Numbers of a known length (`digits read --digits N`, `POST /api/read?digits=N`): the
//! built-in number reader, its line reader alone and the cutting reader (`--segment`), told how
//! many digits each composed MNIST number has, give that many or a confidence of 0, and read
//! more of them right than untold.

mod common;

use common::numbers::mnist_numbers;
use digits::vision::expect::Expected;
use digits::vision::line::reader::LineReader;
use digits::vision::reading::{NumberReader, SegmentReader};
use rayon::prelude::*;

/// One number read untold and told its length.
struct Outcome {
    right_untold: bool,
    right_told: bool,
    untold_length_wrong: bool,
}

/// How `reader` reads `pictures` untold and told each number's length, printed as `who`'s;
/// asserts that every told reading has that many digits or a confidence of 0.
fn outcomes(who: &str, reader: &dyn NumberReader, pictures: &[(Vec<u8>, String)]) -> Vec<Outcome> {
    let outcomes: Vec<Outcome> = pictures
        .par_iter()
        .map(|(png, want)| {
            let img = image::load_from_memory(png).unwrap();
            let n = want.len();
            let untold = reader.read_image(&img).unwrap();
            let told = reader
                .read_image_as(&img, Some(&Expected::digits(n..=n).unwrap()))
                .unwrap();
            assert!(
                told.text.len() == n || told.confidence == 0.0,
                "{who}: {} read of {want}, confidence {}",
                told.text,
                told.confidence
            );
            Outcome {
                right_untold: &untold.text == want,
                right_told: &told.text == want,
                untold_length_wrong: untold.text.len() != n,
            }
        })
        .collect();
    println!(
        "{who}: {} of {} right untold, {} told their length ({} gained, {} lost; {} read \
         untold with another length)",
        count(&outcomes, |o| o.right_untold),
        pictures.len(),
        count(&outcomes, |o| o.right_told),
        gained(&outcomes),
        lost(&outcomes),
        count(&outcomes, |o| o.untold_length_wrong),
    );
    outcomes
}

fn count(outcomes: &[Outcome], f: fn(&Outcome) -> bool) -> usize {
    outcomes.iter().filter(|o| f(o)).count()
}

fn gained(outcomes: &[Outcome]) -> usize {
    count(outcomes, |o| !o.right_untold && o.right_told)
}

fn lost(outcomes: &[Outcome]) -> usize {
    count(outcomes, |o| o.right_untold && !o.right_told)
}

#[test]
fn numbers_of_a_known_length_are_read_as_that_many_digits() {
    let Some((_, test)) = common::mnist() else {
        return;
    };
    let pictures = mnist_numbers(&test, 1500, 61);
    // The line reader alone reads the best string of that many digits its looks give.
    let line = outcomes(
        "line reader",
        &digits::default_reader::line_reader().unwrap(),
        &pictures,
    );
    // One look of one model: a look whose best path has another length gives its best path
    // of that length.
    let one_look = LineReader::new(digits::default_reader::load().unwrap().model)
        .unwrap()
        .with_stretches(&[1.0]);
    let one = outcomes("one look of the line model", &one_look, &pictures);
    // The built-in reader: its check also lets a cut of the right length overrule a line
    // reading of another, and not the other way round.
    let checked = outcomes(
        "built-in reader",
        &digits::default_reader::reader().unwrap(),
        &pictures,
    );
    // The cutting reader: the best cut of that many digits, where its cut has another count.
    let digit_model = digits::default_model::load().unwrap();
    let cutting = SegmentReader {
        raw: digit_model.meta.scale == digits::data::PixelScale::Raw,
        model: digit_model.model,
    };
    let cut = outcomes("cutting reader", &cutting, &pictures);
    for (who, o) in [
        ("line reader", &line),
        ("one look", &one),
        ("built-in reader", &checked),
        ("cutting reader", &cut),
    ] {
        let wrong_length = count(o, |o| o.untold_length_wrong);
        assert!(gained(o) >= 2 * lost(o).max(1), "{who}");
        assert!(2 * gained(o) >= wrong_length, "{who}: of {wrong_length}");
    }
}
