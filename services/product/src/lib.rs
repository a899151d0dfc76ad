//! The product service: the catalogue (products with size/colour variants)
//! and its stock, reserved and released atomically for orders.

mod bulk;
mod cache;
mod catalog;
mod facets;
mod listing;
mod rpc;
mod search;
mod seed;
mod stock;
mod validate;

use atelier_proto::product::product_service_server::ProductServiceServer;
use atelier_runtime::{IdentityKeys, Verifier, db};

pub use bulk::{SkuSnapshot, generate_catalog, sku_snapshots};
pub use seed::{SAMPLE_CATALOG_LEN, seed_catalog};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct ProductService {
    pool: db::Pool,
    verifier: Verifier,
    listings: std::sync::Arc<cache::Listings>,
    index: std::sync::Arc<listing::CatalogueIndex>,
    /// A reservation the order service has not confirmed after this long
    /// expires and its stock goes back.
    reservation_ttl: std::time::Duration,
}

/// Default for the reservation TTL: far longer than any live checkout takes
/// from reserving to confirming, and longer than the order service's own
/// abandoned-checkout recovery, which normally releases first.
pub const RESERVATION_TTL: std::time::Duration = std::time::Duration::from_secs(120);

/// The product database, migrated, without a service around it (for tools
/// such as `atelier seed`, which need no listings in memory).
pub async fn open_database(database_url: &str) -> anyhow::Result<db::Pool> {
    db::connect(database_url, &MIGRATOR).await
}

impl ProductService {
    pub async fn connect(database_url: &str, keys: &IdentityKeys) -> anyhow::Result<Self> {
        let pool = db::connect(database_url, &MIGRATOR).await?;
        atelier_runtime::metrics::register_pool("product", &pool);
        let index = listing::CatalogueIndex::new()?;
        // Built before serving: the first listing should not wait for it.
        index.refresh(&pool, true).await?;
        Ok(Self {
            pool,
            verifier: keys.verifier(),
            listings: Default::default(),
            index: std::sync::Arc::new(index),
            reservation_ttl: RESERVATION_TTL,
        })
    }

    pub fn with_reservation_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.reservation_ttl = ttl;
        self
    }

    /// One expiry pass; how many reservations expired.
    pub async fn expire_reservations_once(&self) -> anyhow::Result<usize> {
        let held_before = atelier_runtime::now_ms() - self.reservation_ttl.as_millis() as i64;
        let (expired, products) = stock::expire(&self.pool, held_before).await?;
        self.stock_moved(&products);
        if expired > 0 {
            atelier_runtime::metrics::count("atelier_reservations_expired_total");
        }
        Ok(expired)
    }

    /// One round of what keeps listings fresh (see [`housekeeping`]).
    pub async fn refresh_listings_once(&self) -> anyhow::Result<()> {
        Ok(self.index.refresh(&self.pool, true).await?)
    }

    /// This replica moved these products' stock: listings show it at once.
    fn stock_moved(&self, products: &[String]) {
        self.index.stock_moved(products);
        self.listings.forget_products(products);
    }

    pub fn pool(&self) -> &db::Pool {
        &self.pool
    }

    pub fn into_server(self) -> ProductServiceServer<Self> {
        ProductServiceServer::new(self)
    }
}

/// The product service's background work, until the process stops:
/// expiring reservations and keeping listings fresh.
pub async fn housekeeping(service: ProductService) {
    tokio::join!(expire_reservations(service.clone()), keep_listings_fresh(service));
}

/// Expires unconfirmed reservations now and then periodically.
async fn expire_reservations(service: ProductService) {
    let every =
        (service.reservation_ttl / 4).clamp(std::time::Duration::from_millis(100), std::time::Duration::from_secs(30));
    loop {
        if let Err(e) = service.expire_reservations_once().await {
            tracing::warn!(error = %e, "reservation expiry pass failed; will retry");
        }
        tokio::time::sleep(every).await;
    }
}

/// Keeps this replica's listings in step with what other replicas (and
/// tools such as `atelier seed`) change, until the process stops: every
/// `cache::MAX_AGE`, or less often when a round takes long on a large
/// catalogue.
async fn keep_listings_fresh(service: ProductService) {
    // Every product's version is re-checked now and then: a catalogue
    // version bump can be lost (it follows the edit's commit).
    const RECHECK_EVERY: u32 = 15;
    for round in 1u32.. {
        let started = std::time::Instant::now();
        if let Err(e) = service.index.refresh(&service.pool, round % RECHECK_EVERY == 0).await {
            tracing::warn!(error = %e, "refreshing the catalogue index failed; will retry");
        }
        tokio::time::sleep(cache::MAX_AGE.max(started.elapsed() * 20)).await;
    }
}

/// Sizes in display order, as stored.
pub const SIZES: [&str; 6] = ["XS", "S", "M", "L", "XL", "XXL"];

pub fn size_name(size: i32) -> Option<&'static str> {
    usize::try_from(size).ok().and_then(|i| i.checked_sub(1)).and_then(|i| SIZES.get(i).copied())
}

pub fn size_value(name: &str) -> i32 {
    SIZES.iter().position(|s| *s == name).map_or(0, |i| i as i32 + 1)
}
