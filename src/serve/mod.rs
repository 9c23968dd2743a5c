//! `digits serve`: the drawing page and the JSON prediction API.
//!
//! Routes:
//! - `GET /`: a page with a canvas; draw a digit and see the prediction and its probabilities.
//! - `POST /api/predict`: an image (`image/*` or `application/octet-stream`) or JSON
//!   `{"pixels": [784 numbers in 0..1 or 0..255]}` (28x28, light ink on dark; reframed the
//!   MNIST way unless `"framed": true`, then read as given, like the exported ONNX model) →
//!   `{"digit", "probabilities", "logits"}` (`?debug=1` adds `"preprocessed"`;
//!   `?second_opinion=1`, for a picture, asks the built-in line model too and gives the digit
//!   and probabilities of both models together, the logits staying the digit model's, as
//!   `digits predict --second-opinion` does: `vision::second_opinion`; `?min_confidence=P`
//!   adds `"accepted"`: whether the digit's probability is at least P, the reject option of
//!   `vision::reject`, as `digits predict --min-confidence` gives it). Errors are
//!   `{"error": "..."}`: 400 malformed, 408 body not sent in time, 413 body or picture too
//!   large, 415 not an image, 422 blank or unreadable image, 503 too many pictures at once.
//! - `POST /api/read`: a picture of a number, whole (the drawing page's canvas in number mode):
//!   an image as for `/api/predict`, or JSON `{"pixels": [width * height numbers in 0..1 or
//!   0..255], "width": W, "height": H}` (row-major grey levels, either polarity; 28 x 28 when
//!   the size is not given) → `{"text": "90210", "formatted": "90210", "confidence": 0.97,
//!   "digits": [{"digit", "probability", "box": [x, y, w, h]}, ...]}`, the digits left to
//!   right, boxes in the picture's pixels, as `digits read --json` gives them, read by the
//!   state's `NumberReader`: the one made from the served model (`vision::number_reader`)
//!   unless `with_reader` gave another (`digits serve` gives the built-in number reader). A blank picture is
//!   not an error: 200 with `"text": ""`, `"confidence": 0`, `"digits": []` and a `"message"`.
//!   A picture of several numbers (lines of writing, numbers far apart on a line): the one
//!   holding the most ink as above, and `"numbers"`: each one's reading (and `"accepted"`).
//!   `?min_confidence=P` adds `"accepted"`: whether the confidence is at least P;
//!   `?digits=N` (or `N-M`) reads a number of that many digits (`vision::expect`; a reading
//!   that does not fit has confidence 0). Errors as for `/api/predict` (400, 413, 415, 503).
//! - Without `?min_confidence=`, answers carry `"accepted"` at the server's level
//!   ([`AppState::with_min_confidence`], `digits serve --min-confidence P`), if it has one.
//! - `GET /api/model`: the model's summary, layers and parameter count, and the server's level
//!   (`"min_confidence"`, null without one).
//! - `GET /healthz`: `ok`.
//! - `GET /metrics`: Prometheus metrics (requests by route and status, in flight, prediction
//!   and reading latency, model info; see [`metrics`]).
//!
//! Limits ([`Limits`], flags of `digits serve`), so slow or hostile clients cannot starve the
//! rest (`tests/serve_limits.rs`):
//! - a request's headers must arrive within the request timeout (10 s; else the connection is
//!   closed), and its body within as long again (else 408); idle keep-alive connections close
//!   after it too;
//! - at most 1000 connections are open (fewer under a low `ulimit -n`); one more gets 503;
//! - pictures over 16 megapixels (as their header declares) get 413 before any decoding;
//! - picture work runs on the blocking pool in two lanes: small pictures (up to 1 megapixel,
//!   the drawing page's) on twice the CPUs' slots, else 503; large ones on a few workers with a
//!   short queue, else 503. `/healthz`, `/api/model` and JSON predictions run on the runtime's
//!   threads, which picture work never holds.
//!
//! The server speaks HTTP/1.1 (the header timeout is hyper's HTTP/1 one).
//!
//! Request logs go through `tracing` (target `digits::serve::request`, INFO), quiet unless a
//! subscriber asks for them (`digits serve` reads `RUST_LOG`, e.g. `RUST_LOG=digits=info`).
//!
//! ```no_run
//! use digits::serve::{serve, AppState};
//!
//! let ckpt = digits::default_model::load().unwrap();
//! let state = AppState::new(ckpt.model, ckpt.meta.scale, "built-in model").unwrap();
//! let rt = tokio::runtime::Runtime::new().unwrap();
//! rt.block_on(serve("127.0.0.1:8080".parse().unwrap(), state)).unwrap();
//! ```

mod api;
mod deadline;
mod error;
mod input;
pub mod limits;
mod listen;
pub mod metrics;
mod page;
mod pixels;
mod query;
mod read;
mod server;
mod state;
mod work;

pub use api::{LayerInfo, ModelInfo, Prediction};
pub use error::ApiError;
pub use limits::Limits;
pub use page::INDEX_HTML;
pub use read::{ReadAnswer, NOTHING_FOUND};
pub use server::{bind, router, serve, serve_with_shutdown};
pub use state::{AppState, INPUT_DIM};
