//! The gateway: the web site for shoppers and admins and the JSON API, in
//! front of the four gRPC services. It holds no data of its own.

pub mod api;
mod app;
mod checkout;
mod clients;
mod error;
mod format;
mod hygiene;
mod images;
mod metrics;
mod ops;
mod page_cache;
pub mod proxies;
mod read_cache;
mod session;
mod state;
pub mod web;

pub use clients::{Backends, Clients};
pub use state::AppState;

use axum::{Router, extract::DefaultBodyLimit, http::HeaderValue};
use std::{future::Future, sync::Arc, time::Duration};
use tokio::net::TcpListener;
use tower_http::{set_header::SetResponseHeaderLayer, timeout::TimeoutLayer, trace::TraceLayer};

/// Largest request body accepted (forms and JSON are small).
pub const BODY_LIMIT: usize = 64 * 1024;

const CSP: &str = "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The whole application: web site, JSON API, operations endpoints.
pub fn app(backends: &Backends) -> anyhow::Result<Router> {
    Ok(site(AppState::connect(backends)?, true))
}

/// The web site and the JSON API, with the operations endpoints (`/metrics`,
/// `/healthz`, `/readyz`) unless they are served on a port of their own.
fn site(state: AppState, with_ops: bool) -> Router {
    let (api, mut doc) = api::router().split_for_parts();
    api::document_common_errors(&mut doc);
    let doc = Arc::new(doc);
    let api = api
        .route("/api/v1/openapi.json", axum::routing::get(move || async move { axum::Json(doc.as_ref().clone()) }))
        .method_not_allowed_fallback(api::method_not_allowed);
    let mut router = Router::new().merge(web::router(state.clone())).merge(api);
    if with_ops {
        router = router.merge(ops::router());
    }
    router
        .layer(axum::middleware::from_fn_with_state(state.clone(), page_cache::serve))
        .layer(axum::middleware::from_fn_with_state(state.clone(), page_cache::invalidate))
        .layer(axum::middleware::from_fn_with_state(state.clone(), hygiene::headers))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(http::StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(15)))
        .layer(SetResponseHeaderLayer::if_not_present(
            http::header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            http::header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            http::header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(http::header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(TraceLayer::new_for_http().make_span_with(http_span))
        .with_state(state)
}

/// A server span per request, named by its route, continuing the caller's trace.
fn http_span(request: &http::Request<axum::body::Body>) -> tracing::Span {
    let route = request.extensions().get::<axum::extract::MatchedPath>().map_or("unmatched", |p| p.as_str());
    let span = tracing::info_span!("http", otel.name = %format!("{} {route}", request.method()), otel.kind = "server", http.request.method = %request.method(), http.route = %route, trace_id = tracing::field::Empty);
    atelier_runtime::telemetry::continue_trace(&span, request.headers());
    span
}

/// Serves the gateway until `shutdown` resolves, then for `drain` answers
/// every HTTP/1 request with `Connection: close` (clients on kept-alive
/// connections move to another replica instead of sending a request on a
/// connection being closed), then finishes the requests in flight. With
/// `ops`, the operations endpoints are served there only, so that what the
/// public port (the Ingress) exposes holds no metrics.
pub async fn serve(
    listener: TcpListener,
    ops: Option<TcpListener>,
    backends: Backends,
    drain: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = AppState::connect(&backends)?;
    let draining = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let app = site(state.clone(), ops.is_none())
        .layer(axum::middleware::from_fn_with_state(draining.clone(), close_connections_when_draining));
    let shutdown = futures::FutureExt::shared(Box::pin(shutdown));
    let stop_public = {
        let shutdown = shutdown.clone();
        async move {
            shutdown.await;
            if !drain.is_zero() {
                tracing::info!(?drain, "stopping: answering with Connection: close meanwhile");
                draining.store(true, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(drain).await;
            }
        }
    };
    let ops_server = ops.map(|ops| {
        let router = ops::router().with_state(state);
        let stop = shutdown.clone();
        tokio::spawn(async move {
            tracing::info!(addr = %ops.local_addr()?, "operations endpoints listening");
            axum::serve(ops, router).with_graceful_shutdown(stop).await?;
            anyhow::Ok(())
        })
    });
    tracing::info!(addr = %listener.local_addr()?, "gateway listening");
    // No Nagle delay: a response's last small segment must not wait for an ACK.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(stop_public)
        .await?;
    if let Some(ops) = ops_server {
        ops.await??;
    }
    Ok(())
}

/// While the gateway stops, each HTTP/1 answer closes its connection.
async fn close_connections_when_draining(
    axum::extract::State(draining): axum::extract::State<Arc<std::sync::atomic::AtomicBool>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let http1 = request.version() <= http::Version::HTTP_11;
    let mut response = next.run(request).await;
    if http1 && draining.load(std::sync::atomic::Ordering::Relaxed) {
        response.headers_mut().insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
