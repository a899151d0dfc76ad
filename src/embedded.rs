//! The embedded default: the whole shop in one process on SQLite.

use crate::{
    Shutdown,
    roles::DatabaseUrls,
    seed::{SeedOptions, seed},
};
use anyhow::Context as _;
use atelier_runtime::IdentityKeys;
use std::path::Path;
use tokio::net::TcpListener;

/// Seeds on first start, starts the four services on loopback ports and
/// serves the web site on `listener` until `shutdown` fires.
pub async fn run(listener: TcpListener, data_dir: &Path, shutdown: Shutdown) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let urls = DatabaseUrls::sqlite_in(data_dir);
    seed(
        &urls.auth,
        &urls.product,
        SeedOptions {
            admin_password: None,
            demo_accounts: true,
            sample_catalog: true,
            wait_for_database: std::time::Duration::from_secs(30),
        },
    )
    .await?;
    // Identities live a minute and sessions are stored: fresh keys per start are fine.
    let keys = IdentityKeys::generate();
    let mut services = crate::start_services(&urls, &keys, &shutdown).await?;
    let backends = atelier_gateway::Backends {
        auth: services.auth.to_string(),
        product: services.product.to_string(),
        cart: services.cart.to_string(),
        order: services.order.to_string(),
        // Served directly: the peer is the client.
        trusted_proxies: Default::default(),
        credential: keys.signer().map(|signer| atelier_runtime::identity::ServiceCredential::minted(signer, "gateway")),
    };
    tracing::info!("Atelier is open at http://{}", listener.local_addr()?);
    tracing::warn!(
        "demo accounts admin/admin123 and demo-client/demo123 can log in: their passwords are published; \
         change them (or run on Kubernetes with seed.demoAccounts: false) before the shop is public"
    );
    let result = atelier_gateway::serve(listener, None, backends, std::time::Duration::ZERO, shutdown.wait()).await;
    shutdown.trigger();
    while let Some(done) = services.tasks.join_next().await {
        done??;
    }
    result
}
