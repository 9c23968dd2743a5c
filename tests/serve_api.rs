//! The HTTP API on a real socket: predictions, and 4xx answers to bad input that leave the
//! server serving.

mod serve_support;

use serve_support::*;

fn probabilities(r: &Response) -> Vec<f64> {
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let p = r.probabilities();
    assert_eq!(p.len(), 10);
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-4, "{p:?}");
    let digit = v["digit"].as_u64().unwrap() as usize;
    let best = (0..10).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
    assert_eq!(digit, best);
    assert_eq!(v["logits"].as_array().unwrap().len(), 10);
    p
}

/// A PNG whose header claims `w` x `h` pixels, with a scrap of pixel data.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in bytes {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let body = [kind, data].concat();
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, &[0u8; 4096]).unwrap();
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", b"");
    out
}

#[test]
fn health_and_model_info() {
    let s = start();
    let r = get(s.addr, "/healthz");
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));

    let r = get(s.addr, "/api/model");
    assert_eq!(r.status, 200);
    let v = r.json();
    let m = model();
    assert_eq!(v["params"], m.params().len());
    assert_eq!(v["input"], 784);
    assert_eq!(v["output"], 10);
    assert_eq!(v["source"], "test model");
    assert!(v["min_confidence"].is_null(), "{v}");
    let units: Vec<u64> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["units"].as_u64().unwrap())
        .collect();
    assert_eq!(units, [25, 15, 10]);
    assert_eq!(v["layers"][0]["activation"], "relu");
    assert_eq!(v["summary"], m.summary());

    let r = get(s.addr, "/");
    assert_eq!(r.status, 200);
    assert!(
        r.content_type.starts_with("text/html"),
        "{}",
        r.content_type
    );
    for id in [
        "id=\"canvas\"",
        "id=\"clear\"",
        "id=\"digit\"",
        "id=\"bars\"",
    ] {
        assert!(r.text().contains(id), "page lacks {id}");
    }

    let r = get(s.addr, "/nope");
    assert_eq!(r.status, 404);
    assert!(r.error().contains("/nope"));
}

#[test]
fn json_pixels_predict_what_the_model_says() {
    let s = start();
    let px = shrink(&seven());
    let r = post(
        s.addr,
        Some("application/json"),
        pixels_json(&px).as_bytes(),
    );
    let p = probabilities(&r);

    // With ?debug=1 the answer shows the input the model saw; the model agrees in-process.
    let r = request(
        s.addr,
        "POST",
        "/api/predict?debug=1",
        Some("application/json"),
        pixels_json(&px).as_bytes(),
    );
    let v = r.json();
    let x: Vec<f32> = v["preprocessed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(x.len(), 784);
    let m = model();
    assert_eq!(v["digit"], m.predict_digits(&x)[0]);
    let local = m.predict_proba(&x);
    for (a, b) in p.iter().zip(&local) {
        assert!((a - *b as f64).abs() < 1e-5, "{p:?} vs {local:?}");
    }

    // The same picture as 0..255 values, or dark on light, is read the same way.
    let scaled: Vec<f32> = px.iter().map(|v| (v * 255.0).round()).collect();
    let p255 = probabilities(&post_json(s.addr, &pixels_json(&scaled)));
    let inverted: Vec<f32> = px.iter().map(|v| 1.0 - v).collect();
    let pinv = probabilities(&post_json(s.addr, &pixels_json(&inverted)));
    for q in [&p255, &pinv] {
        for (a, b) in p.iter().zip(q) {
            assert!((a - b).abs() < 0.02, "{p:?} vs {q:?}");
        }
    }
}

#[test]
fn png_drawings_predict_either_polarity() {
    let s = start();
    let one = one();
    let light = post(s.addr, Some("image/png"), &png(&one, false));
    let dark = post(s.addr, Some("application/octet-stream"), &png(&one, true));
    let (a, b) = (probabilities(&light), probabilities(&dark));
    assert_eq!(light.json()["digit"], dark.json()["digit"]);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 0.02, "{a:?} vs {b:?}");
    }
    // A PNG with no Content-Type is recognised by its content.
    assert_eq!(post(s.addr, None, &png(&one, false)).status, 200);
}

#[test]
fn bad_requests_get_clear_4xx_and_the_server_keeps_serving() {
    let s = start();
    let check = |r: Response, status: u16, words: &str| {
        assert_eq!(r.status, status, "{}", r.text());
        assert!(r.content_type.starts_with("application/json"));
        let e = r.error();
        assert!(e.contains(words), "{e:?} lacks {words:?}");
    };

    let big = vec![b'x'; digits::serve::limits::MAX_BODY_BYTES + 1];
    check(post(s.addr, Some("image/png"), &big), 413, "too large");
    check(
        post(s.addr, Some("image/png"), b"hello, I am not a picture"),
        415,
        "not an image",
    );
    check(
        post(
            s.addr,
            Some("image/png"),
            &png_header_only(100_000, 100_000),
        ),
        413,
        "the limit is",
    );
    check(post_json(s.addr, &pixels_json(&[0.0; 784])), 422, "blank");
    check(post_json(s.addr, &pixels_json(&[255.0; 784])), 422, "blank");
    check(
        post(s.addr, Some("image/png"), &png(&vec![0.0; 280 * 280], true)),
        422,
        "blank",
    );
    check(
        post_json(s.addr, "{\"pixels\": [0, 1, "),
        400,
        "malformed JSON",
    );
    check(post_json(s.addr, "{\"pics\": []}"), 400, "pixels");
    check(post_json(s.addr, "[1, 2, 3]"), 400, "malformed JSON");
    check(post_json(s.addr, &pixels_json(&[0.5; 100])), 400, "got 100");
    let mut px = vec![0.0; 784];
    px[10] = 300.0;
    check(post_json(s.addr, &pixels_json(&px)), 400, "pixel 10");
    px[10] = -0.5;
    check(post_json(s.addr, &pixels_json(&px)), 400, "pixel 10");
    check(post(s.addr, Some("text/plain"), b"7"), 415, "Content-Type");
    check(post(s.addr, Some("image/png"), b""), 400, "empty");
    assert_eq!(get(s.addr, "/api/predict").status, 405);

    // Still serving.
    probabilities(&post_json(s.addr, &pixels_json(&shrink(&one()))));
    probabilities(&post(s.addr, Some("image/png"), &png(&seven(), false)));
    assert_eq!(get(s.addr, "/healthz").status, 200);
}

#[test]
fn address_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let e = rt.block_on(digits::serve::bind(addr)).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("could not listen on {addr}: address in use")
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_digits"))
        .args(["serve", "--addr", &addr.to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("address in use"), "{err}");
}

#[test]
fn models_of_other_input_sizes_are_refused() {
    use digits::nn::{Init, ModelSpec, Sequential};
    let m = Sequential::new(ModelSpec::mlp(400, &[25], 10), Init::KaimingUniform, 1);
    let e = digits::serve::AppState::new(m, digits::data::PixelScale::Unit, "x").unwrap_err();
    assert!(e.to_string().contains("400"), "{e}");
}

#[test]
fn the_built_in_model_reads_drawn_digits() {
    let ckpt = digits::default_model::load().unwrap();
    let state = digits::serve::AppState::new(ckpt.model, ckpt.meta.scale, "built-in").unwrap();
    let s = start_with(state);
    let digit = |r: Response| {
        probabilities(&r);
        r.json()["digit"].as_u64().unwrap()
    };
    assert_eq!(digit(post_json(s.addr, &pixels_json(&shrink(&one())))), 1);
    assert_eq!(digit(post_json(s.addr, &pixels_json(&shrink(&seven())))), 7);
    assert_eq!(
        digit(post(s.addr, Some("image/png"), &png(&seven(), false))),
        7
    );
    assert_eq!(
        digit(post(s.addr, Some("image/png"), &png(&seven(), true))),
        7
    );
}

#[test]
fn a_picture_gets_the_line_models_second_opinion_when_asked() {
    let ckpt = digits::default_model::load().unwrap();
    let state = digits::serve::AppState::new(ckpt.model, ckpt.meta.scale, "built-in").unwrap();
    let s = start_with(state);
    let picture = png(&seven(), false);
    let ask = |path: &str| request(s.addr, "POST", path, Some("image/png"), &picture);
    let alone = ask("/api/predict");
    let both = ask("/api/predict?debug=1&second_opinion=1");
    let (p_alone, p_both) = (probabilities(&alone), probabilities(&both));
    assert_eq!(both.json()["digit"], 7);
    assert!(both.json()["preprocessed"].is_array());
    // The two models together, as `digits predict --second-opinion` makes them.
    let second = digits::vision::second_opinion::SecondOpinion::built_in().unwrap();
    let (_, ink) = digits::vision::preprocess::input_and_ink_from_bytes(&picture).unwrap();
    let p_alone32: Vec<f32> = p_alone.iter().map(|&v| v as f32).collect();
    let want = second.combine(&p_alone32, &ink);
    for (got, want) in p_both.iter().zip(&want) {
        assert!(
            (got - *want as f64).abs() < 1e-5,
            "{p_both:?} against {want:?}"
        );
    }
    assert!(p_alone
        .iter()
        .zip(&p_both)
        .any(|(a, b)| (a - b).abs() > 1e-6));
    // The logits stay the digit model's.
    assert_eq!(alone.json()["logits"], both.json()["logits"]);
    // 784 pixels have no ink for the line model to read.
    let r = request(
        s.addr,
        "POST",
        "/api/predict?second_opinion=1",
        Some("application/json"),
        pixels_json(&shrink(&seven())).as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.error().contains("needs a picture"), "{}", r.text());
}

#[test]
fn serve_names_a_missing_checkpoint() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_digits"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--model",
            "no/such/model.safetensors",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no/such/model.safetensors"), "{err}");
}

#[test]
fn framed_pixels_are_read_as_given() {
    let s = start();
    // An MNIST-style input that reframing would change: off centre and small.
    let mut px = vec![0.0f32; 784];
    for y in 2..9 {
        px[y * 28 + 3] = 1.0;
        px[y * 28 + 4] = 0.5;
    }
    let body = format!(
        "{{\"pixels\": {}, \"framed\": true}}",
        serde_json::to_string(&px).unwrap()
    );
    let r = request(
        s.addr,
        "POST",
        "/api/predict?debug=1",
        Some("application/json"),
        body.as_bytes(),
    );
    let p = probabilities(&r);
    let seen: Vec<f32> = r.json()["preprocessed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(seen, px);
    let local = model().predict_proba(&px);
    for (a, b) in p.iter().zip(&local) {
        assert!((a - *b as f64).abs() < 1e-6, "{p:?} vs {local:?}");
    }
    let reframed = probabilities(&post_json(s.addr, &pixels_json(&px)));
    assert!(
        reframed.iter().zip(&p).any(|(a, b)| (a - b).abs() > 1e-4),
        "reframing changed nothing"
    );
    let blank = format!("{{\"pixels\": {:?}, \"framed\": true}}", vec![0.0; 784]);
    let r = post_json(s.addr, &blank);
    assert_eq!(r.status, 422);
    assert!(r.error().contains("blank"), "{}", r.error());
}

/// The value of the metric line `name` (with its labels, exactly as printed) in `text`.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[test]
fn metrics_count_requests_by_route_and_status_and_time_predictions() {
    let s = start();
    let px = pixels_json(&shrink(&seven()));
    for _ in 0..3 {
        assert_eq!(post_json(s.addr, &px).status, 200);
    }
    assert_eq!(post_json(s.addr, "{\"pixels\": [1, 2]}").status, 400);
    assert_eq!(get(s.addr, "/no/such/page").status, 404);
    assert_eq!(get(s.addr, "/healthz").status, 200);
    let r = get(s.addr, "/metrics");
    assert_eq!(r.status, 200);
    assert!(
        r.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        r.content_type
    );
    let t = r.text();
    let count = |route: &str, status: u16| {
        metric(
            &t,
            &format!("digits_http_requests_total{{route=\"{route}\",status=\"{status}\"}}"),
        )
    };
    assert_eq!(count("/api/predict", 200), Some(3.0), "{t}");
    assert_eq!(count("/api/predict", 400), Some(1.0), "{t}");
    assert_eq!(count("unmatched", 404), Some(1.0), "{t}");
    assert_eq!(count("/healthz", 200), Some(1.0), "{t}");
    // This request is the one in flight; it is counted once answered.
    assert_eq!(
        metric(&t, "digits_http_requests_in_flight"),
        Some(1.0),
        "{t}"
    );
    assert_eq!(count("/metrics", 200), None, "{t}");
    assert_eq!(
        metric(&t, "digits_predict_duration_seconds_count"),
        Some(4.0),
        "{t}"
    );
    let sum = metric(&t, "digits_predict_duration_seconds_sum").unwrap();
    assert!(sum > 0.0 && sum < 4.0, "{sum}");
    assert_eq!(
        metric(&t, "digits_predict_duration_seconds_bucket{le=\"+Inf\"}"),
        Some(4.0)
    );
    assert_eq!(
        metric(
            &t,
            "digits_model_info{architecture=\"784-25-15-10 (relu)\",source=\"test model\"}"
        ),
        Some(1.0),
        "{t}"
    );
    assert_eq!(metric(&t, "digits_model_parameters"), Some(20175.0));
    let again = get(s.addr, "/metrics").text();
    assert_eq!(
        metric(
            &again,
            "digits_http_requests_total{route=\"/metrics\",status=\"200\"}"
        ),
        Some(1.0)
    );
}

#[test]
fn metrics_can_be_turned_off() {
    use digits::data::PixelScale;
    use digits::serve::AppState;
    let state = AppState::new(model(), PixelScale::Unit, "m")
        .unwrap()
        .without_metrics();
    let s = start_with(state);
    assert_eq!(
        post_json(s.addr, &pixels_json(&shrink(&seven()))).status,
        200
    );
    let r = get(s.addr, "/metrics");
    assert_eq!(r.status, 404);
    assert!(r.error().contains("--no-metrics"), "{}", r.error());
}

/// `?digits=N` (or N-M): the number read as one of that many digits (this server's digit model
/// cuts the ink: three strokes apart are joined into fewer digits when fewer are asked for, but
/// are too thin to be cut into more); a reading that does not fit gets confidence 0.
#[test]
fn read_takes_the_number_of_digits_and_refuses_a_bad_one() {
    let s = start();
    let three = png(
        &canvas(&[
            &[(0.8, 0.3), (0.8, 0.7)],
            &[(0.2, 0.3), (0.2, 0.7)],
            &[(0.5, 0.3), (0.5, 0.7)],
        ]),
        true,
    );
    let read = |path: &str| request(s.addr, "POST", path, Some("image/png"), &three);
    let untold = read("/api/read").json();
    let confidence = untold["confidence"].as_f64().unwrap();
    assert!(confidence > 0.0, "{untold}");
    for (digits, want) in [("3", confidence), ("2-4", confidence), ("4", 0.0)] {
        let r = read(&format!("/api/read?digits={digits}"));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["text"], untold["text"], "{digits}");
        assert_eq!(r.json()["confidence"].as_f64(), Some(want), "{digits}");
    }
    let fewer = read("/api/read?digits=1-2").json();
    let (text, sure) = (
        fewer["text"].as_str().unwrap(),
        fewer["confidence"].as_f64(),
    );
    assert!((1..=2).contains(&text.len()), "{fewer}");
    assert!(sure.unwrap() > 0.0, "{fewer}");
    assert_eq!(fewer["digits"].as_array().unwrap().len(), text.len());
    for bad in ["x", "0", "4-2"] {
        let r = read(&format!("/api/read?digits={bad}"));
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.error().contains("digits"), "{}", r.text());
    }
}

#[test]
fn read_finds_every_digit_left_to_right_in_either_form() {
    let s = start();
    let read = |ct: &str, body: &[u8]| request(s.addr, "POST", "/api/read", Some(ct), body);
    // Three strokes side by side (the untrained model may read them as anything; the boxes and
    // the text must agree).
    let three = canvas(&[
        &[(0.8, 0.3), (0.8, 0.7)],
        &[(0.2, 0.3), (0.2, 0.7)],
        &[(0.5, 0.3), (0.5, 0.7)],
    ]);
    let r = read("image/png", &png(&three, true));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let digits = v["digits"].as_array().unwrap();
    assert_eq!(digits.len(), 3, "{v}");
    let text: String = digits.iter().map(|d| d["digit"].to_string()).collect();
    assert_eq!(v["text"], text);
    // The number as written (digits only from this reader) and how sure the reader is: the
    // product of the digits' probabilities.
    assert_eq!(v["formatted"], text);
    let product: f64 = digits
        .iter()
        .map(|d| d["probability"].as_f64().unwrap())
        .product();
    let confidence = v["confidence"].as_f64().unwrap();
    assert!((confidence - product).abs() < 1e-5, "{v}");
    assert!(v.get("message").is_none(), "{v}");
    for (d, centre) in digits.iter().zip([56u64, 140, 224]) {
        let b: Vec<u64> = d["box"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert!(
            b[0] <= centre && centre <= b[0] + b[2],
            "{b:?} misses x = {centre}"
        );
        assert!(b[2] <= 30 && (100..=140).contains(&b[3]), "{b:?}");
        let p = d["probability"].as_f64().unwrap();
        assert!(p > 0.0 && p <= 1.0);
    }
    // The same picture as JSON grey levels (light on dark, 0..255) reads the same.
    let levels: Vec<f32> = three.iter().map(|v| (v * 255.0).round()).collect();
    let body = serde_json::json!({"pixels": levels, "width": 280, "height": 280}).to_string();
    let j = read("application/json", body.as_bytes());
    assert_eq!(j.status, 200, "{}", j.text());
    assert_eq!(j.json(), v);
    // 784 values with no size are a 28x28 picture, as /api/predict takes them.
    let small = read("application/json", pixels_json(&shrink(&one())).as_bytes());
    assert_eq!(
        small.json()["digits"].as_array().unwrap().len(),
        1,
        "{}",
        small.text()
    );

    // Blank: not an error, an empty number and a message.
    let blank = read("image/png", &png(&vec![0.0; 280 * 280], false));
    assert_eq!(blank.status, 200, "{}", blank.text());
    let b = blank.json();
    assert_eq!(
        (b["text"].as_str(), b["digits"].as_array().map(Vec::len)),
        (Some(""), Some(0))
    );
    assert!(b["message"].as_str().unwrap().contains("no digit"), "{b}");
    assert_eq!(b["confidence"], 0.0, "{b}");

    // Bad input: clear 4xx JSON errors.
    let check = |r: Response, status: u16, words: &str| {
        assert_eq!(r.status, status, "{}", r.text());
        assert!(r.error().contains(words), "{:?} lacks {words:?}", r.error());
    };
    let wrong = serde_json::json!({"pixels": [0, 1, 2], "width": 2, "height": 2}).to_string();
    check(
        read("application/json", wrong.as_bytes()),
        400,
        "(2x2, row-major), got 3",
    );
    check(
        read("application/json", b"{\"pixels\": [1,"),
        400,
        "malformed JSON",
    );
    check(read("text/plain", b"1704"), 415, "Content-Type");
    check(read("image/png", b"not a png"), 415, "not an image");
    check(read("image/png", b""), 400, "empty body");

    // Counted and timed in /metrics.
    let t = get(s.addr, "/metrics").text();
    let read_ok = "digits_http_requests_total{route=\"/api/read\",status=\"200\"}";
    assert_eq!(metric(&t, read_ok), Some(4.0), "{t}");
    assert_eq!(
        metric(&t, "digits_read_duration_seconds_count"),
        Some(9.0),
        "{t}"
    );
}
