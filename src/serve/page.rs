//! The drawing page, embedded in the binary (no files or CDNs needed at run time).

use axum::response::Html;

pub const INDEX_HTML: &str = include_str!("index.html");

pub async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}
