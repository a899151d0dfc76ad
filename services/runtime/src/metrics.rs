//! Process-wide metrics in the Prometheus text format: request counts,
//! errors and latency histograms per HTTP route or RPC, database pool use,
//! and business counters. One registry per process, so the embedded shop's
//! `/metrics` shows every component.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{LazyLock, Mutex},
    time::{Duration, Instant},
};

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// (protocol, method, route or RPC, status) -> latency series.
type Key = (&'static str, String, String, String);

#[derive(Default)]
struct Registry {
    requests: Mutex<BTreeMap<Key, Series>>,
    counters: Mutex<BTreeMap<&'static str, u64>>,
    pools: Mutex<BTreeMap<&'static str, crate::db::Pool>>,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::default);

/// Records one handled request. `route` must be a template (never a raw
/// path with ids), so that the number of series stays bounded.
pub fn observe(protocol: &'static str, method: &str, route: &str, status: &str, took: Duration) {
    let seconds = took.as_secs_f64();
    let mut all = REGISTRY.requests.lock().unwrap_or_else(|e| e.into_inner());
    let s = all.entry((protocol, method.to_string(), route.to_string(), status.to_string())).or_default();
    s.count += 1;
    s.sum += seconds;
    for (i, le) in BUCKETS.iter().enumerate() {
        if seconds <= *le {
            s.buckets[i] += 1;
        }
    }
}

/// Adds one to a business counter (e.g. `atelier_orders_placed_total`).
pub fn count(name: &'static str) {
    *REGISTRY.counters.lock().unwrap_or_else(|e| e.into_inner()).entry(name).or_default() += 1;
}

/// Reports a service's database pool (size and idle connections).
pub fn register_pool(service: &'static str, pool: &crate::db::Pool) {
    REGISTRY.pools.lock().unwrap_or_else(|e| e.into_inner()).insert(service, pool.clone());
}

fn is_error(protocol: &str, status: &str) -> bool {
    match protocol {
        "http" => status.starts_with('5'),
        // gRPC codes that mean the server failed: Unknown, DeadlineExceeded,
        // ResourceExhausted, Internal, Unavailable, DataLoss.
        _ => matches!(status, "2" | "4" | "8" | "13" | "14" | "15" | "transport"),
    }
}

pub fn render() -> String {
    let mut out = String::new();
    let requests = REGISTRY.requests.lock().unwrap_or_else(|e| e.into_inner());
    for protocol in ["http", "grpc"] {
        let (route, status) = if protocol == "http" { ("route", "status") } else { ("rpc", "code") };
        let _ = writeln!(
            out,
            "# HELP atelier_{protocol}_requests_total Requests handled.\n# TYPE atelier_{protocol}_requests_total counter"
        );
        for ((_, m, r, s), v) in requests.iter().filter(|(k, _)| k.0 == protocol) {
            let _ = writeln!(
                out,
                "atelier_{protocol}_requests_total{{method=\"{m}\",{route}=\"{r}\",{status}=\"{s}\"}} {}",
                v.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP atelier_{protocol}_errors_total Requests that failed on the server side.\n# TYPE atelier_{protocol}_errors_total counter"
        );
        for ((_, m, r, s), v) in requests.iter().filter(|(k, _)| k.0 == protocol && is_error(protocol, &k.3)) {
            let _ = writeln!(
                out,
                "atelier_{protocol}_errors_total{{method=\"{m}\",{route}=\"{r}\",{status}=\"{s}\"}} {}",
                v.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP atelier_{protocol}_request_duration_seconds Request latency.\n# TYPE atelier_{protocol}_request_duration_seconds histogram"
        );
        for ((_, m, r, s), v) in requests.iter().filter(|(k, _)| k.0 == protocol) {
            let labels = format!("method=\"{m}\",{route}=\"{r}\",{status}=\"{s}\"");
            for (le, n) in BUCKETS.iter().zip(v.buckets) {
                let _ = writeln!(out, "atelier_{protocol}_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {n}");
            }
            let _ =
                writeln!(out, "atelier_{protocol}_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", v.count);
            let _ = writeln!(out, "atelier_{protocol}_request_duration_seconds_sum{{{labels}}} {}", v.sum);
            let _ = writeln!(out, "atelier_{protocol}_request_duration_seconds_count{{{labels}}} {}", v.count);
        }
    }
    drop(requests);
    let _ = writeln!(
        out,
        "# HELP atelier_db_pool_connections Database connections by state.\n# TYPE atelier_db_pool_connections gauge"
    );
    for (service, pool) in REGISTRY.pools.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let (size, idle) = (pool.size(), pool.num_idle());
        let _ = writeln!(out, "atelier_db_pool_connections{{service=\"{service}\",state=\"idle\"}} {idle}");
        let _ = writeln!(
            out,
            "atelier_db_pool_connections{{service=\"{service}\",state=\"in_use\"}} {}",
            (size as usize).saturating_sub(idle)
        );
    }
    for (name, value) in REGISTRY.counters.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = writeln!(out, "# TYPE {name} counter\n{name} {value}");
    }
    out
}

/// Tower layer recording every RPC a gRPC server handles.
#[derive(Clone, Copy, Default)]
pub struct RecordRpcs;

impl<S> tower::Layer<S> for RecordRpcs {
    type Service = RecordRpc<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RecordRpc(inner)
    }
}

#[derive(Clone)]
pub struct RecordRpc<S>(S);

impl<S, B, R> tower::Service<http::Request<B>> for RecordRpc<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let rpc = request.uri().path().to_string();
        let started = Instant::now();
        let future = self.0.call(request);
        Box::pin(async move {
            let result = future.await;
            // Errors travel in the headers of a trailers-only response; a
            // success's status is in the trailers, hence "0".
            let code = match &result {
                Ok(r) => r.headers().get("grpc-status").and_then(|v| v.to_str().ok()).unwrap_or("0").to_string(),
                Err(_) => "transport".to_string(),
            };
            observe("grpc", "POST", &rpc, &code, started.elapsed());
            result
        })
    }
}

/// Serves `GET /metrics` on its own address (for the gRPC-only roles).
pub async fn serve(
    addr: std::net::SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(|| async { ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], render()) }),
    );
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
