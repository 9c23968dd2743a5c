//! A look at the handwriting styles `--styles` draws onto MNIST's training digits
//! (`vision::styles`): for each digit that has one, a row of plain training images above the
//! same images styled; then for each digit with allographs (`--allographs`,
//! `vision::allographs`), a row of those drawn in its place. One PNG (white ink on black, 3x).
//!
//! ```text
//! cargo run --release --example styles -- MNIST_DIR styles.png
//! ```

use digits::data::{mnist, Pixels};
use digits::vision::allographs::draw_allograph;
use digits::vision::styles::add_style;
use image::{imageops, GrayImage};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;

const SIDE: usize = 28;
const PER_ROW: usize = 12;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (dir, out) = match (args.next(), args.next()) {
        (Some(d), Some(o)) => (PathBuf::from(d), PathBuf::from(o)),
        _ => anyhow::bail!("usage: styles MNIST_DIR OUT.png"),
    };
    let (train, _) = mnist::load_dir(&dir)?;
    let Pixels::U8(px) = &train.pixels else {
        anyhow::bail!("MNIST's pixels are bytes");
    };
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut rows: Vec<Vec<Vec<u8>>> = Vec::new();
    for digit in 0..10u8 {
        let (mut plain, mut styled) = (Vec::new(), Vec::new());
        for i in (0..train.len()).filter(|&i| train.labels[i] == digit) {
            let img = px[i * SIDE * SIDE..(i + 1) * SIDE * SIDE].to_vec();
            let mut s = img.clone();
            if add_style(&mut s, SIDE, SIDE, digit, &mut rng) {
                plain.push(img);
                styled.push(s);
            }
            if plain.len() == PER_ROW {
                break;
            }
        }
        if !plain.is_empty() {
            rows.push(plain);
            rows.push(styled);
        }
    }
    for digit in 0..10u8 {
        let mut row = Vec::new();
        let mut img = vec![0u8; SIDE * SIDE];
        while row.len() < PER_ROW && draw_allograph(digit, SIDE, SIDE, &mut rng, &mut img) {
            row.push(img.clone());
        }
        if !row.is_empty() {
            rows.push(row);
        }
    }
    let mut sheet = GrayImage::new((PER_ROW * SIDE) as u32, (rows.len() * SIDE) as u32);
    for (r, row) in rows.iter().enumerate() {
        for (c, img) in row.iter().enumerate() {
            let tile =
                GrayImage::from_raw(SIDE as u32, SIDE as u32, img.clone()).expect("28 x 28 pixels");
            imageops::replace(&mut sheet, &tile, (c * SIDE) as i64, (r * SIDE) as i64);
        }
    }
    let (w, h) = sheet.dimensions();
    imageops::resize(&sheet, w * 3, h * 3, imageops::FilterType::Nearest).save(&out)?;
    println!(
        "{} rows of {PER_ROW} written to {}",
        rows.len(),
        out.display()
    );
    Ok(())
}
