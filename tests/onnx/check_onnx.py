"""Checks an ONNX model digits exported: onnx's checker (full_check, with shape inference), then
ONNX Runtime's logits against the ones digits computed.

    check_onnx.py MODEL.onnx INPUTS.f32 EXPECTED.f32

INPUTS.f32: N x 784 float32 (row-major 28x28 in [0, 1]); EXPECTED.f32: N x C float32.
Prints one JSON line: n, classes, max_abs_diff (whole batch at once), max_abs_diff_single (the
first 20 images one at a time: the batch dimension is dynamic), the input and output as
declared, and metadata_props.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def main(model_path, inputs_path, expected_path):
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    x = np.fromfile(inputs_path, dtype="<f4").reshape(-1, 1, 28, 28)
    expected = np.fromfile(expected_path, dtype="<f4").reshape(x.shape[0], -1)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    (logits,) = sess.run(["logits"], {"pixels": x})
    single = np.concatenate([sess.run(["logits"], {"pixels": x[i : i + 1]})[0] for i in range(20)])
    print(json.dumps({
        "n": int(logits.shape[0]),
        "classes": int(logits.shape[1]),
        "max_abs_diff": float(np.abs(logits - expected).max()),
        "max_abs_diff_single": float(np.abs(single - expected[:20]).max()),
        "argmax_agree": float((logits.argmax(1) == expected.argmax(1)).mean()),
        "input": {"name": model.graph.input[0].name, "dims": dims(model.graph.input[0])},
        "output": {"name": model.graph.output[0].name, "dims": dims(model.graph.output[0])},
        "opset": int(model.opset_import[0].version),
        "metadata": {p.key: p.value for p in model.metadata_props},
    }))


if __name__ == "__main__":
    main(*sys.argv[1:4])
