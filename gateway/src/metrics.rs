//! HTTP request metrics per route template, into the process-wide registry.

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use std::time::Instant;

/// Middleware: times every request under its route template (never the raw
/// path, which would let clients create unbounded series).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    atelier_runtime::metrics::observe("http", &method, &route, response.status().as_str(), started.elapsed());
    response
}
