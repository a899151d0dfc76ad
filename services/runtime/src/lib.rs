//! What every Atelier process needs and nothing more: database connections,
//! signed identities, the gRPC server bootstrap, errors, paging and logging.

pub mod db;
pub mod error;
pub mod grpc;
pub mod identity;
pub mod metrics;
pub mod page;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::ServiceError;
pub use identity::{Identity, IdentityKeys, Role, Signer, Verifier};

/// Milliseconds since the Unix epoch, the one time format Atelier stores.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// Resolves when the process is asked to stop (SIGINT or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown requested");
}
