//! `POST /api/read` on a picture of several numbers (lines of writing one above the other,
//! numbers far apart on a line): each read as a number of its own (`"numbers"`), the answer's
//! number the one holding the most ink.

mod serve_support;

use serve_support::*;

#[test]
fn each_number_of_a_drawing_is_read() {
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
    // Each number's digits' boxes (x, y), in the whole picture's pixels.
    let boxes = |number: &serde_json::Value| -> Vec<(u64, u64)> {
        let digits = number["digits"].as_array().unwrap();
        let at = |d: &serde_json::Value, k: usize| d["box"][k].as_u64().unwrap();
        digits.iter().map(|d| (at(d, 0), at(d, 1))).collect()
    };
    let stroke = |x: f32, y0: f32, y1: f32| [(x, y0), (x, y1)];
    // Two strokes high in the picture, three longer ones low in it.
    let (a, b) = (stroke(0.2, 0.05, 0.3), stroke(0.4, 0.05, 0.3));
    let low: Vec<_> = [0.2, 0.45, 0.7]
        .iter()
        .map(|&x| stroke(x, 0.55, 0.95))
        .collect();
    let mut strokes: Vec<&[(f32, f32)]> = vec![&a, &b];
    strokes.extend(low.iter().map(|s| &s[..]));
    let v = read(&png(&canvas(&strokes), true), "?min_confidence=0");
    let numbers = v["numbers"].as_array().expect("a numbers array");
    assert_eq!(numbers.len(), 2, "{v}");
    let (upper, lower) = (boxes(&numbers[0]), boxes(&numbers[1]));
    assert!(!upper.is_empty() && !lower.is_empty(), "{v}");
    // The picture is 280 high: the first line's boxes above the second's.
    assert!(
        upper.iter().all(|b| b.1 < 100) && lower.iter().all(|b| b.1 > 140),
        "{v}"
    );
    assert!(numbers.iter().all(|n| n["accepted"] == true), "{v}");
    // The answer's number: the lower line, which holds more ink.
    assert_eq!(v["text"], numbers[1]["text"]);
    assert_eq!(v["digits"], numbers[1]["digits"]);

    // On one line, far apart (a gap of over twice their height): a stroke at the left, two
    // at the right.
    let (left, right1, right2) = (
        stroke(0.06, 0.4, 0.6),
        stroke(0.8, 0.4, 0.6),
        stroke(0.9, 0.4, 0.6),
    );
    let v = read(&png(&canvas(&[&left, &right1, &right2]), true), "");
    let numbers = v["numbers"].as_array().expect("a numbers array");
    assert_eq!(numbers.len(), 2, "{v}");
    let (first, second) = (boxes(&numbers[0]), boxes(&numbers[1]));
    assert!(
        first.iter().all(|b| b.0 < 60) && second.iter().all(|b| b.0 > 190),
        "{v}"
    );
    assert_eq!(v["text"], numbers[1]["text"]);

    // One number: no "numbers".
    assert!(read(&png(&canvas(&[&a, &b]), true), "")
        .get("numbers")
        .is_none());
}
