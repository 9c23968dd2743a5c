//! `POST /api/read` on a picture of several lines of writing: each line read as a number of its
//! own (`"lines"`), the answer's number the line holding the most ink.

mod serve_support;

use serve_support::*;

#[test]
fn each_line_of_a_drawing_is_read() {
    let s = start();
    let read = |body: &[u8], query: &str| {
        let r = request(
            s.addr,
            "POST",
            &format!("/api/read{query}"),
            Some("image/png"),
            body,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    // Two strokes high in the picture, three longer ones low in it.
    let top = [(0.2, 0.05), (0.2, 0.3)];
    let top2 = [(0.4, 0.05), (0.4, 0.3)];
    let low: Vec<[(f32, f32); 2]> = [0.2, 0.45, 0.7]
        .iter()
        .map(|&x| [(x, 0.55), (x, 0.95)])
        .collect();
    let mut strokes: Vec<&[(f32, f32)]> = vec![&top, &top2];
    strokes.extend(low.iter().map(|s| &s[..]));
    let two = png(&canvas(&strokes), true);
    let v = read(&two, "?min_confidence=0");
    let lines = v["lines"].as_array().expect("a lines array");
    assert_eq!(lines.len(), 2, "{v}");
    let boxes = |line: &serde_json::Value| -> Vec<u64> {
        let digits = line["digits"].as_array().unwrap();
        digits
            .iter()
            .map(|d| d["box"][1].as_u64().unwrap())
            .collect()
    };
    let (upper, lower) = (boxes(&lines[0]), boxes(&lines[1]));
    assert!(!upper.is_empty() && !lower.is_empty(), "{v}");
    // In the whole picture's pixels (280 high): the first line's above the second's.
    assert!(
        upper.iter().all(|&y| y < 100) && lower.iter().all(|&y| y > 140),
        "{v}"
    );
    assert!(lines.iter().all(|l| l["accepted"] == true), "{v}");
    // The answer's number: the lower line, which holds more ink.
    assert_eq!(v["text"], lines[1]["text"]);
    assert_eq!(v["digits"], lines[1]["digits"]);
    // One line: no "lines".
    let one = png(&canvas(&[&top, &top2]), true);
    assert!(read(&one, "").get("lines").is_none());
}
