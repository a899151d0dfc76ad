//! A shopper through the gateway's Service: the JSON API over real HTTP to a
//! ready endpoint, as kube-proxy would route it.

use serde_json::{Value, json};

pub struct Shopper {
    http: reqwest::Client,
    pub base: String,
    token: Option<String>,
}

impl Shopper {
    pub fn at(endpoint: &str) -> Self {
        Self::at_url(&format!("http://{endpoint}:3000"))
    }

    /// A shopper at a base URL (a Service exposed on the host).
    pub fn at_url(base: &str) -> Self {
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().unwrap();
        Self { http, base: base.to_string(), token: None }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let mut r = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        match r.send().await {
            Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
            // Status 0: no answer; what went wrong, for the failure report.
            Err(e) => (0, Value::String(format!("{e:?}"))),
        }
    }

    pub async fn post(&self, path: &str, body: Value, headers: &[(&str, &str)]) -> (u16, Value) {
        self.send(self.http.post(format!("{}{path}", self.base)).json(&body), headers).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(format!("{}{path}", self.base)), &[]).await
    }

    async fn send(&self, mut r: reqwest::RequestBuilder, headers: &[(&str, &str)]) -> (u16, Value) {
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        match r.send().await {
            Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
            // Status 0: no answer; what went wrong, for the failure report.
            Err(e) => (0, Value::String(format!("{e:?}"))),
        }
    }

    pub async fn log_in(&mut self, username: &str, password: &str) -> bool {
        let (status, body) =
            self.post("/api/v1/session", json!({"username": username, "password": password}), &[]).await;
        self.token = body["token"].as_str().map(String::from);
        (200..300).contains(&status) && self.token.is_some()
    }

    /// The catalogue's first page: product count and the first product's first SKU.
    pub async fn browse(&self) -> Option<(usize, String)> {
        let (status, body) = self.get("/api/v1/products").await;
        if status != 200 {
            return None;
        }
        let products = body["items"].as_array()?;
        let sku = products.iter().find_map(|p| {
            p["variants"].as_array()?.iter().find(|v| v["stock"].as_i64().unwrap_or(0) > 0)?["sku"]
                .as_str()
                .map(String::from)
        });
        Some((products.len(), sku.unwrap_or_default()))
    }

    /// Buys one unit of `sku` (from an emptied cart, so that an attempt that
    /// failed leaves nothing behind for the next): the order's status.
    pub async fn buy(&self, sku: &str) -> Result<String, String> {
        let (s, b) = self.delete("/api/v1/cart").await;
        if !(200..300).contains(&s) {
            return Err(format!("empty the cart: {s} {b}"));
        }
        let (s, b) = self.post("/api/v1/cart/items", json!({"sku": sku, "quantity": 1}), &[]).await;
        if !(200..300).contains(&s) {
            return Err(format!("add to cart: {s} {b}"));
        }
        let key = format!(
            "cluster-{}",
            std::process::id()
                ^ std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
        );
        let (s, b) = self.post("/api/v1/orders", Value::Null, &[("idempotency-key", &key)]).await;
        if !(200..300).contains(&s) {
            return Err(format!("place order: {s} {b}"));
        }
        Ok(b["status"].as_str().unwrap_or_default().to_string())
    }
}

impl Shopper {
    /// How many orders demo-client has, through the gateway at `base`.
    pub async fn orders_at(base: &str) -> Option<usize> {
        let mut s = Shopper { http: reqwest::Client::new(), base: base.to_string(), token: None };
        if !s.log_in("demo-client", "demo123").await {
            return None;
        }
        let (status, body) = s.get("/api/v1/orders").await;
        if status != 200 {
            return None;
        }
        body["items"].as_array().map(Vec::len).or_else(|| body.as_array().map(Vec::len))
    }
}
