//! Every layer type behind one enum: shape inference, where its parameters live in the flat
//! buffer, forward and backward over a batch, and what it keeps between the two (its cache).
//!
//! [`build`] is the one walk over a [`ModelSpec`] that infers each layer's input and output
//! shape and its parameter offsets; the model, the checkpoint reader and the parameter count
//! all use it.

use super::conv::Conv2d;
use super::dense::Dense;
use super::dropout::{Dropout, DropoutKey};
use super::kernels::pooled_size;
use super::pool::MaxPool2d;
use super::spec::{LayerSpec, ModelSpec, Padding};
use super::Activation;

/// The shape of one example's activations: a vector, or an image (h, w, c) stored HWC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Flat(usize),
    Image { h: usize, w: usize, c: usize },
}

impl Shape {
    /// Values per example.
    pub fn len(&self) -> usize {
        match *self {
            Shape::Flat(n) => n,
            Shape::Image { h, w, c } => h * w * c,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keras' notation for a batch of this shape: `(None, 26, 26, 32)`, `(None, 10)`.
    pub fn keras(&self) -> String {
        match *self {
            Shape::Flat(n) => format!("(None, {n})"),
            Shape::Image { h, w, c } => format!("(None, {h}, {w}, {c})"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    Dense(Dense),
    Conv2d(Conv2d),
    MaxPool2d(MaxPool2d),
    /// No-op on memory (HWC order is kept): the output is the input.
    Flatten {
        name: String,
        len: usize,
    },
    Dropout(Dropout),
}

impl Layer {
    pub fn name(&self) -> &str {
        match self {
            Layer::Dense(l) => &l.name,
            Layer::Conv2d(l) => &l.name,
            Layer::MaxPool2d(l) => &l.name,
            Layer::Flatten { name, .. } => name,
            Layer::Dropout(l) => &l.name,
        }
    }

    /// Keras' class name, as `summary` shows it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "Dense",
            Layer::Conv2d(_) => "Conv2D",
            Layer::MaxPool2d(_) => "MaxPooling2D",
            Layer::Flatten { .. } => "Flatten",
            Layer::Dropout(_) => "Dropout",
        }
    }

    pub fn output_shape(&self) -> Shape {
        match self {
            Layer::Dense(l) => Shape::Flat(l.out_dim),
            Layer::Conv2d(l) => Shape::Image {
                h: l.shape(1).oh(),
                w: l.shape(1).ow(),
                c: l.cout,
            },
            Layer::MaxPool2d(l) => Shape::Image {
                h: l.out_hw().0,
                w: l.out_hw().1,
                c: l.c,
            },
            Layer::Flatten { len, .. } => Shape::Flat(*len),
            Layer::Dropout(l) => l.shape,
        }
    }

    /// Values per example of the output.
    pub fn out_len(&self) -> usize {
        self.output_shape().len()
    }

    /// Values per example of the input.
    pub fn in_len(&self) -> usize {
        match self {
            Layer::Dense(l) => l.in_dim,
            Layer::Conv2d(l) => l.h * l.w * l.cin,
            Layer::MaxPool2d(l) => l.h * l.w * l.c,
            Layer::Flatten { len, .. } => *len,
            Layer::Dropout(l) => l.shape.len(),
        }
    }

    pub fn param_count(&self) -> usize {
        match self {
            Layer::Dense(l) => l.param_count(),
            Layer::Conv2d(l) => l.param_count(),
            _ => 0,
        }
    }

    /// The fused activation of a Dense or Conv2d layer.
    pub fn activation(&self) -> Option<Activation> {
        match self {
            Layer::Dense(l) => Some(l.activation),
            Layer::Conv2d(l) => Some(l.activation),
            _ => None,
        }
    }

    pub fn as_dense(&self) -> Option<&Dense> {
        match self {
            Layer::Dense(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_conv2d(&self) -> Option<&Conv2d> {
        match self {
            Layer::Conv2d(c) => Some(c),
            _ => None,
        }
    }

    /// Bytes per example the layer keeps from forward to backward (pool argmax, dropout mask).
    pub fn cache_len(&self) -> usize {
        match self {
            Layer::MaxPool2d(_) | Layer::Dropout(_) => self.out_len(),
            _ => 0,
        }
    }

    /// Floats of scratch the layer needs for a batch of `n` examples.
    pub fn scratch_len(&self, n: usize) -> usize {
        match self {
            Layer::Dense(l) => l.in_dim * l.out_dim, // W^T, for dx
            Layer::Conv2d(l) => l.shape(n).scratch_len(),
            _ => 0,
        }
    }

    /// y (n x out) = the layer applied to x (n x in). `dropout` is Some while training (it keys
    /// the dropout masks); the cache keeps what backward needs. `packed`: a Conv2d layer's
    /// weights already packed for its kernel (reading), if any.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        params: &[f32],
        packed: Option<&[f32]>,
        x: &[f32],
        n: usize,
        y: &mut [f32],
        cache: &mut [u8],
        scratch: &mut [f32],
        dropout: Option<DropoutKey>,
    ) {
        let (x, y) = (&x[..n * self.in_len()], &mut y[..n * self.out_len()]);
        let cache = &mut cache[..n * self.cache_len()];
        match self {
            Layer::Dense(l) => l.forward(params, x, n, y),
            Layer::Conv2d(l) => l.forward(params, packed, x, n, y, scratch),
            Layer::MaxPool2d(l) => l.forward(x, n, y, cache),
            Layer::Flatten { .. } => y.copy_from_slice(x),
            Layer::Dropout(l) => l.forward(x, y, cache, dropout),
        }
    }

    /// Given the forward pass's x and output y, and dy (d loss / d y, turned into d loss / d
    /// pre-activation in place), writes this layer's parameter gradients into `grads` (the
    /// parameters' layout; overwritten, not added) and, when asked, dx (n x in). `packed_t`: a
    /// Conv2d layer's W^T already packed for its kernel (a training step's), if any.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        params: &[f32],
        packed_t: Option<&[f32]>,
        x: &[f32],
        n: usize,
        y: &[f32],
        dy: &mut [f32],
        grads: &mut [f32],
        dx: Option<&mut [f32]>,
        cache: &[u8],
        scratch: &mut [f32],
    ) {
        let (x, y) = (&x[..n * self.in_len()], &y[..n * self.out_len()]);
        let dy = &mut dy[..n * self.out_len()];
        let cache = &cache[..n * self.cache_len()];
        let dx = dx.map(|d| &mut d[..n * self.in_len()]);
        match self {
            Layer::Dense(l) => l.backward(params, x, n, y, dy, grads, dx.map(|d| (d, scratch))),
            Layer::Conv2d(l) => l.backward(params, packed_t, x, n, y, dy, grads, dx, scratch),
            Layer::MaxPool2d(l) => {
                if let Some(dx) = dx {
                    l.backward(n, y, dy, cache, dx)
                }
            }
            Layer::Flatten { .. } => {
                if let Some(dx) = dx {
                    dx.copy_from_slice(dy)
                }
            }
            Layer::Dropout(l) => {
                if let Some(dx) = dx {
                    l.backward(dy, cache, dx)
                }
            }
        }
    }
}

/// A ReLU convolution followed by max pooling leaves its ReLU to the pool, which applies it to
/// its output: max(relu(a), ...) = relu(max(a, ...)) and the same window position wins (a
/// window whose maximum is <= 0 passes no gradient either way), so the results are the same
/// with a quarter of the ReLU's reads and writes, forward and backward.
fn defer_relu_past_pools(layers: &mut [Layer]) {
    for k in 1..layers.len() {
        let (below, above) = layers.split_at_mut(k);
        if let (Layer::Conv2d(conv), Layer::MaxPool2d(pool)) = (&mut below[k - 1], &mut above[0]) {
            if conv.activation == Activation::Relu {
                conv.relu_after_pool = true;
                pool.relu = true;
            }
        }
    }
}

/// a * b, or an error naming the layer when the sizes overflow.
fn mul(a: usize, b: usize, what: &dyn Fn() -> String) -> Result<usize, String> {
    a.checked_mul(b)
        .ok_or_else(|| format!("{}: its size overflows", what()))
}

/// The one walk over the layers: each layer's shapes and parameter offsets (the parameters of
/// layer k follow those of layer k-1), and the total parameter count. Errors name the layer.
pub fn build(spec: &ModelSpec) -> Result<(Vec<Layer>, usize), String> {
    if spec.input_dim == 0 {
        return Err("input size must be at least 1".into());
    }
    if spec.layers.is_empty() {
        return Err("a model needs at least one layer".into());
    }
    let mut shape = Shape::Flat(spec.input_dim);
    if let Some(s) = spec.input_shape {
        if s.h == 0
            || s.w == 0
            || s.c == 0
            || s.h.checked_mul(s.w).and_then(|p| p.checked_mul(s.c)) != Some(spec.input_dim)
        {
            return Err(format!(
                "input shape {}x{}x{} (h x w x c) does not make {} inputs",
                s.h, s.w, s.c, spec.input_dim
            ));
        }
        shape = Shape::Image {
            h: s.h,
            w: s.w,
            c: s.c,
        };
    }
    let mut layers = Vec::with_capacity(spec.layers.len());
    let mut counts: Vec<(&str, usize)> = Vec::new();
    // The image a vector was flattened from (Dense rows are then in its HWC order).
    let mut flattened: Option<(usize, usize, usize)> = None;
    let mut offset = 0usize;
    for (k, l) in spec.layers.iter().enumerate() {
        let seen = match counts.iter_mut().find(|(kind, _)| *kind == l.kind()) {
            Some((_, c)) => {
                *c += 1;
                *c - 1
            }
            None => {
                counts.push((l.kind(), 1));
                0
            }
        };
        let name = l.name().map(str::to_string).unwrap_or_else(|| {
            if seen == 0 {
                l.kind().to_string()
            } else {
                format!("{}_{seen}", l.kind())
            }
        });
        let label = format!("layer {} ({name})", k + 1);
        let what = || label.clone();
        let overflow = || format!("{label}: its size overflows");
        let (h, w, c) = match (l, shape) {
            (LayerSpec::Conv2d { .. } | LayerSpec::MaxPool2d { .. }, Shape::Image { h, w, c }) => {
                (h, w, c)
            }
            (LayerSpec::Conv2d { .. } | LayerSpec::MaxPool2d { .. }, Shape::Flat(d)) => {
                let side = (d as f64).sqrt().round() as usize;
                if k > 0 || side * side != d {
                    return Err(format!(
                        "{} reads images, but its input {} is not one ({})",
                        what(),
                        shape.keras(),
                        if k > 0 {
                            "a Flatten or Dense layer comes before it".to_string()
                        } else {
                            format!("{d} inputs are not a square image")
                        }
                    ));
                }
                (side, side, 1)
            }
            _ => (0, 0, 0),
        };
        let layer = match l {
            LayerSpec::Dense {
                units, activation, ..
            } => {
                let Shape::Flat(in_dim) = shape else {
                    return Err(format!(
                        "{} is Dense but its input {} is an image: put a Flatten before it",
                        what(),
                        shape.keras()
                    ));
                };
                if *units == 0 {
                    return Err(format!("{} has 0 units", what()));
                }
                let w_offset = offset;
                let b_offset = w_offset
                    .checked_add(mul(in_dim, *units, &what)?)
                    .ok_or_else(overflow)?;
                offset = b_offset.checked_add(*units).ok_or_else(overflow)?;
                let in_image = flattened.take();
                Layer::Dense(Dense {
                    name,
                    in_dim,
                    out_dim: *units,
                    activation: *activation,
                    w_offset,
                    b_offset,
                    in_image,
                })
            }
            LayerSpec::Conv2d {
                filters,
                kernel,
                padding,
                activation,
                ..
            } => {
                if *filters == 0 {
                    return Err(format!("{} has 0 filters", what()));
                }
                if kernel % 2 == 0 {
                    return Err(format!(
                        "{} has a {kernel}x{kernel} kernel; kernels must be odd (1, 3, 5, ...)",
                        what()
                    ));
                }
                let pad = match padding {
                    Padding::Valid => 0,
                    Padding::Same => kernel / 2,
                };
                if h.saturating_add(2 * pad) < *kernel || w.saturating_add(2 * pad) < *kernel {
                    return Err(format!(
                        "{}: a {kernel}x{kernel} convolution does not fit its {h}x{w} input {}",
                        what(),
                        shape.keras()
                    ));
                }
                let weights = mul(
                    mul(mul(*kernel, *kernel, &what)?, c, &what)?,
                    *filters,
                    &what,
                )?;
                let w_offset = offset;
                let b_offset = w_offset.checked_add(weights).ok_or_else(overflow)?;
                offset = b_offset.checked_add(*filters).ok_or_else(overflow)?;
                Layer::Conv2d(Conv2d {
                    name,
                    h,
                    w,
                    cin: c,
                    k: *kernel,
                    pad,
                    cout: *filters,
                    activation: *activation,
                    relu_after_pool: false,
                    w_offset,
                    b_offset,
                })
            }
            LayerSpec::MaxPool2d { .. } => {
                let (ph, pw) = l.pool_window().unwrap_or((2, 2));
                pooled_size(h, w, ph, pw)
                    .map_err(|e| format!("{}: {e} (its input is {})", what(), shape.keras()))?;
                Layer::MaxPool2d(MaxPool2d {
                    name,
                    h,
                    w,
                    c,
                    ph,
                    pw,
                    relu: false,
                })
            }
            LayerSpec::Flatten { .. } => {
                if let Shape::Image { h, w, c } = shape {
                    flattened = Some((h, w, c));
                }
                Layer::Flatten {
                    name,
                    len: shape.len(),
                }
            }
            LayerSpec::Dropout { rate, .. } => {
                if !(0.0..1.0).contains(rate) {
                    return Err(format!(
                        "{} has rate {rate}; a dropout rate is at least 0 and below 1",
                        what()
                    ));
                }
                Layer::Dropout(Dropout {
                    name,
                    rate: *rate,
                    shape,
                    index: k,
                })
            }
        };
        let out = layer.output_shape();
        // Sizes are checked here so that later products of them cannot overflow.
        if let Shape::Image { h, w, c } = out {
            mul(mul(h, w, &what)?, c, &what)?;
        }
        if !matches!(layer, Layer::Flatten { .. } | Layer::Dropout(_)) {
            flattened = None;
        }
        shape = out;
        layers.push(layer);
    }
    defer_relu_past_pools(&mut layers);
    // A model ends in a vector of logits, or in one row of them per column (height 1: the
    // per-column scores of a sequence reader, read as (w, c)).
    if matches!(shape, Shape::Image { h, .. } if h != 1) {
        return Err(format!(
            "the last layer gives images {} but a model ends with a vector of logits (add Flatten and Dense) or with one row of per-column logits (pool the height down to 1)",
            shape.keras()
        ));
    }
    Ok((layers, offset))
}

impl ModelSpec {
    /// Checks the shapes make a usable network (see [`build`]).
    pub fn validate(&self) -> Result<(), String> {
        build(self).map(|_| ())
    }

    /// Total parameters, or an error naming the layer whose shape does not fit.
    pub fn param_count(&self) -> Result<usize, String> {
        build(self).map(|(_, n)| n)
    }

    /// Outputs per example (the last layer's).
    pub fn output_dim(&self) -> usize {
        build(self)
            .ok()
            .and_then(|(l, _)| l.last().map(Layer::out_len))
            .unwrap_or(self.input_dim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_the_convnet_shapes_and_parameters() {
        let (layers, total) = build(&ModelSpec::mnist_convnet(784, 10)).unwrap();
        let shapes: Vec<String> = layers.iter().map(|l| l.output_shape().keras()).collect();
        assert_eq!(
            shapes,
            [
                "(None, 26, 26, 32)",
                "(None, 13, 13, 32)",
                "(None, 11, 11, 64)",
                "(None, 5, 5, 64)",
                "(None, 1600)",
                "(None, 1600)",
                "(None, 10)"
            ]
        );
        let params: Vec<usize> = layers.iter().map(Layer::param_count).collect();
        assert_eq!(params, [320, 0, 18_496, 0, 0, 0, 16_010]);
        assert_eq!(total, 34_826);
        let names: Vec<&str> = layers.iter().map(Layer::name).collect();
        assert_eq!(names[2], "conv2d_1");
        assert_eq!(names[3], "max_pooling2d_1");
        assert_eq!(layers[6].as_dense().unwrap().in_image, Some((5, 5, 64)));
    }

    #[test]
    fn same_padding_keeps_the_size() {
        let spec = ModelSpec::new(
            25,
            vec![
                LayerSpec::conv2d(4, 3, Padding::Same, Activation::Relu),
                LayerSpec::flatten(),
                LayerSpec::dense(2, Activation::Linear),
            ],
        );
        let (layers, total) = build(&spec).unwrap();
        assert_eq!(layers[0].output_shape(), Shape::Image { h: 5, w: 5, c: 4 });
        assert_eq!(total, 3 * 3 * 4 + 4 + 100 * 2 + 2);
    }

    #[test]
    fn errors_name_the_layer() {
        let relu = Activation::Relu;
        let err = |layers: Vec<LayerSpec>| build(&ModelSpec::new(784, layers)).unwrap_err();
        let e = err(vec![
            LayerSpec::conv2d(2, 3, Padding::Valid, relu),
            LayerSpec::dense(10, relu),
        ]);
        assert!(
            e.contains("layer 2 (dense)") && e.contains("Flatten"),
            "{e}"
        );
        let mut tiny = vec![LayerSpec::maxpool2d(); 4];
        tiny.push(LayerSpec::conv2d(2, 3, Padding::Valid, relu));
        tiny.push(LayerSpec::flatten());
        let e = err(tiny);
        assert!(
            e.contains("layer 5 (conv2d)") && e.contains("does not fit its 1x1"),
            "{e}"
        );
        let e = err(vec![LayerSpec::conv2d(2, 4, Padding::Valid, relu)]);
        assert!(e.contains("odd"), "{e}");
        let e = build(&ModelSpec::new(
            10,
            vec![LayerSpec::conv2d(2, 3, Padding::Valid, relu)],
        ))
        .unwrap_err();
        assert!(
            e.contains("layer 1 (conv2d)") && e.contains("square"),
            "{e}"
        );
        let e = err(vec![LayerSpec::dropout(1.0), LayerSpec::dense(2, relu)]);
        assert!(e.contains("layer 1 (dropout)"), "{e}");
    }
}
