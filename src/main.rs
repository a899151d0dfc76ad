//! `atelier`: every role of the shop in one binary — the whole shop in one
//! process by default, one role with `serve <role>` — and its tools (`seed`,
//! `keys`). Each role also has a binary of its own (`src/bin/`).

use atelier::{
    Shutdown,
    cli::{Cli, Command},
    seed::{Generated, SeedOptions, generate, seed},
};
use atelier_runtime::{IdentityKeys, grpc};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let process = match &cli.command {
        Some(Command::Serve { role }) => format!("atelier-{}", role.name()),
        _ => "atelier".to_string(),
    };
    atelier::serve::process(&process, |shutdown| run(cli, shutdown)).await
}

async fn run(cli: Cli, shutdown: Shutdown) -> anyhow::Result<()> {
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
        Some(Command::Serve { role }) => atelier::serve::any(role, shutdown).await,
    }
}

/// Everything in one process: four services on loopback ports and the web
/// site, on SQLite under the data directory.
async fn embedded(cli: Cli, shutdown: Shutdown) -> anyhow::Result<()> {
    let listener = grpc::bind(cli.listen).await?;
    atelier::embedded::run(listener, &cli.data_dir, shutdown).await
}
