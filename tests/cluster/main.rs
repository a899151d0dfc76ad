//! The operator's Shops in a cluster in a box (`e2e/cluster`): every object
//! it writes runs for real — commands, environment, volumes, probes, the
//! database's init scripts under the postgres image's contract — and the
//! shop is used through its Services. Needs root and PostgreSQL; skipped with
//! a notice without them, a failure under `CI=true`.

mod policies;
mod replicas;
mod scenarios;
mod shopper;

use atelier_cluster::{Cluster, ClusterGuard};
use atelier_operator::crd::{Shop, ShopSpec};
use std::{path::PathBuf, time::Duration};

pub const IMAGE: &str = "atelier:cluster-test";

/// A cluster whose node runs the `atelier` binary built for these tests, or
/// None (with a notice) when this machine cannot run one.
pub async fn cluster() -> Option<ClusterGuard> {
    if let Some(missing) = atelier_cluster::missing_prerequisites() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but the cluster in a box cannot run: {missing}");
        }
        eprintln!("NOTICE: {missing}; skipping the cluster-in-a-box scenarios");
        return None;
    }
    // Outside /tmp: pods mount their own /tmp, which would hide anything
    // there (the cluster's volumes, scripts and images) from them.
    let state = PathBuf::from("/var/lib/atelier-cluster");
    Some(
        Cluster::start(IMAGE, std::path::Path::new(env!("CARGO_BIN_EXE_atelier")), &state)
            .await
            .expect("cluster starts"),
    )
}

/// A Shop as a platform engineer would write it: the managed database, the
/// sample catalogue and demo accounts.
pub fn shop(name: &str) -> Shop {
    let mut spec = ShopSpec { image: Some(IMAGE.into()), ..Default::default() };
    spec.seed.demo_accounts = true;
    spec.seed.sample_catalog = true;
    Shop::new(name, spec)
}

/// Waits until the Shop's condition `type_` has `status`; returns its reason and message.
pub async fn until_condition(
    c: &Cluster,
    shop: &str,
    type_: &str,
    status: &str,
    timeout: Duration,
) -> (String, String) {
    c.wait_for(&format!("{shop} {type_}={status}"), timeout, || async {
        c.condition(shop, type_).await.filter(|(s, _, _)| s == status).map(|(_, r, m)| (r, m))
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}
