//! Checkpoint files: round trip, refusing bad files with errors that name them, architecture checks.

use digits::data::{DatasetKind, PixelScale};
use digits::nn::{Activation, Init, LayerSpec, ModelSpec, Sequential};
use digits::train::checkpoint::{self, CheckpointMeta};
use digits::train::{FitConfig, History};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::Path;

fn model(spec: ModelSpec, seed: u64) -> Sequential {
    Sequential::new(spec, Init::KaimingUniform, seed)
}

/// Writes raw tensors (name, dtype, shape, bytes) with optional metadata.
fn craft(
    path: &Path,
    tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)],
    meta: Option<HashMap<String, String>>,
) {
    let views: Vec<_> = tensors
        .iter()
        .map(|(n, d, s, b)| (*n, TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, meta).unwrap()).unwrap();
}

fn f32_bytes(n: usize, v: f32) -> Vec<u8> {
    (0..n).flat_map(|_| v.to_le_bytes()).collect()
}

fn err(path: &Path) -> String {
    format!("{:#}", checkpoint::load(path).unwrap_err())
}

#[test]
fn round_trip_keeps_weights_architecture_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let spec = ModelSpec::new(
        400,
        vec![
            LayerSpec::dense(25, Activation::Sigmoid).named("L1"),
            LayerSpec::dense(15, Activation::Linear),
            LayerSpec::dense(10, Activation::Linear),
        ],
    );
    let m = model(spec, 3);
    let meta = CheckpointMeta {
        scale: PixelScale::Raw,
        epoch: 7,
        global_step: 700,
        config: Some(FitConfig {
            epochs: 9,
            ..FitConfig::default()
        }),
        history: Some(History {
            loss: vec![1.5, 0.75],
            test_loss: vec![],
            test_accuracy: vec![],
            epoch_seconds: vec![0.5, 0.25],
        }),
        ..CheckpointMeta::default()
    }
    .with_dataset(DatasetKind::Digits5000, 20, 20);
    checkpoint::save(&path, &m, &meta, None).unwrap();
    let back = checkpoint::load(&path).unwrap();
    assert_eq!(
        back.model, m,
        "weights, spec and layer names survive bit for bit"
    );
    assert_eq!(back.meta, meta);
    // PyTorch names: sigmoid takes an index, the linear hidden layer does not.
    let bytes = std::fs::read(&path).unwrap();
    let mut names = SafeTensors::deserialize(&bytes)
        .unwrap()
        .names()
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    names.sort();
    assert_eq!(
        names,
        [
            "model.0.bias",
            "model.0.weight",
            "model.2.bias",
            "model.2.weight",
            "model.3.bias",
            "model.3.weight"
        ]
    );
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let w = st.tensor("model.0.weight").unwrap();
    assert_eq!(w.shape(), [25, 400]);
    // Transposed: torch weight[o][i] is our W[i][o].
    let (ours, _) = m.weights(0);
    let t01 = f32::from_le_bytes(w.data()[4..8].try_into().unwrap());
    assert_eq!(t01, ours[25], "weight[0][1] = W[1][0]");
}

#[test]
fn a_bare_sequential_state_dict_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bare.safetensors");
    craft(
        &path,
        &[
            ("0.weight", Dtype::F32, vec![3, 4], f32_bytes(12, 0.5)),
            ("0.bias", Dtype::F32, vec![3], f32_bytes(3, 0.25)),
            ("2.weight", Dtype::F32, vec![2, 3], f32_bytes(6, -1.0)),
            ("2.bias", Dtype::F32, vec![2], f32_bytes(2, 0.0)),
        ],
        None,
    );
    let c = checkpoint::load(&path).unwrap();
    assert!(c.meta.inferred);
    assert_eq!(c.model.spec(), &ModelSpec::mlp(4, &[3], 2));
    // relu(4 * 0.5 + 0.25) = 2.25 per hidden unit; output = -3 * 2.25.
    assert_eq!(c.model.predict(&[1.0; 4]), vec![-6.75, -6.75]);
}

#[test]
fn missing_and_foreign_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.safetensors");
    let e = err(&missing);
    assert!(
        e.contains("nope.safetensors") && e.contains("cannot read"),
        "{e}"
    );

    let text = dir.path().join("notes.safetensors");
    std::fs::write(&text, "these are not tensors, just some words in a file").unwrap();
    let e = err(&text);
    assert!(
        e.contains("notes.safetensors") && e.contains("not a safetensors file"),
        "{e}"
    );

    let tiny = dir.path().join("tiny.safetensors");
    std::fs::write(&tiny, b"abc").unwrap();
    assert!(err(&tiny).contains("only 3 bytes"));
}

#[test]
fn truncated_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.safetensors");
    checkpoint::save(
        &path,
        &model(ModelSpec::mlp(64, &[16], 10), 1),
        &CheckpointMeta::default(),
        None,
    )
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    for cut in [bytes.len() - 100, 40] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let e = err(&path);
        assert!(
            e.contains("t.safetensors") && e.contains("truncated"),
            "cut {cut}: {e}"
        );
    }
}

#[test]
fn wrong_dtype_nan_and_unknown_tensors_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f64.safetensors");
    craft(
        &p,
        &[
            ("model.0.weight", Dtype::F64, vec![2, 4], vec![0; 64]),
            ("model.0.bias", Dtype::F64, vec![2], vec![0; 16]),
        ],
        None,
    );
    let e = err(&p);
    assert!(
        e.contains("f64.safetensors") && e.contains("F64") && e.contains("model.0.weight"),
        "{e}"
    );

    let p = dir.path().join("nan.safetensors");
    let mut w = f32_bytes(8, 0.1);
    w[8..12].copy_from_slice(&f32::NAN.to_le_bytes());
    craft(
        &p,
        &[
            ("model.0.weight", Dtype::F32, vec![2, 4], w),
            ("model.0.bias", Dtype::F32, vec![2], f32_bytes(2, 0.0)),
        ],
        None,
    );
    let e = err(&p);
    assert!(
        e.contains("nan.safetensors") && e.contains("1 NaN or infinite"),
        "{e}"
    );

    let p = dir.path().join("extra.safetensors");
    craft(
        &p,
        &[
            ("model.0.weight", Dtype::F32, vec![2, 4], f32_bytes(8, 0.1)),
            ("model.0.bias", Dtype::F32, vec![2], f32_bytes(2, 0.0)),
            ("optimizer.m", Dtype::F32, vec![10], f32_bytes(10, 0.0)),
        ],
        None,
    );
    let e = err(&p);
    assert!(
        e.contains("extra.safetensors") && e.contains("does not know: optimizer.m"),
        "{e}"
    );

    let mut m = model(ModelSpec::mlp(4, &[3], 2), 1);
    m.params_mut()[5] = f32::INFINITY;
    let e = format!(
        "{:#}",
        checkpoint::save(
            &dir.path().join("inf.safetensors"),
            &m,
            &CheckpointMeta::default(),
            None
        )
        .unwrap_err()
    );
    assert!(e.contains("refusing to save") && e.contains("inf"), "{e}");
    assert!(!dir.path().join("inf.safetensors").exists());
}

#[test]
fn shapes_that_disagree_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // No metadata: the chain of shapes must agree.
    let p = dir.path().join("chain.safetensors");
    craft(
        &p,
        &[
            ("model.0.weight", Dtype::F32, vec![3, 4], f32_bytes(12, 0.1)),
            ("model.0.bias", Dtype::F32, vec![3], f32_bytes(3, 0.0)),
            ("model.2.weight", Dtype::F32, vec![2, 5], f32_bytes(10, 0.1)),
            ("model.2.bias", Dtype::F32, vec![2], f32_bytes(2, 0.0)),
        ],
        None,
    );
    let e = err(&p);
    assert!(
        e.contains("chain.safetensors")
            && e.contains("takes 5 inputs but the layer before gives 3"),
        "{e}"
    );

    // Metadata that describes another architecture than the tensors.
    let good = dir.path().join("good.safetensors");
    checkpoint::save(
        &good,
        &model(ModelSpec::mlp(4, &[3], 2), 1),
        &CheckpointMeta::default(),
        None,
    )
    .unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let mut meta = header.metadata().clone().unwrap();
    meta.insert(
        "digits.spec".into(),
        serde_json::to_string(&ModelSpec::mlp(4, &[6], 2)).unwrap(),
    );
    let p = dir.path().join("lying.safetensors");
    std::fs::write(
        &p,
        safetensors::serialize(st.tensors(), Some(meta)).unwrap(),
    )
    .unwrap();
    let e = err(&p);
    assert!(
        e.contains("lying.safetensors")
            && e.contains(
                "model.0.weight has shape [3, 4] but the architecture 4-6-2 (relu) needs [6, 4]"
            ),
        "{e}"
    );
}

#[test]
fn another_architecture_is_refused_clearly() {
    let path = Path::new("runs/m.safetensors");
    let saved = ModelSpec::mlp(784, &[25, 15], 10);
    checkpoint::check_compatible(&saved.clone(), &saved, path).unwrap();
    let e = checkpoint::check_compatible(&ModelSpec::mlp(784, &[64], 10), &saved, path)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "runs/m.safetensors was saved for 784-25-15-10 (relu) but this run builds 784-64-10 (relu)"
    );
    let mut sig = saved.clone();
    sig.layers[0] = LayerSpec::dense(25, Activation::Sigmoid);
    let e = checkpoint::check_compatible(&sig, &saved, path)
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("784-25-15-10 (sigmoid, relu)"), "{e}");
}

#[test]
fn a_failed_save_keeps_the_old_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    // The parent "directory" is a file: the save fails, naming the checkpoint.
    let file = dir.path().join("plain");
    std::fs::write(&file, "x").unwrap();
    let m = model(ModelSpec::mlp(4, &[3], 2), 1);
    let e = format!(
        "{:#}",
        checkpoint::save(
            &file.join("m.safetensors"),
            &m,
            &CheckpointMeta::default(),
            None
        )
        .unwrap_err()
    );
    assert!(e.contains("plain"), "{e}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = dir.path().join("ro");
        let path = ro.join("m.safetensors");
        checkpoint::save(&path, &m, &CheckpointMeta::default(), None).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        if std::fs::write(ro.join("probe"), "x").is_ok() {
            eprintln!("read-only directory part skipped: this user (root?) can write to it anyway");
        } else {
            let other = model(ModelSpec::mlp(4, &[3], 2), 2);
            let e = format!(
                "{:#}",
                checkpoint::save(&path, &other, &CheckpointMeta::default(), None).unwrap_err()
            );
            assert!(
                e.contains("m.safetensors") && e.contains("cannot create a file in"),
                "{e}"
            );
            assert_eq!(
                checkpoint::load(&path).unwrap().model,
                m,
                "the old checkpoint survives"
            );
        }
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn a_checkpoint_written_before_input_shapes_and_pool_windows_still_loads() {
    // The built-in model's file predates `input_shape` and pooling windows: its spec names
    // neither, and it loads as a square 28x28 input with 2x2 pools, saving back the same way.
    let path = Path::new("assets/default-cnn.safetensors");
    let bytes = std::fs::read(path).unwrap();
    let raw = String::from_utf8_lossy(&bytes);
    assert!(raw.contains("maxpool2d") && !raw.contains("input_shape") && !raw.contains("window"));
    let ckpt = checkpoint::load(path).unwrap();
    let spec = ckpt.model.spec();
    assert_eq!(spec.input_shape, None);
    let pools: Vec<_> = spec
        .layers
        .iter()
        .filter_map(LayerSpec::pool_window)
        .collect();
    assert!(
        !pools.is_empty() && pools.iter().all(|&w| w == (2, 2)),
        "{pools:?}"
    );
    assert_eq!(ckpt.model.output_dim(), 10);
    assert_eq!(ckpt.model.sequence_output(), None);
    let json = serde_json::to_string(spec).unwrap();
    assert!(
        !json.contains("input_shape") && !json.contains("window"),
        "{json}"
    );
}

#[test]
fn a_line_reader_round_trips_with_its_input_shape_and_windows() {
    let relu = Activation::Relu;
    let spec = ModelSpec::image(
        8,
        24,
        1,
        vec![
            LayerSpec::conv2d(4, 3, digits::nn::Padding::Same, relu),
            LayerSpec::maxpool(2, 1),
            LayerSpec::maxpool(4, 2),
            LayerSpec::conv2d(5, 1, digits::nn::Padding::Valid, Activation::Linear),
        ],
    );
    let m = model(spec, 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reader.safetensors");
    checkpoint::save(&path, &m, &CheckpointMeta::default(), None).unwrap();
    let back = checkpoint::load(&path).unwrap();
    assert_eq!(back.model.spec(), m.spec());
    assert_eq!(back.model.params(), m.params());
    assert_eq!(back.model.sequence_output(), Some((12, 5)));
}
