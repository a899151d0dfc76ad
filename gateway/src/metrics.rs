//! HTTP request metrics per route, in the Prometheus text format.

use crate::AppState;
use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use std::{collections::BTreeMap, fmt::Write as _, sync::Mutex, time::Instant};

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// (method, route, status) -> latency series.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut all = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let s = all.entry((method.to_string(), route.to_string(), status)).or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    pub fn render(&self) -> String {
        let all = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str("# HELP atelier_http_requests_total HTTP requests by route and status.\n# TYPE atelier_http_requests_total counter\n");
        for ((m, r, s), v) in all.iter() {
            let _ =
                writeln!(out, "atelier_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {}", v.count);
        }
        out.push_str("# HELP atelier_http_errors_total HTTP requests answered with a 5xx status.\n# TYPE atelier_http_errors_total counter\n");
        for ((m, r, s), v) in all.iter().filter(|((_, _, s), _)| *s >= 500) {
            let _ =
                writeln!(out, "atelier_http_errors_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {}", v.count);
        }
        out.push_str("# HELP atelier_http_request_duration_seconds HTTP request latency.\n# TYPE atelier_http_request_duration_seconds histogram\n");
        for ((m, r, s), v) in all.iter() {
            let labels = format!("method=\"{m}\",route=\"{r}\",status=\"{s}\"");
            for (le, n) in BUCKETS.iter().zip(v.buckets) {
                let _ = writeln!(out, "atelier_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {n}");
            }
            let _ = writeln!(out, "atelier_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", v.count);
            let _ = writeln!(out, "atelier_http_request_duration_seconds_sum{{{labels}}} {}", v.sum);
            let _ = writeln!(out, "atelier_http_request_duration_seconds_count{{{labels}}} {}", v.count);
        }
        out
    }
}

/// Middleware: times every request under its route template (never the raw
/// path, which would let clients create unbounded series).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.observe(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}
