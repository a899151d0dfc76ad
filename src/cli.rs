//! Command-line interface: flags, each with an environment variable.

use clap::{Args, Parser, Subcommand};
use std::{net::SocketAddr, path::PathBuf};

/// Atelier, an online clothing store.
///
/// With no command, runs the whole shop in one process on SQLite files under
/// --data-dir, seeded with the demo accounts and catalogue on first start.
#[derive(Debug, Parser)]
#[command(name = "atelier", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Where the web site listens (embedded mode).
    #[arg(long, env = "ATELIER_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Directory of the SQLite databases (embedded mode); created if missing.
    #[arg(long, env = "ATELIER_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one role of the shop (as each Kubernetes Deployment does).
    Serve {
        #[command(subcommand)]
        role: Role,
    },
    /// Create the database schemas and the default accounts and catalogue.
    /// Idempotent: what exists is left alone.
    Seed(SeedArgs),
    /// Print a new identity key pair and the order service's token, as
    /// environment variables for `atelier serve`.
    Keys,
}

#[derive(Debug, Subcommand)]
pub enum Role {
    /// Users, passwords, sessions and roles (signs identities).
    Auth(AuthArgs),
    /// The catalogue and its stock.
    Product(ProductArgs),
    /// Shopping carts.
    Cart(CartArgs),
    /// Checkout and the order life cycle.
    Order(OrderArgs),
    /// The web site and JSON API.
    Gateway(GatewayArgs),
}

impl Role {
    pub fn name(&self) -> &'static str {
        match self {
            Role::Auth(_) => "auth",
            Role::Product(_) => "product",
            Role::Cart(_) => "cart",
            Role::Order(_) => "order",
            Role::Gateway(_) => "gateway",
        }
    }
}

/// Users, passwords, sessions and roles (signs identities).
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// gRPC listen address.
    #[arg(long, env = "ATELIER_LISTEN", default_value = "0.0.0.0:50051")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Base64url Ed25519 seed that signs identity tokens (secret).
    #[arg(long, env = "ATELIER_IDENTITY_SIGNING_KEY", hide_env_values = true)]
    pub identity_signing_key: String,
}

/// The catalogue and its stock.
#[derive(Debug, Args)]
pub struct ProductArgs {
    /// gRPC listen address.
    #[arg(long, env = "ATELIER_LISTEN", default_value = "0.0.0.0:50052")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// Seconds a stock reservation stays held without the order service
    /// confirming it; then its stock goes back.
    #[arg(long, env = "ATELIER_RESERVATION_TTL", default_value_t = 120.0)]
    pub reservation_ttl: f64,
}

/// Shopping carts.
#[derive(Debug, Args)]
pub struct CartArgs {
    /// gRPC listen address.
    #[arg(long, env = "ATELIER_LISTEN", default_value = "0.0.0.0:50053")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// Address of the product service.
    #[arg(long, env = "ATELIER_PRODUCT_ADDR", default_value = "127.0.0.1:50052")]
    pub product_addr: String,
}

/// Checkout and the order life cycle.
#[derive(Debug, Args)]
pub struct OrderArgs {
    /// gRPC listen address.
    #[arg(long, env = "ATELIER_LISTEN", default_value = "0.0.0.0:50054")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// Address of the product service.
    #[arg(long, env = "ATELIER_PRODUCT_ADDR", default_value = "127.0.0.1:50052")]
    pub product_addr: String,
    /// Address of the cart service.
    #[arg(long, env = "ATELIER_CART_ADDR", default_value = "127.0.0.1:50053")]
    pub cart_addr: String,
    /// The order service's own identity token (from `atelier keys`; secret).
    #[arg(long, env = "ATELIER_SERVICE_TOKEN", hide_env_values = true)]
    pub service_token: String,
    /// Seconds after which an unfinished checkout counts as abandoned and
    /// its reserved stock is released.
    #[arg(long, env = "ATELIER_ABANDONED_CHECKOUT_AFTER", default_value_t = 60.0)]
    pub abandoned_checkout_after: f64,
}

/// The web site and JSON API.
#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// HTTP listen address.
    #[arg(long, env = "ATELIER_LISTEN", default_value = "0.0.0.0:3000")]
    pub listen: SocketAddr,
    /// Serve /metrics, /healthz and /readyz here only (not on the public
    /// port); default: on the public port.
    #[arg(long, env = "ATELIER_OPS_LISTEN")]
    pub ops_listen: Option<SocketAddr>,
    #[command(flatten)]
    pub backends: BackendArgs,
    /// Base64 key (32+ bytes) that signs the gateway's cookies; every
    /// replica needs the same one (secret). Without it: a random key.
    #[arg(long, env = "ATELIER_GATEWAY_KEY", hide_env_values = true)]
    pub gateway_key: Option<String>,
    /// The gateway's service token (from `atelier keys`; secret): the
    /// auth service believes client addresses only from it.
    #[arg(long, env = "ATELIER_GATEWAY_TOKEN", hide_env_values = true)]
    pub gateway_token: Option<String>,
    /// After the stop signal, keep serving this many seconds, answering
    /// with `Connection: close`, so that clients on kept-alive
    /// connections move to another replica before this one closes them.
    #[arg(long, env = "ATELIER_DRAIN_SECONDS", default_value_t = 0.0)]
    pub drain_seconds: f64,
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// postgres://user:password@host/db or sqlite://path?mode=rwc (secret).
    #[arg(long, env = "ATELIER_DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// Where to serve `GET /metrics` (Prometheus text); off when not set.
    #[arg(long, env = "ATELIER_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Base64url Ed25519 public key that checks identity tokens.
    #[arg(long, env = "ATELIER_IDENTITY_VERIFYING_KEY")]
    pub identity_verifying_key: String,
}

#[derive(Debug, Args)]
pub struct BackendArgs {
    #[arg(long, env = "ATELIER_AUTH_ADDR", default_value = "127.0.0.1:50051")]
    pub auth_addr: String,
    #[arg(long, env = "ATELIER_PRODUCT_ADDR", default_value = "127.0.0.1:50052")]
    pub product_addr: String,
    #[arg(long, env = "ATELIER_CART_ADDR", default_value = "127.0.0.1:50053")]
    pub cart_addr: String,
    #[arg(long, env = "ATELIER_ORDER_ADDR", default_value = "127.0.0.1:50054")]
    pub order_addr: String,
    /// Comma-separated CIDRs of the proxies in front of the gateway (the
    /// ingress controller) whose X-Forwarded-For/-Proto are believed; the
    /// client is the right-most hop outside them. Empty: nobody's.
    #[arg(long, env = "ATELIER_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Auth database (secret); default: the SQLite file under --data-dir.
    #[arg(long, env = "ATELIER_AUTH_DATABASE_URL", hide_env_values = true)]
    pub auth_database_url: Option<String>,
    /// Product database (secret); default: the SQLite file under --data-dir.
    #[arg(long, env = "ATELIER_PRODUCT_DATABASE_URL", hide_env_values = true)]
    pub product_database_url: Option<String>,
    /// Order database, for --orders (secret); default: the SQLite file under --data-dir.
    #[arg(long, env = "ATELIER_ORDER_DATABASE_URL", hide_env_values = true)]
    pub order_database_url: Option<String>,
    /// Where the embedded shop keeps its SQLite files, for databases not given by URL.
    #[arg(long, env = "ATELIER_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Password for the `admin` account instead of the demo one (secret).
    #[arg(long, env = "ATELIER_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Seconds to wait for the databases to answer before giving up.
    #[arg(long, env = "ATELIER_WAIT_FOR_DATABASE", default_value_t = 300, value_name = "SECONDS")]
    pub wait_for_database: u64,
    /// Do not create the demo-client account.
    #[arg(long, env = "ATELIER_NO_DEMO_ACCOUNTS")]
    pub no_demo_accounts: bool,
    /// Do not create the sample catalogue.
    #[arg(long, env = "ATELIER_NO_SAMPLE_CATALOG")]
    pub no_sample_catalog: bool,
    /// Scale runs: also generate N products of five SKUs each (idempotent).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub products: usize,
    /// Scale runs: also generate M orders of past years for the shoppers (idempotent).
    #[arg(long, default_value_t = 0, value_name = "M")]
    pub orders: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
