//! The five processes of a split shop on a throwaway PostgreSQL.

use atelier_runtime::{IdentityKeys, testing::TempPostgres};
use serde_json::Value;
use std::{
    collections::HashMap,
    process::{Child, Command},
    time::{Duration, Instant},
};

pub struct Split {
    /// Where each role's log (stderr) goes: `<dir>/<role>.log`.
    pub logs: tempfile::TempDir,
    /// A PostgreSQL of this shop's own, when the test stops and starts it.
    pub pg: Option<&'static TempPostgres>,
    base: String,
    http: reqwest::Client,
    env: std::sync::Mutex<HashMap<&'static str, Vec<(String, String)>>>,
    procs: std::sync::Mutex<HashMap<&'static str, Child>>,
}

impl Drop for Split {
    fn drop(&mut self) {
        for child in self.procs.get_mut().unwrap().values_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A free port whose successor is free too.
fn free_port_pair() -> u16 {
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

const ROLES: [&str; 5] = ["auth", "product", "cart", "order", "gateway"];

impl Split {
    /// Starts the five roles; `order_env` is extra environment for the order service.
    pub async fn start(order_env: &[(&str, &str)]) -> Option<Split> {
        Self::start_with(&[], order_env).await
    }

    /// Like [`Split::start`], with `common_env` given to every role.
    pub async fn start_with(common_env: &[(&str, &str)], order_env: &[(&str, &str)]) -> Option<Split> {
        Self::start_on(TempPostgres::shared()?, false, common_env, order_env).await
    }

    /// On a PostgreSQL of its own (see [`Split::pg`]).
    pub async fn start_dedicated(order_env: &[(&str, &str)]) -> Option<Split> {
        let pg = TempPostgres::dedicated()?;
        // Lives as long as the test binary; its watchdog stops it at exit.
        let pg: &'static TempPostgres = Box::leak(Box::new(pg));
        Self::start_on(pg, true, &[], order_env).await
    }

    async fn start_on(
        pg: &'static TempPostgres,
        own: bool,
        common_env: &[(&str, &str)],
        order_env: &[(&str, &str)],
    ) -> Option<Split> {
        let mut urls = HashMap::new();
        for s in ["auth", "product", "cart", "order"] {
            urls.insert(s, pg.fresh_database().await);
        }
        atelier::seed::seed(
            &urls["auth"],
            &urls["product"],
            atelier::seed::SeedOptions {
                admin_password: None,
                demo_accounts: true,
                sample_catalog: true,
                wait_for_database: std::time::Duration::from_secs(30),
            },
        )
        .await
        .unwrap();
        let keys = IdentityKeys::generate();
        // Each role gets a port and (gRPC roles) the next one for /metrics.
        let ports: HashMap<&str, u16> = ROLES.iter().map(|r| (*r, free_port_pair())).collect();
        let addr = |r: &str| format!("127.0.0.1:{}", ports[r]);
        let mut env: HashMap<&'static str, Vec<(String, String)>> = HashMap::new();
        for role in ROLES {
            let mut e = vec![("ATELIER_LISTEN".to_string(), addr(role)), ("RUST_LOG".into(), "warn".into())];
            e.extend(common_env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            if role != "gateway" {
                e.push(("ATELIER_DATABASE_URL".into(), urls[role].clone()));
                e.push(("ATELIER_METRICS_LISTEN".into(), format!("127.0.0.1:{}", ports[role] + 1)));
            }
            match role {
                "auth" => e.push(("ATELIER_IDENTITY_SIGNING_KEY".into(), keys.signing_key_b64().unwrap())),
                "gateway" => {
                    for s in ["auth", "product", "cart", "order"] {
                        e.push((format!("ATELIER_{}_ADDR", s.to_uppercase()), addr(s)));
                    }
                    e.push(("ATELIER_GATEWAY_TOKEN".into(), keys.signer().unwrap().service_token("gateway")));
                }
                service => {
                    e.push(("ATELIER_IDENTITY_VERIFYING_KEY".into(), keys.verifying_key_b64()));
                    e.push(("ATELIER_PRODUCT_ADDR".into(), addr("product")));
                    e.push(("ATELIER_CART_ADDR".into(), addr("cart")));
                    if service == "order" {
                        e.push(("ATELIER_SERVICE_TOKEN".into(), keys.signer().unwrap().service_token("order")));
                        e.extend(order_env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
                    }
                }
            }
            env.insert(role, e);
        }
        let split = Split {
            logs: tempfile::tempdir().unwrap(),
            pg: own.then_some(pg),
            base: format!("http://{}", addr("gateway")),
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap(),
            env: std::sync::Mutex::new(env),
            procs: Default::default(),
        };
        for role in ROLES {
            split.restart(role);
        }
        split.until_ok("GET", "/readyz/dependencies").await;
        Some(split)
    }

    pub fn restart(&self, role: &'static str) {
        let env = self.env.lock().unwrap()[role].clone();
        let child = Command::new(role_binary(role))
            .env_clear()
            .envs(env)
            .stdout(self.log_file(role))
            .stderr(self.log_file(role))
            .spawn()
            .expect("start a role");
        self.procs.lock().unwrap().insert(role, child);
    }

    /// Starts a second gateway replica in front of the same services; its base URL.
    pub async fn start_another_gateway(&self) -> String {
        let addr = format!("127.0.0.1:{}", free_port_pair());
        let mut env = self.env_of("gateway");
        env.retain(|(k, _)| k != "ATELIER_LISTEN");
        env.push(("ATELIER_LISTEN".into(), addr.clone()));
        let child = Command::new(role_binary("gateway"))
            .env_clear()
            .envs(env)
            .stdout(self.log_file("gateway"))
            .stderr(self.log_file("gateway"))
            .spawn()
            .expect("start a second gateway");
        self.procs.lock().unwrap().insert("gateway-2", child);
        let base = format!("http://{addr}");
        let started = Instant::now();
        while !self.http.get(format!("{base}/readyz/dependencies")).send().await.is_ok_and(|r| r.status() == 200) {
            assert!(started.elapsed() < Duration::from_secs(60), "the second gateway never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        base
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn log_file(&self, role: &str) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs.path().join(format!("{role}.log")))
            .unwrap()
    }

    /// Everything the processes have logged so far.
    pub fn all_logs(&self) -> String {
        ROLES
            .iter()
            .map(|r| std::fs::read_to_string(self.logs.path().join(format!("{r}.log"))).unwrap_or_default())
            .collect()
    }

    /// SIGTERM, and wait for the process to finish what it was doing.
    pub fn terminate(&self, role: &str) {
        let mut procs = self.procs.lock().unwrap();
        let child = procs.get_mut(role).unwrap();
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        child.wait().unwrap();
    }

    /// SIGKILL: no goodbye, as a crash.
    pub fn kill(&self, role: &str) {
        let mut procs = self.procs.lock().unwrap();
        let child = procs.get_mut(role).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    pub fn clear_env(&self, role: &'static str) {
        self.env.lock().unwrap().get_mut(role).unwrap().retain(|(k, _)| !k.starts_with("ATELIER_FAULT_"));
    }

    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        match request.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    /// Polls until the route answers 200 (a readiness probe); the time it took.
    pub async fn until_ok(&self, method: &str, path: &str) -> Duration {
        let started = Instant::now();
        loop {
            let ok = self
                .http
                .request(method.parse().unwrap(), format!("{}{path}", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ok {
                return started.elapsed();
            }
            assert!(started.elapsed() < Duration::from_secs(60), "{path} never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The environment a role runs with.
    pub fn env_of(&self, role: &str) -> Vec<(String, String)> {
        self.env.lock().unwrap()[role].clone()
    }

    /// A page of the gateway as text.
    pub async fn text(&self, path: &str) -> String {
        self.http.get(format!("{}{path}", self.base)).send().await.unwrap().text().await.unwrap()
    }

    /// The `/metrics` text of a gRPC role.
    pub async fn metrics(&self, role: &str) -> String {
        let port =
            self.env.lock().unwrap()[role].iter().find(|(k, _)| k == "ATELIER_METRICS_LISTEN").unwrap().1.clone();
        self.http.get(format!("http://{port}/metrics")).send().await.unwrap().text().await.unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                "POST",
                "/api/v1/session",
                None,
                Some(serde_json::json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn place_order(&self, token: &str, key: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/orders", self.base))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&serde_json::json!({"address": {
                "name": "Storm Shopper", "line1": "Via Roma 1", "postcode": "50100", "city": "Florence", "country": "Italy"
            }}))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn stock(&self, sku: &str) -> i64 {
        let (status, body) = self.call("GET", &format!("/api/v1/products?q={sku}"), None, None).await;
        assert_eq!(status, 200);
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["variants"].as_array().unwrap().clone())
            .find(|v| v["sku"] == sku)
            .unwrap()["stock"]
            .as_i64()
            .unwrap()
    }
}

/// The role's own binary, as its Deployment runs it.
fn role_binary(role: &str) -> &'static str {
    match role {
        "auth" => env!("CARGO_BIN_EXE_atelier-auth"),
        "product" => env!("CARGO_BIN_EXE_atelier-product"),
        "cart" => env!("CARGO_BIN_EXE_atelier-cart"),
        "order" => env!("CARGO_BIN_EXE_atelier-order"),
        "gateway" => env!("CARGO_BIN_EXE_atelier-gateway"),
        _ => panic!("no role {role}"),
    }
}
