//! Reads scalars back from event files, checking every record's framing and CRCs.

use super::proto::Event;
use super::record::parse_records;
use anyhow::{anyhow, bail, Context};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Tag -> (step, value) points, in the order they were written.
pub type Scalars = BTreeMap<String, Vec<(i64, f32)>>;

/// Reads the scalars of one run: an event file, or a directory's event files (not its
/// subdirectories, which TensorBoard shows as other runs). Files are read oldest first.
/// Truncated or corrupt files are errors naming the file and the byte offset.
pub fn read_scalars(path: impl AsRef<Path>) -> anyhow::Result<Scalars> {
    let path = path.as_ref();
    let files = if path.is_dir() {
        event_files(path)?
    } else {
        vec![path.to_owned()]
    };
    let mut runs = Vec::with_capacity(files.len());
    for f in files {
        let events = read_events(&f)?;
        let started = events.first().map_or(0.0, |e| e.wall_time);
        runs.push((started, f, events));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut out = Scalars::new();
    for event in runs.into_iter().flat_map(|r| r.2) {
        for (tag, value) in event.scalars {
            out.entry(tag).or_default().push((event.step, value));
        }
    }
    Ok(out)
}

/// Every Event of one file.
pub fn read_events(file: &Path) -> anyhow::Result<Vec<Event>> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("could not read the event file {}", file.display()))?;
    let records =
        parse_records(&bytes).with_context(|| format!("bad event file {}", file.display()))?;
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Event::decode(r.data).map_err(|e| {
                anyhow!(
                    "bad event file {}: record {i} at byte {}: malformed protobuf at byte {} of the file: {}",
                    file.display(),
                    r.offset,
                    r.offset + 12 + e.offset,
                    e.what
                )
            })
        })
        .collect()
}

fn is_event_file(p: &Path) -> bool {
    p.is_file()
        && p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains("tfevents"))
}

fn event_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let list = |d: &Path| -> anyhow::Result<Vec<PathBuf>> {
        let mut v = Vec::new();
        for entry in std::fs::read_dir(d)
            .with_context(|| format!("could not list the log directory {}", d.display()))?
        {
            v.push(entry?.path());
        }
        v.sort();
        Ok(v)
    };
    let entries = list(dir)?;
    let files: Vec<PathBuf> = entries
        .iter()
        .filter(|p| is_event_file(p))
        .cloned()
        .collect();
    if files.is_empty() {
        let runs: Vec<String> = entries
            .iter()
            .filter(|p| p.is_dir())
            .filter(|p| list(p).is_ok_and(|v| v.iter().any(|f| is_event_file(f))))
            .map(|p| p.display().to_string())
            .collect();
        if runs.is_empty() {
            bail!(
                "no event files (events.out.tfevents.*) in {}",
                dir.display()
            );
        }
        bail!(
            "no event files (events.out.tfevents.*) directly in {}; read one run at a time: {}",
            dir.display(),
            runs.join(", ")
        );
    }
    Ok(files)
}
