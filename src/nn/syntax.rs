//! The command line's spelling of a layer stack: `c32k3,p2,c64k3,p2,flatten,drop0.5`.
//!
//! - `N` (a number): Dense with N units and the hidden activation;
//! - `cFkK`: Conv2d with F filters of K x K, `valid` padding, the hidden activation;
//!   `cFkKs`: the same with `same` padding;
//! - `p2`: 2x2 max pooling, stride 2; `pN`: N x N windows; `pHxW` (e.g. `p2x1`, 2 high and 1
//!   wide): H x W windows, stride (H, W);
//! - `flatten`; `dropR` (e.g. `drop0.5`): dropout with rate R.

use super::spec::{LayerSpec, Padding};
use super::Activation;

/// What `--help` says about the syntax.
pub const HELP: &str = "N = Dense N units; cFkK = Conv2d F filters KxK (valid), cFkKs = same padding; p2 = 2x2 max pooling, pHxW = H high W wide (e.g. p2x1); flatten; dropR = dropout rate R (e.g. drop0.5)";

/// One layer from its token; `activation` is the one of Dense and Conv2d layers.
pub fn parse_layer(token: &str, activation: Activation) -> Result<LayerSpec, String> {
    let t = token.trim().to_ascii_lowercase();
    let bad = || format!("unknown layer {token:?} ({HELP})");
    if let Ok(units) = t.parse::<usize>() {
        return Ok(LayerSpec::dense(units, activation));
    }
    match t.as_str() {
        "flatten" => return Ok(LayerSpec::flatten()),
        "p2" | "pool" | "maxpool" => return Ok(LayerSpec::maxpool2d()),
        _ => {}
    }
    if let Some(window) = t.strip_prefix('p') {
        let (ph, pw) = window.split_once('x').unwrap_or((window, window));
        let side = |s: &str| s.parse::<usize>().ok().filter(|&v| v > 0);
        let (ph, pw) = side(ph).zip(side(pw)).ok_or_else(bad)?;
        return Ok(LayerSpec::maxpool(ph, pw));
    }
    if let Some(rate) = t.strip_prefix("drop") {
        let rate: f32 = rate.parse().map_err(|_| bad())?;
        return Ok(LayerSpec::dropout(rate));
    }
    if let Some(rest) = t.strip_prefix('c') {
        let (rest, padding) = match rest.strip_suffix('s') {
            Some(r) => (r, Padding::Same),
            None => (rest, Padding::Valid),
        };
        let (filters, kernel) = rest.split_once('k').ok_or_else(bad)?;
        let filters = filters.parse().map_err(|_| bad())?;
        let kernel = kernel.parse().map_err(|_| bad())?;
        return Ok(LayerSpec::conv2d(filters, kernel, padding, activation));
    }
    Err(bad())
}

/// A comma-separated stack (empty: no layers).
pub fn parse_layers(s: &str, activation: Activation) -> Result<Vec<LayerSpec>, String> {
    s.split(',')
        .filter(|t| !t.trim().is_empty())
        .map(|t| parse_layer(t, activation))
        .collect()
}

/// The token of a layer (its activation aside).
pub fn layer_token(l: &LayerSpec) -> String {
    match l {
        LayerSpec::Dense { units, .. } => units.to_string(),
        LayerSpec::Conv2d {
            filters,
            kernel,
            padding,
            ..
        } => format!(
            "c{filters}k{kernel}{}",
            if *padding == Padding::Same { "s" } else { "" }
        ),
        LayerSpec::MaxPool2d { .. } => match l.pool_window() {
            Some((ph, pw)) if ph == pw => format!("p{ph}"),
            Some((ph, pw)) => format!("p{ph}x{pw}"),
            None => unreachable!("a MaxPool2d layer has a window"),
        },
        LayerSpec::Flatten { .. } => "flatten".into(),
        LayerSpec::Dropout { rate, .. } => format!("drop{rate}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::ModelSpec;

    #[test]
    fn parses_the_convnet_and_round_trips() {
        let relu = Activation::Relu;
        let mut layers = parse_layers("c32k3,p2,c64k3,p2,flatten,drop0.5", relu).unwrap();
        layers.push(LayerSpec::dense(10, Activation::Linear));
        assert_eq!(layers, ModelSpec::mnist_convnet(784, 10).layers);
        let tokens: Vec<String> = layers.iter().map(layer_token).collect();
        assert_eq!(tokens.join(","), "c32k3,p2,c64k3,p2,flatten,drop0.5,10");
        assert_eq!(
            parse_layer("c8k5s", relu).unwrap(),
            LayerSpec::conv2d(8, 5, Padding::Same, relu)
        );
        assert_eq!(
            parse_layers("25,15", relu).unwrap(),
            ModelSpec::mlp(1, &[25, 15], 10).layers[..2].to_vec()
        );
        assert_eq!(parse_layer("p2x1", relu).unwrap(), LayerSpec::maxpool(2, 1));
        assert_eq!(parse_layer("p2x2", relu).unwrap(), LayerSpec::maxpool2d());
        assert_eq!(parse_layer("p3", relu).unwrap(), LayerSpec::maxpool(3, 3));
        let seq = parse_layers("c8k3s,p2x1,p1x2,p3", relu).unwrap();
        let tokens: Vec<String> = seq.iter().map(layer_token).collect();
        assert_eq!(tokens.join(","), "c8k3s,p2x1,p1x2,p3");
        for bad in [
            "c32", "ck3", "drop", "q2", "c3k3x", "p0x1", "p2x", "px1", "p2y1",
        ] {
            let e = parse_layer(bad, relu).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}
