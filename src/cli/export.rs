//! `digits export`: the model as ONNX, or a static site that reads digits in the browser.

use super::model_arg::ModelArg;
use digits::data::PixelLayout;
use digits::export::{web, write_onnx, OnnxModel};
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).multiple(true).args(["onnx", "web"])))]
pub struct ExportArgs {
    /// Write the model as ONNX (opset 13; input `pixels` [N,1,28,28] in [0,1], output `logits` [N,10]).
    #[arg(long, value_name = "FILE")]
    onnx: Option<PathBuf>,
    /// Write a static drawing page that runs the model in the browser (no server needed).
    #[arg(long, value_name = "DIR")]
    web: Option<PathBuf>,
    /// onnxruntime-web's `dist` folder to copy into the site; without it, `npm` fetches
    /// onnxruntime-web@VERSION (see the README, "Deploying").
    #[arg(long, value_name = "DIR", requires = "web")]
    ort_dist: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArg,
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let (ckpt, name) = args.model.load()?;
    let name = name.display().to_string();
    if ckpt.meta.layout == Some(PixelLayout::ColumnMajor) {
        anyhow::bail!("{name} reads column-major 20x20 images; export needs a 28x28 MNIST model");
    }
    let onnx = OnnxModel::from_sequential(&ckpt.model, ckpt.meta.scale, &name)?;
    if let Some(path) = &args.onnx {
        write_onnx(path, &onnx)?;
        println!("wrote {}", path.display());
    }
    if let Some(dir) = &args.web {
        let info = web::ModelInfo::of(&ckpt.model, &name);
        let files = web::write_site(dir, &onnx, &info, args.ort_dist.as_deref())?;
        println!(
            "wrote {} ({} files): serve it with any static file server, e.g. \
             `python3 -m http.server -d {}`",
            dir.display(),
            files,
            dir.display()
        );
    }
    Ok(())
}
