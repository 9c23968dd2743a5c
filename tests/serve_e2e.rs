//! The drawing page in real headless Chromium: `digits serve` is started, and
//! tests/e2e/draw.mjs (Node + playwright-core) draws digits, then in number mode a number of
//! four digits (read again told 4, 3 and a bad count in the `digits:` field) and a date, 12/05,
//! read 1205, with the mouse and checks the page;
//! then the same for the static site of `digits export --web` (the model run in the page by
//! onnxruntime-web), whose probabilities must be the server's for the same pixels.
//!
//! Needs `chromium` (Debian package), `node`, and `npm ci` run in tests/e2e (playwright-core,
//! onnxruntime-web). Set DIGITS_SKIP_BROWSER_TESTS=1 to skip where they cannot be installed.

mod serve_support;

use serve_support::spawn_binary;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e")
}

fn skipped() -> bool {
    let skip = std::env::var("DIGITS_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("skipped: DIGITS_SKIP_BROWSER_TESTS=1");
    }
    skip
}

#[test]
fn drawing_page_in_headless_chromium() {
    if skipped() {
        return;
    }
    draw("serve_e2e", None);
}

#[test]
fn the_exported_static_site_reads_drawn_digits_as_the_server_does() {
    if skipped() {
        return;
    }
    let site = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export_web_site");
    let _ = std::fs::remove_dir_all(&site);
    let dist = e2e_dir().join("node_modules/onnxruntime-web/dist");
    assert!(
        dist.is_dir(),
        "onnxruntime-web missing: run `npm ci` in {}",
        e2e_dir().display()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_digits"))
        .arg("export")
        .arg("--web")
        .arg(&site)
        .arg("--ort-dist")
        .arg(&dist)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "index.html",
        "model.onnx",
        "ort.wasm.min.js",
        "ort-wasm-simd-threaded.wasm",
    ] {
        assert!(site.join(f).is_file(), "the site has no {f}");
    }
    draw("export_web_e2e", Some(&site));
}

/// Starts `digits serve` (the built-in model) and runs draw.mjs against it, on the static
/// `site` when given; screenshots go to CARGO_TARGET_TMPDIR/`name`.
fn draw(name: &str, site: Option<&Path>) {
    let e2e = e2e_dir();
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| which("chromium"))
        .expect("chromium not found: apt-get install -y chromium (or DIGITS_SKIP_BROWSER_TESTS=1)");
    let node = which("node").expect("node not found: apt-get install -y nodejs npm");
    assert!(
        e2e.join("node_modules/playwright-core").is_dir(),
        "playwright-core missing: run `npm ci` in {}",
        e2e.display()
    );

    // A level few drawn digits reach, so that the page's mark for answers under it is seen.
    let (_server, addr) = spawn_binary(&["--min-confidence", "0.999"], Stdio::inherit());
    let url = format!("http://{addr}");

    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let mut cmd = Command::new(node);
    cmd.arg(e2e.join("draw.mjs"))
        .current_dir(&e2e)
        .env("DIGITS_URL", &url)
        .env("DIGITS_OUT", &out)
        .env("CHROMIUM", &chromium);
    if let Some(site) = site {
        cmd.env("DIGITS_SITE", site);
    }
    let run = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    println!("{stdout}");
    assert!(
        run.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
    if site.is_some() {
        assert!(
            stdout.contains("static site: the page fetched only"),
            "{stdout}"
        );
    }
    let numbers = if site.is_none() {
        &["number", "date"][..]
    } else {
        &[]
    };
    for shot in ["one", "seven", "zero", "blank"].iter().chain(numbers) {
        assert!(out.join(format!("{shot}.png")).is_file(), "no {shot}.png");
    }
    println!("screenshots in {}", out.display());
}
