//! Serving one gRPC service the Atelier way: with the standard health
//! service, server reflection and graceful shutdown.

use std::{
    convert::Infallible,
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, OnceLock},
};
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::{
    body::Body,
    server::NamedService,
    transport::{Channel, Endpoint, Server},
};
use tonic_health::ServingStatus;
use tower::Service;
use tower_http::classify::{GrpcCode, GrpcErrorsAsFailures, SharedClassifier};

/// The health service name that answers SERVING while the process runs,
/// whatever its database does: the liveness probe asks for it, so a database
/// outage makes pods unready, never restarts them.
pub const LIVENESS: &str = "atelier.liveness";

/// A generated tonic server, as `Server::add_service` takes it.
pub trait GrpcService:
    Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible, Future: Send + 'static>
    + NamedService
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> GrpcService for S where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible, Future: Send + 'static>
        + NamedService
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// Runs `service` on `listener` until `shutdown` resolves, then finishes the
/// calls in flight.
pub async fn serve<S>(
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()>
where
    S: GrpcService,
{
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_service_status(LIVENESS, ServingStatus::Serving).await;
    health.set_serving::<S>().await;
    let deferred = Deferred::<S>::default();
    let _ = deferred.inner.set(service);
    run(listener, health_service, deferred, shutdown).await
}

/// Serves at once, but answers `UNAVAILABLE` (and health `NOT_SERVING`)
/// until `service` resolves — typically once its database is reachable. The
/// process is up and probe-able while it waits, however long that takes.
pub async fn serve_when_ready<S>(
    listener: TcpListener,
    service: impl Future<Output = S> + Send + 'static,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()>
where
    S: GrpcService,
{
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_service_status(LIVENESS, ServingStatus::Serving).await;
    health.set_service_status("", ServingStatus::NotServing).await;
    health.set_not_serving::<S>().await;
    let deferred = Deferred::<S>::default();
    let slot = deferred.inner.clone();
    let becoming_ready = tokio::spawn(async move {
        let service = service.await;
        let _ = slot.set(service);
        health.set_serving::<S>().await;
        health.set_service_status("", ServingStatus::Serving).await;
        tracing::info!(service = S::NAME, "serving");
    });
    let served = run(listener, health_service, deferred, shutdown).await;
    becoming_ready.abort();
    served
}

/// Serves health, reflection and `service` with Atelier's layers until
/// `shutdown` resolves.
async fn run<S>(
    listener: TcpListener,
    health_service: tonic_health::pb::health_server::HealthServer<impl tonic_health::pb::health_server::Health>,
    service: Deferred<S>,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()>
where
    S: GrpcService,
{
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

/// A service that answers `UNAVAILABLE` until its inner service is set.
struct Deferred<S> {
    inner: Arc<OnceLock<S>>,
}

impl<S> Default for Deferred<S> {
    fn default() -> Self {
        Self { inner: Arc::default() }
    }
}

impl<S> Clone for Deferred<S> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<S: NamedService> NamedService for Deferred<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<Body>> for Deferred<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        // tonic's generated servers are always ready.
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        match self.inner.get() {
            Some(service) => {
                let mut service = service.clone();
                Box::pin(async move { service.call(request).await })
            }
            None => {
                let status = tonic::Status::unavailable("starting: waiting for the database");
                Box::pin(std::future::ready(Ok(status.into_http())))
            }
        }
    }
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
