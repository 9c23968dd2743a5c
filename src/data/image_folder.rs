//! A folder of labelled pictures: `labels.csv` (`file,label`, a header line optional), or one
//! sub-folder per digit (`0/`, `1/`, ... `9/`). Each problem (a bad or missing label, a listed
//! file that is not there) is returned with the file it concerns, beside the pictures that are
//! fine.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// A picture and its digit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labelled {
    pub path: PathBuf,
    pub label: u8,
}

/// Something wrong with one entry, named by its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    pub message: String,
}

/// Extensions read as pictures (lower case).
const PICTURES: [&str; 7] = ["png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp"];

fn is_picture(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PICTURES.contains(&e.to_ascii_lowercase().as_str()))
}

/// The labelled pictures of `dir`, sorted by path, and the problems found.
pub fn list(dir: &Path) -> anyhow::Result<(Vec<Labelled>, Vec<Problem>)> {
    if !dir.is_dir() {
        bail!("{} is not a folder", dir.display());
    }
    let csv = dir.join("labels.csv");
    let (mut items, mut problems) = if csv.is_file() {
        from_csv(dir, &csv)?
    } else {
        from_subfolders(dir)?
    };
    if items.is_empty() && problems.is_empty() {
        bail!(
            "{} holds no labelled pictures: expected labels.csv (file,label) or sub-folders 0 to 9",
            dir.display()
        );
    }
    items.sort_by(|a, b| a.path.cmp(&b.path));
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((items, problems))
}

fn parse_label(s: &str) -> Option<u8> {
    s.trim().parse::<u8>().ok().filter(|&d| d <= 9)
}

fn from_csv(dir: &Path, csv: &Path) -> anyhow::Result<(Vec<Labelled>, Vec<Problem>)> {
    let text =
        std::fs::read_to_string(csv).with_context(|| format!("cannot read {}", csv.display()))?;
    let (mut items, mut problems) = (Vec::new(), Vec::new());
    let mut listed = std::collections::HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (n == 0 && line.eq_ignore_ascii_case("file,label")) {
            continue;
        }
        let Some((file, label)) = line.rsplit_once(',') else {
            problems.push(Problem {
                path: csv.to_path_buf(),
                message: format!("line {}: expected file,label, got {line:?}", n + 1),
            });
            continue;
        };
        let path = dir.join(file.trim());
        listed.insert(path.clone());
        match parse_label(label) {
            None => problems.push(Problem {
                path,
                message: format!(
                    "bad label {:?} (line {} of labels.csv): expected a digit 0 to 9",
                    label.trim(),
                    n + 1
                ),
            }),
            Some(_) if !path.is_file() => problems.push(Problem {
                path,
                message: format!("listed in labels.csv (line {}) but not found", n + 1),
            }),
            Some(label) => items.push(Labelled { path, label }),
        }
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if is_picture(&path) && !listed.contains(&path) {
            problems.push(Problem {
                path,
                message: "no label: not listed in labels.csv".into(),
            });
        }
    }
    Ok((items, problems))
}

fn from_subfolders(dir: &Path) -> anyhow::Result<(Vec<Labelled>, Vec<Problem>)> {
    let (mut items, mut problems) = (Vec::new(), Vec::new());
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            let Some(label) = parse_label(name).filter(|_| name.len() == 1) else {
                problems.push(Problem {
                    path,
                    message: "a folder whose name is not a digit 0 to 9: skipped".into(),
                });
                continue;
            };
            for inner in std::fs::read_dir(&path)
                .with_context(|| format!("cannot list {}", path.display()))?
            {
                let p = inner?.path();
                if p.is_file() {
                    items.push(Labelled { path: p, label });
                }
            }
        } else if is_picture(&path) {
            problems.push(Problem {
                path,
                message: "no label: not in a digit folder (0 to 9) and no labels.csv".into(),
            });
        }
    }
    Ok((items, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bad_and_missing_labels() {
        let d = tempfile::tempdir().unwrap();
        for f in ["a.png", "b.png", "c.png", "stray.jpg"] {
            std::fs::write(d.path().join(f), b"x").unwrap();
        }
        std::fs::write(
            d.path().join("labels.csv"),
            "file,label\na.png,3\nb.png,12\nc.png, 7\ngone.png,1\nnonsense\n",
        )
        .unwrap();
        let (items, problems) = list(d.path()).unwrap();
        let names: Vec<_> = items
            .iter()
            .map(|i| (i.path.file_name().unwrap().to_str().unwrap(), i.label))
            .collect();
        assert_eq!(names, [("a.png", 3), ("c.png", 7)]);
        let text: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.path.display(), p.message))
            .collect();
        assert_eq!(problems.len(), 4, "{text:?}");
        assert!(text
            .iter()
            .any(|t| t.contains("b.png") && t.contains("bad label \"12\"")));
        assert!(text
            .iter()
            .any(|t| t.contains("gone.png") && t.contains("not found")));
        assert!(text
            .iter()
            .any(|t| t.contains("stray.jpg") && t.contains("no label")));
        assert!(text
            .iter()
            .any(|t| t.contains("labels.csv") && t.contains("line 6")));
    }

    #[test]
    fn digit_subfolders() {
        let d = tempfile::tempdir().unwrap();
        for (sub, f) in [
            ("0", "x.png"),
            ("7", "y.png"),
            ("7", "z.bmp"),
            ("8", "scan.TIF"),
            ("8", "photo.webp"),
            ("other", "w.png"),
        ] {
            std::fs::create_dir_all(d.path().join(sub)).unwrap();
            std::fs::write(d.path().join(sub).join(f), b"x").unwrap();
        }
        std::fs::write(d.path().join("loose.png"), b"x").unwrap();
        std::fs::write(d.path().join("loose.tiff"), b"x").unwrap();
        let (items, problems) = list(d.path()).unwrap();
        let labels: Vec<u8> = items.iter().map(|i| i.label).collect();
        assert_eq!(labels, [0, 7, 7, 8, 8]);
        assert_eq!(problems.len(), 3);
        assert!(list(&d.path().join("0/x.png")).is_err());
        let empty = tempfile::tempdir().unwrap();
        assert!(list(empty.path())
            .unwrap_err()
            .to_string()
            .contains("no labelled"));
    }
}
