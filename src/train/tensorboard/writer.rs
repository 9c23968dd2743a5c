//! `SummaryWriter`: appends scalar events to a new event file in a log directory.

use super::proto::Event;
use super::record::write_record;
use anyhow::Context;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Numbers the files this process creates, so two writers never pick the same name.
static FILE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `events.out.tfevents.{secs}.{host}.{pid}.{n}` in its log directory. Writes are
/// buffered: call `flush` to make them visible (dropping the writer flushes too).
pub struct SummaryWriter {
    path: PathBuf,
    out: BufWriter<Box<dyn Write + Send>>,
}

impl SummaryWriter {
    /// Creates `logdir` if needed and a new event file in it. An existing file is never
    /// reused or truncated, so earlier runs in the same directory are kept.
    pub fn new(logdir: impl AsRef<Path>) -> anyhow::Result<Self> {
        let dir = logdir.as_ref();
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "could not create the TensorBoard log directory {}",
                dir.display()
            )
        })?;
        let (path, file) = create_event_file(dir).with_context(|| {
            format!("could not create an event file in the TensorBoard log directory {} (is it writable?)", dir.display())
        })?;
        Self::with_sink(path, Box::new(file))
    }

    /// A writer over any sink; `path` names it in error messages. Writes the header event.
    pub(crate) fn with_sink(path: PathBuf, sink: Box<dyn Write + Send>) -> anyhow::Result<Self> {
        let mut w = SummaryWriter {
            path,
            out: BufWriter::new(sink),
        };
        let header = Event {
            wall_time: now(),
            file_version: Some("brain.Event:2".into()),
            ..Event::default()
        };
        w.write_event(&header)?;
        // Flushed at once so that a valid (if empty) file exists from the start.
        w.flush()?;
        Ok(w)
    }

    /// The event file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Logs `value` under `tag` at `step` (TensorBoard's x axis).
    pub fn add_scalar(&mut self, tag: &str, value: f32, step: i64) -> anyhow::Result<()> {
        self.write_event(&Event {
            wall_time: now(),
            step,
            file_version: None,
            scalars: vec![(tag.to_owned(), value)],
        })
    }

    pub fn flush(&mut self) -> anyhow::Result<()> {
        self.out.flush().with_context(|| self.io_context())
    }

    fn write_event(&mut self, event: &Event) -> anyhow::Result<()> {
        write_record(&mut self.out, &event.encode()).with_context(|| self.io_context())
    }

    fn io_context(&self) -> String {
        format!(
            "could not write the TensorBoard event file {}",
            self.path.display()
        )
    }
}

impl Drop for SummaryWriter {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

fn create_event_file(dir: &Path) -> io::Result<(PathBuf, File)> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (host, pid) = (hostname(), std::process::id());
    loop {
        let n = FILE_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("events.out.tfevents.{secs}.{host}.{pid}.{n}"));
        // create_new: a name left by an earlier process with the same pid is skipped, not
        // truncated.
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The host name for the file name: /etc/hostname, else $HOSTNAME, else "localhost"; kept to
/// characters that are safe in a file name.
fn hostname() -> String {
    let raw = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "localhost".into());
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_name_has_the_tensorboard_shape() {
        let dir = tempfile::tempdir().unwrap();
        let w = SummaryWriter::new(dir.path()).unwrap();
        let name = w.path().file_name().unwrap().to_str().unwrap().to_owned();
        let parts: Vec<&str> = name.split('.').collect();
        assert_eq!(&parts[..3], ["events", "out", "tfevents"], "{name}");
        assert!(parts[3].parse::<u64>().unwrap() > 1_600_000_000, "{name}");
        let pid = std::process::id().to_string();
        assert_eq!(parts[parts.len() - 2], pid, "{name}");
        assert!(parts[parts.len() - 1].parse::<u64>().is_ok(), "{name}");
        assert!(hostname().chars().all(|c| c != '/' && c != ' '));
    }

    #[test]
    fn header_is_flushed_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let w = SummaryWriter::new(dir.path()).unwrap();
        let bytes = std::fs::read(w.path()).unwrap();
        let recs = super::super::record::parse_records(&bytes).unwrap();
        assert_eq!(recs.len(), 1);
        let ev = Event::decode(recs[0].data).unwrap();
        assert_eq!(ev.file_version.as_deref(), Some("brain.Event:2"));
        assert!(ev.wall_time > 1.6e9);
    }
}
