//! Digits as low-resolution form scanners deliver them: cropped to the ink, stretched to fill a
//! small square box whatever the digit's shape, and thresholded to black and white (the way the
//! Semeion and USPS collections were made, and many form readers still work). A narrow 1 comes out
//! as wide as a 0, a flat 4 as tall as a 7; strokes become blocky.
//!
//! [`box_scan`] turns a 28x28 MNIST image into that kind of picture and reads it back through
//! the same preprocessing a user's picture goes through, so that `digits train --augment` can show
//! the network such digits (the picture the network sees is what `digits predict` would make of
//! the scan).

use super::augment::ink_box;
use super::preprocess;

/// Supersampling per output pixel, each way, when the ink's box is stretched to the scan's.
const SUB: usize = 4;

/// The scan settings: the square box's side in pixels and the black-and-white cut-off (0..1 of
/// full ink).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScanSettings {
    pub side: usize,
    pub level: f32,
}

/// `src` (`w` x `h`, ink = 255) scanned as [`ScanSettings`] say and framed again as
/// `digits predict` frames a picture, written to `out` (`w * h` bytes; the frame is 28x28, so
/// `w * h` must be 784). Returns false, leaving `out` as a copy of `src`, when the image holds no
/// ink or the scan comes out blank.
pub fn box_scan(src: &[u8], w: usize, h: usize, s: ScanSettings, out: &mut [u8]) -> bool {
    let n = w * h;
    out[..n].copy_from_slice(&src[..n]);
    if n != preprocess::PIXELS || s.side == 0 {
        return false;
    }
    let Some((x0, y0, x1, y1)) = ink_box(&src[..n], w, h) else {
        return false;
    };
    let cut = (s.level.clamp(0.0, 1.0) * 255.0 * (SUB * SUB) as f32) as u32;
    // ink_box's corners are inclusive.
    let (bw, bh) = ((x1 + 1 - x0) as f32, (y1 + 1 - y0) as f32);
    let step = 1.0 / (s.side * SUB) as f32;
    // Paper white (255), ink black (0), as a scanner writes it, with a pixel of paper all round
    // (framing crops it off again) so that a digit filling its box still shows the paper.
    let pad = s.side + 2;
    let mut scan = vec![255u8; pad * pad];
    let mut any = false;
    for oy in 0..s.side {
        for ox in 0..s.side {
            let mut sum = 0u32;
            for sy in 0..SUB {
                let fy = y0 as f32 + ((oy * SUB + sy) as f32 + 0.5) * step * bh;
                for sx in 0..SUB {
                    let fx = x0 as f32 + ((ox * SUB + sx) as f32 + 0.5) * step * bw;
                    sum += src[(fy as usize).min(h - 1) * w + (fx as usize).min(w - 1)] as u32;
                }
            }
            if sum > cut {
                scan[(oy + 1) * pad + ox + 1] = 0;
                any = true;
            }
        }
    }
    if !any {
        return false;
    }
    match preprocess::from_gray(&scan, pad, pad, Some(false)) {
        Ok(framed) => {
            for (o, v) in out[..n].iter_mut().zip(framed) {
                *o = (v * 255.0).round() as u8;
            }
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 28;
    const SCAN: ScanSettings = ScanSettings {
        side: 16,
        level: 0.5,
    };

    fn rect(x0: usize, y0: usize, x1: usize, y1: usize) -> Vec<u8> {
        let mut v = vec![0u8; W * W];
        for y in y0..y1 {
            for x in x0..x1 {
                v[y * W + x] = 255;
            }
        }
        v
    }

    /// A slanted bar 3 wide from (16, 4) down to (11, 24): a plain 1, 8 pixels wide in all.
    fn slanted_one() -> Vec<u8> {
        let mut v = vec![0u8; W * W];
        for y in 4..24 {
            let x = 16 - (y - 4) / 4;
            v[y * W + x - 1..y * W + x + 2].fill(255);
        }
        v
    }

    #[test]
    fn a_narrow_digit_is_stretched_to_a_square() {
        // The 1, 8 wide and 20 tall, comes out as wide as it is tall once scanned.
        let mut out = vec![0u8; W * W];
        assert!(box_scan(&slanted_one(), W, W, SCAN, &mut out));
        let (x0, y0, x1, y1) = ink_box(&out, W, W).unwrap();
        assert!(x1 - x0 >= 18 && y1 - y0 >= 18, "box {x0},{y0}-{x1},{y1}");
    }

    #[test]
    fn the_scan_is_black_and_white_before_framing() {
        // Faint ink under the cut-off disappears: a bar at 100/255 with level 0.5 scans blank.
        let faint: Vec<u8> = rect(10, 4, 18, 24).iter().map(|&v| v / 255 * 100).collect();
        let mut out = vec![7u8; W * W];
        assert!(!box_scan(&faint, W, W, SCAN, &mut out));
        assert_eq!(out, faint, "a blank scan leaves the image as it was");
    }

    #[test]
    fn a_blank_image_stays_blank() {
        let blank = vec![0u8; W * W];
        let mut out = vec![9u8; W * W];
        assert!(!box_scan(&blank, W, W, SCAN, &mut out));
        assert_eq!(out, blank);
    }

    #[test]
    fn a_hollow_shape_keeps_its_hole() {
        // A ring (a 0) stays a ring: the middle of the framed scan is empty.
        let mut ring = rect(8, 6, 20, 22);
        for y in 10..18 {
            for x in 12..16 {
                ring[y * W + x] = 0;
            }
        }
        let mut out = vec![0u8; W * W];
        assert!(box_scan(&ring, W, W, SCAN, &mut out));
        assert_eq!(out[14 * W + 14], 0);
        assert!(out.iter().filter(|&&v| v > 127).count() > 100);
    }
}
