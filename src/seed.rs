//! `atelier seed`: the default accounts and catalogue, idempotently.

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
