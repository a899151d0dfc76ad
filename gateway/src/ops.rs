//! Liveness, readiness and metrics.

use crate::state::AppState;
use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ready" }))
        .route("/readyz/dependencies", get(dependencies))
        .route("/metrics", get(metrics))
}

// `/readyz` is the gateway's own readiness: it answers as soon as the gateway
// can serve pages. It does not follow the services: with one of them down the
// gateway still serves everything that does not need it (the catalogue
// without the cart), so taking every gateway out of its Service would turn a
// partial outage into a full one. The services' states are reported apart.

/// 200 when all four services answer their health check, 503 otherwise,
/// with each service's state.
async fn dependencies(State(state): State<AppState>) -> impl IntoResponse {
    let checks = state.clients.channels.iter().map(|(name, channel)| {
        let mut client = HealthClient::new(channel.clone());
        async move {
            let mut request = tonic::Request::new(HealthCheckRequest { service: String::new() });
            request.set_timeout(std::time::Duration::from_secs(1));
            let ok = client.check(request).await.is_ok_and(|r| r.into_inner().status() == ServingStatus::Serving);
            (*name, ok)
        }
    });
    let results = futures::future::join_all(checks).await;
    let ready = results.iter().all(|(_, ok)| *ok);
    let body: serde_json::Map<String, serde_json::Value> = results
        .into_iter()
        .map(|(n, ok)| (n.to_string(), serde_json::Value::from(if ok { "ok" } else { "unavailable" })))
        .collect();
    (if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}

async fn metrics() -> impl IntoResponse {
    ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], atelier_runtime::metrics::render())
}
