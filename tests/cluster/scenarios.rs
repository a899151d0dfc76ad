//! Each scenario starts a cluster, applies a Shop and watches what a
//! platform engineer and a shopper would.

use crate::{cluster, shop, shopper::Shopper, until_condition};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_shop_becomes_ready_and_sells() {
    let Some(c) = cluster().await else { return };
    c.apply(shop("boutique")).await.unwrap();
    let started = std::time::Instant::now();
    until_condition(&c, "boutique", "Ready", "True", Duration::from_secs(120)).await;
    println!("Ready after {:.1} s", started.elapsed().as_secs_f64());
    let gateway = c.endpoints("boutique-gateway");
    assert!(!gateway.is_empty(), "the gateway Service has a ready endpoint");
    let mut shopper = Shopper::at(&gateway[0]);
    let (count, sku) = shopper.browse().await.expect("the catalogue answers through the gateway's Service");
    assert!(count > 0 && !sku.is_empty(), "the seeded catalogue is there");
    assert!(shopper.log_in("demo-client", "demo123").await, "the seeded demo account logs in");
    let status = shopper.buy(&sku).await.expect("a checkout through every service");
    assert!(!status.is_empty(), "the order has a status");
}
