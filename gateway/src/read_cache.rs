//! What nearly every page asks the services for, kept for as long as a
//! cached page lives (`ATELIER_PAGE_CACHE_MS`, 1 s by default): who a
//! session belongs to, how many units are in a bag and which, and a
//! product's details. A signed-in product page otherwise costs four gRPC
//! calls; a shopper moving between pages, or many shoppers on one product,
//! share them.
//!
//! Only pages read from here. Every change (any request that is not GET or
//! HEAD) checks the session with the auth service, and empties these reads
//! as it empties the page cache. Bags are keyed by the browser's bag stamp
//! as well (the `atelier_bag_stamp` cookie), which every form post
//! renews: after adding to the bag here, the next page — on this replica or
//! another — reads the bag afresh. The JSON API never reads from here.

use crate::session::CurrentUser;
use atelier_proto::product as pb;
use moka::sync::Cache;
use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};
use tonic::Status;

/// Units per variant code in a bag.
pub type BagLines = Arc<HashMap<String, i64>>;

const MAX_SESSIONS: u64 = 10_000;
const MAX_BAGS: u64 = 10_000;
const MAX_PRODUCTS: u64 = 2_000;

pub struct ReadCache {
    on: bool,
    /// Bumped by [`ReadCache::clear`]: a read that started before a change
    /// is not kept after it.
    generation: AtomicU64,
    sessions: Cache<String, CurrentUser>,
    bag_units: Cache<String, i64>,
    bag_lines: Cache<String, BagLines>,
    products: Cache<String, Arc<pb::Product>>,
}

impl ReadCache {
    pub fn new(ttl: Duration) -> Self {
        let on = !ttl.is_zero();
        let ttl = ttl.max(Duration::from_millis(1));
        Self {
            generation: AtomicU64::new(0),
            on,
            sessions: bounded(MAX_SESSIONS, ttl),
            bag_units: bounded(MAX_BAGS, ttl),
            bag_lines: bounded(MAX_BAGS, ttl),
            products: bounded(MAX_PRODUCTS, ttl),
        }
    }

    /// The user of a session; `Ok(None)` (an ended session) is not kept.
    pub async fn session<F>(&self, token: &str, load: impl FnOnce() -> F) -> Result<Option<CurrentUser>, Status>
    where
        F: Future<Output = Result<Option<CurrentUser>, Status>>,
    {
        if let Some(user) = self.on.then(|| self.sessions.get(token)).flatten() {
            return Ok(Some(user));
        }
        let started = self.generation.load(Ordering::Acquire);
        let user = load().await?;
        if let Some(user) = user.as_ref().filter(|_| self.still(started)) {
            self.sessions.insert(token.to_string(), user.clone());
        }
        Ok(user)
    }

    /// Units in a bag (0 when the cart service does not answer: the count
    /// is a convenience, never a failure).
    pub async fn bag_units<F: Future<Output = Result<i64, Status>>>(&self, bag: &str, load: impl FnOnce() -> F) -> i64 {
        self.remember(&self.bag_units, bag, load).await.unwrap_or(0)
    }

    /// Units per variant in a bag (none when the cart service does not answer).
    pub async fn bag_lines<F>(&self, bag: &str, load: impl FnOnce() -> F) -> BagLines
    where
        F: Future<Output = Result<BagLines, Status>>,
    {
        self.remember(&self.bag_lines, bag, load).await.unwrap_or_default()
    }

    pub async fn product<F>(&self, id: &str, load: impl FnOnce() -> F) -> Result<Arc<pb::Product>, Status>
    where
        F: Future<Output = Result<Arc<pb::Product>, Status>>,
    {
        self.remember(&self.products, id, load).await
    }

    /// Forgets one bag (read again at once, so that the header agrees).
    pub fn forget_bag(&self, bag: &str) {
        self.bag_units.invalidate(bag);
        self.bag_lines.invalidate(bag);
    }

    /// True when caching is on and nothing changed since `started`.
    fn still(&self, started: u64) -> bool {
        self.on && self.generation.load(Ordering::Acquire) == started
    }

    /// The kept value, or the loaded one (kept when loading succeeded and
    /// nothing changed meanwhile).
    async fn remember<V, F>(&self, cache: &Cache<String, V>, key: &str, load: impl FnOnce() -> F) -> Result<V, Status>
    where
        V: Clone + Send + Sync + 'static,
        F: Future<Output = Result<V, Status>>,
    {
        if let Some(value) = self.on.then(|| cache.get(key)).flatten() {
            return Ok(value);
        }
        let started = self.generation.load(Ordering::Acquire);
        let value = load().await?;
        if self.still(started) {
            cache.insert(key.to_string(), value.clone());
        }
        Ok(value)
    }

    /// Forgets everything (after a change made through this gateway).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.sessions.invalidate_all();
        self.bag_units.invalidate_all();
        self.bag_lines.invalidate_all();
        self.products.invalidate_all();
    }
}

fn bounded<V: Clone + Send + Sync + 'static>(max: u64, ttl: Duration) -> Cache<String, V> {
    Cache::builder().max_capacity(max).time_to_live(ttl).build()
}
