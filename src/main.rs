//! `atelier`: one binary, every role of the shop.

use anyhow::Context as _;
use atelier::{
    Shutdown,
    cli::{Cli, Command, Role},
    roles,
    seed::{Generated, SeedOptions, generate, seed},
};
use atelier_order::Dependencies;
use atelier_runtime::{IdentityKeys, grpc, shutdown_signal};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let process = match &cli.command {
        Some(Command::Serve { role }) => format!("atelier-{}", role.name()),
        _ => "atelier".to_string(),
    };
    let _telemetry = atelier_runtime::telemetry::init(&process);
    let shutdown = Shutdown::default();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.trigger();
    });
    match cli.command {
        None => embedded(cli, shutdown).await,
        Some(Command::Keys) => {
            let keys = IdentityKeys::generate();
            println!("ATELIER_IDENTITY_SIGNING_KEY={}", keys.signing_key_b64().unwrap_or_default());
            println!("ATELIER_IDENTITY_VERIFYING_KEY={}", keys.verifying_key_b64());
            println!("ATELIER_SERVICE_TOKEN={}", keys.signer().map(|s| s.service_token("order")).unwrap_or_default());
            println!("ATELIER_GATEWAY_TOKEN={}", keys.signer().map(|s| s.service_token("gateway")).unwrap_or_default());
            Ok(())
        }
        Some(Command::Seed(args)) => {
            let options = SeedOptions {
                admin_password: args.admin_password.as_deref(),
                demo_accounts: !args.no_demo_accounts,
                sample_catalog: !args.no_sample_catalog,
                wait_for_database: std::time::Duration::from_secs(args.wait_for_database),
            };
            let urls = atelier::seed::database_urls(&args)?;
            seed(&urls.auth, &urls.product, options).await?;
            generate(&urls, Generated { products: args.products, orders: args.orders }).await
        }
        Some(Command::Serve { role }) => serve(role, shutdown).await,
    }
}

async fn serve(role: Role, shutdown: Shutdown) -> anyhow::Result<()> {
    let metrics = match &role {
        Role::Auth { db, .. } | Role::Product { db, .. } | Role::Cart { db, .. } | Role::Order { db, .. } => {
            db.metrics_listen
        }
        Role::Gateway { .. } => None, // the gateway serves /metrics itself
    };
    if let Some(addr) = metrics {
        tokio::spawn(atelier_runtime::metrics::serve(addr, shutdown.wait()));
    }
    let verify_keys = |key: &str| IdentityKeys::from_verifying_b64(key).context("ATELIER_IDENTITY_VERIFYING_KEY");
    match role {
        Role::Auth { listen, db, identity_signing_key } => {
            let keys = IdentityKeys::from_signing_b64(&identity_signing_key).context("ATELIER_IDENTITY_SIGNING_KEY")?;
            roles::run_auth(grpc::bind(listen).await?, &db.database_url, &keys, shutdown).await
        }
        Role::Product { listen, db, verify, reservation_ttl } => {
            roles::run_product(
                grpc::bind(listen).await?,
                &db.database_url,
                &verify_keys(&verify.identity_verifying_key)?,
                std::time::Duration::from_secs_f64(reservation_ttl.clamp(0.1, 86_400.0)),
                shutdown,
            )
            .await
        }
        Role::Cart { listen, db, verify, product_addr } => {
            let keys = verify_keys(&verify.identity_verifying_key)?;
            roles::run_cart(grpc::bind(listen).await?, &db.database_url, &keys, &product_addr, shutdown).await
        }
        Role::Order { listen, db, verify, product_addr, cart_addr, service_token, abandoned_checkout_after } => {
            let keys = verify_keys(&verify.identity_verifying_key)?;
            let service_token = atelier_order::ServiceCredential::Token(service_token);
            let deps = Dependencies { product_addr: &product_addr, cart_addr: &cart_addr, service_token };
            let abandoned = std::time::Duration::from_secs_f64(abandoned_checkout_after.clamp(0.1, 86_400.0));
            roles::run_order(grpc::bind(listen).await?, &db.database_url, &keys, deps, abandoned, shutdown).await
        }
        Role::Gateway { listen, ops_listen, backends, gateway_key, gateway_token, drain_seconds } => {
            if let Some(key) = gateway_key {
                atelier_gateway::web::cookie_key::set_from_base64(&key)?;
            }
            let config = atelier_gateway::Backends {
                auth: backends.auth_addr,
                product: backends.product_addr,
                cart: backends.cart_addr,
                order: backends.order_addr,
                trusted_proxies: atelier_gateway::proxies::TrustedProxies::parse(&backends.trusted_proxies)
                    .context("--trusted-proxies")?,
                credential: gateway_token.map(atelier_runtime::identity::ServiceCredential::Token),
            };
            let ops = match ops_listen {
                Some(addr) => Some(grpc::bind(addr).await?),
                None => None,
            };
            let drain = std::time::Duration::from_secs_f64(drain_seconds.clamp(0.0, 60.0));
            atelier_gateway::serve(grpc::bind(listen).await?, ops, config, drain, shutdown.wait()).await
        }
    }
}

/// Everything in one process: four services on loopback ports and the web
/// site, on SQLite under the data directory.
async fn embedded(cli: Cli, shutdown: Shutdown) -> anyhow::Result<()> {
    let listener = grpc::bind(cli.listen).await?;
    atelier::embedded::run(listener, &cli.data_dir, shutdown).await
}
