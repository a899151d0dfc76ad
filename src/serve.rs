//! `serve`: one role of the shop in this process, as a Kubernetes Deployment
//! runs it. Each role also has its own binary (`atelier-<role>`, under
//! `src/bin/`) holding that role's code and nothing else, which is what the
//! operator deploys: a process maps only the code it can run.

use crate::{
    Shutdown,
    cli::{AuthArgs, CartArgs, DatabaseArgs, GatewayArgs, OrderArgs, ProductArgs, Role},
    roles,
};
use anyhow::Context as _;
use atelier_runtime::{IdentityKeys, grpc};
use std::time::Duration;

/// Runs `run` with tracing set up under the name `process`, and a shutdown
/// signal that SIGTERM or SIGINT triggers.
pub async fn process<F>(process: &str, run: impl FnOnce(Shutdown) -> F) -> anyhow::Result<()>
where
    F: Future<Output = anyhow::Result<()>>,
{
    let _telemetry = atelier_runtime::telemetry::init(process);
    let shutdown = Shutdown::default();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        atelier_runtime::shutdown_signal().await;
        stop.trigger();
    });
    run(shutdown).await
}

/// Any role, chosen on the command line (`atelier serve <role>`).
pub async fn any(role: Role, shutdown: Shutdown) -> anyhow::Result<()> {
    match role {
        Role::Auth(args) => auth(args, shutdown).await,
        Role::Product(args) => product(args, shutdown).await,
        Role::Cart(args) => cart(args, shutdown).await,
        Role::Order(args) => order(args, shutdown).await,
        Role::Gateway(args) => gateway(args, shutdown).await,
    }
}

pub async fn auth(args: AuthArgs, shutdown: Shutdown) -> anyhow::Result<()> {
    serve_metrics(&args.db, &shutdown);
    let keys = IdentityKeys::from_signing_b64(&args.identity_signing_key).context("ATELIER_IDENTITY_SIGNING_KEY")?;
    roles::run_auth(grpc::bind(args.listen).await?, &args.db.database_url, &keys, shutdown).await
}

pub async fn product(args: ProductArgs, shutdown: Shutdown) -> anyhow::Result<()> {
    serve_metrics(&args.db, &shutdown);
    let keys = verifying_keys(&args.verify.identity_verifying_key)?;
    let ttl = Duration::from_secs_f64(args.reservation_ttl.clamp(0.1, 86_400.0));
    roles::run_product(grpc::bind(args.listen).await?, &args.db.database_url, &keys, ttl, shutdown).await
}

pub async fn cart(args: CartArgs, shutdown: Shutdown) -> anyhow::Result<()> {
    serve_metrics(&args.db, &shutdown);
    let keys = verifying_keys(&args.verify.identity_verifying_key)?;
    roles::run_cart(grpc::bind(args.listen).await?, &args.db.database_url, &keys, &args.product_addr, shutdown).await
}

pub async fn order(args: OrderArgs, shutdown: Shutdown) -> anyhow::Result<()> {
    serve_metrics(&args.db, &shutdown);
    let keys = verifying_keys(&args.verify.identity_verifying_key)?;
    let deps = atelier_order::Dependencies {
        product_addr: &args.product_addr,
        cart_addr: &args.cart_addr,
        service_token: atelier_order::ServiceCredential::Token(args.service_token),
    };
    let abandoned = Duration::from_secs_f64(args.abandoned_checkout_after.clamp(0.1, 86_400.0));
    roles::run_order(grpc::bind(args.listen).await?, &args.db.database_url, &keys, deps, abandoned, shutdown).await
}

/// The gateway serves `/metrics` itself.
pub async fn gateway(args: GatewayArgs, shutdown: Shutdown) -> anyhow::Result<()> {
    if let Some(key) = args.gateway_key {
        atelier_gateway::web::cookie_key::set_from_base64(&key)?;
    }
    let backends = args.backends;
    let config = atelier_gateway::Backends {
        auth: backends.auth_addr,
        product: backends.product_addr,
        cart: backends.cart_addr,
        order: backends.order_addr,
        trusted_proxies: atelier_gateway::proxies::TrustedProxies::parse(&backends.trusted_proxies)
            .context("--trusted-proxies")?,
        credential: args.gateway_token.map(atelier_runtime::identity::ServiceCredential::Token),
    };
    let ops = match args.ops_listen {
        Some(addr) => Some(grpc::bind(addr).await?),
        None => None,
    };
    let drain = Duration::from_secs_f64(args.drain_seconds.clamp(0.0, 60.0));
    atelier_gateway::serve(grpc::bind(args.listen).await?, ops, config, drain, shutdown.wait()).await
}

fn serve_metrics(db: &DatabaseArgs, shutdown: &Shutdown) {
    if let Some(addr) = db.metrics_listen {
        tokio::spawn(atelier_runtime::metrics::serve(addr, shutdown.wait()));
    }
}

fn verifying_keys(key: &str) -> anyhow::Result<IdentityKeys> {
    IdentityKeys::from_verifying_b64(key).context("ATELIER_IDENTITY_VERIFYING_KEY")
}

/// A role's own binary: its command line (the role's flags, as under
/// `atelier serve <role>`) and its `main`.
#[macro_export]
macro_rules! role_binary {
    ($process:literal, $serve:ident($args:ident), $about:literal) => {
        #[derive(Debug, clap::Parser)]
        #[command(name = $process, version, about = $about)]
        struct Cli {
            #[command(flatten)]
            args: $crate::cli::$args,
        }

        #[tokio::main]
        async fn main() -> anyhow::Result<()> {
            let args = <Cli as clap::Parser>::parse().args;
            $crate::serve::process($process, |shutdown| $crate::serve::$serve(args, shutdown)).await
        }
    };
}
