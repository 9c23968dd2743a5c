//! Atomic file replacement: write a temporary file in the same directory, fsync it, rename it
//! over the target, then fsync the directory. A crash at any point leaves either the old file or
//! the new one, never a mix (rename within one file system is atomic on POSIX and Windows).

use anyhow::Context;
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Replaces `path` with `bytes`, atomically. Creates missing parent directories.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// As [`write_atomic`], with the content written by `write`; if it fails, the temporary file is
/// removed and `path` is untouched.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?;
    remove_leftovers(dir, &name.to_string_lossy());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| {
            format!(
                "cannot save {}: cannot create a file in {}",
                path.display(),
                dir.display()
            )
        })?;
    let written = write(tmp.as_file_mut())
        .and_then(|()| tmp.as_file().sync_all())
        .and_then(|()| set_permissions(tmp.as_file(), path));
    written.with_context(|| format!("cannot save {}: writing failed", path.display()))?;
    tmp.persist(path).map_err(|e| e.error).with_context(|| {
        format!(
            "cannot save {}: renaming the new file failed",
            path.display()
        )
    })?;
    // Makes the rename itself durable; not possible (nor needed) everywhere, so best effort.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes the temporary files of earlier saves of `name` that were killed before their rename
/// (`.NAME.xxxxxx.tmp`), so at most the one being written exists. Best effort; one writer per file.
fn remove_leftovers(dir: &Path, name: &str) {
    let prefix = format!(".{name}.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let random = file
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tmp"));
        if random.is_some_and(|r| r.len() == 6 && r.chars().all(|c| c.is_ascii_alphanumeric())) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Temporary files are created 0600; give the checkpoint the old file's mode, or 0644.
#[cfg(unix)]
fn set_permissions(f: &File, target: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(target).map_or(0o644, |m| m.permissions().mode() & 0o7777);
    f.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_permissions(_f: &File, _target: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        write_atomic(&path, b"old contents").unwrap();
        let e = write_atomic_with(&path, |f| {
            f.write_all(b"half of the new")?;
            Err(std::io::Error::other("simulated crash"))
        })
        .unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("m.safetensors") && msg.contains("simulated crash"),
            "{msg}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"old contents");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "temporary file left behind: {names:?}");
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn the_saved_file_is_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/m.bin");
        write_atomic(&path, b"x").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    #[test]
    fn a_save_removes_the_temporary_files_of_killed_saves_of_that_file_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let stale = dir.path().join(".m.safetensors.Ab12Cd.tmp");
        let others = [
            ".other.safetensors.Ab12Cd.tmp",
            ".m.safetensors.notours.tmp",
            "m.safetensors.Ab12Cd.tmp",
        ];
        std::fs::write(&stale, b"half a checkpoint").unwrap();
        for o in others {
            std::fs::write(dir.path().join(o), b"keep").unwrap();
        }
        write_atomic(&path, b"new").unwrap();
        assert!(!stale.exists());
        assert!(others.iter().all(|o| dir.path().join(o).exists()));
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }
}
