//! `atelier seed`: the default accounts and catalogue, idempotently; and
//! generated data for scale runs.

use crate::roles::DatabaseUrls;
use std::time::Instant;

pub struct SeedOptions<'a> {
    pub admin_password: Option<&'a str>,
    pub demo_accounts: bool,
    pub sample_catalog: bool,
}

/// Migrates both databases and seeds what is missing.
pub async fn seed(auth_url: &str, product_url: &str, options: SeedOptions<'_>) -> anyhow::Result<()> {
    // Seeding signs nothing: throwaway keys satisfy the services' constructors.
    let keys = &atelier_runtime::IdentityKeys::generate();
    let auth = atelier_auth::AuthService::connect(auth_url, keys).await?;
    atelier_auth::seed_accounts(auth.pool(), options.admin_password, options.demo_accounts).await?;
    if options.sample_catalog {
        let product = atelier_product::ProductService::connect(product_url, keys).await?;
        atelier_product::seed_catalog(product.pool()).await?;
    }
    Ok(())
}

/// How much generated data a scale run asks for.
pub struct Generated {
    pub products: usize,
    pub orders: usize,
}

/// Adds the generated catalogue and order history (`--products`, `--orders`).
pub async fn generate(urls: &DatabaseUrls, amount: Generated) -> anyhow::Result<()> {
    let keys = &atelier_runtime::IdentityKeys::generate();
    let product = atelier_product::ProductService::connect(&urls.product, keys).await?;
    if amount.products > 0 {
        let started = Instant::now();
        let skus = atelier_product::generate_catalog(product.pool(), amount.products).await?;
        tracing::info!(products = amount.products, skus, elapsed = ?started.elapsed(), "generated the catalogue");
    }
    if amount.orders > 0 {
        let started = Instant::now();
        let auth = atelier_auth::open_database(&urls.auth).await?;
        let shoppers = atelier_auth::shoppers(&auth).await?;
        let skus = atelier_product::sku_snapshots(product.pool(), 100_000)
            .await?
            .into_iter()
            .map(|s| atelier_order::LineTemplate {
                code: s.code,
                product_id: s.product_id,
                product_name: s.product_name,
                size: s.size,
                color: s.color,
                unit_price_cents: s.price_cents,
            })
            .collect::<Vec<_>>();
        let orders = atelier_order::open_database(&urls.order).await?;
        atelier_order::generate_orders(&orders, amount.orders, &shoppers, &skus).await?;
        tracing::info!(orders = amount.orders, elapsed = ?started.elapsed(), "generated the order history");
    }
    Ok(())
}
