//! The order service: checkout as a saga (reserve stock, store the order,
//! clear the cart; release the stock on failure) and the order life cycle.

mod bulk;
mod counts;
mod delivery;
mod recovery;
mod rpc;
mod saga;
mod status;
mod store;

use atelier_proto::{
    cart::cart_service_client::CartServiceClient, order::order_service_server::OrderServiceServer,
    product::product_service_client::ProductServiceClient,
};
use atelier_runtime::grpc::TracedChannel;
use atelier_runtime::{IdentityKeys, Verifier, db};

pub use atelier_runtime::identity::ServiceCredential;
pub use bulk::{LineTemplate, generate_orders};
pub use recovery::recover;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct OrderService {
    pool: db::Pool,
    verifier: Verifier,
    products: ProductServiceClient<TracedChannel>,
    carts: CartServiceClient<TracedChannel>,
    /// This service's own identity, for reserving and releasing stock.
    credential: std::sync::Arc<ServiceCredential>,
    /// A checkout still PENDING after this long has died; recovery releases it.
    abandoned_after: std::time::Duration,
    counts: std::sync::Arc<counts::ListingCounts>,
}

pub struct Dependencies<'a> {
    pub product_addr: &'a str,
    pub cart_addr: &'a str,
    pub service_token: ServiceCredential,
}

/// Default for [`OrderService::abandoned_after`]: far longer than any live checkout.
pub const ABANDONED_CHECKOUT_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Opens the order database and brings its schema up to date.
pub async fn open_database(database_url: &str) -> anyhow::Result<db::Pool> {
    let pool = db::connect(database_url, &MIGRATOR).await?;
    store::prepare_numbers(&pool).await?;
    Ok(pool)
}

impl OrderService {
    pub async fn connect(database_url: &str, keys: &IdentityKeys, deps: Dependencies<'_>) -> anyhow::Result<Self> {
        let pool = open_database(database_url).await?;
        atelier_runtime::metrics::register_pool("order", &pool);
        let verifier = keys.verifier();
        let token = deps.service_token.token();
        let identity = verifier.verify(&token).map_err(|e| {
            anyhow::anyhow!("the order service token is not valid for this identity key: {}", e.message())
        })?;
        anyhow::ensure!(identity.role == atelier_runtime::Role::Service, "the order service token is not a service's");
        let days_left = (identity.exp - atelier_runtime::now_ms()) / (24 * 3600 * 1000);
        if days_left < 10 {
            tracing::warn!(
                days_left,
                "the order service token expires soon; the operator renews it (`atelier keys` mints one)"
            );
        }
        Ok(Self {
            pool,
            verifier,
            products: ProductServiceClient::new(atelier_runtime::grpc::traced_channel(deps.product_addr)?),
            carts: CartServiceClient::new(atelier_runtime::grpc::traced_channel(deps.cart_addr)?),
            credential: std::sync::Arc::new(deps.service_token),
            abandoned_after: ABANDONED_CHECKOUT_AFTER,
            counts: Default::default(),
        })
    }

    /// How long a PENDING checkout may last before recovery releases it.
    pub fn with_abandoned_after(mut self, after: std::time::Duration) -> Self {
        self.abandoned_after = after;
        self
    }

    /// The token to call the product service with.
    pub(crate) fn service_token(&self) -> String {
        self.credential.token()
    }

    pub fn pool(&self) -> &db::Pool {
        &self.pool
    }

    pub fn into_server(self) -> OrderServiceServer<Self> {
        OrderServiceServer::new(self)
    }
}
