//! Fuzzing the parsers that read checkpoints: safetensors model files and the optimizer sidecar.
//!
//! Each test starts from a valid encoding made by the crate's own writers (or the image crate's
//! encoders), corrupts it (truncation, flipped bytes, wrong magic/dtype/version, huge or zero
//! dimensions, counts that disagree, NaN and infinite payloads) and checks that the parser
//! returns a clear error (naming the input where the parser takes a name) or a sane, bounded
//! value, never panics, and never allocates more than a small multiple of the input: a
//! tracking allocator (`fuzz_support`) records the largest single allocation made on the
//! parsing thread.
//!
//! `PROPTEST_CASES=N cargo test --test reliability_fuzz_checkpoints -- --nocapture` runs N cases per parser
//! (defaults below keep the suite fast) and prints the executions run.

mod fuzz_support;

use digits::nn::{Init, ModelSpec, Sequential};
use digits::train::checkpoint::{self, CheckpointMeta};
use digits::train::{FitConfig, Trainer};
use fuzz_support::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

// ---------------------------------------------------------------------------------------------
// safetensors checkpoints (the model file and the optimizer sidecar)

fn small_model(seed: u64) -> Sequential {
    Sequential::new(ModelSpec::mlp(12, &[5], 3), Init::KaimingUniform, seed)
}

#[derive(Clone, Debug)]
enum StEdit {
    None,
    /// The u64 header length at the start of the file.
    HeaderLen(u64),
    TensorShape(usize, Vec<usize>),
    /// Shape [a, b] -> [b, a] or flattened: the byte count still agrees.
    Transpose(usize),
    Flatten(usize),
    TensorDtype(usize, &'static str),
    Offsets(usize, u64, u64),
    Rename(usize, &'static str),
    Remove(usize),
    /// Metadata `key` set to `value` (None: removed).
    Meta(&'static str, Option<String>),
    NoMetadata,
    NonFinite(u16, f32),
}

fn huge_dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        Just(1),
        Just(3),
        Just(5),
        Just(12),
        Just(1 << 20),
        Just(1 << 32),
        Just(usize::MAX / 2),
        Just(usize::MAX),
    ]
}

fn spec_json() -> impl Strategy<Value = String> {
    prop_oneof![
        (huge_dim(), prop::collection::vec(huge_dim(), 0..4)).prop_map(|(i, l)| {
            let layers: Vec<String> = l
                .iter()
                .map(|u| format!("{{\"units\":{u},\"activation\":\"relu\"}}"))
                .collect();
            format!("{{\"input_dim\":{i},\"layers\":[{}]}}", layers.join(","))
        }),
        Just(r#"{"input_dim":12,"layers":[{"units":5,"activation":"tanh"}]}"#.to_string()),
        Just(r#"{"input_dim":-1,"layers":[]}"#.to_string()),
        Just("not json".to_string()),
        Just("[".repeat(10_000)),
    ]
}

fn st_edit() -> impl Strategy<Value = StEdit> {
    let tensor = 0usize..4;
    let text = prop_oneof![
        Just("".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        Just("0x0".to_string()),
        Just("4294967296x4294967296".to_string()),
        Just("{}".to_string()),
        Just("nan".to_string()),
        "[a-z0-9x{}\\[\\]\",:.-]{0,12}",
    ];
    prop_oneof![
        1 => Just(StEdit::None),
        2 => prop_oneof![
            Just(0u64), Just(1), Just(7), Just(u64::MAX), Just(1 << 40), Just(u32::MAX as u64),
            0u64..2000,
        ].prop_map(StEdit::HeaderLen),
        2 => (tensor.clone(), prop::collection::vec(huge_dim(), 0..4))
            .prop_map(|(t, s)| StEdit::TensorShape(t, s)),
        1 => tensor.clone().prop_map(StEdit::Transpose),
        1 => tensor.clone().prop_map(StEdit::Flatten),
        2 => (tensor.clone(), prop::sample::select(vec![
            "F64", "F16", "BF16", "I32", "U8", "BOOL", "F32", "F8_E4M3", "XYZ",
        ])).prop_map(|(t, d)| StEdit::TensorDtype(t, d)),
        1 => (tensor.clone(), prop_oneof![Just(0u64), Just(u64::MAX), 0u64..400],
              prop_oneof![Just(0u64), Just(u64::MAX), 0u64..400])
            .prop_map(|(t, a, b)| StEdit::Offsets(t, a, b)),
        1 => (tensor.clone(), prop::sample::select(vec![
            "model.9.weight", "model.1.weight", "optimizer.m", "0.weight", "model.0.bias",
            "model.x.weight", "adam.m",
        ])).prop_map(|(t, n)| StEdit::Rename(t, n)),
        1 => tensor.prop_map(StEdit::Remove),
        3 => spec_json().prop_map(|s| StEdit::Meta("digits.spec", Some(s))),
        3 => (prop::sample::select(vec![
            "digits.spec", "digits.scale", "digits.dataset", "digits.image", "digits.layout",
            "digits.epoch", "digits.global_step", "digits.fit_config", "digits.history",
            "format", "digits.kind", "digits.adam.t", "digits.adam.lr", "digits.model_crc32c",
        ]), prop::option::weighted(0.8, text))
            .prop_map(|(k, v)| StEdit::Meta(k, v)),
        1 => Just(StEdit::NoMetadata),
        2 => (0u16..1000, prop::sample::select(vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY]))
            .prop_map(|(p, v)| StEdit::NonFinite(p, v)),
    ]
}

/// Applies a structural edit to a safetensors file: its JSON header is rewritten (padded to 8
/// bytes as safetensors writes it), the data kept.
fn edit_safetensors(bytes: &[u8], edit: &StEdit) -> Vec<u8> {
    use serde_json::{json, Value};
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Map<String, Value> =
        serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let mut data = bytes[8 + n..].to_vec();
    let mut names: Vec<String> = header
        .keys()
        .filter(|k| *k != "__metadata__")
        .cloned()
        .collect();
    names.sort();
    let name = |t: usize| names[t % names.len()].clone();
    match edit {
        StEdit::None => {}
        StEdit::HeaderLen(v) => {
            let mut out = bytes.to_vec();
            out[..8].copy_from_slice(&v.to_le_bytes());
            return out;
        }
        StEdit::TensorShape(t, s) => header[&name(*t)]["shape"] = json!(s),
        StEdit::Transpose(t) | StEdit::Flatten(t) => {
            let shape: Vec<u64> =
                serde_json::from_value(header[&name(*t)]["shape"].clone()).unwrap_or_default();
            let new = if matches!(edit, StEdit::Flatten(_)) {
                vec![shape.iter().product::<u64>()]
            } else {
                shape.iter().rev().copied().collect()
            };
            header[&name(*t)]["shape"] = json!(new);
        }
        StEdit::TensorDtype(t, d) => header[&name(*t)]["dtype"] = json!(d),
        StEdit::Offsets(t, a, b) => header[&name(*t)]["data_offsets"] = json!([a, b]),
        StEdit::Rename(t, new) => {
            let v = header.remove(&name(*t)).unwrap();
            header.insert(new.to_string(), v);
        }
        StEdit::Remove(t) => {
            header.remove(&name(*t));
        }
        StEdit::Meta(k, v) => {
            let meta = header
                .entry("__metadata__")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .unwrap();
            match v {
                Some(v) => meta.insert(k.to_string(), json!(v)),
                None => meta.remove(*k),
            };
        }
        StEdit::NoMetadata => {
            header.remove("__metadata__");
        }
        StEdit::NonFinite(p, v) => {
            let i = at(data.len() / 4, *p) * 4;
            if i + 4 <= data.len() {
                data[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
    }
    let mut h = serde_json::to_vec(&header).unwrap();
    while !h.len().is_multiple_of(8) {
        h.push(b' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&h);
    out.extend_from_slice(&data);
    out
}

fn st_case() -> impl Strategy<Value = (StEdit, Corrupt)> {
    (
        st_edit(),
        prop_oneof![3 => Just(Corrupt::None), 1 => corrupt()],
    )
}

/// Checks a loaded checkpoint is sane and bounded by the file, or the error names the file.
fn check_loaded(
    r: anyhow::Result<checkpoint::Checkpoint>,
    file_len: usize,
    file_name: &str,
    intact: bool,
) -> Result<(), TestCaseError> {
    match r {
        Ok(c) => {
            let params = c.model.params();
            prop_assert!(4 * params.len() <= file_len, "{} params", params.len());
            prop_assert!(params.iter().all(|x| x.is_finite()));
        }
        Err(e) => {
            let m = format!("{e:#}");
            prop_assert!(!intact, "valid checkpoint refused: {m}");
            prop_assert!(
                m.contains(file_name),
                "the error does not name the file: {m}"
            );
        }
    }
    Ok(())
}

#[test]
fn fuzz_safetensors_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.safetensors");
    let model = small_model(1);
    let meta = CheckpointMeta::default().with_dataset(digits::data::DatasetKind::Mnist, 28, 28);
    checkpoint::save(&path, &model, &meta, None).unwrap();
    let valid = std::fs::read(&path).unwrap();
    let (_, peak) = largest_alloc(|| checkpoint::load(&path).unwrap());
    println!(
        "a valid {}-byte checkpoint loads with a largest allocation of {peak} bytes",
        valid.len()
    );
    fuzz("safetensors model file", 1000, st_case(), |(edit, c)| {
        let mut bytes = edit_safetensors(&valid, &edit);
        apply(&mut bytes, &c);
        std::fs::write(&path, &bytes).unwrap();
        let intact = matches!(edit, StEdit::None) && matches!(c, Corrupt::None);
        let (r, peak) = largest_alloc(|| checkpoint::load(&path));
        check_peak(peak, 4 * bytes.len() + (256 << 10), "checkpoint::load")?;
        if let (Ok(c), true) = (&r, intact) {
            prop_assert_eq!(&c.model, &model);
        }
        check_loaded(r, bytes.len(), "fuzz.safetensors", intact)
    });
}

#[test]
fn fuzz_optimizer_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.safetensors");
    let optim = checkpoint::optim_path(&path);
    let model = small_model(2);
    let config = FitConfig {
        epochs: 2,
        threads: 1,
        ..FitConfig::default()
    };
    let trainer = Trainer::new(&model, config.clone());
    checkpoint::save(&path, &model, &CheckpointMeta::default(), Some(&trainer)).unwrap();
    let valid = std::fs::read(&optim).unwrap();
    fuzz("safetensors optimizer file", 500, st_case(), |(edit, c)| {
        let mut bytes = edit_safetensors(&valid, &edit);
        apply(&mut bytes, &c);
        std::fs::write(&optim, &bytes).unwrap();
        let intact = matches!(edit, StEdit::None) && matches!(c, Corrupt::None);
        let (r, peak) = largest_alloc(|| checkpoint::resume(&path, config.clone()));
        check_peak(peak, 4 * bytes.len() + (256 << 10), "checkpoint::resume")?;
        match r {
            Ok(r) => {
                prop_assert_eq!(r.trainer.adam.m.len(), model.params().len());
                prop_assert!(r.trainer.adam.m.iter().all(|x| x.is_finite()));
                prop_assert!(r.trainer.adam.v.iter().all(|x| x.is_finite()));
            }
            Err(e) => {
                let m = format!("{e:#}");
                prop_assert!(!intact, "valid optimizer file refused: {m}");
                prop_assert!(m.contains("run.optim.safetensors"), "{m}");
            }
        }
        Ok(())
    });
}

#[test]
fn a_checkpoint_whose_metadata_claims_a_huge_model_is_refused_without_allocating_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.safetensors");
    checkpoint::save(&path, &small_model(3), &CheckpointMeta::default(), None).unwrap();
    let valid = std::fs::read(&path).unwrap();
    for spec in [
        // 2^40 parameters (4 TiB) claimed by a file of a few hundred bytes.
        r#"{"input_dim":1048576,"layers":[{"units":1048576,"activation":"relu"},{"units":3,"activation":"linear"}]}"#,
        // Sizes whose product overflows usize.
        r#"{"input_dim":18446744073709551615,"layers":[{"units":18446744073709551615,"activation":"relu"},{"units":3,"activation":"linear"}]}"#,
    ] {
        let bytes = edit_safetensors(&valid, &StEdit::Meta("digits.spec", Some(spec.into())));
        std::fs::write(&path, &bytes).unwrap();
        let (r, peak) = largest_alloc(|| checkpoint::load(&path));
        let e = format!("{:#}", r.unwrap_err());
        assert!(
            // Refused by the tensor shapes, or by the layer walk when the sizes overflow.
            e.contains("huge.safetensors") && (e.contains("has shape") || e.contains("overflows")),
            "{spec}: {e}"
        );
        assert!(peak < 1 << 20, "{spec}: allocated {peak} bytes");
    }
}
