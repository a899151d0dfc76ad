//! Reconcile metrics in the Prometheus text format.

use std::{
    fmt::Write as _,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

#[derive(Default)]
pub struct Metrics {
    reconciles: AtomicU64,
    failures: AtomicU64,
    /// Total reconcile time, microseconds.
    duration_us: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, took: Duration, failed: bool) {
        self.reconciles.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        self.duration_us.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# TYPE atelier_operator_reconciles_total counter\natelier_operator_reconciles_total {}",
            self.reconciles.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# TYPE atelier_operator_reconcile_failures_total counter\natelier_operator_reconcile_failures_total {}",
            self.failures.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# TYPE atelier_operator_reconcile_duration_seconds_sum counter\natelier_operator_reconcile_duration_seconds_sum {}",
            self.duration_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        out
    }
}
