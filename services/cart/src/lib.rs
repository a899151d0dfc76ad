//! The cart service: one cart per user, checked against the catalogue's
//! stock (it asks the product service), changed only by its owner.

mod rpc;
mod store;

use atelier_proto::{
    cart::cart_service_server::CartServiceServer, product::product_service_client::ProductServiceClient,
};
use atelier_runtime::grpc::TracedChannel;
use atelier_runtime::{IdentityKeys, Verifier, db};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Most units of one SKU a cart may hold.
pub const MAX_QUANTITY: i64 = 1000;

/// Guests' bags outlive their identities (30 days) by a day, then go.
const GUEST_BAG_LIFETIME_MS: i64 = 31 * 24 * 3600 * 1000;

/// Hourly, from start-up: bags nobody can reach any more are deleted.
async fn forget_old_guest_bags(pool: db::Pool) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match store::forget_old_guest_bags(&pool, GUEST_BAG_LIFETIME_MS).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(lines = n, "forgot guests' old bags"),
            Err(e) => tracing::warn!(error = %e, "could not forget guests' old bags"),
        }
    }
}

#[derive(Clone)]
pub struct CartService {
    pool: db::Pool,
    verifier: Verifier,
    products: ProductServiceClient<TracedChannel>,
}

impl CartService {
    pub async fn connect(database_url: &str, keys: &IdentityKeys, product_addr: &str) -> anyhow::Result<Self> {
        let pool = db::connect(database_url, &MIGRATOR).await?;
        atelier_runtime::metrics::register_pool("cart", &pool);
        let products = ProductServiceClient::new(atelier_runtime::grpc::traced_channel(product_addr)?);
        tokio::spawn(forget_old_guest_bags(pool.clone()));
        Ok(Self { pool, verifier: keys.verifier(), products })
    }

    pub fn into_server(self) -> CartServiceServer<Self> {
        CartServiceServer::new(self)
    }
}
