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

/// A channel to another service that spreads calls over every address its
/// name resolves to, and follows the name as endpoints come and go.
///
/// On Kubernetes the services are headless, so cluster DNS answers with the
/// ready pods' addresses: each call goes to one of them (power of two
/// choices), new replicas get traffic within one resolution interval, and
/// a pod leaving its Service stops getting calls before it shuts down (its
/// pre-stop delay is longer than the interval). Every call gets a deadline.
pub fn channel(addr: &str) -> anyhow::Result<Channel> {
    let uri: http::Uri = if addr.contains("://") { addr.parse()? } else { format!("http://{addr}").parse()? };
    let host = uri.host().ok_or_else(|| anyhow::anyhow!("{addr}: no host"))?.trim_matches(['[', ']']).to_string();
    let port = uri.port_u16().unwrap_or(80);
    let (channel, changes) = Channel::balance_channel(64);
    tokio::spawn(follow_name(uri, host, port, changes));
    Ok(channel)
}

/// How often a service name is resolved again (cluster DNS caches for 5 s at
/// most; pods leave their Service well before they stop).
const RESOLVE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

fn endpoint(uri: http::Uri) -> Endpoint {
    Endpoint::from(uri)
        .connect_timeout(std::time::Duration::from_secs(2))
        .timeout(std::time::Duration::from_secs(5))
        .tcp_nodelay(true)
}

/// Keeps a balanced channel's endpoints equal to what `host` resolves to.
/// When the name resolves to nothing (no ready pod, a DNS failure), the
/// name itself stays an endpoint, so calls fail fast with "unavailable"
/// instead of waiting for an address; the task ends with the channel.
async fn follow_name(
    origin: http::Uri,
    host: String,
    port: u16,
    changes: tokio::sync::mpsc::Sender<tonic::transport::channel::Change<String, Endpoint>>,
) {
    use std::collections::BTreeSet;
    use tonic::transport::channel::Change;
    let by_name = origin.to_string();
    let mut current: BTreeSet<String> = BTreeSet::new();
    loop {
        let resolved: BTreeSet<String> = match tokio::net::lookup_host((host.as_str(), port)).await {
            Ok(addrs) => addrs.map(|a| a.to_string()).collect(),
            Err(e) => {
                tracing::debug!(%host, error = %e, "cannot resolve");
                BTreeSet::new()
            }
        };
        if resolved.is_empty() && !current.is_empty() {
            // A lookup that fails for a moment (DNS being updated) keeps the
            // endpoints that work: dropping them would fail calls in flight.
            tokio::time::sleep(RESOLVE_EVERY / 10).await;
            if changes.is_closed() {
                return;
            }
            continue;
        }
        let wanted = if resolved.is_empty() { BTreeSet::from([by_name.clone()]) } else { resolved };
        for added in wanted.difference(&current) {
            let uri = if *added == by_name {
                origin.clone()
            } else {
                format!("http://{added}").parse().expect("an address is a URI")
            };
            // The origin keeps the service's name in `:authority`.
            if changes.send(Change::Insert(added.clone(), endpoint(uri).origin(origin.clone()))).await.is_err() {
                return;
            }
        }
        for removed in current.difference(&wanted) {
            if changes.send(Change::Remove(removed.clone())).await.is_err() {
                return;
            }
        }
        // A name that resolves to nothing yet (a pod's first instant, DNS
        // catching up) is asked again soon.
        let next = if wanted.contains(&by_name) { RESOLVE_EVERY / 10 } else { RESOLVE_EVERY };
        current = wanted;
        tokio::time::sleep(next).await;
        if changes.is_closed() {
            return;
        }
    }
}
