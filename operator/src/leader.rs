//! Leader election on a Lease, so that two operator replicas never reconcile
//! at once, with kube-lease-manager: the holder renews the lease before it
//! expires (tolerating clock skew between nodes by a grace period), API
//! errors are retried with back-off, a leader that cannot renew within the
//! lease steps down (client-go's renew deadline), and the lease is released
//! on shutdown.

use kube::Client;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use std::{sync::Arc, time::Duration};
use tokio::{sync::watch, task::JoinHandle, time::Instant};

pub const LEASE_NAME: &str = "atelier-operator-leader";

/// How long a lease lasts without renewal, and how long before expiry the
/// holder renews it.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub lease_seconds: u64,
    pub grace_seconds: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Self { lease_seconds: 15, grace_seconds: 5 }
    }
}

/// This replica's place in the election, kept up to date in the background.
pub struct Leadership {
    manager: Arc<LeaseManager>,
    leading: watch::Receiver<bool>,
    task: JoinHandle<()>,
}

impl Leadership {
    /// Joins the election on `namespace`/[`LEASE_NAME`] as `identity`.
    pub async fn join(client: Client, namespace: &str, identity: &str, timing: Timing) -> anyhow::Result<Self> {
        let manager = LeaseManagerBuilder::new(client, LEASE_NAME)
            .with_namespace(namespace)
            .with_identity(identity)
            .with_duration(timing.lease_seconds)
            .with_grace(timing.grace_seconds)
            .with_field_manager("atelier-operator")
            .build()
            .await?;
        let manager = Arc::new(manager);
        let (publish, leading) = watch::channel(false);
        let task = tokio::spawn(follow(manager.clone(), publish, timing));
        Ok(Self { manager, leading, task })
    }

    /// Resolves once this replica leads.
    pub async fn acquired(&mut self) {
        let _ = self.leading.wait_for(|leading| *leading).await;
    }

    /// Resolves if this replica stops leading (another took the lease, or
    /// renewing failed for longer than the lease).
    pub fn lost(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut leading = self.leading.clone();
        async move {
            let _ = leading.wait_for(|leading| !*leading).await;
        }
    }

    pub fn is_leading(&self) -> bool {
        *self.leading.borrow()
    }

    /// Leaves the election, releasing the lease if held, so that a standby
    /// need not wait for it to expire. Bounded: a shutdown never hangs on an
    /// unreachable API server (the lease then expires by itself).
    pub async fn release(self) -> anyhow::Result<()> {
        self.task.abort();
        let _ = self.task.await;
        match tokio::time::timeout(Duration::from_secs(5), self.manager.release()).await {
            Ok(released) => Ok(released?),
            Err(_) => Err(anyhow::anyhow!("releasing the leader lease timed out")),
        }
    }
}

/// Publishes every change of leadership until released.
async fn follow(manager: Arc<LeaseManager>, publish: watch::Sender<bool>, timing: Timing) {
    let renew_deadline = Duration::from_secs(timing.lease_seconds.saturating_sub(timing.grace_seconds).max(1));
    // When the current run of failed calls began (a call that ran for a
    // while before failing renewed the lease meanwhile: a new run).
    let mut failing_since: Option<Instant> = None;
    let mut backoff = Duration::from_millis(200);
    loop {
        let call = Instant::now();
        match manager.changed().await {
            Ok(leading) => {
                failing_since = None;
                backoff = Duration::from_millis(200);
                publish.send_replace(leading);
            }
            Err(e) => {
                tracing::warn!(error = %e, "leader election: the API refused; retrying");
                if call.elapsed() >= renew_deadline / 2 {
                    failing_since = None;
                }
                let since = *failing_since.get_or_insert(call);
                if *publish.borrow() && since.elapsed() >= renew_deadline {
                    // Not renewed for the renew deadline: the lease may lapse
                    // and another replica take it, so stop leading first.
                    publish.send_replace(false);
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}
