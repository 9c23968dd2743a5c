//! Ruled and squared paper: thin straight lines that cross the whole picture are not ink.
//! A line is found as long (nearly) unbroken runs of ink in rows (or columns) whose connected
//! piece spans most of the picture; it is erased except where a pen stroke crosses or meets it.

/// Runs shorter than this fraction of the side are never part of a line.
const MIN_RUN: f32 = 0.1;
/// A line's piece must span this fraction of the picture...
const MIN_SPAN: f32 = 0.92;
/// ... or this fraction from an edge, when it is less than half as thick as the pen strokes
/// (a line that a digit at the other edge hides).
const MIN_SPAN_FROM_EDGE: f32 = 0.4;
/// Pictures smaller than this either way have no lines looked for.
const MIN_SIDE: usize = 64;
/// A line is at most this fraction of the other side thick (a bar of paper shadow is not).
const MAX_THICK: f32 = 1.0 / 12.0;

/// Pixels of `mask` (w x h, row-major) that belong to ruled or grid lines.
pub(super) fn line_pixels(mask: &[bool], w: usize, h: usize) -> Vec<bool> {
    // A small picture is one digit's cell (a scan, a canvas): its strokes may well cross it
    // from side to side, and there is no room for ruled lines besides.
    if w.min(h) < MIN_SIDE {
        return vec![false; mask.len()];
    }
    // Rows first; the columns are then looked for without the rows' lines, so that where two
    // lines of a grid cross, neither is taken for a stroke crossing the other.
    let as_f32: Vec<f32> = mask.iter().map(|&m| f32::from(u8::from(m))).collect();
    let pen = super::stroke::width(&as_f32, w, h).unwrap_or(0.0);
    let mut out = horizontal(mask, w, h, pen);
    let rest: Vec<bool> = mask.iter().zip(&out).map(|(&m, &l)| m && !l).collect();
    let t = transpose(&rest, w, h);
    let vert = horizontal(&t, h, w, pen);
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] |= vert[x * h + y];
        }
    }
    out
}

fn transpose(m: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut t = vec![false; m.len()];
    for y in 0..h {
        for x in 0..w {
            t[x * h + y] = m[y * w + x];
        }
    }
    t
}

fn horizontal(mask: &[bool], w: usize, h: usize, pen: f32) -> Vec<bool> {
    let min_run = ((w as f32 * MIN_RUN) as usize).max(8);
    let gap = (w / 200).max(1);
    // Candidates: pixels on long runs (gaps of a pixel or two bridged).
    let mut cand = vec![false; mask.len()];
    for y in 0..h {
        let row = &mask[y * w..(y + 1) * w];
        let mut x = 0;
        while x < w {
            if !row[x] {
                x += 1;
                continue;
            }
            let (start, mut end, mut miss) = (x, x, 0);
            let mut i = x;
            while i < w && miss <= gap {
                if row[i] {
                    end = i;
                    miss = 0;
                } else {
                    miss += 1;
                }
                i += 1;
            }
            if end + 1 - start >= min_run {
                for c in &mut cand[y * w + start..=y * w + end] {
                    *c = true;
                }
            }
            x = end + 1;
        }
    }
    let mut out = vec![false; mask.len()];
    let mut seen = vec![false; mask.len()];
    let mut stack = Vec::new();
    let mut piece = Vec::new();
    for s in 0..cand.len() {
        if !cand[s] || seen[s] {
            continue;
        }
        piece.clear();
        seen[s] = true;
        stack.push(s);
        while let Some(i) = stack.pop() {
            piece.push(i);
            let (x, y) = (i % w, i / w);
            for ny in y.saturating_sub(1)..(y + 2).min(h) {
                for nx in x.saturating_sub(1)..(x + 2).min(w) {
                    let j = ny * w + nx;
                    if cand[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        erase_line(&piece, mask, w, h, pen, &mut out);
    }
    out
}

/// Marks the pixels of `piece` to erase when it holds lines: in each column, each run of its
/// rows is a band of a line, kept where a stroke leaves the band above or below, or where the
/// band is much thicker than the lines (a stroke lying along one). Several lines may be one
/// piece, joined by a stroke that crosses them.
fn erase_line(piece: &[usize], mask: &[bool], w: usize, h: usize, pen: f32, out: &mut [bool]) {
    let mut at: Vec<(usize, usize)> = piece.iter().map(|&i| (i % w, i / w)).collect();
    at.sort_unstable();
    let (x0, x1) = (at[0].0, at[at.len() - 1].0);
    let span = (x1 + 1 - x0) as f32 / w as f32;
    if span < MIN_SPAN && (span < MIN_SPAN_FROM_EDGE || (x0 > 0 && x1 + 1 < w)) {
        return;
    }
    // Bands: (column, first row, last row).
    let mut bands: Vec<(usize, usize, usize)> = Vec::new();
    for &(x, y) in &at {
        match bands.last_mut() {
            Some(b) if b.0 == x && b.2 + 1 == y => b.2 = y,
            _ => bands.push((x, y, y)),
        }
    }
    // The lines' own thickness: a low quantile, as a stroke may lie along much of one.
    let mut thick: Vec<usize> = bands.iter().map(|b| b.2 + 1 - b.1).collect();
    let low = thick.len() / 5;
    let t = *thick.select_nth_unstable(low).1;
    if t as f32 > (MAX_THICK * h as f32).max(3.0) || (span < MIN_SPAN && t as f32 > 0.5 * pen) {
        return;
    }
    let ink = |x: usize, y: isize| y >= 0 && (y as usize) < h && mask[y as usize * w + x];
    for &(x, a, b) in &bands {
        if b + 1 - a > 2 * t + 1 {
            continue;
        }
        let (a, b) = (a as isize, b as isize);
        let stroke = (ink(x, a - 1) && ink(x, a - 2)) || (ink(x, b + 1) && ink(x, b + 2));
        if !stroke {
            for y in a..=b {
                out[y as usize * w + x] = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruled_lines_go_and_a_crossing_stroke_stays() {
        let (w, h) = (120, 90);
        let mut m = vec![false; w * h];
        for x in 0..w {
            m[20 * w + x] = true; // a ruled line, one pixel
            m[50 * w + x] = true;
            m[51 * w + x] = true; // a thicker one
        }
        for y in 10..70 {
            for x in 60..63 {
                m[y * w + x] = true; // a pen stroke crossing both
            }
        }
        for x in 30..55 {
            m[35 * w + x] = true; // a short horizontal stroke: not a line
        }
        let lines = line_pixels(&m, w, h);
        assert!(lines[20 * w + 5] && lines[51 * w + 100]);
        assert!(
            !lines[20 * w + 61] && !lines[50 * w + 61],
            "the crossing stroke is kept"
        );
        assert!(!lines[35 * w + 40], "a short stroke is not a line");
        assert!(!lines[40 * w + 61]);
    }

    #[test]
    fn a_grid_goes_both_ways() {
        let (w, h) = (90, 90);
        let mut m = vec![false; w * h];
        for k in (5..90).step_by(15) {
            for i in 0..90 {
                m[k * w + i] = true;
                m[i * w + k] = true;
            }
        }
        let lines = line_pixels(&m, w, h);
        assert_eq!(lines, m);
    }
}
