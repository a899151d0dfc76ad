//! Structured logs: `RUST_LOG` sets the level, `ATELIER_LOG_FORMAT=json`
//! switches to one JSON object per line.

use tracing_subscriber::EnvFilter;

pub fn init_logging() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,h2=warn,tower=warn"));
    let json = std::env::var("ATELIER_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
