//! Stroke width: measured, and changed by grey dilation or erosion.

/// Strokes are thickened up to about this width at most, and thinned down to about this
/// width at least (pixels by [`stroke_width`], by which 90% of MNIST's training digits measure
/// 1.3 to 3.0, half of them under 2.0): a thick 8 thickened further fills its loops, a thin 1
/// thinned fades away.
pub const STROKE_WIDTH_RANGE: (f32, f32) = (1.4, 3.6);

/// Mean stroke width in pixels: twice the ink (in whole pixels) over the length of its edges
/// (the grey-level change between neighbours, summed): a long bar of width w measures w.
pub fn stroke_width(src: &[u8], w: usize, h: usize) -> f32 {
    let Some((x0, y0, x1, y1)) = ink_box(src, w, h) else {
        return 0.0;
    };
    // Beyond the ink box everything is blank: its pairs count nothing, and those across its
    // border count the pixel inside.
    let (mut ink, mut edge) = (0u32, 0u32);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let v = src[y * w + x] as i32;
            ink += v as u32;
            // Each pair once: this pixel with the one on its right and the one below.
            let right = if x < x1 { src[y * w + x + 1] as i32 } else { 0 };
            let below = if y < y1 {
                src[(y + 1) * w + x] as i32
            } else {
                0
            };
            edge += (v - right).unsigned_abs() + (v - below).unsigned_abs();
            if x == x0 {
                edge += v as u32;
            }
            if y == y0 {
                edge += v as u32;
            }
        }
    }
    // For a bar of width w and length L, ink = w L and edge = 2 (L + w), about 2 L.
    2.0 * ink as f32 / edge.max(1) as f32
}

/// The smallest box (x0, y0, x1, y1, inclusive) holding every nonzero pixel, if any.
pub fn ink_box(src: &[u8], w: usize, h: usize) -> Option<(usize, usize, usize, usize)> {
    let mut b: Option<(usize, usize, usize, usize)> = None;
    for (y, row) in src[..w * h].chunks_exact(w).enumerate() {
        let Some(first) = row.iter().position(|&v| v != 0) else {
            continue;
        };
        let last = row.iter().rposition(|&v| v != 0).unwrap_or(first);
        b = Some(match b {
            None => (first, y, last, y),
            Some((x0, y0, x1, _)) => (x0.min(first), y0, x1.max(last), y),
        });
    }
    b
}

/// Grey dilation (`amount` > 0) or erosion (< 0) with the 3x3 cross, blended with the image by
/// |amount| (at most 1): out = src + |amount| * (max or min of the cross - src). Pixels beyond
/// the frame count as blank.
pub fn stroke(src: &[u8], w: usize, h: usize, amount: f32, out: &mut [u8]) {
    // The blend in fixed point: 8 fractional bits.
    let t = (amount.abs().min(1.0) * 256.0).round() as i32;
    let dilate = amount > 0.0;
    let at = |x: usize, y: usize, dx: isize, dy: isize| -> u8 {
        let (xx, yy) = (x as isize + dx, y as isize + dy);
        if xx >= 0 && yy >= 0 && (xx as usize) < w && (yy as usize) < h {
            src[yy as usize * w + xx as usize]
        } else {
            0
        }
    };
    out[..w * h].fill(0);
    let Some((x0, y0, x1, y1)) = ink_box(src, w, h) else {
        return;
    };
    // Only pixels within one of the ink box can change from blank.
    let (x0, y0, x1, y1) = (
        x0.saturating_sub(1),
        y0.saturating_sub(1),
        (x1 + 1).min(w - 1),
        (y1 + 1).min(h - 1),
    );
    let blend = |v: u8, m: u8| (v as i32 + ((t * (m as i32 - v as i32) + 128) >> 8)) as u8;
    let slow = |x: usize, y: usize| {
        let v = src[y * w + x];
        let n = [
            at(x, y, -1, 0),
            at(x, y, 1, 0),
            at(x, y, 0, -1),
            at(x, y, 0, 1),
        ];
        let m = if dilate {
            n.into_iter().fold(v, u8::max)
        } else {
            n.into_iter().fold(v, u8::min)
        };
        // Between v and m, rounded half up.
        blend(v, m)
    };
    for y in y0..=y1 {
        // Pixels with all four neighbours inside the frame, a row's run at a time (which the
        // compiler vectorises); the frame's edge pixels one by one.
        let (xa, xb) = (x0.max(1), x1.min(w.saturating_sub(2)));
        if y == 0 || y + 1 >= h || xa > xb {
            for x in x0..=x1 {
                out[y * w + x] = slow(x, y);
            }
            continue;
        }
        for x in (x0..xa).chain(xb + 1..=x1) {
            out[y * w + x] = slow(x, y);
        }
        let i = y * w;
        let (c, l, r) = (
            &src[i + xa..=i + xb],
            &src[i + xa - 1..i + xb],
            &src[i + xa + 1..=i + xb + 1],
        );
        let (u, d) = (&src[i - w + xa..=i - w + xb], &src[i + w + xa..=i + w + xb]);
        let o = &mut out[i + xa..=i + xb];
        for k in 0..o.len() {
            let m = if dilate {
                c[k].max(l[k]).max(r[k]).max(u[k]).max(d[k])
            } else {
                c[k].min(l[k]).min(r[k]).min(u[k]).min(d[k])
            };
            o[k] = blend(c[k], m);
        }
    }
}
