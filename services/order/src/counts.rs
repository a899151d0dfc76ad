//! How many orders an admin listing matches, whatever the page: paging
//! through a million orders counts once, not on every page. A count taken
//! with a limit is exact when it came in under that limit and a lower bound
//! otherwise. Counts live for `MAX_AGE`; an order this replica places or
//! moves forgets them all at once, so an admin never sees this replica's
//! own change missing from a total.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

const MAX_AGE: Duration = Duration::from_secs(2);
const MAX_ENTRIES: usize = 1024;

#[derive(Clone, Copy)]
struct Counted {
    count: i64,
    limit: i64,
    at: Instant,
}

#[derive(Default)]
pub struct ListingCounts(Mutex<HashMap<String, Counted>>);

impl ListingCounts {
    /// A count good for `limit`: exact, or taken with at least that limit.
    pub fn get(&self, key: &str, limit: i64) -> Option<i64> {
        let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let c = entries.get(key)?;
        let answers = c.count < c.limit || c.limit >= limit;
        (c.at.elapsed() < MAX_AGE && answers).then(|| c.count.min(limit))
    }

    pub fn put(&self, key: String, count: i64, limit: i64) {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, Counted { count, limit, at: Instant::now() });
    }

    pub fn forget(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capped_count_answers_only_within_its_limit() {
        let counts = ListingCounts::default();
        counts.put("all".into(), 1_001, 1_001);
        assert_eq!(counts.get("all", 1_001), Some(1_001));
        assert_eq!(counts.get("all", 500), Some(500), "a lower limit is answered");
        assert_eq!(counts.get("all", 2_000), None, "a deeper page counts again");
        counts.put("few".into(), 7, 1_001);
        assert_eq!(counts.get("few", 5_000), Some(7), "an exact count answers any limit");
        counts.forget();
        assert_eq!(counts.get("few", 1), None);
    }
}
