//! Serving one gRPC service the Atelier way: with the standard health
//! service, server reflection and graceful shutdown.

use std::{convert::Infallible, future::Future, net::SocketAddr};
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::{
    body::Body,
    server::NamedService,
    transport::{Channel, Endpoint, Server},
};
use tower::Service;
use tower_http::classify::{GrpcCode, GrpcErrorsAsFailures, SharedClassifier};

/// Runs `service` on `listener` until `shutdown` resolves, then finishes the
/// calls in flight.
pub async fn serve<S>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter.set_serving::<S>().await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(atelier_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    tracing::info!(service = S::NAME, addr = %listener.local_addr()?, "gRPC server listening");
    Server::builder()
        .layer(
            tower_http::trace::TraceLayer::new(business_outcomes_succeed())
                .make_span_with(crate::telemetry::grpc_server_span),
        )
        .layer(crate::metrics::RecordRpcs)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(service)
        // No Nagle delay: a small response frame must not wait for an ACK.
        .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), shutdown)
        .await?;
    Ok(())
}

/// Refusals that are answers (not found, out of stock, bad input…) are not
/// logged as failures; only what points at a fault (internal, unavailable,
/// unknown, deadline…) is.
fn business_outcomes_succeed() -> SharedClassifier<GrpcErrorsAsFailures> {
    use GrpcCode::*;
    let answers = [
        Cancelled,
        InvalidArgument,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        ResourceExhausted,
        FailedPrecondition,
        Aborted,
        OutOfRange,
        Unauthenticated,
    ];
    SharedClassifier::new(answers.into_iter().fold(GrpcErrorsAsFailures::new(), |c, code| c.with_success(code)))
}

/// Binds a listener, with the address in the error when it fails.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}

/// A channel whose calls carry the caller's trace context.
pub type TracedChannel = tonic::service::interceptor::InterceptedService<Channel, crate::telemetry::Traced>;

/// [`channel`], with trace propagation.
pub fn traced_channel(addr: &str) -> anyhow::Result<TracedChannel> {
    Ok(tonic::service::interceptor::InterceptedService::new(channel(addr)?, crate::telemetry::Traced))
}

/// A lazily connecting channel to another service: tonic reconnects by
/// itself, so no periodic re-dialing is needed. Every call gets a deadline.
pub fn channel(addr: &str) -> anyhow::Result<Channel> {
    let uri = if addr.contains("://") { addr.to_string() } else { format!("http://{addr}") };
    Ok(Endpoint::from_shared(uri)?
        .connect_timeout(std::time::Duration::from_secs(2))
        .timeout(std::time::Duration::from_secs(5))
        .tcp_nodelay(true)
        .connect_lazy())
}
