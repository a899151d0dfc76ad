//! What every Atelier service process needs: database connections, the gRPC
//! server bootstrap, metrics, errors and paging. Signed identities and
//! telemetry are crates of their own (the operator uses them without any of
//! this); they are re-exported here for the services.

pub mod db;
pub mod error;
pub mod grpc;
pub mod metrics;
pub mod page;

pub use atelier_identity as identity;
pub use atelier_identity::now_ms;
pub use atelier_telemetry as telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::ServiceError;
pub use identity::{Identity, IdentityKeys, Role, Signer, Verifier};

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
