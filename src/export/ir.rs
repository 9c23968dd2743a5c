//! The exporter's intermediate form: layers in PyTorch's layouts (NCHW activations, Linear
//! weights [out, in], Conv2d weights [cout, cin, k, k]), so a network's ONNX initializers are
//! exactly its checkpoint's torch tensors. The input is always `pixels` [N, 1, 28, 28] in [0, 1];
//! an MLP starts with a Flatten (row-major 28x28, the order the engine reads).

use crate::nn::Activation;

/// One layer of an exported network.
#[derive(Clone, Debug, PartialEq)]
pub enum OnnxLayer {
    /// y = act(x W^T + b): `w` [out, inp] row-major (PyTorch's `Linear.weight`), `b` [out].
    Dense {
        w: Vec<f32>,
        b: Vec<f32>,
        inp: usize,
        out: usize,
        act: Activation,
    },
    /// y = act(conv(x) + b), stride 1, `pad` zeros on each side: `w` [cout, cin, k, k], `b` [cout].
    Conv2d {
        w: Vec<f32>,
        b: Vec<f32>,
        cin: usize,
        cout: usize,
        k: usize,
        pad: usize,
        act: Activation,
    },
    /// 2x2 max pooling, stride 2, odd rows and columns dropped (PyTorch's default floor mode).
    MaxPool2,
    /// [N, C, H, W] to [N, C*H*W] in CHW order.
    Flatten,
    /// Identity at inference: no node is written.
    Dropout,
}

/// The shape of one image's activations between layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Image { c: usize, h: usize, w: usize },
    Flat(usize),
}

impl Shape {
    pub fn len(self) -> usize {
        match self {
            Shape::Image { c, h, w } => c * h * w,
            Shape::Flat(n) => n,
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// The exported input: one grey channel of 28x28.
pub const INPUT: Shape = Shape::Image { c: 1, h: 28, w: 28 };

/// A network ready to be written as ONNX.
#[derive(Clone, Debug, PartialEq)]
pub struct OnnxModel {
    pub layers: Vec<OnnxLayer>,
    /// The inputs are multiplied by this first (255 for a model trained on raw 0..255 pixels).
    pub input_scale: f32,
    /// Written to the model's `metadata_props` (architecture, preprocessing, ...).
    pub metadata: Vec<(String, String)>,
}

impl OnnxModel {
    /// The shape after each layer, or what is wrong with the layer sequence or a tensor's size.
    pub fn shapes(&self) -> Result<Vec<Shape>, String> {
        let mut s = INPUT;
        let mut out = Vec::with_capacity(self.layers.len());
        for (i, l) in self.layers.iter().enumerate() {
            let bad = |what: String| Err(format!("layer {i} ({}): {what}", l.kind()));
            s = match (l, s) {
                (OnnxLayer::Flatten, Shape::Image { .. }) => Shape::Flat(s.len()),
                (OnnxLayer::Dropout, s) => s,
                (OnnxLayer::MaxPool2, Shape::Image { c, h, w }) if h >= 2 && w >= 2 => {
                    Shape::Image {
                        c,
                        h: h / 2,
                        w: w / 2,
                    }
                }
                (OnnxLayer::Dense { w, b, inp, out, .. }, Shape::Flat(n)) => {
                    if *inp != n {
                        return bad(format!("expects {inp} inputs, gets {n}"));
                    }
                    if w.len() != inp * out || b.len() != *out {
                        return bad(format!(
                            "W has {} values and b {}, expected {} and {out}",
                            w.len(),
                            b.len(),
                            inp * out
                        ));
                    }
                    Shape::Flat(*out)
                }
                (
                    OnnxLayer::Conv2d {
                        w,
                        b,
                        cin,
                        cout,
                        k,
                        pad,
                        ..
                    },
                    Shape::Image { c, h, w: wd },
                ) => {
                    if *cin != c {
                        return bad(format!("expects {cin} channels, gets {c}"));
                    }
                    if *k == 0 || h + 2 * pad < *k || wd + 2 * pad < *k {
                        return bad(format!(
                            "a {k}x{k} kernel does not fit {h}x{wd} (pad {pad})"
                        ));
                    }
                    if w.len() != cout * cin * k * k || b.len() != *cout {
                        return bad(format!(
                            "W has {} values and b {}, expected {} and {cout}",
                            w.len(),
                            b.len(),
                            cout * cin * k * k
                        ));
                    }
                    Shape::Image {
                        c: *cout,
                        h: h + 2 * pad - k + 1,
                        w: wd + 2 * pad - k + 1,
                    }
                }
                (_, Shape::Flat(n)) => return bad(format!("needs an image, gets {n} values")),
                (_, Shape::Image { c, h, w }) => {
                    return bad(format!(
                        "needs flat values, gets a {c}x{h}x{w} image (Flatten first)"
                    ))
                }
            };
            out.push(s);
        }
        match out.last() {
            Some(Shape::Flat(_)) => Ok(out),
            _ => Err("the network must end with flat logits (a Dense layer)".into()),
        }
    }

    /// Classes (the width of `logits`).
    pub fn classes(&self) -> Result<usize, String> {
        Ok(self.shapes()?.last().map_or(0, |s| s.len()))
    }

    /// The logits of n images (`x`: n x 784, row-major 28x28 in [0, 1]), computed the slow
    /// obvious way in NCHW: the reference the ONNX Runtime results are compared with.
    pub fn eval_naive(&self, x: &[f32], n: usize) -> Result<Vec<f32>, String> {
        let shapes = self.shapes()?;
        let per = INPUT.len();
        assert_eq!(x.len(), n * per, "eval_naive: x holds {} values", x.len());
        let mut out = Vec::new();
        for img in x.chunks_exact(per) {
            let mut a: Vec<f32> = img.iter().map(|v| v * self.input_scale).collect();
            let mut s = INPUT;
            for (l, &next) in self.layers.iter().zip(&shapes) {
                a = naive_layer(l, &a, s, next);
                s = next;
            }
            out.extend(a);
        }
        Ok(out)
    }
}

impl OnnxLayer {
    pub fn kind(&self) -> &'static str {
        match self {
            OnnxLayer::Dense { .. } => "Dense",
            OnnxLayer::Conv2d { .. } => "Conv2d",
            OnnxLayer::MaxPool2 => "MaxPool2",
            OnnxLayer::Flatten => "Flatten",
            OnnxLayer::Dropout => "Dropout",
        }
    }
}

fn act(a: Activation, v: f32) -> f32 {
    match a {
        Activation::Relu => v.max(0.0),
        Activation::Sigmoid => 1.0 / (1.0 + (-v).exp()),
        Activation::Linear => v,
    }
}

/// One image through one layer, CHW in and out.
fn naive_layer(l: &OnnxLayer, x: &[f32], s: Shape, next: Shape) -> Vec<f32> {
    match (l, s) {
        (
            OnnxLayer::Dense {
                w,
                b,
                inp,
                out,
                act: f,
            },
            _,
        ) => (0..*out)
            .map(|o| {
                let z: f32 = (0..*inp).map(|i| x[i] * w[o * inp + i]).sum::<f32>() + b[o];
                act(*f, z)
            })
            .collect(),
        (
            OnnxLayer::Conv2d {
                w,
                b,
                cin,
                cout,
                k,
                pad,
                act: f,
            },
            Shape::Image { h, w: wd, .. },
        ) => {
            let Shape::Image { h: oh, w: ow, .. } = next else {
                unreachable!("checked by shapes()")
            };
            let mut y = vec![0.0; cout * oh * ow];
            for co in 0..*cout {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut z = b[co];
                        for ci in 0..*cin {
                            for ky in 0..*k {
                                for kx in 0..*k {
                                    let (iy, ix) = (oy + ky, ox + kx);
                                    if iy < *pad || ix < *pad || iy - pad >= h || ix - pad >= wd {
                                        continue;
                                    }
                                    let v = x[(ci * h + iy - pad) * wd + ix - pad];
                                    z += v * w[((co * cin + ci) * k + ky) * k + kx];
                                }
                            }
                        }
                        y[(co * oh + oy) * ow + ox] = act(*f, z);
                    }
                }
            }
            y
        }
        (OnnxLayer::MaxPool2, Shape::Image { c, h, w }) => {
            let (oh, ow) = (h / 2, w / 2);
            let mut y = vec![0.0; c * oh * ow];
            for ch in 0..c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let at = |dy: usize, dx: usize| x[(ch * h + 2 * oy + dy) * w + 2 * ox + dx];
                        y[(ch * oh + oy) * ow + ox] =
                            at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1));
                    }
                }
            }
            y
        }
        // CHW memory is already the flattened order; Dropout is the identity.
        _ => x.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(inp: usize, out: usize) -> OnnxLayer {
        OnnxLayer::Dense {
            w: vec![0.0; inp * out],
            b: vec![0.0; out],
            inp,
            out,
            act: Activation::Linear,
        }
    }

    #[test]
    fn shapes_follow_the_layers_and_mistakes_are_named() {
        let conv = OnnxLayer::Conv2d {
            w: vec![0.0; 4 * 9],
            b: vec![0.0; 4],
            cin: 1,
            cout: 4,
            k: 3,
            pad: 0,
            act: Activation::Relu,
        };
        let m = OnnxModel {
            layers: vec![
                conv.clone(),
                OnnxLayer::MaxPool2,
                OnnxLayer::Flatten,
                dense(4 * 13 * 13, 10),
            ],
            input_scale: 1.0,
            metadata: vec![],
        };
        assert_eq!(m.shapes().unwrap()[1], Shape::Image { c: 4, h: 13, w: 13 });
        assert_eq!(m.classes().unwrap(), 10);
        let no_flatten = OnnxModel {
            layers: vec![conv, dense(10, 10)],
            ..m.clone()
        };
        let e = no_flatten.shapes().unwrap_err();
        assert!(
            e.contains("layer 1 (Dense)") && e.contains("Flatten first"),
            "{e}"
        );
        let wrong = OnnxModel {
            layers: vec![OnnxLayer::Flatten, dense(785, 10)],
            ..m
        };
        assert!(wrong
            .shapes()
            .unwrap_err()
            .contains("expects 785 inputs, gets 784"));
    }

    #[test]
    fn naive_conv_and_pool_on_a_known_image() {
        // A 3x3 kernel of ones with pad 1 sums each pixel's neighbourhood.
        let m = OnnxModel {
            layers: vec![
                OnnxLayer::Conv2d {
                    w: vec![1.0; 9],
                    b: vec![0.5],
                    cin: 1,
                    cout: 1,
                    k: 3,
                    pad: 1,
                    act: Activation::Linear,
                },
                OnnxLayer::MaxPool2,
                OnnxLayer::Flatten,
                OnnxLayer::Dense {
                    w: (0..196).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect(),
                    b: vec![0.0],
                    inp: 196,
                    out: 1,
                    act: Activation::Linear,
                },
            ],
            input_scale: 1.0,
            metadata: vec![],
        };
        let mut x = vec![0.0; 784];
        x[0] = 1.0; // top-left pixel: the pooled top-left window sees 1 + 0.5
        x[1] = 2.0;
        let y = m.eval_naive(&x, 1).unwrap();
        assert_eq!(y, vec![3.5]);
    }
}
