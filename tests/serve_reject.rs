//! The reject option where answers are served: `?min_confidence=P` and `digits serve
//! --min-confidence P` mark each digit or number as sure enough or to be checked by hand.

mod serve_support;

use serve_support::*;

#[test]
fn answers_say_whether_they_are_sure_enough_when_a_level_is_asked_for() {
    let s = start();
    let ask = |path: &str, ct: &str, body: &[u8]| request(s.addr, "POST", path, Some(ct), body);
    let digit = pixels_json(&shrink(&seven()));
    let plain = ask("/api/predict", "application/json", digit.as_bytes());
    assert_eq!(plain.status, 200, "{}", plain.text());
    let p = plain.probabilities();
    let sure = p.iter().cloned().fold(0.0, f64::max);
    assert!(plain.json().get("accepted").is_none(), "{}", plain.text());
    let accepted = |path: String, ct: &str, body: &[u8]| {
        let r = ask(&path, ct, body);
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["accepted"].as_bool()
    };
    // The digit's probability against levels just under and over it.
    let at = |level: f64| format!("/api/predict?min_confidence={level}");
    assert_eq!(
        accepted(at(sure - 1e-3), "application/json", digit.as_bytes()),
        Some(true)
    );
    assert_eq!(
        accepted(at(sure + 1e-3), "application/json", digit.as_bytes()),
        Some(false)
    );
    // The number's confidence likewise.
    let number = png(
        &canvas(&[&[(0.2, 0.3), (0.2, 0.7)], &[(0.6, 0.3), (0.6, 0.7)]]),
        true,
    );
    let read = ask("/api/read", "image/png", &number);
    let confidence = read.json()["confidence"].as_f64().unwrap();
    assert!(read.json().get("accepted").is_none(), "{}", read.text());
    assert!(confidence < 0.999, "{}", read.text());
    let at = |level: f64| format!("/api/read?min_confidence={level}");
    assert_eq!(
        accepted(at(confidence - 1e-3), "image/png", &number),
        Some(true)
    );
    assert_eq!(
        accepted(at(confidence + 1e-3), "image/png", &number),
        Some(false)
    );
    // A level that is not a probability is named.
    for (bad, words) in [
        ("1.5", "1.5 is not a probability"),
        ("high", "\"high\" is not a number"),
    ] {
        for route in ["/api/predict", "/api/read"] {
            let r = ask(
                &format!("{route}?min_confidence={bad}"),
                "image/png",
                &number,
            );
            assert_eq!(r.status, 400, "{}", r.text());
            assert!(
                r.error().contains("min_confidence") && r.error().contains(words),
                "{}",
                r.text()
            );
        }
    }

    // The server's level applies where a request names none; a request's overrides it.
    let strict = start_with(
        digits::serve::AppState::new(model(), digits::data::PixelScale::Unit, "untrained")
            .unwrap()
            .with_min_confidence(Some(1.0)),
    );
    assert_eq!(get(strict.addr, "/api/model").json()["min_confidence"], 1.0);
    let ask = |path: &str| request(strict.addr, "POST", path, Some("image/png"), &number);
    assert_eq!(ask("/api/read").json()["accepted"], false);
    assert_eq!(ask("/api/predict").json()["accepted"], false);
    assert_eq!(ask("/api/read?min_confidence=0").json()["accepted"], true);
}

#[test]
fn serve_takes_a_level_for_every_answer_and_refuses_a_bad_one() {
    let (_server, addr) = spawn_binary(&["--min-confidence", "0"], std::process::Stdio::null());
    let r = post(addr, Some("image/png"), &png(&seven(), false));
    assert_eq!(
        (r.status, r.json()["accepted"].as_bool()),
        (200, Some(true)),
        "{}",
        r.text()
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_digits"))
        .args(["serve", "--addr", "127.0.0.1:0", "--min-confidence", "1.5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1.5 is not a probability"), "{err}");
}
