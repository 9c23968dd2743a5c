//! Cutting one ink into digits more than once (as it comes, then into as many digits as a
//! count asks for) without classifying the same part twice: most parts of the two cuts are the
//! same pieces of ink, framed the same, and the digit model is most of a cut's cost.

use super::expect::Expected;
use super::preprocess::Ink;
use super::reading::{Reading, SegmentReader};
use super::segment::{read_digits, read_digits_counted};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::RangeInclusive;

/// A [`SegmentReader`]'s cuts of one ink, each framed part classified once: the digit model's
/// probabilities remembered by the exact input it was given.
pub struct RememberingCut<'a> {
    reader: &'a SegmentReader,
    seen: RefCell<HashMap<Vec<u32>, Vec<f32>>>,
}

impl<'a> RememberingCut<'a> {
    pub fn new(reader: &'a SegmentReader) -> Self {
        RememberingCut {
            reader,
            seen: RefCell::new(HashMap::new()),
        }
    }

    /// The digit model's probabilities for the 784 values `x`, from memory when it was given
    /// the very same values before.
    fn classify(&self, x: &[f32]) -> Vec<f32> {
        let key: Vec<u32> = x.iter().map(|v| v.to_bits()).collect();
        if let Some(p) = self.seen.borrow().get(&key) {
            return p.clone();
        }
        let p = self.reader.classify(x);
        self.seen.borrow_mut().insert(key, p.clone());
        p
    }

    /// The cut of `ink` as it comes ([`SegmentReader::read_ink_apart`]), and whether every
    /// digit stood apart in the ink.
    pub fn read_ink_apart(&self, ink: &Ink) -> (Reading, bool) {
        Reading::of_cut(&read_digits(ink, &|x| self.classify(x)))
    }

    /// The cut of `ink` as a number of as many digits as `expected` says, where it is given:
    /// the cut as it comes when it fits, else the best cut of that many digits
    /// ([`read_digits_counted`]); and whether every digit stood apart in the ink. When no cut
    /// fits (too little ink), the cut as it comes.
    pub fn read_ink_apart_as(&self, ink: &Ink, expected: Option<&Expected>) -> (Reading, bool) {
        let (reading, apart) = self.read_ink_apart(ink);
        let Some(e) = expected.filter(|e| !e.fits(&reading)) else {
            return (reading, apart);
        };
        match read_digits_counted(ink, e.range(), &|x| self.classify(x)) {
            Some(found) => Reading::of_cut(&found),
            None => (reading, apart),
        }
    }

    /// The best cut of `ink` into a number of `counts` digits ([`read_digits_counted`]); None
    /// when there is none.
    pub fn read_ink_counted(&self, ink: &Ink, counts: RangeInclusive<usize>) -> Option<Reading> {
        read_digits_counted(ink, counts, &|x| self.classify(x)).map(|found| Reading::of(&found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Init, ModelSpec, Sequential};

    #[test]
    fn a_part_is_classified_once_and_read_as_without_memory() {
        let reader = SegmentReader {
            model: Sequential::new(ModelSpec::mnist_convnet(784, 10), Init::KaimingUniform, 4),
            raw: false,
        };
        let cut = reader.remembering();
        let mut x = vec![0.0f32; 784];
        x[300..320].fill(1.0);
        let first = cut.classify(&x);
        assert_eq!(first, reader.classify(&x));
        assert_eq!(cut.classify(&x), first);
        assert_eq!(cut.seen.borrow().len(), 1);
        x[5] = 0.5;
        assert_eq!(cut.classify(&x), reader.classify(&x));
        assert_eq!(cut.seen.borrow().len(), 2);
    }
}
