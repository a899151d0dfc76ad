//! `atelier seed`: the default accounts and catalogue, idempotently; and
//! generated data for scale runs.

use crate::roles::DatabaseUrls;
use std::time::{Duration, Instant};

pub struct SeedOptions<'a> {
    pub admin_password: Option<&'a str>,
    pub demo_accounts: bool,
    pub sample_catalog: bool,
    /// How long to wait for the databases to answer (a fresh cluster's
    /// database may still be starting).
    pub wait_for_database: Duration,
}

/// The shortest admin password `--admin-password` accepts.
pub const ADMIN_PASSWORD_MIN_LEN: usize = 12;

/// Migrates both databases and seeds what is missing.
pub async fn seed(auth_url: &str, product_url: &str, options: SeedOptions<'_>) -> anyhow::Result<()> {
    // Bad input fails at once, before any waiting.
    if let Some(p) = options.admin_password
        && p.chars().count() < ADMIN_PASSWORD_MIN_LEN
    {
        anyhow::bail!("the admin password is too short: it needs at least {ADMIN_PASSWORD_MIN_LEN} characters");
    }
    // Seeding signs nothing: throwaway keys satisfy the services' constructors.
    let keys = &atelier_runtime::IdentityKeys::generate();
    let connect_auth =
        atelier_runtime::db::patiently("auth database", || atelier_auth::AuthService::connect(auth_url, keys));
    let auth = tokio::time::timeout(options.wait_for_database, connect_auth)
        .await
        .map_err(|_| anyhow::anyhow!("the auth database did not answer within {:?}", options.wait_for_database))?;
    atelier_auth::seed_accounts(auth.pool(), options.admin_password, options.demo_accounts).await?;
    if options.sample_catalog {
        let connect_product =
            atelier_runtime::db::patiently("product database", || atelier_product::open_database(product_url));
        let product = tokio::time::timeout(options.wait_for_database, connect_product).await.map_err(|_| {
            anyhow::anyhow!("the product database did not answer within {:?}", options.wait_for_database)
        })?;
        atelier_product::seed_catalog(&product).await?;
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
    let product = atelier_product::open_database(&urls.product).await?;
    if amount.products > 0 {
        let started = Instant::now();
        let skus = atelier_product::generate_catalog(&product, amount.products).await?;
        atelier_runtime::db::analyze(&product).await?;
        tracing::info!(products = amount.products, skus, elapsed = ?started.elapsed(), "generated the catalogue");
    }
    if amount.orders > 0 {
        let started = Instant::now();
        let auth = atelier_auth::open_database(&urls.auth).await?;
        let shoppers = atelier_auth::shoppers(&auth).await?;
        let skus = atelier_product::sku_snapshots(&product, 100_000)
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
        atelier_runtime::db::analyze(&orders).await?;
        tracing::info!(orders = amount.orders, elapsed = ?started.elapsed(), "generated the order history");
    }
    Ok(())
}

/// The databases `atelier seed` works on: those given by URL, the others as
/// SQLite files under `--data-dir`, which is created only when one of those
/// files will be opened (the Kubernetes seed Job runs on a read-only root
/// filesystem with every URL it needs given).
pub fn database_urls(args: &crate::cli::SeedArgs) -> anyhow::Result<DatabaseUrls> {
    let defaults = DatabaseUrls::sqlite_in(&args.data_dir);
    let needs_order = args.orders > 0;
    let uses_data_dir = args.auth_database_url.is_none()
        || args.product_database_url.is_none()
        || (needs_order && args.order_database_url.is_none());
    if uses_data_dir {
        std::fs::create_dir_all(&args.data_dir)
            .map_err(|e| anyhow::anyhow!("creating {}: {e}", args.data_dir.display()))?;
    }
    Ok(DatabaseUrls {
        auth: args.auth_database_url.clone().unwrap_or(defaults.auth),
        product: args.product_database_url.clone().unwrap_or(defaults.product),
        order: args.order_database_url.clone().unwrap_or(defaults.order),
        cart: defaults.cart,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser as _;

    fn seed_args(args: &[&str]) -> crate::cli::SeedArgs {
        let cli = Cli::parse_from([&["atelier", "seed"], args].concat());
        let Some(Command::Seed(args)) = cli.command else { panic!("not a seed command") };
        args
    }

    #[test]
    fn with_every_url_given_the_data_dir_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("never-created");
        let data_dir = data_dir.to_str().unwrap();
        let given = ["--auth-database-url", "postgres://a/auth", "--product-database-url", "postgres://a/product"];
        let urls = database_urls(&seed_args(&[&given[..], &["--data-dir", data_dir]].concat())).unwrap();
        assert_eq!((urls.auth.as_str(), urls.product.as_str()), ("postgres://a/auth", "postgres://a/product"));
        assert!(!std::path::Path::new(data_dir).exists(), "a read-only filesystem would have failed the seed");

        // Generating orders without an order URL uses (and creates) the data directory.
        let urls =
            database_urls(&seed_args(&[&given[..], &["--data-dir", data_dir, "--orders", "5"]].concat())).unwrap();
        assert!(urls.order.starts_with("sqlite://") && std::path::Path::new(data_dir).is_dir());
    }
}
