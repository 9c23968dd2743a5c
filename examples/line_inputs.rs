//! What a line reader sees of pictures: writes the normalised line of each picture given
//! (one under the other, ink dark) to a PNG, to check the preprocessing by eye.
//!
//!     cargo run --release --example line_inputs -- out.png a.png b.jpg ...

use digits::vision::line::normalize::line_of;
use digits::vision::line::HEIGHT;
use digits::vision::preprocess;
use image::{GrayImage, Luma};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, files) = args.split_first().expect("out.png then pictures");
    let lines: Vec<_> = files
        .iter()
        .filter_map(|f| {
            let ink = preprocess::ink_from_path(f.as_ref()).ok()?;
            line_of(&ink)
        })
        .collect();
    let width = lines.iter().map(|l| l.width).max().unwrap_or(1);
    let mut img = GrayImage::from_pixel(
        width as u32,
        (lines.len() * (HEIGHT + 2)) as u32,
        Luma([128]),
    );
    for (k, l) in lines.iter().enumerate() {
        for y in 0..HEIGHT {
            for x in 0..l.width {
                let v = 255.0 * (1.0 - l.px[y * l.width + x]);
                img.put_pixel(x as u32, (k * (HEIGHT + 2) + y) as u32, Luma([v as u8]));
            }
        }
    }
    img.save(out)?;
    Ok(())
}
