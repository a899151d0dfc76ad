//! The catalogue's filters from its own data: categories, colours and sizes
//! with how many products have each, and the price range. Counted over the
//! whole catalogue and kept for a few seconds, so that a busy catalogue page
//! costs no more than a listing.

use atelier_proto::product::{FacetValue, FacetsResponse};
use atelier_runtime::{db::Pool, error::ServiceResult};
use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

/// How old the counts may be: stock moves with every sale and nobody
/// needs those counts to the second. Catalogue edits through this replica
/// forget them at once (other replicas follow within this).
const MAX_AGE: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct Facets(Mutex<Option<(Instant, FacetsResponse)>>);

impl Facets {
    /// After a catalogue edit: counted afresh on the next ask.
    pub fn forget(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub async fn get(&self, pool: &Pool) -> ServiceResult<FacetsResponse> {
        if let Some((at, facets)) = &*self.0.lock().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < MAX_AGE
        {
            return Ok(facets.clone());
        }
        let facets = count(pool).await?;
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), facets.clone()));
        Ok(facets)
    }
}

fn values(rows: Vec<(String, i64)>) -> Vec<FacetValue> {
    rows.into_iter().map(|(value, n)| FacetValue { value, products: n.max(0) as u64 }).collect()
}

async fn count(pool: &Pool) -> ServiceResult<FacetsResponse> {
    let categories: Vec<(String, i64)> =
        sqlx::query_as("SELECT category, COUNT(*) FROM products GROUP BY category ORDER BY category")
            .fetch_all(pool)
            .await?;
    let colors: Vec<(String, i64)> = sqlx::query_as(
        "SELECT color, COUNT(DISTINCT product_id) FROM variants GROUP BY color ORDER BY COUNT(DISTINCT product_id) DESC, color",
    )
    .fetch_all(pool)
    .await?;
    let mut sizes: Vec<(String, i64)> =
        sqlx::query_as("SELECT size, COUNT(DISTINCT product_id) FROM variants GROUP BY size").fetch_all(pool).await?;
    const ORDER: [&str; 6] = ["XS", "S", "M", "L", "XL", "XXL"];
    sizes.sort_by_key(|(s, _)| ORDER.iter().position(|o| o == s));
    let (min, max): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT MIN(price_cents), MAX(price_cents) FROM variants").fetch_one(pool).await?;
    Ok(FacetsResponse {
        categories: values(categories),
        colors: values(colors),
        sizes: values(sizes),
        min_price_cents: min.unwrap_or(0),
        max_price_cents: max.unwrap_or(0),
    })
}
