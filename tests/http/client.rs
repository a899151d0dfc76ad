//! A tiny cookie-keeping client for the router, and the shop behind it.

use atelier::{Shutdown, StartedServices, roles::DatabaseUrls};
use atelier_gateway::Backends;
use axum::{Router, body::Body};
use http::{Request, StatusCode, header};
use std::collections::BTreeMap;
use tower::ServiceExt as _;

pub struct TestShop {
    pub app: Router,
    pub backends: Backends,
    shutdown: Shutdown,
    _services: StartedServices,
    _dir: tempfile::TempDir,
}

impl Drop for TestShop {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

impl TestShop {
    pub async fn start() -> TestShop {
        let dir = tempfile::tempdir().unwrap();
        let urls = DatabaseUrls::sqlite_in(dir.path());
        let options = atelier::seed::SeedOptions {
            admin_password: None,
            demo_accounts: true,
            sample_catalog: true,
            wait_for_database: std::time::Duration::from_secs(30),
        };
        atelier::seed::seed(&urls.auth, &urls.product, options).await.unwrap();
        let keys = atelier_runtime::IdentityKeys::generate();
        let shutdown = Shutdown::default();
        let services = atelier::start_services(&urls, &keys, &shutdown).await.unwrap();
        let backends = Backends {
            auth: services.auth.to_string(),
            product: services.product.to_string(),
            cart: services.cart.to_string(),
            order: services.order.to_string(),
            // Requests "from" 10.x play the ingress in the tests.
            trusted_proxies: atelier_gateway::proxies::TrustedProxies::parse("10.0.0.0/8").unwrap(),
            credential: keys.signer().map(|s| atelier_runtime::identity::ServiceCredential::minted(s, "gateway")),
        };
        TestShop { app: atelier_gateway::app(&backends).unwrap(), backends, shutdown, _services: services, _dir: dir }
    }

    pub fn browser(&self) -> Browser {
        Browser { app: self.app.clone(), cookies: BTreeMap::new(), csrf: None, via_tls_ingress: false }
    }
}

/// The value of the hidden input `name` in `body`.
pub fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    body.split(&marker).nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_string()
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: http::HeaderMap,
    pub body: String,
}

/// Keeps cookies like a browser does.
pub struct Browser {
    pub app: Router,
    pub cookies: BTreeMap<String, String>,
    /// The CSRF token of the forms on the last page seen (None once the
    /// session changed: the next form comes from a fresh page).
    csrf: Option<String>,
    /// Every request arrives through the (trusted) ingress over HTTPS.
    pub via_tls_ingress: bool,
}

impl Browser {
    pub async fn send(&mut self, request: Request<Body>) -> Page {
        let mut request = request;
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        if !cookie.is_empty() {
            request.headers_mut().insert(header::COOKIE, cookie.parse().unwrap());
        }
        if self.via_tls_ingress {
            request.headers_mut().insert("x-forwarded-proto", "https".parse().unwrap());
            let ingress: std::net::SocketAddr = "10.0.0.2:40000".parse().unwrap();
            request.extensions_mut().insert(axum::extract::ConnectInfo(ingress));
        }
        let response = self.app.clone().oneshot(request).await.unwrap();
        for set in response.headers().get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, attrs) = set.split_once(';').unwrap_or((set, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if k.trim_start_matches("__Host-") == "atelier_session" {
                self.csrf = None;
            }
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let status = response.status();
        let location = response.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_string());
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 10 << 20).await.unwrap();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        const FIELD: &str = "name=\"csrf\" value=\"";
        if let Some(start) = body.find(FIELD).map(|i| i + FIELD.len()) {
            self.csrf = body[start..].split('"').next().map(String::from);
        }
        Page { status, location, headers, body }
    }

    pub async fn get(&mut self, uri: &str) -> Page {
        self.send(Request::get(uri).body(Body::empty()).unwrap()).await
    }

    /// Posts a form; `csrf` is the one of the last page's forms unless given
    /// (a page is loaded first when none was seen since the session changed).
    pub async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        if self.csrf.is_none() {
            self.get("/").await;
        }
        let token = self.csrf.clone().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if !fields.iter().any(|(k, _)| *k == "csrf") {
            all.push(("csrf", &token));
        }
        let body = serde_urlencoded::to_string(&all).unwrap();
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// The stock of variant `code` of product `product`, as the JSON API says.
    pub async fn stock(&mut self, product: &str, code: &str) -> i64 {
        let page = self.get(&format!("/api/v1/products/{product}")).await;
        let body: serde_json::Value = serde_json::from_str(&page.body).unwrap();
        body["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["sku"] == code)
            .and_then(|v| v["stock"].as_i64())
            .unwrap_or_else(|| panic!("{code} is a variant of {product}: {body}"))
    }

    /// Checkout's first step with a new address (saved to the account) and
    /// `delivery`: the review page.
    pub async fn review(&mut self, delivery: &str) -> Page {
        self.get("/checkout").await;
        let fields = [
            ("address", "new"),
            ("name", "Zoe Test"),
            ("line1", "Via Roma 1"),
            ("postcode", "50100"),
            ("city", "Florence"),
            ("country", "Italy"),
            ("delivery", delivery),
        ];
        let chosen = self.post("/checkout/review", &fields).await;
        if chosen.status.is_redirection() { self.follow(chosen).await } else { chosen }
    }

    /// Places the order a review page shows (its hidden fields), as its button does.
    pub async fn place_reviewed(&mut self, review: &Page) -> Page {
        let field = |name: &str| hidden(&review.body, name);
        let fields = [
            ("idempotency_key", field("idempotency_key")),
            ("address_id", field("address_id")),
            ("delivery", field("delivery")),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post("/checkout", &fields).await
    }

    /// Follows a redirect.
    pub async fn follow(&mut self, page: Page) -> Page {
        assert!(page.status.is_redirection(), "expected a redirect, got {} {}", page.status, page.body);
        self.get(page.location.as_deref().unwrap()).await
    }

    pub async fn login(&mut self, username: &str, password: &str) {
        self.get("/login").await;
        let page = self.post("/login", &[("username", username), ("password", password)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "login {username}: {}", page.body);
        assert!(self.cookies.keys().any(|k| k.trim_start_matches("__Host-") == "atelier_session"));
    }

    pub async fn register(&mut self, username: &str) {
        self.get("/register").await;
        let page = self
            .post(
                "/register",
                &[
                    ("username", username),
                    ("password", "long enough"),
                    ("confirm", "long enough"),
                    ("email", &format!("{username}@example.com")),
                    ("phone", "0123456789"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "register {username}: {}", page.body);
    }
}

/// A JSON request to the router.
pub async fn json(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let request = match body {
        Some(b) => request.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())).unwrap(),
        None => request.body(Body::empty()).unwrap(),
    };
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 10 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}
