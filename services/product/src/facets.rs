//! The catalogue's filters from its own data: categories, colours and sizes
//! with how many products have each, and the price range. Counted from the
//! in-memory catalogue once per catalogue version, so a busy catalogue page
//! costs no more than a listing.

use atelier_proto::product::{FacetValue, FacetsResponse};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What facets read of one product: its category, and its SKUs' colours,
/// sizes and prices.
pub struct Faceted<'a> {
    pub category: &'a str,
    pub skus: Vec<(&'a str, &'a str, i64)>,
}

pub fn count<'a>(products: impl Iterator<Item = Faceted<'a>>) -> FacetsResponse {
    let mut categories: BTreeMap<&str, u64> = BTreeMap::new();
    let mut colors: HashMap<&str, u64> = HashMap::new();
    let mut sizes: HashMap<&str, u64> = HashMap::new();
    let (mut min, mut max) = (None::<i64>, None::<i64>);
    for p in products {
        *categories.entry(p.category).or_default() += 1;
        let mut seen_colors = HashSet::new();
        let mut seen_sizes = HashSet::new();
        for (color, size, price) in p.skus {
            if seen_colors.insert(color) {
                *colors.entry(color).or_default() += 1;
            }
            if seen_sizes.insert(size) {
                *sizes.entry(size).or_default() += 1;
            }
            min = Some(min.map_or(price, |m| m.min(price)));
            max = Some(max.map_or(price, |m| m.max(price)));
        }
    }
    let value = |(value, products): (&str, u64)| FacetValue { value: value.to_owned(), products };
    let mut colors: Vec<(&str, u64)> = colors.into_iter().collect();
    colors.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let sizes = crate::SIZES.iter().filter_map(|s| sizes.get(s).map(|n| (*s, *n)));
    FacetsResponse {
        categories: categories.into_iter().map(value).collect(),
        colors: colors.into_iter().map(value).collect(),
        sizes: sizes.map(value).collect(),
        min_price_cents: min.unwrap_or(0),
        max_price_cents: max.unwrap_or(0),
    }
}
