//! Leader election between two operator replicas, against the in-memory
//! API: one leads, the other waits; on shutdown the leader releases the
//! lease (holder cleared) and the standby takes over.

use atelier_operator::leader::{LEASE_NAME, Leadership, Timing};
use k8s_openapi::api::coordination::v1::Lease;
use std::time::Duration;

#[tokio::test]
async fn one_replica_leads_and_the_standby_takes_over_after_the_release() {
    let client = kube_fake_client::ClientBuilder::new().build().await.expect("fake cluster");
    let timing = Timing { lease_seconds: 3, grace_seconds: 1 };
    let mut first = Leadership::join(client.clone(), "operators", "replica-a", timing).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), first.acquired()).await.expect("the first replica leads");
    let mut second = Leadership::join(client.clone(), "operators", "replica-b", timing).await.unwrap();
    assert!(first.is_leading() && !second.is_leading(), "one leader at a time");
    let leases = kube::Api::<Lease>::namespaced(client.clone(), "operators");
    let holder = |lease: Lease| lease.spec.and_then(|s| s.holder_identity);
    assert_eq!(holder(leases.get(LEASE_NAME).await.unwrap()).as_deref(), Some("replica-a"));

    let lost = first.lost();
    first.release().await.expect("released");
    assert_eq!(holder(leases.get(LEASE_NAME).await.unwrap()), None, "released, not left to expire");
    tokio::time::timeout(Duration::from_secs(1), lost).await.expect("the released replica knows it no longer leads");
    tokio::time::timeout(Duration::from_secs(15), second.acquired()).await.expect("the standby takes over");
    assert_eq!(holder(leases.get(LEASE_NAME).await.unwrap()).as_deref(), Some("replica-b"));
    second.release().await.expect("released");
}
