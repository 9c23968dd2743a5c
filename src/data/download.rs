//! MNIST download: each file from the first mirror that serves the right bytes.
//!
//! A file is fetched into a temporary file in the target directory, its size and MD5 are
//! checked, and only then is it renamed into place (atomic on one file system), so a failed or
//! corrupt download never replaces a file and never leaves a partial one behind. Files already
//! present with the right checksum are skipped.

use anyhow::{bail, Context, Result};
use md5::{Digest, Md5};
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

/// Public MNIST mirrors, tried in order (the same files as yann.lecun.com, which comes last).
pub const DEFAULT_MIRRORS: &[&str] = &[
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
];

/// One file to fetch: name, size in bytes, MD5 (lowercase hex).
#[derive(Clone, Copy, Debug)]
pub struct RemoteFile {
    pub name: &'static str,
    pub size: u64,
    pub md5: &'static str,
}

/// The four MNIST files with the checksums torchvision uses.
pub const MNIST_FILES: [RemoteFile; 4] = [
    RemoteFile {
        name: "train-images-idx3-ubyte.gz",
        size: 9_912_422,
        md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    },
    RemoteFile {
        name: "train-labels-idx1-ubyte.gz",
        size: 28_881,
        md5: "d53e105ee54ea40749a09fcbcd1e9432",
    },
    RemoteFile {
        name: "t10k-images-idx3-ubyte.gz",
        size: 1_648_877,
        md5: "9fb629c4189551a2d022fa330f9573f3",
    },
    RemoteFile {
        name: "t10k-labels-idx1-ubyte.gz",
        size: 4_542,
        md5: "ec29112dd5afa0611ce80d1b7f02629c",
    },
];

/// Downloads the four MNIST `.gz` files into `dir` (created if needed), trying `mirrors` (base
/// URLs) in order for each file. Progress goes to stderr.
pub fn download_mnist(dir: &Path, mirrors: &[&str]) -> anyhow::Result<()> {
    download_files(dir, mirrors, &MNIST_FILES)
}

/// Downloads `files` into `dir`; see the module documentation. The error lists, once, every
/// file that could not be obtained with what each mirror gave. When no mirror can even be
/// reached for a file (no network, no DNS), the files after it are not tried. A directory this
/// call created is removed again if the download leaves it empty.
pub fn download_files(dir: &Path, mirrors: &[&str], files: &[RemoteFile]) -> Result<()> {
    if mirrors.is_empty() {
        bail!("no mirror to download from");
    }
    let created = first_missing_ancestor(dir);
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let result = download_into(dir, mirrors, files);
    if result.is_err() {
        if let Some(top) = created {
            remove_empty_dirs(dir, &top);
        }
    }
    result
}

fn download_into(dir: &Path, mirrors: &[&str], files: &[RemoteFile]) -> Result<()> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(20))
        .timeout_read(Duration::from_secs(60))
        .build();
    let mut failures = Vec::new();
    for file in files {
        let dest = dir.join(file.name);
        match check_existing(&dest, file) {
            Ok(true) => {
                eprintln!("{}: present, checksum ok", dest.display());
                continue;
            }
            Ok(false) => {}
            Err(e) => eprintln!("{}: {e}; downloading it again", dest.display()),
        }
        let mut tried = Vec::new();
        let mut done = false;
        let mut all_unreachable = true;
        for mirror in mirrors {
            let url = join_url(mirror, file.name);
            match fetch_verified(&agent, &url, dir, file) {
                Ok(tmp) => {
                    tmp.persist(&dest)
                        .with_context(|| format!("{}: cannot move into place", dest.display()))?;
                    eprintln!("{}: downloaded from {url}", dest.display());
                    done = true;
                    break;
                }
                Err(e) => {
                    all_unreachable &= e.downcast_ref::<Unreachable>().is_some();
                    tried.push(format!("  {url}: {e:#}"));
                }
            }
        }
        if !done {
            failures.push(format!(
                "{}: no mirror gave the right file:\n{}",
                dest.display(),
                tried.join("\n")
            ));
            if all_unreachable {
                failures.push(
                    "no mirror could be reached (is this machine offline?), so the other files \
                     were not tried"
                        .to_string(),
                );
                break;
            }
        }
    }
    if !failures.is_empty() {
        bail!("MNIST download failed\n{}", failures.join("\n"));
    }
    Ok(())
}

/// The highest directory on the way to `dir` that does not exist yet (None if `dir` exists).
fn first_missing_ancestor(dir: &Path) -> Option<std::path::PathBuf> {
    let mut top = None;
    for a in dir.ancestors() {
        if a.as_os_str().is_empty() || a.exists() {
            break;
        }
        top = Some(a.to_path_buf());
    }
    top
}

/// Removes `dir` and its parents up to `top` while they are empty (a failed download leaves no
/// empty folder behind; a folder with anything in it is kept).
fn remove_empty_dirs(dir: &Path, top: &Path) {
    for a in dir.ancestors() {
        if std::fs::remove_dir(a).is_err() || a == top {
            break;
        }
    }
}

/// The mirror could not be reached at all (DNS, connection refused, timeout): nothing was served.
#[derive(Debug)]
struct Unreachable(String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreachable {}

fn join_url(mirror: &str, name: &str) -> String {
    if mirror.ends_with('/') {
        format!("{mirror}{name}")
    } else {
        format!("{mirror}/{name}")
    }
}

/// Ok(true) if `dest` exists with the right size and MD5, Ok(false) if it does not exist,
/// Err(why) if it exists but is wrong.
fn check_existing(dest: &Path, file: &RemoteFile) -> Result<bool> {
    let meta = match std::fs::metadata(dest) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).context("cannot inspect the existing file"),
    };
    if meta.len() != file.size {
        bail!(
            "existing file has {} bytes, expected {}",
            meta.len(),
            file.size
        );
    }
    let mut hasher = Md5::new();
    let mut f = File::open(dest).context("cannot open the existing file")?;
    std::io::copy(&mut f, &mut hasher).context("cannot read the existing file")?;
    let md5 = hex(&hasher.finalize());
    if md5 != file.md5 {
        bail!("existing file has MD5 {md5}, expected {}", file.md5);
    }
    Ok(true)
}

/// Fetches `url` into a temporary file in `dir`, checking size and MD5 as it goes.
fn fetch_verified(
    agent: &ureq::Agent,
    url: &str,
    dir: &Path,
    file: &RemoteFile,
) -> Result<tempfile::NamedTempFile> {
    let resp = match agent.get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(code, r)) => bail!("HTTP {code} {}", r.status_text()),
        // The URL is already in the message this ends up in; keep the kind and the reason.
        Err(ureq::Error::Transport(t)) => {
            let why = match t.message() {
                Some(m) => format!("{}: {m}", t.kind()),
                None => t.kind().to_string(),
            };
            return Err(Unreachable(why).into());
        }
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", file.name))
        .suffix(".part")
        .tempfile_in(dir)
        .with_context(|| format!("{}: cannot create a temporary file", dir.display()))?;
    // One byte more than expected is enough to tell that the file is too large.
    let mut reader = resp.into_reader().take(file.size + 1);
    let mut hasher = Md5::new();
    let mut got: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let k = reader
            .read(&mut buf)
            .with_context(|| format!("connection failed after {got} bytes"))?;
        if k == 0 {
            break;
        }
        hasher.update(&buf[..k]);
        tmp.write_all(&buf[..k])
            .context("cannot write the temporary file")?;
        got += k as u64;
    }
    if got != file.size {
        let more = if got > file.size { " or more" } else { "" };
        bail!("got {got}{more} bytes, expected {}", file.size);
    }
    let md5 = hex(&hasher.finalize());
    if md5 != file.md5 {
        bail!("wrong MD5 {md5}, expected {}", file.md5);
    }
    tmp.as_file()
        .sync_all()
        .context("cannot flush the temporary file")?;
    Ok(tmp)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
