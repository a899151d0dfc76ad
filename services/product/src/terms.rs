//! The term index behind catalogue search and filters (`product_terms`):
//! words found by prefix, sizes and colours found by equality, so a search
//! in 100 000 SKUs reads a few index rows instead of every product.

use atelier_runtime::db::{Arg, Pool, Sql};
use std::collections::BTreeSet;

/// What is indexed and what a query looks for: lower-case runs of ASCII
/// letters and digits (so index order is byte order under any collation).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_ascii_lowercase)
}

/// The first word after every word that starts with `prefix` (a lower-case
/// ASCII word), or `None` when no word comes after them all.
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<u8> = prefix.bytes().collect();
    while let Some(last) = chars.pop() {
        match last {
            b'0'..=b'8' | b'a'..=b'y' => {
                chars.push(last + 1);
                return String::from_utf8(chars).ok();
            }
            b'9' => {
                chars.push(b'a');
                return String::from_utf8(chars).ok();
            }
            _ => {} // 'z': carry into the previous character
        }
    }
    None
}

fn color(color: &str) -> String {
    color.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

pub fn size_facet(size: &str) -> String {
    format!("s:{}", size.to_lowercase())
}

pub fn color_facet(c: &str) -> String {
    format!("c:{}", color(c))
}

/// One SKU's size and colour together: filters on both must hold on one SKU.
pub fn variant_facet(size: &str, c: &str) -> String {
    format!("v:{}:{}", size.to_lowercase(), color(c))
}

/// A SKU as the index sees it: code, size, colour.
pub type SkuTerms<'a> = (&'a str, &'a str, &'a str);

/// Every (kind, term) of one product.
pub fn of_product(
    name: &str,
    description: &str,
    category: &str,
    skus: &[SkuTerms<'_>],
) -> BTreeSet<(&'static str, String)> {
    let mut terms = BTreeSet::new();
    for text in [name, description, category].into_iter().chain(skus.iter().map(|(code, ..)| *code)) {
        terms.extend(words(text).map(|w| ("w", w)));
    }
    for (_, size, c) in skus {
        terms.insert(("f", size_facet(size)));
        terms.insert(("f", color_facet(c)));
        terms.insert(("f", variant_facet(size, c)));
    }
    terms
}

/// Rows for `product_terms`.
pub fn rows<'a>(
    product_id: &'a str,
    terms: &'a BTreeSet<(&'static str, String)>,
) -> impl Iterator<Item = Vec<Arg>> + 'a {
    terms.iter().map(move |(kind, term)| vec![Arg::from(*kind), Arg::from(term.as_str()), Arg::from(product_id)])
}

pub const COLUMNS: [&str; 3] = ["kind", "term", "product_id"];

/// Replaces one product's terms, inside the caller's transaction.
pub async fn store(
    conn: &mut sqlx::AnyConnection,
    product_id: &str,
    terms: &BTreeSet<(&'static str, String)>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM product_terms WHERE product_id = $1").bind(product_id).execute(&mut *conn).await?;
    let rows: Vec<Vec<Arg>> = rows(product_id, terms).collect();
    Sql::insert_all(conn, "product_terms", &COLUMNS, &rows, false).await
}

/// One condition on a product's terms: a word prefix or a facet.
struct Condition {
    kind: &'static str,
    from: String,
    /// Exclusive end of a prefix range; `None` with `exact`: equality.
    to: Option<String>,
    exact: bool,
}

impl Condition {
    fn push(&self, sql: &mut Sql) {
        sql.push(" t.kind = ").bind(Arg::from(self.kind));
        sql.push(if self.exact { " AND t.term = " } else { " AND t.term >= " }).bind(Arg::Text(self.from.clone()));
        if let Some(to) = &self.to {
            sql.push(" AND t.term < ").bind(Arg::Text(to.clone()));
        }
    }
}

/// A term matched by fewer products than this drives the query (its
/// products are fetched and sorted); otherwise the query walks the sort's
/// index and checks each product's terms, stopping when the page is full.
pub const SELECTIVE: i64 = 4_000;

/// Narrows a listing query (`p` is the product) to products with a word
/// starting with each word of `query`, and with the given facet. Returns
/// true when the result is known to be small (see [`SELECTIVE`]).
pub async fn filter(pool: &Pool, sql: &mut Sql, query: &str, facet: Option<String>) -> Result<bool, sqlx::Error> {
    let mut conditions: Vec<Condition> = words(query)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|w| Condition { kind: "w", to: prefix_end(&w), from: w, exact: false })
        .collect();
    conditions.extend(facet.map(|f| Condition { kind: "f", from: f, to: None, exact: true }));
    // How many products each condition matches, up to SELECTIVE: a short
    // walk of the term index.
    let mut sized = Vec::with_capacity(conditions.len());
    for c in conditions {
        let mut count = Sql::default();
        count.push("SELECT COUNT(*) FROM (SELECT 1 FROM product_terms t WHERE");
        c.push(&mut count);
        count.push(" LIMIT ").bind(Arg::Int(SELECTIVE)).push(") n");
        sized.push((count.query_scalar().fetch_one(pool).await?, c));
    }
    sized.sort_by_key(|(n, _)| *n);
    let selective = sized.first().is_some_and(|(n, _)| *n < SELECTIVE);
    for (i, (_, c)) in sized.iter().enumerate() {
        if i == 0 && selective {
            sql.push(" AND p.id IN (SELECT t.product_id FROM product_terms t WHERE");
        } else {
            sql.push(" AND EXISTS (SELECT 1 FROM product_terms t WHERE t.product_id = p.id AND");
        }
        c.push(sql);
        sql.push(")");
    }
    Ok(selective)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_case_ascii_runs() {
        let found: Vec<String> = words("Classic Denim-Jeans, JEANS-001 café").collect();
        assert_eq!(found, ["classic", "denim", "jeans", "jeans", "001", "caf"]);
    }

    #[test]
    fn prefix_end_bounds_exactly_the_words_with_that_prefix() {
        assert_eq!(prefix_end("lin").as_deref(), Some("lio"));
        assert_eq!(prefix_end("a9").as_deref(), Some("aa"));
        assert_eq!(prefix_end("liz").as_deref(), Some("lj"));
        assert_eq!(prefix_end("zz"), None);
        for prefix in ["lin", "a9", "liz", "gen0000", "9"] {
            let end = prefix_end(prefix).unwrap();
            for word in ["lin", "linen", "linz", "a9", "a9z", "liz", "lizzz", "gen000042", "gen00009", "9", "99z"] {
                let inside = word.as_bytes() >= prefix.as_bytes() && word.as_bytes() < end.as_bytes();
                assert_eq!(inside, word.starts_with(prefix), "{word} in [{prefix}, {end})");
            }
        }
    }
}
