//! Response headers that depend on the request: HSTS when the client came
//! over TLS, `no-store` on anything personal, and no cookies on static
//! assets (shared caches must be able to keep them).

use crate::AppState;
use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};

const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Paths whose answers are the same for everybody and may be cached.
fn is_static_asset(path: &str) -> bool {
    path.starts_with("/static/") || path.starts_with("/img/")
}

pub async fn headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let tls = state.proxies.came_over_tls(crate::proxies::peer(request.extensions()), request.headers());
    let asset = is_static_asset(request.uri().path());
    // Logging in answers with a session token, and the form posts that set
    // cookies are personal too.
    let personal =
        !asset && (crate::web::made_as_somebody(request.headers()) || request.uri().path().ends_with("/session"));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if tls {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    if asset {
        headers.remove(header::SET_COOKIE);
    } else if personal || headers.contains_key(header::SET_COOKIE) {
        // Whatever the handler said: a personal answer is never stored.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
