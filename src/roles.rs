//! Starting the services: each on its own listener, stopping gracefully when
//! the shared shutdown signal fires.

use atelier_auth::AuthService;
use atelier_cart::CartService;
use atelier_order::{Dependencies, OrderService, ServiceCredential};
use atelier_product::ProductService;
use atelier_runtime::{IdentityKeys, db, grpc};
use std::{net::SocketAddr, time::Duration};
use tokio::{net::TcpListener, sync::watch, task::JoinSet};

/// A shutdown signal many tasks can wait for.
#[derive(Clone)]
pub struct Shutdown(watch::Sender<bool>);

impl Default for Shutdown {
    fn default() -> Self {
        Self(watch::channel(false).0)
    }
}

impl Shutdown {
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.0.subscribe();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }
}

/// Database URLs of the four services.
#[derive(Debug, Clone)]
pub struct DatabaseUrls {
    pub auth: String,
    pub product: String,
    pub cart: String,
    pub order: String,
}

impl DatabaseUrls {
    pub fn sqlite_in(dir: &std::path::Path) -> Self {
        use atelier_runtime::db::sqlite_url;
        Self {
            auth: sqlite_url(dir, "auth"),
            product: sqlite_url(dir, "product"),
            cart: sqlite_url(dir, "cart"),
            order: sqlite_url(dir, "order"),
        }
    }
}

// Each role serves health at once and its RPCs once its database answers:
// a database that is slower to come up than the services (a fresh node, an
// image pull, initdb) makes them wait as NOT_SERVING, never crash-loop.

pub async fn run_auth(listener: TcpListener, url: &str, keys: &IdentityKeys, shutdown: Shutdown) -> anyhow::Result<()> {
    let (url, keys) = (url.to_string(), keys.clone());
    let service =
        async move { db::patiently("auth database", || AuthService::connect(&url, &keys)).await.into_server() };
    grpc::serve_when_ready(listener, service, shutdown.wait()).await
}

pub async fn run_product(
    listener: TcpListener,
    url: &str,
    keys: &IdentityKeys,
    reservation_ttl: Duration,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let (url, keys) = (url.to_string(), keys.clone());
    let service = async move {
        let service = db::patiently("product database", || ProductService::connect(&url, &keys))
            .await
            .with_reservation_ttl(reservation_ttl);
        let expiry = tokio::spawn(atelier_product::housekeeping(service.clone()));
        (service.into_server(), expiry)
    };
    serve_with_housekeeping(listener, service, shutdown).await
}

/// Serves what `ready` yields once it is ready, with the housekeeping task
/// started alongside it stopped when serving ends.
async fn serve_with_housekeeping<S>(
    listener: TcpListener,
    ready: impl Future<Output = (S, tokio::task::JoinHandle<()>)> + Send + 'static,
    shutdown: Shutdown,
) -> anyhow::Result<()>
where
    S: grpc::GrpcService,
{
    let housekeeping = std::sync::Arc::new(std::sync::Mutex::new(None));
    let slot = housekeeping.clone();
    let service = async move {
        let (service, task) = ready.await;
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        service
    };
    let served = grpc::serve_when_ready(listener, service, shutdown.wait()).await;
    if let Some(task) = housekeeping.lock().unwrap_or_else(|e| e.into_inner()).take() {
        task.abort();
    }
    served
}

pub async fn run_cart(
    listener: TcpListener,
    url: &str,
    keys: &IdentityKeys,
    product_addr: &str,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let (url, keys, product_addr) = (url.to_string(), keys.clone(), product_addr.to_string());
    let service = async move {
        db::patiently("cart database", || CartService::connect(&url, &keys, &product_addr)).await.into_server()
    };
    grpc::serve_when_ready(listener, service, shutdown.wait()).await
}

pub async fn run_order(
    listener: TcpListener,
    url: &str,
    keys: &IdentityKeys,
    deps: Dependencies<'_>,
    abandoned_after: Duration,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let (url, keys) = (url.to_string(), keys.clone());
    let (product_addr, cart_addr, token) =
        (deps.product_addr.to_string(), deps.cart_addr.to_string(), deps.service_token);
    let service = async move {
        let service = db::patiently("order database", || {
            let deps =
                Dependencies { product_addr: &product_addr, cart_addr: &cart_addr, service_token: token.clone() };
            OrderService::connect(&url, &keys, deps)
        })
        .await
        .with_abandoned_after(abandoned_after);
        let recovery = tokio::spawn(atelier_order::recover(service.clone()));
        (service.into_server(), recovery)
    };
    serve_with_housekeeping(listener, service, shutdown).await
}

/// The four services running in this process on loopback ports; dropping
/// this stops them.
pub struct StartedServices {
    pub auth: SocketAddr,
    pub product: SocketAddr,
    pub cart: SocketAddr,
    pub order: SocketAddr,
    pub tasks: JoinSet<anyhow::Result<()>>,
}

async fn loopback() -> anyhow::Result<TcpListener> {
    grpc::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await
}

/// Starts auth, product, cart and order, each over real gRPC on its own
/// loopback port. `keys` must hold the signing key (it mints the order
/// service's token).
pub async fn start_services(
    urls: &DatabaseUrls,
    keys: &IdentityKeys,
    shutdown: &Shutdown,
) -> anyhow::Result<StartedServices> {
    let (a, p, c, o) = (loopback().await?, loopback().await?, loopback().await?, loopback().await?);
    let addrs = (a.local_addr()?, p.local_addr()?, c.local_addr()?, o.local_addr()?);
    let signer = keys.signer().ok_or_else(|| anyhow::anyhow!("signing key needed"))?;
    let service_token = ServiceCredential::minted(signer, "order");
    // Connect (and migrate) before serving, so that a returned shop is usable.
    let auth = AuthService::connect(&urls.auth, keys).await?;
    let product = ProductService::connect(&urls.product, keys).await?;
    let product_addr = addrs.1.to_string();
    let cart = CartService::connect(&urls.cart, keys, &product_addr).await?;
    let deps = Dependencies { product_addr: &product_addr, cart_addr: &addrs.2.to_string(), service_token };
    let order = OrderService::connect(&urls.order, keys, deps).await?;

    let mut tasks = JoinSet::new();
    let stop = shutdown.wait();
    tasks.spawn(async move { grpc::serve(a, auth.into_server(), stop).await });
    let expiry = tokio::spawn(atelier_product::housekeeping(product.clone()));
    let stop = shutdown.wait();
    tasks.spawn(async move {
        let served = grpc::serve(p, product.into_server(), stop).await;
        expiry.abort();
        served
    });
    let stop = shutdown.wait();
    tasks.spawn(async move { grpc::serve(c, cart.into_server(), stop).await });
    let recovery = tokio::spawn(atelier_order::recover(order.clone()));
    let stop = shutdown.clone();
    tasks.spawn(async move {
        let served = grpc::serve(o, order.into_server(), stop.wait()).await;
        recovery.abort();
        served
    });
    Ok(StartedServices { auth: addrs.0, product: addrs.1, cart: addrs.2, order: addrs.3, tasks })
}
