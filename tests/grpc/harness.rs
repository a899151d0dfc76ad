//! A shop of four in-process services on loopback ports, on a fresh database
//! set of one backend, seeded with the default data.

use atelier::{
    Shutdown,
    roles::DatabaseUrls,
    seed::{SeedOptions, seed},
};
use atelier_proto::{
    auth::{AuthenticateRequest, LoginRequest, RegisterRequest, auth_service_client::AuthServiceClient},
    cart::cart_service_client::CartServiceClient,
    order::order_service_client::OrderServiceClient,
    product::product_service_client::ProductServiceClient,
};
use atelier_runtime::{IdentityKeys, identity::authorized, testing::TempPostgres};
use tonic::{Request, transport::Channel};

pub struct Shop {
    pub backend: &'static str,
    pub auth: AuthServiceClient<Channel>,
    pub product: ProductServiceClient<Channel>,
    pub cart: CartServiceClient<Channel>,
    pub order: OrderServiceClient<Channel>,
    pub keys: IdentityKeys,
    pub urls: DatabaseUrls,
    shutdown: Shutdown,
    _services: atelier::StartedServices,
    _dir: tempfile::TempDir,
}

impl Drop for Shop {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

/// One shop per available backend: SQLite always, PostgreSQL when installed.
pub async fn shops() -> Vec<Shop> {
    let mut shops = vec![Shop::start("sqlite").await];
    if TempPostgres::shared().is_some() {
        shops.push(Shop::start("postgres").await);
    }
    shops
}

impl Shop {
    pub async fn start(backend: &'static str) -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let urls = match backend {
            "postgres" => {
                let pg = TempPostgres::shared().unwrap();
                DatabaseUrls {
                    auth: pg.fresh_database().await,
                    product: pg.fresh_database().await,
                    cart: pg.fresh_database().await,
                    order: pg.fresh_database().await,
                }
            }
            _ => DatabaseUrls::sqlite_in(dir.path()),
        };
        seed(
            &urls.auth,
            &urls.product,
            SeedOptions {
                admin_password: None,
                demo_accounts: true,
                sample_catalog: true,
                wait_for_database: std::time::Duration::from_secs(30),
            },
        )
        .await
        .unwrap();
        let keys = IdentityKeys::generate();
        let shutdown = Shutdown::default();
        let started = atelier::start_services(&urls, &keys, &shutdown).await.unwrap();
        let channel = |addr: std::net::SocketAddr| atelier_runtime::grpc::channel(&addr.to_string()).unwrap();
        Shop {
            backend,
            auth: AuthServiceClient::new(channel(started.auth)),
            product: ProductServiceClient::new(channel(started.product)),
            cart: CartServiceClient::new(channel(started.cart)),
            order: OrderServiceClient::new(channel(started.order)),
            keys,
            urls,
            shutdown,
            _services: started,
            _dir: dir,
        }
    }

    /// Logs in and returns (session token, identity token).
    pub async fn login(&self, username: &str, password: &str) -> (String, String) {
        let session = self
            .auth
            .clone()
            .login(LoginRequest { username: username.into(), password: password.into() })
            .await
            .unwrap_or_else(|s| panic!("login {username}: {s}"))
            .into_inner()
            .session_token;
        let identity = self.identity(&session).await;
        (session, identity)
    }

    pub async fn identity(&self, session: &str) -> String {
        self.auth
            .clone()
            .authenticate(AuthenticateRequest { session_token: session.into(), ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .identity_token
    }

    pub async fn admin(&self) -> String {
        self.login("admin", "admin123").await.1
    }

    /// Registers a new client and returns their identity token.
    pub async fn new_client(&self, username: &str) -> String {
        self.auth
            .clone()
            .register(RegisterRequest {
                username: username.into(),
                password: "correct horse".into(),
                email: format!("{username}@example.com"),
                phone: "+39 055 000000".into(),
            })
            .await
            .unwrap();
        self.login(username, "correct horse").await.1
    }
}

/// A request carrying an identity.
pub fn as_user<T>(token: &str, message: T) -> Request<T> {
    authorized(message, token)
}
