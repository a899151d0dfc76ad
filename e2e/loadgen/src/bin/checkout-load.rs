//! `checkout-load`: checkout through the HTTP API as fast as the shop takes
//! it. CLIENTS registered shoppers, each adding one unit of a bench SKU to
//! the cart and placing the order, over and over for SECONDS. Prints one JSON
//! line: orders placed, statuses, the SKU's stock before and after (the
//! audit: before - after = units ordered), p50/p99 of add + place in ms.
//!
//!   checkout-load GATEWAY-URL CLIENTS SECONDS [--handshake]
//!
//! With `--handshake`, it prints `ready` once the shoppers are set up and
//! starts buying when it reads a line on its standard input, so that a
//! caller can measure the buying alone (CPU time, statements); after the
//! report it waits for one more line (or the end of its input) to exit.
//!
//! The shop's checkout is compared with pgbench, a C client that costs the
//! two cores next to nothing; this driver runs on one thread with a pooled
//! connection per shopper so that it takes as little from the shop as it can.

use serde_json::{Value, json};
use std::{
    collections::BTreeMap,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

const SKU: &str = "BENCH-1";

type Failure = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// One call: the status and the JSON answer (Null when there is none).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Value), Failure> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        let value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes)? };
        Ok((status, value))
    }

    /// The bench SKU's stock, as the catalogue shows it.
    async fn stock(&self) -> Result<i64, Failure> {
        let (_, listing) = self.call(reqwest::Method::GET, &format!("/api/v1/products?q={SKU}"), None, &[]).await?;
        let items = listing["items"].as_array().into_iter().flatten();
        let variant = items.flat_map(|p| p["variants"].as_array().into_iter().flatten()).find(|v| v["sku"] == SKU);
        variant.and_then(|v| v["stock"].as_i64()).ok_or_else(|| format!("{SKU} is not in the catalogue").into())
    }

    /// Signs in: the bearer header value.
    async fn session(&self, username: &str, password: &str) -> Result<String, Failure> {
        let credentials = json!({"username": username, "password": password});
        let (status, session) = self.call(reqwest::Method::POST, "/api/v1/session", Some(credentials), &[]).await?;
        match session["token"].as_str() {
            Some(token) => Ok(format!("Bearer {token}")),
            None => Err(format!("signing in as {username}: {status} {session}").into()),
        }
    }
}

/// Registers shopper `i` (or finds them from an earlier run) with a default
/// address and an empty cart: the bearer header value.
async fn shopper(api: &Api, i: usize) -> Result<String, Failure> {
    let (username, password) = (format!("bench-{i}"), "bench password");
    let account = json!({"username": username, "password": password, "email": format!("{username}@example.com"), "phone": "0123456789"});
    api.call(reqwest::Method::POST, "/api/v1/users", Some(account), &[]).await?;
    let bearer = api.session(&username, password).await?;
    let auth = [("authorization", bearer.as_str())];
    // Orders go to the account's default address.
    let address = json!({"name": format!("Bench {i}"), "line1": "Via Roma 1", "postcode": "50100", "city": "Florence", "country": "Italy"});
    api.call(reqwest::Method::POST, "/api/v1/addresses", Some(address), &auth).await?;
    // A cart left over from an earlier run would change what is ordered.
    api.call(reqwest::Method::DELETE, "/api/v1/cart", None, &auth).await?;
    Ok(bearer)
}

/// Add one unit, place the order, until the deadline: (status, latency) of each order.
async fn buy(api: Api, i: usize, bearer: String, deadline: Instant) -> Result<Vec<(u16, Duration)>, Failure> {
    let mut placed = Vec::new();
    let line = json!({"sku": SKU, "quantity": 1});
    while Instant::now() < deadline {
        let started = Instant::now();
        let auth = [("authorization", bearer.as_str())];
        api.call(reqwest::Method::POST, "/api/v1/cart/items", Some(line.clone()), &auth).await?;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
        let key = format!("b-{nanos}-{i}-{}", placed.len());
        let headers = [("authorization", bearer.as_str()), ("idempotency-key", key.as_str())];
        let (status, _) = api.call(reqwest::Method::POST, "/api/v1/orders", None, &headers).await?;
        placed.push((status, started.elapsed()));
    }
    Ok(placed)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (base, clients, seconds, handshake) = match args.as_slice() {
        [base, clients, seconds] => (base, clients, seconds, false),
        [base, clients, seconds, flag] if flag == "--handshake" => (base, clients, seconds, true),
        _ => return Err("usage: checkout-load GATEWAY-URL CLIENTS SECONDS [--handshake]".into()),
    };
    let (clients, seconds): (usize, f64) = (clients.parse()?, seconds.parse()?);
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build()?;
    let api = Api { http, base: base.trim_end_matches('/').to_string() };

    let admin = api.session("admin", "admin123").await?;
    // Made once per shop (a shop measured again keeps it).
    let product = json!({"name": "Bench Tee", "image": "builtin:tshirt", "variants": [
        {"sku": SKU, "size": "M", "color": "Black", "price_cents": 1000, "stock": 1_000_000}]});
    api.call(reqwest::Method::POST, "/api/v1/admin/products", Some(product), &[("authorization", &admin)]).await?;
    let mut bearers = Vec::new();
    for i in 0..clients {
        bearers.push(shopper(&api, i).await?);
    }

    let before = api.stock().await?;
    if handshake {
        println!("ready");
        std::io::stdin().read_line(&mut String::new())?;
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let shoppers: Vec<_> =
        bearers.into_iter().enumerate().map(|(i, b)| tokio::spawn(buy(api.clone(), i, b, deadline))).collect();
    let mut placed = Vec::new();
    for shopper in shoppers {
        placed.extend(shopper.await?.map_err(|e| e.to_string())?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = api.stock().await?;

    let mut statuses = BTreeMap::<String, u64>::new();
    for (status, _) in &placed {
        *statuses.entry(status.to_string()).or_default() += 1;
    }
    let mut latencies: Vec<f64> = placed.iter().map(|(_, d)| d.as_secs_f64() * 1000.0).collect();
    latencies.sort_by(f64::total_cmp);
    let percentile = |p: f64| latencies.get((latencies.len() as f64 * p) as usize).copied().unwrap_or(0.0);
    let orders = statuses.get("201").copied().unwrap_or(0);
    let report = json!({"orders": orders, "rate": orders as f64 / elapsed, "statuses": statuses,
        "before": before, "after": after, "p50": percentile(0.5), "p99": percentile(0.99)});
    println!("{report}");
    if handshake {
        // Still here while the caller reads this process's CPU time.
        std::io::stdin().read_line(&mut String::new())?;
    }
    Ok(())
}
