//! Pages every anonymous visitor sees alike (the home page, the catalogue,
//! the JSON product list) kept in memory for a moment: under load, one
//! rendering serves many visitors. Any change made through this gateway
//! (any request that is not GET or HEAD) empties it at once; changes made
//! elsewhere (another replica, the order service's recovery) show within
//! the time to live. Signed-in shoppers, and pages carrying a form token or a
//! flash message, are never cached. Carts and checkout always read live stock.

use crate::state::AppState;
use axum::{
    body::{Body, Bytes, HttpBody as _, to_bytes},
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// `ATELIER_PAGE_CACHE_MS`: how long a cached page lives (0 turns caching off).
pub const TTL_VARIABLE: &str = "ATELIER_PAGE_CACHE_MS";
const DEFAULT_TTL: Duration = Duration::from_millis(1_000);
const MAX_ENTRIES: usize = 1_024;
/// Pages larger than this are not kept.
const MAX_PAGE: usize = 512 * 1024;

/// How long pages (and the reads behind them, see [`crate::read_cache`]) live.
pub fn ttl_from_env() -> Duration {
    std::env::var(TTL_VARIABLE)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_TTL, Duration::from_millis)
}

pub struct PageCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, HeaderValue, Bytes)>>,
}

impl PageCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::default() }
    }

    fn get(&self, key: &str) -> Option<(HeaderValue, Bytes)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).filter(|(at, ..)| at.elapsed() < self.ttl).map(|(_, t, b)| (t.clone(), b.clone()))
    }

    fn put(&self, key: String, content_type: HeaderValue, body: Bytes) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, ..)| at.elapsed() < self.ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), content_type, body));
    }

    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// The routes whose anonymous responses are alike for everyone.
const CACHEABLE: &[&str] = &["/", "/products", "/api/v1/products"];

/// True when the response cannot depend on who asks.
fn anonymous(request: &Request) -> bool {
    // A flash message is shown once, to this visitor only.
    let headers = request.headers();
    !crate::web::made_as_somebody(headers) && !crate::web::carries_cookie(headers, crate::web::FLASH_COOKIE)
}

/// Serves a cacheable route from the cache, or renders and keeps it.
pub async fn serve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let cacheable = state.pages.ttl > Duration::ZERO
        && request.method() == http::Method::GET
        && CACHEABLE.contains(&request.uri().path())
        && anonymous(&request);
    if !cacheable {
        return next.run(request).await;
    }
    let key = request.uri().to_string();
    if let Some((content_type, body)) = state.pages.get(&key) {
        let mut response = Response::new(Body::from(body));
        response.headers_mut().insert(header::CONTENT_TYPE, content_type);
        return response;
    }
    let response = next.run(request).await;
    // Only the page is kept: cookies set for this visitor go to this visitor.
    let keep = response.status() == StatusCode::OK
        && response.body().size_hint().exact().is_some_and(|n| n <= MAX_PAGE as u64);
    let Some(content_type) = response.headers().get(header::CONTENT_TYPE).cloned().filter(|_| keep) else {
        return response;
    };
    let (parts, body) = response.into_parts();
    match to_bytes(body, MAX_PAGE).await {
        Ok(bytes) => {
            state.pages.put(key, content_type, bytes.clone());
            Response::from_parts(parts, Body::from(bytes))
        }
        // Unreachable for a body of known size; answer rather than guess.
        Err(_) => Response::from_parts(parts, Body::from("This page could not be shown; please reload.")),
    }
}

/// Empties the cache (and the read cache) after any request that may have
/// changed something: not OPTIONS, nor a method nothing here serves.
pub async fn invalidate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    use http::Method;
    let changes = [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(request.method());
    let response = next.run(request).await;
    if changes {
        state.pages.clear();
        state.reads.clear();
    }
    response
}
