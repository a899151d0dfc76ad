//! The product service: the catalogue (products with size/colour variants)
//! and its stock, reserved and released atomically for orders.

mod bulk;
mod cache;
mod catalog;
mod rpc;
mod seed;
mod stock;
mod terms;
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
    counts: std::sync::Arc<cache::Counts>,
}

impl ProductService {
    pub async fn connect(database_url: &str, keys: &IdentityKeys) -> anyhow::Result<Self> {
        let pool = db::connect(database_url, &MIGRATOR).await?;
        atelier_runtime::metrics::register_pool("product", &pool);
        catalog::backfill_listing_columns(&pool).await?;
        Ok(Self { pool, verifier: keys.verifier(), listings: Default::default(), counts: Default::default() })
    }

    pub fn pool(&self) -> &db::Pool {
        &self.pool
    }

    pub fn into_server(self) -> ProductServiceServer<Self> {
        ProductServiceServer::new(self)
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
