//! Tests of the distortions, sharing their pictures (a rectangle, a ring) and measures.

use super::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const W: usize = 28;

/// A 28x28 image with the rectangle [x0, x1) x [y0, y1) at 255.
fn rect(x0: usize, y0: usize, x1: usize, y1: usize) -> Vec<u8> {
    let mut v = vec![0u8; W * W];
    for y in y0..y1 {
        for x in x0..x1 {
            v[y * W + x] = 255;
        }
    }
    v
}

/// A digit-like image: a ring of radius 6 and width about 2.5 around (13, 14), with soft edges.
fn ring() -> Vec<u8> {
    let mut v = vec![0u8; W * W];
    for y in 0..W {
        for x in 0..W {
            let r = ((x as f32 - 13.0).powi(2) + (y as f32 - 14.0).powi(2)).sqrt();
            v[y * W + x] = ((1.8 - (r - 6.0).abs()) * 200.0).clamp(0.0, 255.0) as u8;
        }
    }
    v
}

fn ink(v: &[u8]) -> f64 {
    v.iter().map(|&p| p as f64).sum()
}

/// Centre of mass (x, y) of the ink.
fn com(v: &[u8]) -> (f64, f64) {
    let (mut sx, mut sy) = (0.0, 0.0);
    for (i, &p) in v.iter().enumerate() {
        sx += (i % W) as f64 * p as f64;
        sy += (i / W) as f64 * p as f64;
    }
    (sx / ink(v), sy / ink(v))
}

/// Variance of the ink along x and y, and the covariance.
fn spread(v: &[u8]) -> (f64, f64, f64) {
    let (cx, cy) = com(v);
    let (mut xx, mut yy, mut xy) = (0.0, 0.0, 0.0);
    for (i, &p) in v.iter().enumerate() {
        let (dx, dy) = ((i % W) as f64 - cx, (i / W) as f64 - cy);
        xx += dx * dx * p as f64;
        yy += dy * dy * p as f64;
        xy += dx * dy * p as f64;
    }
    let n = ink(v);
    (xx / n, yy / n, xy / n)
}

fn warped(src: &[u8], p: &Params) -> Vec<u8> {
    let mut out = vec![7u8; W * W];
    warp(src, W, W, p, &mut out);
    out
}

#[test]
fn the_identity_leaves_every_image_as_it_is() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let noise: Vec<u8> = (0..W * W).map(|_| rng.gen()).collect();
    for src in [ring(), rect(0, 0, 28, 3), noise] {
        let (mut tmp, mut out) = (vec![0; W * W], vec![9; W * W]);
        let mut p = Params::identity();
        p.fit_in_frame(&src, W, W);
        assert_eq!(p, Params::identity(), "fitting never changes the identity");
        apply(&src, W, W, &p, &mut tmp, &mut out);
        assert_eq!(out, src);
        // Ranges of zero draw the identity.
        augment_image(&src, W, W, &Augment::none(), &mut rng, &mut tmp, &mut out);
        assert_eq!(out, src);
    }
}

#[test]
fn a_translation_moves_the_centre_of_mass_by_the_shift() {
    let src = ring();
    let (x, y) = com(&src);
    for shift in [(3.0, 0.0), (-2.0, 4.0), (1.5, -2.5)] {
        let out = warped(
            &src,
            &Params {
                shift,
                ..Params::identity()
            },
        );
        let (nx, ny) = com(&out);
        assert!(
            (nx - x - shift.0 as f64).abs() < 0.05 && (ny - y - shift.1 as f64).abs() < 0.05,
            "shift {shift:?}: centre ({x}, {y}) -> ({nx}, {ny})"
        );
        assert!((ink(&out) / ink(&src) - 1.0).abs() < 0.02, "ink kept");
    }
}

#[test]
fn a_rotation_turns_counter_clockwise_about_the_centre() {
    // A bar right of the centre (its centre 6.5 to the right): turned 90 degrees, 6.5 above.
    let src = rect(17, 13, 24, 15);
    let out = warped(
        &src,
        &Params {
            rotation: 90f32.to_radians(),
            ..Params::identity()
        },
    );
    let (x, y) = com(&out);
    assert!(
        (x - 13.5).abs() < 0.1 && (y - (13.5 - 6.5)).abs() < 0.1,
        "({x}, {y})"
    );
    let (xx, yy, _) = spread(&out);
    assert!(yy > 3.0 * xx, "now vertical: var x {xx}, var y {yy}");
    // 20 degrees: the spread's axis turns by 20 degrees (towards the top right).
    let bar = rect(6, 13, 22, 15);
    let out = warped(
        &bar,
        &Params {
            rotation: 20f32.to_radians(),
            ..Params::identity()
        },
    );
    let (xx, yy, xy) = spread(&out);
    let angle = (0.5 * (-2.0 * xy).atan2(xx - yy)).to_degrees();
    assert!((angle - 20.0).abs() < 1.5, "axis at {angle} degrees");
}

#[test]
fn scale_aspect_and_shear_change_the_shape_as_they_say() {
    let src = ring();
    let (xx, yy, _) = spread(&src);
    let big = warped(
        &src,
        &Params {
            scale: (1.2, 1.2),
            ..Params::identity()
        },
    );
    let (bxx, byy, _) = spread(&big);
    assert!((bxx / xx - 1.44).abs() < 0.06 && (byy / yy - 1.44).abs() < 0.06);
    let wide = warped(
        &src,
        &Params {
            scale: (1.2, 1.0 / 1.2),
            ..Params::identity()
        },
    );
    let (wxx, wyy, _) = spread(&wide);
    assert!(
        wxx > 1.3 * xx && wyy < 0.8 * yy,
        "{wxx} {wyy} from {xx} {yy}"
    );
    // Shear: a vertical bar leans, its x moving by shear * (y - centre).
    let bar = rect(13, 4, 15, 24);
    let leaning = warped(
        &bar,
        &Params {
            shear: 0.25,
            ..Params::identity()
        },
    );
    let row_x = |y: usize| {
        com(&leaning[..]
            .iter()
            .enumerate()
            .map(|(i, &v)| if i / W == y { v } else { 0 })
            .collect::<Vec<_>>())
        .0
    };
    let (top, bottom) = (row_x(6), row_x(21));
    assert!(
        ((bottom - top) - 0.25 * 15.0).abs() < 0.2,
        "top {top}, bottom {bottom}"
    );
}

#[test]
fn a_uniform_elastic_field_is_a_translation_and_a_field_moves_ink_no_further_than_it_says() {
    let src = ring();
    let p = Params {
        elastic: [(2.0, -1.0); ELASTIC_GRID * ELASTIC_GRID],
        ..Params::identity()
    };
    // Output pixel p shows the source at p + (2, -1): the picture moves by (-2, 1).
    let moved = warped(
        &src,
        &Params {
            shift: (-2.0, 1.0),
            ..Params::identity()
        },
    );
    assert_eq!(warped(&src, &p), moved);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let aug = Augment {
        elastic: 2.0,
        ..Augment::none()
    };
    for _ in 0..20 {
        let p = Params::sample(&aug, &mut rng);
        assert!(p.elastic.iter().any(|&(x, _)| x != 0.0));
        let out = warped(&src, &p);
        assert_ne!(out, src);
        let ((x, y), (nx, ny)) = (com(&src), com(&out));
        assert!((nx - x).abs() <= 2.0 && (ny - y).abs() <= 2.0);
        assert!((ink(&out) / ink(&src) - 1.0).abs() < 0.2);
    }
}

#[test]
fn dilation_adds_ink_and_thickens_erosion_removes_it() {
    let src = ring();
    let width = stroke_width(&src, W, W);
    let mut out = vec![0; W * W];
    stroke(&src, W, W, 1.0, &mut out);
    assert!(ink(&out) > 1.3 * ink(&src));
    assert!(
        out.iter().zip(&src).all(|(a, b)| a >= b),
        "dilation never removes ink"
    );
    let thick = stroke_width(&out, W, W);
    assert!(thick > width + 1.0, "width {width} -> {thick}");
    stroke(&src, W, W, -1.0, &mut out);
    assert!(ink(&out) < 0.7 * ink(&src));
    assert!(
        out.iter().zip(&src).all(|(a, b)| a <= b),
        "erosion never adds ink"
    );
    stroke(&src, W, W, 0.0, &mut out);
    assert_eq!(out, src);
    // One pixel dilates into the 3x3 cross.
    let dot = rect(5, 5, 6, 6);
    stroke(&dot, W, W, 1.0, &mut out);
    assert_eq!(
        out,
        [rect(4, 5, 7, 6), rect(5, 4, 6, 7)]
            .iter()
            .fold(vec![0; W * W], |a, r| a
                .iter()
                .zip(r)
                .map(|(x, y)| *x.max(y))
                .collect())
    );
}

#[test]
fn stroke_width_measures_bars() {
    for w in [1usize, 2, 3, 4] {
        let measured = stroke_width(&rect(10, 4, 10 + w, 24), W, W);
        // w, but for the bar's two ends: w L / (L + w).
        let expected = w as f32 * 20.0 / (20.0 + w as f32);
        assert!((measured - expected).abs() < 1e-4, "bar {w}: {measured}");
    }
    assert_eq!(stroke_width(&[0; W * W], W, W), 0.0);
}

#[test]
fn thickening_and_thinning_stop_at_the_width_range() {
    let mut p = Params {
        stroke: 1.0,
        ..Params::identity()
    };
    // A bar measuring 2.6 wide may widen by 1 at most (to 3.6): a strength of a half.
    let bar = rect(10, 2, 13, 26);
    assert!((stroke_width(&bar, W, W) - 2.667).abs() < 0.01);
    p.fit_stroke(&bar, W, W);
    assert!((p.stroke - 0.467).abs() < 0.01, "{}", p.stroke);
    let mut p = Params {
        stroke: -1.0,
        ..Params::identity()
    };
    p.fit_stroke(&rect(10, 2, 11, 26), W, W);
    assert_eq!(p.stroke, 0.0, "a 1-pixel stroke is not thinned");
}

#[test]
fn ink_is_pulled_back_inside_the_frame() {
    let src = ring();
    for shift in [(20.0, 0.0), (0.0, -20.0), (-9.0, 9.0)] {
        let mut p = Params {
            shift,
            scale: (1.1, 1.1),
            ..Params::identity()
        };
        p.fit_in_frame(&src, W, W);
        let out = warped(&src, &p);
        assert!(border_blank(&out), "shift {shift:?} became {:?}", p.shift);
        assert!(
            (ink(&out) / ink(&src) - 1.21).abs() < 0.1,
            "nothing cut off"
        );
        let ((x, y), (nx, ny)) = (com(&src), com(&out));
        assert!(
            (nx - x) * shift.0 as f64 >= 0.0 && (ny - y) * shift.1 as f64 >= 0.0,
            "moved as far as it fits"
        );
    }
    // Too big to fit: shrunk.
    let mut p = Params {
        scale: (2.0, 2.0),
        ..Params::identity()
    };
    p.fit_in_frame(&src, W, W);
    assert!(p.scale.0 < 2.0 && p.scale.0 > 1.3);
    assert!(border_blank(&warped(&src, &p)));
}

/// Whether the outer ring of pixels is blank.
fn border_blank(v: &[u8]) -> bool {
    (0..W).all(|k| v[k] == 0 && v[(W - 1) * W + k] == 0 && v[k * W] == 0 && v[k * W + W - 1] == 0)
}

#[test]
fn sampled_distortions_keep_the_ink_inside_the_frame() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    // Strong ranges, so fitting has work to do.
    let aug = Augment {
        translate: 6.0,
        scale: 0.3,
        elastic: 2.5,
        ..Augment::default()
    };
    let (mut tmp, mut out) = (vec![0; W * W], vec![0; W * W]);
    for k in 0..2000 {
        // A rectangle of random size and place, its ink box at least 2 from the edges.
        let (x0, y0) = (rng.gen_range(2..14), rng.gen_range(2..14));
        let (x1, y1) = (rng.gen_range(x0 + 1..=26), rng.gen_range(y0 + 1..=26));
        let src = rect(x0, y0, x1, y1);
        augment_image(&src, W, W, &aug, &mut rng, &mut tmp, &mut out);
        assert!(
            border_blank(&out),
            "image {k}: ({x0}, {y0}) to ({x1}, {y1})"
        );
        assert!(ink(&out) > 0.0);
    }
}

#[test]
fn the_same_rng_state_gives_the_same_distortion() {
    let src = ring();
    let run = |seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut tmp, mut out) = (vec![0; W * W], vec![0; W * W]);
        augment_image(
            &src,
            W,
            W,
            &Augment::default(),
            &mut rng,
            &mut tmp,
            &mut out,
        );
        out
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
    assert_ne!(run(5), src);
}
