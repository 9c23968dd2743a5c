//! The plots: sizes, tiles reproducing their digits, captions drawn and coloured, the
//! confusion matrix's colour order, the direction of a loss curve, and saving.

use digits::data::{Dataset, PixelLayout, Pixels};
use digits::vision::plot::{self, Caption, GridLayout, Misclassified};
use image::{Rgb, RgbImage};

/// A recognisable test image: value depends on the pixel and on `seed`.
fn pattern(side: usize, seed: usize) -> Vec<f32> {
    (0..side * side)
        .map(|i| ((i * 7 + seed * 13) % 17) as f32 / 16.0)
        .collect()
}

fn is_white(p: &Rgb<u8>) -> bool {
    p.0 == [255, 255, 255]
}

fn is_red(p: &Rgb<u8>) -> bool {
    p.0[0] > 150 && p.0[1] < 90 && p.0[2] < 90
}

/// Pixels of the band above tile `i` (its caption), as (non-white, red) counts.
fn caption_pixels(img: &RgbImage, layout: &GridLayout, i: usize) -> (usize, usize) {
    let (cx, cy) = layout.cell(i);
    let (_, ty, _) = layout.tile(i);
    let (mut ink, mut red) = (0, 0);
    for y in cy..ty.saturating_sub(3) {
        for x in cx..cx + layout.cell_w {
            let p = img.get_pixel(x, y);
            ink += !is_white(p) as usize;
            red += is_red(p) as usize;
        }
    }
    (ink, red)
}

#[test]
fn digit_grid_is_8x8_and_tiles_reproduce_the_digits() {
    for side in [28usize, 20] {
        let images: Vec<Vec<f32>> = (0..64).map(|k| pattern(side, k)).collect();
        let captions: Vec<Caption> = (0..64)
            .map(|k| Caption::new((k % 10).to_string()))
            .collect();
        let img = plot::digit_grid(&images, side, &captions);
        let layout = GridLayout::new(64, side, &captions);
        assert_eq!((layout.cols, layout.rows), (8, 8));
        assert_eq!(img.dimensions(), (layout.width, layout.height));
        assert!(layout.scale >= 3, "tiles must be scaled up");
        for i in [0usize, 9, 63] {
            let (tx, ty, t) = layout.tile(i);
            assert_eq!(t as usize, side * layout.scale as usize);
            for (r, c) in [(0, 0), (3, 7), (side - 1, side - 2), (side / 2, side / 2)] {
                let s = layout.scale;
                let v = images[i][r * side + c];
                let want = (v * 255.0).round() as u8;
                for (dx, dy) in [(0, 0), (s - 1, s - 1)] {
                    let p = img.get_pixel(tx + c as u32 * s + dx, ty + r as u32 * s + dy);
                    assert_eq!(p.0, [want; 3], "tile {i} pixel ({r},{c})");
                }
            }
        }
    }
}

#[test]
fn captions_are_drawn_and_wrong_ones_red() {
    let images: Vec<Vec<f32>> = (0..4).map(|k| pattern(28, k)).collect();
    let captions = vec![
        Caption::prediction(5, 5),
        Caption::prediction(5, 3),
        Caption::new(""),
    ];
    let img = plot::digit_grid(&images, 28, &captions);
    let layout = GridLayout::new(4, 28, &captions);
    let (ink, red) = caption_pixels(&img, &layout, 0);
    assert!(
        ink > 20 && red == 0,
        "right caption: {ink} drawn, {red} red"
    );
    let (ink, red) = caption_pixels(&img, &layout, 1);
    assert!(
        ink > 20 && red * 10 >= ink * 9,
        "wrong caption: {ink} drawn, {red} red"
    );
    assert_eq!(caption_pixels(&img, &layout, 2).0, 0, "empty caption");
    assert_eq!(caption_pixels(&img, &layout, 3).0, 0, "no caption");
    // The wrong tile is framed red, the right one is not.
    let (tx, ty, t) = layout.tile(1);
    assert!(is_red(img.get_pixel(tx - 1, ty - 1)) && is_red(img.get_pixel(tx + t, ty + t / 2)));
    let (tx, ty, _) = layout.tile(0);
    assert!(is_white(img.get_pixel(tx - 1, ty - 1)));
    assert_eq!(captions[1].text, "5,3");
}

#[test]
fn grids_survive_odd_input() {
    let empty = plot::digit_grid(&[], 28, &[]);
    assert!(empty.width() > 0 && empty.height() > 0);
    let short = plot::digit_grid(&[vec![1.0; 10], vec![]], 28, &[Caption::new("x\ny\nz")]);
    let layout = GridLayout::new(2, 28, &[Caption::new("x\ny\nz")]);
    assert_eq!(short.dimensions(), (layout.width, layout.height));
}

#[test]
fn dataset_grid_shows_column_major_images_upright() {
    // Two 20x20 column-major images: a vertical bar in storage is a horizontal one upright.
    let mut px = vec![0.0f32; 2 * 400];
    for r in 0..20 {
        px[5 * 20 + r] = 1.0; // column 5 of image 0 in column-major order
    }
    let data = Dataset {
        pixels: Pixels::F32(px),
        labels: vec![3, 8],
        rows: 20,
        cols: 20,
        layout: PixelLayout::ColumnMajor,
    };
    let img = plot::dataset_grid(&data, &[0, 1, 99], Some(&[3, 1]));
    let captions = [Caption::prediction(3, 3), Caption::prediction(8, 1)];
    let layout = GridLayout::new(2, 20, &captions);
    assert_eq!(img.dimensions(), (layout.width, layout.height));
    let (tx, ty, _) = layout.tile(0);
    let s = layout.scale;
    // Stored index c * 20 + r is upright (row r, column c): a vertical bar, not a row.
    let at = |r: u32, c: u32| img.get_pixel(tx + c * s + 1, ty + r * s + 1).0[0];
    assert_eq!((at(0, 5), at(19, 5), at(5, 0), at(5, 19)), (255, 255, 0, 0));
    assert_eq!(caption_pixels(&img, &layout, 0).1, 0);
    assert!(caption_pixels(&img, &layout, 1).1 > 0);
}

#[test]
fn error_gallery_and_find_errors() {
    let data = Dataset {
        pixels: Pixels::U8((0..4 * 784).map(|i| (i % 251) as u8).collect()),
        labels: vec![1, 2, 3, 4],
        rows: 28,
        cols: 28,
        layout: PixelLayout::RowMajor,
    };
    let mut probs = vec![0.0f32; 40];
    for (i, (pred, p)) in [(1, 0.9), (7, 0.6), (3, 0.8), (0, 0.95)].iter().enumerate() {
        probs[i * 10 + pred] = *p;
        probs[i * 10 + (pred + 1) % 10] = 1.0 - p;
    }
    let errors: Vec<Misclassified> = plot::find_errors(&data, &probs, 10);
    let got: Vec<(usize, u8, usize)> = errors.iter().map(|e| (e.index, e.label, e.pred)).collect();
    assert_eq!(got, vec![(3, 4, 0), (1, 2, 7)], "most confident first");
    assert_eq!(errors[0].prob, 0.95);
    assert_eq!(errors[0].image, data.display_image(3));
    assert_eq!(plot::find_errors(&data, &probs, 1).len(), 1);

    let img = plot::error_gallery(&errors, 28);
    let captions: Vec<Caption> = errors.iter().map(plot::error_caption).collect();
    let layout = GridLayout::new(2, 28, &captions);
    assert_eq!(img.dimensions(), (layout.width, layout.height));
    // Two lines of 8-pixel text, wider than the tile.
    assert!(layout.cell_w >= "pred 0 (0.95)".len() as u32 * 8);
    let (ink, red) = caption_pixels(&img, &layout, 0);
    assert!(ink > 100 && red * 10 >= ink * 9, "{ink} {red}");
}

#[test]
fn confusion_counts_and_colour_order() {
    let m = plot::confusion_counts(&[0, 0, 1, 9, 12], &[0, 1, 1, 4, 3]);
    assert_eq!((m[0][0], m[0][1], m[1][1], m[9][4]), (1, 1, 1, 1));
    assert_eq!(m.iter().flatten().sum::<u32>(), 4, "label 12 skipped");

    let mut counts = [[0u32; 10]; 10];
    for (d, row) in counts.iter_mut().enumerate() {
        row[d] = 100 + 100 * d as u32;
    }
    counts[3][5] = 40;
    counts[3][6] = 2;
    let img = plot::confusion_matrix(&counts, "test");
    let (x, y, side) = plot::confusion_cell(9, 9);
    assert!(img.width() >= x + side && img.height() >= y + side);
    // Background of a cell, away from the number written in its middle.
    let bg = |r, c| {
        let (x, y, _) = plot::confusion_cell(r, c);
        *img.get_pixel(x + 3, y + 3)
    };
    let darkness = |p: Rgb<u8>| 765 - p.0.iter().map(|&v| v as u32).sum::<u32>();
    for d in 0..9 {
        assert!(
            darkness(bg(d + 1, d + 1)) > darkness(bg(d, d)),
            "diagonal {d}"
        );
    }
    assert!(darkness(bg(3, 5)) > darkness(bg(3, 6)));
    assert!(
        darkness(bg(3, 6)) > 0 && bg(3, 7).0 == [255; 3],
        "zero cells stay white"
    );
    let (hit, miss) = (bg(5, 5), bg(3, 5));
    assert!(hit.0[2] > hit.0[0], "hits are blue: {hit:?}");
    assert!(miss.0[0] > miss.0[2], "mistakes are red: {miss:?}");
    // Numbers are written: the middle of a cell holds pixels of another colour.
    let (x, y, side) = plot::confusion_cell(5, 5);
    let mid: Vec<_> = (0..side)
        .map(|k| *img.get_pixel(x + k, y + side / 2))
        .collect();
    assert!(mid.iter().any(|p| *p != hit), "count written");
    // Accuracy in the title: the title band is not empty.
    assert!((0..img.width()).any(|x| !is_white(img.get_pixel(x, 50))));
}

/// Rows of the pixels of series colour `k` in column x of the plotting area.
fn curve_rows(img: &RgbImage, x: u32, color: [u8; 3]) -> Vec<u32> {
    (0..img.height())
        .filter(|&y| {
            let p = img.get_pixel(x, y).0;
            (0..3).all(|k| (p[k] as i32 - color[k] as i32).abs() < 40)
        })
        .collect()
}

#[test]
fn loss_curve_goes_the_way_of_the_data() {
    const BLUE: [u8; 3] = [31, 119, 180];
    const ORANGE: [u8; 3] = [255, 127, 14];
    let falling: Vec<(f64, f64)> = (0..200)
        .map(|s| (s as f64 / 20.0, 2.3 / (1.0 + s as f64 / 10.0)))
        .collect();
    let rising: Vec<(f64, f64)> = (1..=10).map(|e| (e as f64, 0.1 * e as f64)).collect();
    let img = plot::loss_curve(&[("training loss", falling), ("test loss", rising)], "loss");
    assert_eq!(img.dimensions(), (900, 560));
    let (left, top, w, h) = plot::plot_area();
    // Near both ends of the falling series (x from 0 to 9.95 of an axis 0..10).
    let first = curve_rows(&img, left + 4, BLUE);
    let last = curve_rows(&img, left + w * 98 / 100, BLUE);
    assert!(!first.is_empty() && !last.is_empty());
    assert!(
        first[0] + 100 < last[0],
        "falling: starts high ({first:?}) ends low ({last:?})"
    );
    assert!(last[0] < top + h && first[0] >= top);
    let x1 = left + w / 10; // epoch 1 of 0..10 for the rising series
    let x9 = left + 9 * w / 10;
    let (a, b) = (
        curve_rows(&img, x1 + 1, ORANGE),
        curve_rows(&img, x9, ORANGE),
    );
    assert!(!a.is_empty() && !b.is_empty());
    assert!(a[0] > b[0], "rising: lower on screen at the start");
    // Junk points do not break it.
    let odd = plot::loss_curve(
        &[
            ("nan", vec![(0.0, f64::NAN), (1.0, 1.0)]),
            ("empty", vec![]),
        ],
        "",
    );
    assert_eq!(odd.dimensions(), (900, 560));
    let none = plot::loss_curve(&[], "nothing");
    assert_eq!(none.dimensions(), (900, 560));
}

#[test]
fn save_png_round_trips_and_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let img = plot::titled(
        &plot::digit_grid(&[pattern(28, 1)], 28, &[Caption::new("7")]),
        "one digit",
    );
    let path = dir.path().join("plots/grid.png");
    plot::save_png(&img, &path).unwrap();
    let back = image::open(&path).unwrap().to_rgb8();
    assert_eq!(back, img);
    let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left behind");
    // Over an existing file.
    plot::save_png(&img, &path).unwrap();

    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let bad = blocker.join("grid.png");
    let e = plot::save_png(&img, &bad).unwrap_err();
    assert!(e.to_string().contains("grid.png"), "{e}");
}
