//! The request body's deadline: the whole body must arrive within the request timeout of its
//! headers, or the request is answered 408 and the connection closed. (Hyper bounds the
//! headers themselves; see `listen`.) The body is read here, up to `MAX_BODY_BYTES`, so the
//! handlers' own extraction of it is instant.

use super::error::ApiError;
use super::limits::MAX_BODY_BYTES;
use super::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::sync::Arc;

pub async fn read_body_in_time(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let timeout = state.limits.request_timeout;
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, MAX_BODY_BYTES);
    match tokio::time::timeout(timeout, body.collect()).await {
        Ok(Ok(collected)) => {
            let body = Body::from(collected.to_bytes());
            next.run(Request::from_parts(parts, body)).await
        }
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            closing(ApiError::body_too_large())
        }
        Ok(Err(e)) => closing(ApiError::bad_request(format!(
            "could not read the request body: {e}"
        ))),
        Err(_) => closing(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "request body not received within {} s (--request-timeout)",
                timeout.as_secs_f64()
            ),
        )),
    }
}

/// The error, with `Connection: close`: the rest of the body is not worth waiting for.
fn closing(e: ApiError) -> Response {
    let mut r = e.into_response();
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}
