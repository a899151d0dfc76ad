//! The gateway: web site and JSON API in front of the four services.

use std::future::Future;
use tokio::net::TcpListener;

/// Addresses of the four services.
#[derive(Debug, Clone)]
pub struct Backends {
    pub auth: String,
    pub product: String,
    pub cart: String,
    pub order: String,
}

pub async fn serve(listener: TcpListener, backends: Backends, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let _ = (listener, backends);
    shutdown.await;
    Ok(())
}
