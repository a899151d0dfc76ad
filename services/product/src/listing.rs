//! Catalogue listings from memory. Every product replica keeps what a
//! listing filters, counts and sorts on (products, their SKUs' sizes,
//! colours and prices, whether each SKU is in stock, the three sort orders
//! and the full-text index), so a listing walks memory whatever the
//! database; only the catalogue version and the live stock of the page's
//! SKUs (one row) are read from the database.
//!
//! Kept in step with the database:
//! - catalogue edits bump the catalogue version; a listing that sees a new
//!   version first re-reads the products whose own version changed and
//!   drops those gone;
//! - stock moves without a version (see `cache`): the replica that moved it
//!   re-reads those products' stock before its next listing, and every
//!   replica re-reads the sold-out SKUs every 2 s and re-checks every
//!   product's version every 30 s (`keep_listings_fresh`).

use crate::{
    catalog::{self, ProductRow, VariantRow},
    search::{Searchable, TextIndex},
};
use atelier_proto::product as pb;
use atelier_runtime::{
    ServiceError,
    db::{Arg, Pool, Sql},
    error::ServiceResult,
    page::Page,
};
use moka::sync::Cache;
use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex, OnceLock, RwLock,
        atomic::{AtomicBool, Ordering::Relaxed},
    },
};

/// Rows read per query when catching up.
const CHUNK: usize = 500;

struct Sku {
    code: String,
    size: String,
    /// The size as requests name it (`Size`).
    size_value: i32,
    color: String,
    /// The lower-case colour, interned: filters compare numbers.
    color_key: u32,
    price_cents: i64,
    in_stock: AtomicBool,
}

struct Listed {
    row: ProductRow,
    /// The lower-case category, interned.
    category_key: u32,
    min_price_cents: i64,
    skus: Vec<Sku>,
}

/// One consistent view of the catalogue; replaced whole when it changes
/// (products that did not change are shared with the previous view).
#[derive(Default, Clone)]
struct Snapshot {
    /// By slot; `None` where a product was deleted.
    products: Vec<Option<Arc<Listed>>>,
    slots: HashMap<String, u32>,
    /// Live slots in each order, and each slot's position in it.
    by_name: Vec<u32>,
    name_rank: Vec<u32>,
    by_price: Vec<u32>,
    price_rank: Vec<u32>,
    by_price_desc: Vec<u32>,
    price_desc_rank: Vec<u32>,
    by_newest: Vec<u32>,
    newest_rank: Vec<u32>,
    facts: Facts,
    version: Option<i64>,
    /// Counted on first use.
    facets: OnceLock<pb::FacetsResponse>,
    ordered: OrderedMatches,
}

/// At most this many matches are kept in [`OrderedMatches`] in all.
const ORDERED_MATCHES: u64 = 1_000_000;

/// The matches of a search's words in one order, put in order once per
/// snapshot (its ranks): the filters, counts and pages of one search then
/// walk them as they are, as listings without text walk the sort orders.
/// Shared by a snapshot's clones; a snapshot with other products starts
/// empty.
#[derive(Clone)]
struct OrderedMatches(Cache<(String, i32), Arc<Vec<u32>>>);

impl Default for OrderedMatches {
    fn default() -> Self {
        let weight = |_: &(String, i32), slots: &Arc<Vec<u32>>| u32::try_from(slots.len()).unwrap_or(u32::MAX).max(1);
        Self(Cache::builder().max_capacity(ORDERED_MATCHES).weigher(weight).build())
    }
}

/// What filters compare, laid out flat (one walk over 20 000 products
/// reads a few contiguous arrays instead of chasing every product).
#[derive(Default, Clone)]
struct Facts {
    /// By slot.
    products: Vec<ProductFacts>,
    /// By slot: the SKUs of slot `s` are `first_sku[s]..first_sku[s + 1]`.
    first_sku: Vec<u32>,
    size: Vec<i32>,
    color: Vec<u32>,
    price: Vec<i64>,
}

/// What a filter asks of a product first, in one cache line.
#[derive(Clone, Copy)]
struct ProductFacts {
    /// `u32::MAX` where the product was deleted.
    category: u32,
    /// The sizes its SKUs come in, bit `1 << size`.
    sizes: u8,
    /// The colours its SKUs come in, bit `1 << key` (keys from
    /// [`OTHER_COLOR`] on share the last bit).
    colors: u64,
}

/// Colour keys from here on share one bit of [`ProductFacts::colors`].
const OTHER_COLOR: u32 = 63;

fn color_bit(key: u32) -> u64 {
    1 << key.min(OTHER_COLOR)
}

fn size_bit(size: i32) -> u8 {
    1 << size.clamp(0, 7)
}

impl Facts {
    fn of(products: &[Option<Arc<Listed>>]) -> Self {
        let mut facts = Facts { first_sku: vec![0], ..Default::default() };
        for p in products {
            let (mut sizes, mut colors) = (0, 0);
            for s in p.iter().flat_map(|p| &p.skus) {
                facts.size.push(s.size_value);
                facts.color.push(s.color_key);
                facts.price.push(s.price_cents);
                sizes |= size_bit(s.size_value);
                colors |= color_bit(s.color_key);
            }
            let category = p.as_ref().map_or(u32::MAX, |p| p.category_key);
            facts.products.push(ProductFacts { category, sizes, colors });
            facts.first_sku.push(facts.size.len() as u32);
        }
        facts
    }
}

impl Snapshot {
    fn get(&self, slot: u32) -> Option<&Listed> {
        self.products.get(slot as usize)?.as_deref()
    }

    fn sort(&mut self) {
        let mut live: Vec<u32> = (0..self.products.len() as u32).filter(|s| self.get(*s).is_some()).collect();
        let name = |s: &u32| self.get(*s).map(|p| (p.row.name.as_str(), p.row.id.as_str()));
        live.sort_by(|a, b| name(a).cmp(&name(b)));
        let key = |s: &u32| self.get(*s).map(|p| (p.min_price_cents, p.row.created_at_ms)).unwrap_or_default();
        // Stable sorts of the name order: by name among equals.
        let mut by_price = live.clone();
        by_price.sort_by_key(|s| key(s).0);
        let mut by_price_desc = live.clone();
        by_price_desc.sort_by_key(|s| std::cmp::Reverse(key(s).0));
        let mut by_newest = live.clone();
        by_newest.sort_by_key(|s| std::cmp::Reverse(key(s).1));
        let ranks = |order: &[u32]| {
            let mut rank = vec![u32::MAX; self.products.len()];
            order.iter().enumerate().for_each(|(i, slot)| rank[*slot as usize] = i as u32);
            rank
        };
        (self.name_rank, self.price_rank) = (ranks(&live), ranks(&by_price));
        (self.price_desc_rank, self.newest_rank) = (ranks(&by_price_desc), ranks(&by_newest));
        (self.by_name, self.by_price, self.by_price_desc, self.by_newest) = (live, by_price, by_price_desc, by_newest);
        self.facts = Facts::of(&self.products);
    }

    fn set_stock(&self, product_id: &str, code: &str, stock: i64) {
        let product = self.slots.get(product_id).and_then(|slot| self.get(*slot));
        if let Some(sku) = product.and_then(|p| p.skus.iter().find(|s| s.code == code)) {
            sku.in_stock.store(stock > 0, Relaxed);
        }
    }
}

/// Lower-case categories and colours as numbers, so filters compare numbers.
#[derive(Default)]
struct Keys(Mutex<HashMap<String, u32>>);

impl Keys {
    fn intern(&self, text: &str) -> u32 {
        let mut keys = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let next = keys.len() as u32;
        *keys.entry(text.trim().to_lowercase()).or_insert(next)
    }

    /// `u32::MAX` (matching nothing) for a text no product has.
    fn find(&self, text: &str) -> u32 {
        let keys = self.0.lock().unwrap_or_else(|e| e.into_inner());
        keys.get(&text.trim().to_lowercase()).copied().unwrap_or(u32::MAX)
    }
}

/// What a listing asks of a product, understood once.
struct Filter {
    category: Option<u32>,
    size: Option<i32>,
    color: Option<u32>,
    min_price: Option<i64>,
    max_price: Option<i64>,
    in_stock: bool,
    /// Any SKU filter at all.
    per_sku: bool,
    /// The product's size and colour bits alone decide: one of the two is
    /// asked for (a colour with a bit of its own) and nothing else per SKU.
    by_bits_alone: bool,
}

impl Filter {
    fn of(r: &pb::ListProductsRequest, keys: &Keys) -> ServiceResult<Self> {
        let key = |s: &str| Some(s).filter(|s| !s.trim().is_empty()).map(|s| keys.find(s));
        if r.size != 0 {
            crate::validate::size(r.size)?;
        }
        let (size, color) = (Some(r.size).filter(|s| *s != 0), key(&r.color));
        let (min_price, max_price, in_stock) = (r.min_price_cents, r.max_price_cents, r.in_stock);
        let others = min_price.is_some() || max_price.is_some() || in_stock;
        Ok(Self {
            category: key(&r.category),
            size,
            color,
            min_price,
            max_price,
            in_stock,
            per_sku: size.is_some() || color.is_some() || others,
            by_bits_alone: !others
                && match (size, color) {
                    (Some(_), None) => true,
                    (None, Some(c)) => c < OTHER_COLOR,
                    _ => false,
                },
        })
    }

    fn everything(&self) -> bool {
        self.category.is_none() && !self.per_sku
    }

    /// A live product matching the filter; the same SKU must match every
    /// SKU filter.
    fn accepts(&self, snapshot: &Snapshot, slot: u32) -> bool {
        let (f, i) = (&snapshot.facts, slot as usize);
        let Some(&product) = f.products.get(i) else { return false };
        if product.category == u32::MAX || self.category.is_some_and(|c| c != product.category) {
            return false;
        }
        if !self.per_sku {
            return true;
        }
        // Most products are ruled out, or in, by what sizes and colours they
        // come in, without a look at their SKUs.
        if self.size.is_some_and(|s| product.sizes & size_bit(s) == 0)
            || self.color.is_some_and(|c| product.colors & color_bit(c) == 0)
        {
            return false;
        }
        if self.by_bits_alone {
            return true;
        }
        let first = f.first_sku[i] as usize;
        (first..f.first_sku[i + 1] as usize).any(|k| {
            self.size.is_none_or(|size| f.size[k] == size)
                    && self.color.is_none_or(|c| c == f.color[k])
                    && self.min_price.is_none_or(|min| f.price[k] >= min)
                    && self.max_price.is_none_or(|max| f.price[k] <= max)
                    // Stock moves all the time: read where it is kept.
                    && (!self.in_stock
                        || snapshot.get(slot).is_some_and(|p| p.skus[k - first].in_stock.load(Relaxed)))
        })
    }
}

/// The live stock of the page's SKUs, by code. The whole page is one
/// statement and one row (`CODE stock,CODE stock,…`; codes are `A-Z`, `0-9`
/// and `-`): every row costs more than its columns (on SQLite, a hop from
/// the connection's thread), and a full page has some 60 SKUs.
struct LiveStock(Vec<(String, i64)>);

impl LiveStock {
    async fn of(pool: &Pool, page: &[&Listed]) -> ServiceResult<Self> {
        if page.is_empty() {
            return Ok(Self(vec![]));
        }
        let mut sql = Sql::default();
        sql.push(
            "SELECT string_agg(v.code || ' ' || CAST(v.stock AS TEXT), ',') FROM variants v WHERE v.product_id IN (",
        );
        for (i, p) in page.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(Arg::Text(p.row.id.clone()));
        }
        sql.push(")");
        let packed: Option<String> = sqlx::Row::try_get(&sql.query().fetch_one(pool).await?, 0)?;
        // Some 60 entries: sorted and searched, no hashing.
        let mut stock = Vec::with_capacity(page.len() * 6);
        for entry in packed.as_deref().unwrap_or_default().split(',').filter(|e| !e.is_empty()) {
            let parsed = entry.split_once(' ').and_then(|(code, n)| Some((code.to_owned(), n.parse().ok()?)));
            stock.push(parsed.ok_or_else(|| ServiceError::Internal(format!("unreadable stock entry {entry:?}")))?);
        }
        stock.sort_unstable();
        Ok(Self(stock))
    }

    /// A product's SKUs with their stock. A SKU deleted since the snapshot
    /// has no stock row: it is not shown.
    fn skus<'a>(&'a self, product: &'a Listed) -> impl Iterator<Item = (&'a Sku, i64)> {
        product.skus.iter().filter_map(|k| {
            let found = self.0.binary_search_by(|(code, _)| code.as_str().cmp(&k.code)).ok()?;
            Some((k, self.0[found].1))
        })
    }

    fn product(&self, p: &Listed) -> pb::Product {
        let variants = self.skus(p).map(|(k, stock)| pb::Variant {
            code: k.code.clone(),
            size: k.size_value,
            color: k.color.clone(),
            price_cents: k.price_cents,
            stock,
        });
        p.row.with_variants(variants.collect())
    }

    fn card(&self, p: &Listed) -> pb::ProductCard {
        let (mut colors, mut prices, mut in_stock) = (Vec::<&str>::new(), None::<(i64, i64)>, false);
        for (k, stock) in self.skus(p) {
            if !colors.contains(&k.color.as_str()) {
                colors.push(&k.color);
            }
            let (min, max) = prices.unwrap_or((k.price_cents, k.price_cents));
            prices = Some((min.min(k.price_cents), max.max(k.price_cents)));
            in_stock |= stock > 0;
        }
        // As a product's variants are shown (`ProductRow::with_variants`): by colour.
        colors.sort_unstable();
        pb::ProductCard {
            id: p.row.id.clone(),
            name: p.row.name.clone(),
            category: p.row.category.clone(),
            image: p.row.image.clone(),
            colors: colors.into_iter().map(str::to_owned).collect(),
            min_price_cents: prices.map(|p| p.0),
            max_price_cents: prices.map(|p| p.1),
            in_stock,
        }
    }
}

/// A page of the catalogue: `products`, or `cards` when those were asked for.
pub struct Listing {
    pub products: Vec<pb::Product>,
    pub cards: Vec<pb::ProductCard>,
    pub total: u64,
}

pub struct CatalogueIndex {
    text: Arc<TextIndex>,
    snapshot: RwLock<Arc<Snapshot>>,
    /// One catch-up at a time; the others wait for it and use its result.
    catching_up: tokio::sync::Mutex<()>,
    /// Products whose stock this replica moved since its last listing.
    stock_moved: Mutex<HashSet<String>>,
    keys: Keys,
}

impl CatalogueIndex {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            text: Arc::new(TextIndex::new()?),
            snapshot: Default::default(),
            catching_up: Default::default(),
            stock_moved: Default::default(),
            keys: Default::default(),
        })
    }

    fn current(&self) -> Arc<Snapshot> {
        self.snapshot.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn stock_moved(&self, products: &[String]) {
        self.stock_moved.lock().unwrap_or_else(|e| e.into_inner()).extend(products.iter().cloned());
    }

    /// One page of the catalogue at `version` (just read from the database).
    pub async fn list(&self, pool: &Pool, r: &pb::ListProductsRequest, version: i64) -> ServiceResult<Listing> {
        let snapshot = self.catch_up(pool, Some(version)).await?;
        // After catching up: a colour or category the change brought is known.
        let filter = Filter::of(r, &self.keys)?;
        self.refresh_moved_stock(pool, &snapshot).await?;

        let page = Page::new(r.page, r.per_page, 12);
        let (offset, limit) = (page.offset() as usize, page.limit() as usize);
        let mut total = 0;
        let mut on_page = Vec::with_capacity(limit);
        let mut take = |slot: u32| {
            if filter.accepts(&snapshot, slot) {
                if total >= offset && on_page.len() < limit {
                    on_page.push(slot);
                }
                total += 1;
            }
        };
        let words = self.text.words(&r.query);
        let found = self.text.search(&words).map_err(search_failed)?;
        let sort = match pb::Sort::try_from(r.sort).unwrap_or_default() {
            pb::Sort::Unspecified | pb::Sort::Relevance if found.is_some() => pb::Sort::Relevance,
            pb::Sort::Unspecified | pb::Sort::Relevance => pb::Sort::Name,
            sort => sort,
        };
        let (order, rank) = match sort {
            pb::Sort::PriceAsc => (&snapshot.by_price, &snapshot.price_rank),
            pb::Sort::PriceDesc => (&snapshot.by_price_desc, &snapshot.price_desc_rank),
            pb::Sort::Newest => (&snapshot.by_newest, &snapshot.newest_rank),
            _ => (&snapshot.by_name, &snapshot.name_rank),
        };
        match found {
            // Text: the matches in the chosen order (by relevance, then by
            // name), walked once like the orders below.
            Some(found) => {
                let key = (words.join(" "), sort as i32);
                let ordered = snapshot.ordered.0.get_with(key, || {
                    let relevance = sort == pb::Sort::Relevance;
                    // A slot the snapshot does not know (an index newer than
                    // it) cannot be listed from it.
                    let mut keyed: Vec<(f32, u32, u32)> = found
                        .iter()
                        .filter_map(|&(slot, score)| {
                            let slot = u32::try_from(slot).ok()?;
                            Some((if relevance { score } else { 0.0 }, *rank.get(slot as usize)?, slot))
                        })
                        .collect();
                    keyed.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                    Arc::new(keyed.into_iter().map(|k| k.2).collect())
                });
                ordered.iter().for_each(|slot| take(*slot));
            }
            // No text: the chosen order, walked once (counting every match).
            None if filter.everything() => {
                // Every live product: the order holds exactly those.
                total = order.len();
                on_page.extend(order.iter().skip(offset).take(limit));
            }
            None => order.iter().for_each(|slot| take(*slot)),
        }
        let page: Vec<&Listed> = on_page.iter().filter_map(|s| snapshot.get(*s)).collect();
        let stock = LiveStock::of(pool, &page).await?;
        let (products, cards) = if r.cards {
            (vec![], page.iter().map(|p| stock.card(p)).collect())
        } else {
            (page.iter().map(|p| stock.product(p)).collect(), vec![])
        };
        Ok(Listing { products, cards, total: total as u64 })
    }

    /// Brings the index up to `version` (or, with `None`, re-checks every
    /// product whatever the version says) and returns it.
    async fn catch_up(&self, pool: &Pool, version: Option<i64>) -> ServiceResult<Arc<Snapshot>> {
        // A version read before another listing caught up may be older than
        // the index: the index answers it.
        let caught_up = |current: &Snapshot| version.is_some() && current.version >= version;
        let current = self.current();
        if caught_up(&current) {
            return Ok(current);
        }
        let _one = self.catching_up.lock().await;
        let current = self.current();
        if caught_up(&current) {
            return Ok(current);
        }
        // The version first: a change committed after this read bumps it
        // again, and the next listing catches up once more.
        let version = match version {
            Some(v) => v,
            None => catalog::catalog_version(pool).await?,
        };
        let stored: Vec<(String, i64)> = sqlx::query_as("SELECT id, version FROM products").fetch_all(pool).await?;
        let changed: Vec<String> = stored
            .iter()
            .filter(|(id, v)| current.slots.get(id).and_then(|s| current.get(*s)).map(|p| p.row.version) != Some(*v))
            .map(|(id, _)| id.clone())
            .collect();
        let still: HashSet<&str> = stored.iter().map(|(id, _)| id.as_str()).collect();
        let gone: Vec<String> = current.slots.keys().filter(|id| !still.contains(id.as_str())).cloned().collect();
        if changed.is_empty() && gone.is_empty() {
            let next = Arc::new(Snapshot { version: Some(version), ..(*current).clone() });
            *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = next.clone();
            return Ok(next);
        }
        let loaded = load(pool, &changed, &self.keys).await?;

        let mut next = Snapshot { facets: OnceLock::new(), ordered: Default::default(), ..(*current).clone() };
        for id in &gone {
            if let Some(slot) = next.slots.remove(id) {
                next.products[slot as usize] = None;
            }
        }
        let mut slots = Vec::with_capacity(loaded.len());
        for listed in loaded {
            let slot = match next.slots.get(&listed.row.id) {
                Some(slot) => *slot,
                None => {
                    next.products.push(None);
                    let slot = next.products.len() as u32 - 1;
                    next.slots.insert(listed.row.id.clone(), slot);
                    slot
                }
            };
            next.products[slot as usize] = Some(Arc::new(listed));
            slots.push(slot);
        }
        next.sort();
        next.version = Some(version);
        let next = Arc::new(next);

        let (indexed, text, changed) = (next.clone(), self.text.clone(), slots.len());
        // Indexing a whole catalogue takes a while: off the async threads.
        tokio::task::spawn_blocking(move || {
            let upsert: Vec<Searchable> =
                slots.iter().filter_map(|slot| indexed.get(*slot).map(|p| p.searchable(*slot))).collect();
            text.apply(&upsert, &gone.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("catalogue indexing stopped: {e}")))?
        .map_err(search_failed)?;
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = next.clone();
        tracing::debug!(changed, version, "catalogue index caught up");
        Ok(next)
    }

    async fn refresh_moved_stock(&self, pool: &Pool, snapshot: &Snapshot) -> ServiceResult<()> {
        let moved: Vec<String> =
            std::mem::take(&mut *self.stock_moved.lock().unwrap_or_else(|e| e.into_inner())).into_iter().collect();
        for ids in moved.chunks(CHUNK) {
            let mut sql = Sql::default();
            sql.push("SELECT product_id, code, stock FROM variants WHERE product_id IN (");
            in_list(&mut sql, ids);
            sql.push(")");
            let rows: Vec<(String, String, i64)> =
                sql.query().try_map(|r| sqlx::FromRow::from_row(&r)).fetch_all(pool).await?;
            rows.iter().for_each(|(product, code, stock)| snapshot.set_stock(product, code, *stock));
        }
        Ok(())
    }

    /// The catalogue's filters with their counts, at `version`.
    pub async fn facets(&self, pool: &Pool, version: i64) -> ServiceResult<pb::FacetsResponse> {
        let snapshot = self.catch_up(pool, Some(version)).await?;
        let products = snapshot.products.iter().flatten().map(|p| crate::facets::Faceted {
            category: &p.row.category,
            skus: p.skus.iter().map(|s| (s.color.as_str(), s.size.as_str(), s.price_cents)).collect(),
        });
        Ok(snapshot.facets.get_or_init(|| crate::facets::count(products)).clone())
    }

    /// Catches up with the catalogue version (with `every_product`, re-checks
    /// every product's version too, in case a bump was lost) and re-reads
    /// which SKUs are sold out: what other replicas changed shows here within
    /// one round.
    pub async fn refresh(&self, pool: &Pool, every_product: bool) -> ServiceResult<()> {
        let version = if every_product { None } else { Some(catalog::catalog_version(pool).await?) };
        let snapshot = self.catch_up(pool, version).await?;
        // Sold-out SKUs are few, and found through the stock index.
        let sold_out: HashSet<String> = sqlx::query_scalar("SELECT code FROM variants WHERE stock <= 0")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
        for sku in snapshot.products.iter().flatten().flat_map(|p| &p.skus) {
            sku.in_stock.store(!sold_out.contains(&sku.code), Relaxed);
        }
        Ok(())
    }
}

impl Listed {
    fn row_codes(&self) -> impl Iterator<Item = &str> {
        self.skus.iter().map(|s| s.code.as_str())
    }

    fn searchable(&self, slot: u32) -> Searchable<'_> {
        Searchable {
            id: &self.row.id,
            slot: u64::from(slot),
            name: &self.row.name,
            category: &self.row.category,
            description: &self.row.description,
            codes: self.row_codes().collect(),
        }
    }
}

fn search_failed(e: tantivy::TantivyError) -> ServiceError {
    ServiceError::Internal(format!("catalogue search failed: {e}"))
}

fn in_list(sql: &mut Sql, ids: &[String]) {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(Arg::Text(id.clone()));
    }
}

/// These products, as listings see them. Read a chunk at a time, also for
/// a whole catalogue: a million SKUs read in one go took hundreds of MiB of
/// rows the allocator then kept.
async fn load(pool: &Pool, ids: &[String], keys: &Keys) -> ServiceResult<Vec<Listed>> {
    let mut listed = Vec::with_capacity(ids.len());
    for ids in ids.chunks(CHUNK) {
        let mut products = Sql::default();
        products.push(&format!("SELECT {} FROM products p WHERE p.id IN (", catalog::PRODUCT_COLUMNS));
        in_list(&mut products, ids);
        products.push(")");
        let mut variants = Sql::default();
        variants.push(&format!("SELECT {} FROM variants v WHERE v.product_id IN (", catalog::VARIANT_COLUMNS));
        in_list(&mut variants, ids);
        variants.push(")");
        let rows: Vec<ProductRow> = products.query().try_map(|r| sqlx::FromRow::from_row(&r)).fetch_all(pool).await?;
        let variants: Vec<VariantRow> =
            variants.query().try_map(|r| sqlx::FromRow::from_row(&r)).fetch_all(pool).await?;
        let mut skus: HashMap<String, Vec<VariantRow>> = HashMap::new();
        for v in variants {
            skus.entry(v.product_id.clone()).or_default().push(v);
        }
        listed.extend(rows.into_iter().map(|row| {
            let mut skus = skus.remove(&row.id).unwrap_or_default();
            skus.sort_by(|a, b| a.code.cmp(&b.code));
            Listed {
                category_key: keys.intern(&row.category),
                min_price_cents: skus.iter().map(|v| v.price_cents).min().unwrap_or(0),
                skus: skus
                    .into_iter()
                    .map(|v| Sku {
                        color_key: keys.intern(&v.color),
                        color: v.color,
                        size_value: crate::size_value(&v.size),
                        in_stock: AtomicBool::new(v.stock > 0),
                        size: v.size,
                        price_cents: v.price_cents,
                        code: v.code,
                    })
                    .collect(),
                row,
            }
        }));
    }
    Ok(listed)
}
