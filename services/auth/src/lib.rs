//! The auth service: users, argon2id passwords, revocable sessions, roles,
//! and the signing of identity tokens for the other services.

mod addresses;
mod password;
mod rpc;
mod seed;
mod store;
mod throttle;
mod validate;

use atelier_proto::auth::auth_service_server::AuthServiceServer;
use atelier_runtime::{IdentityKeys, Signer, Verifier, db};

pub use seed::{DEMO_ACCOUNTS, seed_accounts, shoppers};

/// Metadata key the gateway uses to pass the shopper's address (for login limits).
pub const CLIENT_ADDRESS_HEADER: &str = "x-atelier-client-address";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Opens the auth database and brings its schema up to date.
pub async fn open_database(database_url: &str) -> anyhow::Result<db::Pool> {
    db::connect(database_url, &MIGRATOR).await
}

/// How long a login lasts.
pub const SESSION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
/// How long a signed identity is valid. The gateway asks for a fresh one on
/// every request, so a revoked session stops at once there; an identity
/// already handed out lives at most this long inside the cluster.
pub const IDENTITY_TTL_MS: i64 = 60 * 1000;
/// How long a visitor's bag lasts without signing in.
pub const GUEST_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

#[derive(Clone)]
pub struct AuthService {
    pool: db::Pool,
    signer: Signer,
    verifier: Verifier,
    throttle: std::sync::Arc<throttle::LoginThrottle>,
    /// Wrong current passwords on a password change, per account.
    password_changes: std::sync::Arc<throttle::LoginThrottle>,
}

impl AuthService {
    /// Connects to the database and runs the migrations.
    pub async fn connect(database_url: &str, keys: &IdentityKeys) -> anyhow::Result<Self> {
        let signer = keys.signer().ok_or_else(|| anyhow::anyhow!("the auth service needs the identity signing key"))?;
        let pool = db::connect(database_url, &MIGRATOR).await?;
        atelier_runtime::metrics::register_pool("auth", &pool);
        Ok(Self {
            pool,
            signer,
            verifier: keys.verifier(),
            throttle: Default::default(),
            password_changes: Default::default(),
        })
    }

    pub fn pool(&self) -> &db::Pool {
        &self.pool
    }

    pub fn into_server(self) -> AuthServiceServer<Self> {
        AuthServiceServer::new(self)
    }
}
