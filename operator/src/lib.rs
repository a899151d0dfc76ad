//! The Atelier operator: reconciles `Shop` resources into running shops.

pub mod builders;
pub mod crd;
pub mod desired;
pub mod leader;
pub mod metrics;
pub mod rbac;
pub mod reconcile;
pub mod render;
pub mod secrets;
pub mod status;

/// Hex SHA-256 of the parts, for checksum annotations and job names.
pub fn checksum(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
