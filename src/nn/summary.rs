//! Keras-style `model.summary()`: each layer's name and type, output shape and parameter count.

use super::model::Sequential;

impl Sequential {
    /// The summary table, as Keras prints it (`conv2d (Conv2D)  (None, 26, 26, 32)  320`).
    pub fn summary(&self) -> String {
        let names: Vec<String> = self
            .layers()
            .iter()
            .map(|l| format!("{} ({})", l.name(), l.type_name()))
            .collect();
        // Keras widens the first column for long names.
        let width = names.iter().map(|n| n.len() + 1).max().unwrap_or(0).max(29);
        let rule = "=".repeat(width + 36);
        let thin = "-".repeat(width + 36);
        let mut s = String::from("Model: \"sequential\"\n");
        s += &format!(
            "{thin}\n{:<width$}{:<26}{:>10}\n{rule}\n",
            "Layer (type)", "Output Shape", "Param #"
        );
        for (k, (l, name)) in self.layers().iter().zip(&names).enumerate() {
            s += &format!(
                "{:<width$}{:<26}{:>10}\n",
                name,
                l.output_shape().keras(),
                group(l.param_count())
            );
            if k + 1 < self.layers().len() {
                s += "\n";
            }
        }
        let total = group(self.params().len());
        s += &format!("{rule}\nTotal params: {total}\nTrainable params: {total}\nNon-trainable params: 0\n{thin}\n");
        s
    }
}

/// 10575 -> "10,575".
fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::nn::{Init, ModelSpec, Sequential};

    #[test]
    fn the_convnet_summary_is_keras() {
        let m = Sequential::new(ModelSpec::mnist_convnet(784, 10), Init::default(), 0);
        let s = m.summary();
        let rows: Vec<String> = s
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        for row in [
            "conv2d (Conv2D) (None, 26, 26, 32) 320",
            "max_pooling2d (MaxPooling2D) (None, 13, 13, 32) 0",
            "conv2d_1 (Conv2D) (None, 11, 11, 64) 18,496",
            "max_pooling2d_1 (MaxPooling2D) (None, 5, 5, 64) 0",
            "flatten (Flatten) (None, 1600) 0",
            "dropout (Dropout) (None, 1600) 0",
            "dense (Dense) (None, 10) 16,010",
            "Total params: 34,826",
        ] {
            assert!(rows.iter().any(|r| r == row), "{row:?} not in\n{s}");
        }
        // Columns line up: every shape starts where the header's does.
        let col = s.find("Output Shape").unwrap() - s.find("Layer (type)").unwrap();
        assert!(s
            .lines()
            .filter(|l| l.contains("(None"))
            .all(|l| l[col..].starts_with("(None")));
    }
}
