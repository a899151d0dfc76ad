//! gRPC clients of the four services. Channels connect lazily and reconnect
//! by themselves; every call has a deadline (see `atelier_runtime::grpc`).

use atelier_proto::{
    auth::auth_service_client::AuthServiceClient, cart::cart_service_client::CartServiceClient,
    order::order_service_client::OrderServiceClient, product::product_service_client::ProductServiceClient,
};
use atelier_runtime::{grpc::TracedChannel, telemetry::Traced};
use std::{future::Future, time::Duration};
use tonic::{Code, Status, service::interceptor::InterceptedService, transport::Channel};

/// Addresses of the four services.
#[derive(Debug, Clone)]
pub struct Backends {
    pub auth: String,
    pub product: String,
    pub cart: String,
    pub order: String,
    /// The proxies in front of the gateway whose forwarding headers it
    /// believes (none: the TCP peer is the client).
    pub trusted_proxies: crate::proxies::TrustedProxies,
    /// The gateway's own service identity: it vouches for the client
    /// addresses the gateway passes to the auth service (without it, the
    /// auth service believes no address).
    pub credential: Option<atelier_runtime::identity::ServiceCredential>,
}

#[derive(Clone)]
pub struct Clients {
    pub auth: AuthServiceClient<TracedChannel>,
    pub product: ProductServiceClient<TracedChannel>,
    pub cart: CartServiceClient<TracedChannel>,
    pub order: OrderServiceClient<TracedChannel>,
    /// The raw channels, for health checks: (name, channel).
    pub channels: Vec<(&'static str, Channel)>,
}

impl Clients {
    pub fn connect(b: &Backends) -> anyhow::Result<Self> {
        use atelier_runtime::grpc::channel;
        let (a, p, c, o) = (channel(&b.auth)?, channel(&b.product)?, channel(&b.cart)?, channel(&b.order)?);
        Ok(Self {
            auth: AuthServiceClient::new(InterceptedService::new(a.clone(), Traced)),
            product: ProductServiceClient::new(InterceptedService::new(p.clone(), Traced)),
            cart: CartServiceClient::new(InterceptedService::new(c.clone(), Traced)),
            order: OrderServiceClient::new(InterceptedService::new(o.clone(), Traced)),
            channels: vec![("auth", a), ("product", p), ("cart", c), ("order", o)],
        })
    }
}

/// Runs an idempotent read, retrying once if the service was unreachable
/// (a restart, a connection being re-established).
pub async fn read_with_retry<T, F, Fut>(call: F) -> Result<T, Status>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    match call().await {
        Err(s) if s.code() == Code::Unavailable => {
            tokio::time::sleep(Duration::from_millis(100)).await;
            call().await.map(tonic::Response::into_inner)
        }
        other => other.map(tonic::Response::into_inner),
    }
}

/// `read!(client, method, request)`: an idempotent call through [`read_with_retry`];
/// `read!(client, method, with make)` when the request carries metadata
/// (a user's identity) and is made afresh for each try by `make()`.
macro_rules! read {
    ($client:expr, $method:ident, with $make:expr) => {{
        let make = $make;
        $crate::clients::read_with_retry(|| {
            let mut client = $client.clone();
            let request = make();
            async move { client.$method(request).await }
        })
        .await
    }};
    ($client:expr, $method:ident, $request:expr) => {{
        let request = $request;
        $crate::clients::read_with_retry(|| {
            let mut client = $client.clone();
            let request = request.clone();
            async move { client.$method(request).await }
        })
        .await
    }};
}
pub(crate) use read;
