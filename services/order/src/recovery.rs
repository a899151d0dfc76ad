//! Puts stock back that a crash left held: checkouts that died between the
//! reservation and the stored order, and cancellations whose release failed.
//! Runs at start-up and then periodically; every step is idempotent.

use crate::{OrderService, store};
use atelier_runtime::now_ms;
use std::time::Duration;

impl OrderService {
    /// One pass; returns how many orders it settled.
    pub async fn recover_once(&self) -> anyhow::Result<usize> {
        let mut settled = 0;
        let stale_before = now_ms() - self.abandoned_after.as_millis() as i64;
        for (id, status) in store::unreleased(&self.pool, stale_before).await? {
            self.release_stock(&id).await?;
            if status == "PENDING" {
                store::drop_pending(&self.pool, &id).await?;
                tracing::warn!(order_id = %id, "released the stock of an abandoned checkout");
            } else {
                store::mark_released(&self.pool, &id).await?;
            }
            settled += 1;
        }
        Ok(settled)
    }
}

/// Runs recovery now and then periodically until the process stops.
pub async fn recover(service: OrderService) {
    let every = (service.abandoned_after / 2).clamp(Duration::from_millis(100), Duration::from_secs(30));
    loop {
        if let Err(e) = service.recover_once().await {
            tracing::warn!(error = %e, "order recovery pass failed; will retry");
        }
        tokio::time::sleep(every).await;
    }
}
