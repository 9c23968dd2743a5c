//! The intermediate form to an ONNX ModelProto (IR version 7, opset 13): `pixels`
//! float32 [N, 1, 28, 28] in, `logits` float32 [N, classes] out, N dynamic.
//!
//! ```text
//! Dense   -> Gemm(x, W [out, in], b, transB=1) [+ Relu | Sigmoid]
//! Conv2d  -> Conv(x, W [cout, cin, k, k], b, kernel_shape, pads, strides=1) [+ Relu | Sigmoid]
//! MaxPool2-> MaxPool(kernel_shape=2x2, strides=2)     Flatten -> Flatten(axis=1)
//! ```

use super::ir::{OnnxLayer, OnnxModel};
use super::proto::Msg;
use crate::nn::Activation;

pub const IR_VERSION: i64 = 7;
pub const OPSET: i64 = 13;
pub const INPUT_NAME: &str = "pixels";
pub const OUTPUT_NAME: &str = "logits";

// TensorProto.DataType and AttributeProto.AttributeType values.
const FLOAT: i64 = 1;
const ATTR_INT: i64 = 2;
const ATTR_INTS: i64 = 7;

/// The serialized ModelProto, or why the layers do not make a network.
pub fn encode(m: &OnnxModel) -> Result<Vec<u8>, String> {
    let classes = m.classes()?;
    let mut g = Graph::default();
    let mut x = INPUT_NAME.to_string();
    if m.input_scale != 1.0 {
        g.tensor("input_scale", &[], &[m.input_scale]);
        x = g.node("Mul", &[&x, "input_scale"], vec![]);
    }
    for (i, l) in m.layers.iter().enumerate() {
        x = match l {
            OnnxLayer::Dense {
                w,
                b,
                inp,
                out,
                act,
            } => {
                let (wn, bn) = (format!("layer{i}.weight"), format!("layer{i}.bias"));
                g.tensor(&wn, &[*out, *inp], w);
                g.tensor(&bn, &[*out], b);
                let z = g.node("Gemm", &[&x, &wn, &bn], vec![int_attr("transB", 1)]);
                g.activation(z, *act)
            }
            OnnxLayer::Conv2d {
                w,
                b,
                cin,
                cout,
                k,
                pad,
                act,
            } => {
                let (wn, bn) = (format!("layer{i}.weight"), format!("layer{i}.bias"));
                g.tensor(&wn, &[*cout, *cin, *k, *k], w);
                g.tensor(&bn, &[*cout], b);
                let (k, p) = (*k as i64, *pad as i64);
                let attrs = vec![
                    ints_attr("kernel_shape", &[k, k]),
                    ints_attr("pads", &[p, p, p, p]),
                    ints_attr("strides", &[1, 1]),
                ];
                let z = g.node("Conv", &[&x, &wn, &bn], attrs);
                g.activation(z, *act)
            }
            OnnxLayer::MaxPool2 => g.node(
                "MaxPool",
                &[&x],
                vec![
                    ints_attr("kernel_shape", &[2, 2]),
                    ints_attr("strides", &[2, 2]),
                ],
            ),
            OnnxLayer::Flatten => g.node("Flatten", &[&x], vec![int_attr("axis", 1)]),
            OnnxLayer::Dropout => x,
        };
    }
    // The last node's output is the graph's output.
    let last = g.nodes.last_mut().ok_or("the network has no layers")?;
    last.1 = OUTPUT_NAME.into();

    let mut graph = Msg::new();
    for (op, out, inputs, attrs) in g.nodes {
        let mut n = Msg::new();
        for i in &inputs {
            n.str(1, i);
        }
        n.str(2, &out).str(3, &out).str(4, op);
        for a in attrs {
            n.msg(5, a);
        }
        graph.msg(1, n);
    }
    graph.str(2, "digits");
    for t in g.initializers {
        graph.msg(5, t);
    }
    graph.msg(
        11,
        value_info(INPUT_NAME, &[None, Some(1), Some(28), Some(28)]),
    );
    graph.msg(12, value_info(OUTPUT_NAME, &[None, Some(classes)]));

    let mut model = Msg::new();
    model.int(1, IR_VERSION);
    model.str(2, "digits").str(3, env!("CARGO_PKG_VERSION"));
    model.msg(7, graph);
    let mut opset = Msg::new();
    opset.str(1, "").int(2, OPSET);
    model.msg(8, opset);
    for (k, v) in &m.metadata {
        let mut e = Msg::new();
        e.str(1, k).str(2, v);
        model.msg(14, e);
    }
    Ok(model.into_bytes())
}

/// Nodes as (op, output, inputs, attributes) and initializers, with fresh value names.
#[derive(Default)]
struct Graph {
    nodes: Vec<(&'static str, String, Vec<String>, Vec<Msg>)>,
    initializers: Vec<Msg>,
}

impl Graph {
    fn node(&mut self, op: &'static str, inputs: &[&str], attrs: Vec<Msg>) -> String {
        let out = format!("{}_{}", op.to_ascii_lowercase(), self.nodes.len());
        let inputs = inputs.iter().map(|s| s.to_string()).collect();
        self.nodes.push((op, out.clone(), inputs, attrs));
        out
    }

    fn activation(&mut self, z: String, act: Activation) -> String {
        match act {
            Activation::Relu => self.node("Relu", &[&z], vec![]),
            Activation::Sigmoid => self.node("Sigmoid", &[&z], vec![]),
            Activation::Linear => z,
        }
    }

    /// A float32 initializer, little-endian raw data.
    fn tensor(&mut self, name: &str, dims: &[usize], values: &[f32]) {
        let mut t = Msg::new();
        for &d in dims {
            t.int(1, d as i64);
        }
        t.int(2, FLOAT).str(8, name);
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        t.bytes(9, &raw);
        self.initializers.push(t);
    }
}

fn int_attr(name: &str, v: i64) -> Msg {
    let mut a = Msg::new();
    a.str(1, name).int(20, ATTR_INT).int(3, v);
    a
}

fn ints_attr(name: &str, v: &[i64]) -> Msg {
    let mut a = Msg::new();
    a.str(1, name).int(20, ATTR_INTS);
    for &x in v {
        a.int(8, x);
    }
    a
}

/// A float32 tensor's ValueInfo; `None` dimensions are the dynamic batch `N`.
fn value_info(name: &str, dims: &[Option<usize>]) -> Msg {
    let mut shape = Msg::new();
    for d in dims {
        let mut dim = Msg::new();
        match d {
            Some(v) => dim.int(1, *v as i64),
            None => dim.str(2, "N"),
        };
        shape.msg(1, dim);
    }
    let mut tensor = Msg::new();
    tensor.int(1, FLOAT).msg(2, shape);
    let mut ty = Msg::new();
    ty.msg(1, tensor);
    let mut vi = Msg::new();
    vi.str(1, name).msg(2, ty);
    vi
}
