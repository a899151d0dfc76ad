//! Catalogue listings served from memory while the catalogue is unchanged:
//! each entry remembers the catalogue version it was computed at, and is
//! used only while the database still reports that version (and for a few
//! seconds at most). Catalogue edits bump that version; stock moved by
//! checkouts does not (a counter every sale updates would be one hot row
//! for the whole shop): the replica that moved it forgets the listings
//! showing those products at once, and other replicas' listings show the
//! new stock within `MAX_AGE`. Carts and checkout always read live stock.

use atelier_proto::product::ListProductsResponse;
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

pub const MAX_AGE: Duration = Duration::from_secs(2);
const MAX_ENTRIES: usize = 512;

#[derive(Default)]
pub struct Listings(Mutex<HashMap<Vec<u8>, (i64, Instant, ListProductsResponse)>>);

impl Listings {
    pub fn get(&self, key: &[u8], version: i64) -> Option<ListProductsResponse> {
        let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).filter(|(v, at, _)| *v == version && at.elapsed() < MAX_AGE).map(|(_, _, r)| r.clone())
    }

    /// Stock of these products moved: the listings showing them go (the
    /// rest stay).
    pub fn forget_products(&self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let shows = |id: &String| ids.contains(id);
        entries
            .retain(|_, (_, _, r)| !r.products.iter().map(|p| &p.id).chain(r.cards.iter().map(|c| &c.id)).any(shows));
    }

    pub fn put(&self, key: Vec<u8>, version: i64, response: ListProductsResponse) {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (version, Instant::now(), response));
    }
}
