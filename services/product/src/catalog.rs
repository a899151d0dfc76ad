//! Reading and editing the catalogue.

use crate::terms;
use crate::validate::{ProductFields, VariantFields};
use atelier_proto::product as pb;
use atelier_runtime::{
    ServiceError, db,
    db::{Arg, Pool, Sql},
    error::ServiceResult,
    now_ms,
    page::Page,
};

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: String,
    name: String,
    description: String,
    category: String,
    image: String,
    created_at_ms: i64,
    version: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct VariantRow {
    pub product_id: String,
    pub code: String,
    pub size: String,
    pub color: String,
    pub price_cents: i64,
    pub stock: i64,
}

impl From<VariantRow> for pb::Variant {
    fn from(v: VariantRow) -> Self {
        pb::Variant {
            code: v.code,
            size: crate::size_value(&v.size),
            color: v.color,
            price_cents: v.price_cents,
            stock: v.stock,
        }
    }
}

const PRODUCT_COLUMNS: &str = "p.id, p.name, p.description, p.category, p.image, p.created_at_ms, p.version";
const VARIANT_COLUMNS: &str = "v.product_id, v.code, v.size, v.color, v.price_cents, v.stock";
const VARIANT_ORDER: &str = "v.color, CASE v.size WHEN 'XS' THEN 1 WHEN 'S' THEN 2 WHEN 'M' THEN 3 WHEN 'L' THEN 4 WHEN 'XL' THEN 5 ELSE 6 END, v.code";

async fn with_variants(pool: &Pool, rows: Vec<ProductRow>) -> ServiceResult<Vec<pb::Product>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let mut sql = Sql::default();
    sql.push(&format!("SELECT {VARIANT_COLUMNS} FROM variants v WHERE v.product_id IN ("));
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(Arg::Text(row.id.clone()));
    }
    sql.push(&format!(") ORDER BY {VARIANT_ORDER}"));
    let variants: Vec<VariantRow> = sql.query().try_map(|r| sqlx::FromRow::from_row(&r)).fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|p| pb::Product {
            variants: variants
                .iter()
                .filter(|v| v.product_id == p.id)
                .map(|v| pb::Variant {
                    code: v.code.clone(),
                    size: crate::size_value(&v.size),
                    color: v.color.clone(),
                    price_cents: v.price_cents,
                    stock: v.stock,
                })
                .collect(),
            id: p.id,
            name: p.name,
            description: p.description,
            category: p.category,
            image: p.image,
            created_at_ms: p.created_at_ms,
            version: p.version,
        })
        .collect())
}

/// Listings count matches exactly up to this many past the page's offset.
const COUNT_CAP: i64 = 1_000;

pub struct Listing {
    pub products: Vec<pb::Product>,
    pub total: u64,
    /// More than `total` products match.
    pub total_capped: bool,
}

pub async fn list(
    pool: &Pool,
    r: &pb::ListProductsRequest,
    counts: &crate::cache::Counts,
    version: i64,
) -> ServiceResult<Listing> {
    let page = Page::new(r.page, r.per_page, 12);
    let mut filter = Sql::default();
    filter.push(" FROM products p WHERE 1 = 1");
    if !r.category.trim().is_empty() {
        filter.push(" AND LOWER(p.category) = ").bind(Arg::Text(r.category.trim().to_lowercase()));
    }
    let size = if r.size == 0 { None } else { Some(crate::validate::size(r.size)?) };
    let color = Some(r.color.trim()).filter(|c| !c.is_empty());
    let facet = match (size, color) {
        (Some(s), Some(c)) => Some(terms::variant_facet(s, c)),
        (Some(s), None) => Some(terms::size_facet(s)),
        (None, Some(c)) => Some(terms::color_facet(c)),
        (None, None) => None,
    };
    let selective = terms::filter(pool, &mut filter, &r.query, facet).await?;
    // Price and stock: the same SKU must match every filter.
    if r.min_price_cents.is_some() || r.max_price_cents.is_some() || r.in_stock {
        filter.push(" AND EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id");
        if let Some(s) = size {
            filter.push(" AND v.size = ").bind(Arg::Text(s.into()));
        }
        if let Some(c) = color {
            filter.push(" AND LOWER(v.color) = ").bind(Arg::Text(c.to_lowercase()));
        }
        if let Some(min) = r.min_price_cents {
            filter.push(" AND v.price_cents >= ").bind(Arg::Int(min));
        }
        if let Some(max) = r.max_price_cents {
            filter.push(" AND v.price_cents <= ").bind(Arg::Int(max));
        }
        if r.in_stock {
            filter.push(" AND v.stock > 0");
        }
        filter.push(")");
    }

    // Counted exactly up to COUNT_CAP past this page; beyond, "at least".
    let limit = page.offset() + COUNT_CAP + 1;
    let key = format!("{}\u{0}{:?}", filter.text, filter.args);
    let counted = match counts.get(&key, version, limit) {
        Some(counted) => counted,
        None => {
            let mut count =
                Sql { text: format!("SELECT COUNT(*) FROM (SELECT 1{}", filter.text), args: filter.args.clone() };
            count.push(" LIMIT ").bind(Arg::Int(limit)).push(") capped");
            let counted = count.query_scalar().fetch_one(pool).await?;
            counts.put(key, version, crate::cache::Counted { count: counted, limit });
            counted
        }
    };
    let capped = counted > page.offset() + COUNT_CAP;

    // Few matches: sort just them (an expression in ORDER BY keeps the sort's
    // index out, on PostgreSQL and SQLite alike). Many: walk the sort's index
    // and stop once the page is full.
    let few = selective || (!capped && counted < 5 * (page.offset() + page.limit()));
    let order = match (pb::Sort::try_from(r.sort).unwrap_or_default(), few) {
        (pb::Sort::PriceAsc, false) => "p.min_price_cents ASC, p.name",
        (pb::Sort::PriceAsc, true) => "p.min_price_cents + 0 ASC, p.name",
        (pb::Sort::PriceDesc, false) => "p.min_price_cents DESC, p.name",
        (pb::Sort::PriceDesc, true) => "p.min_price_cents + 0 DESC, p.name",
        (pb::Sort::Newest, false) => "p.created_at_ms DESC, p.name",
        (pb::Sort::Newest, true) => "p.created_at_ms + 0 DESC, p.name",
        (pb::Sort::Name | pb::Sort::Unspecified, false) => "p.name, p.id",
        (pb::Sort::Name | pb::Sort::Unspecified, true) => "p.name || '', p.id",
    };
    let mut select =
        Sql { text: format!("SELECT {PRODUCT_COLUMNS}{} ORDER BY {order} LIMIT ", filter.text), args: filter.args };
    select.bind(Arg::Int(page.limit())).push(" OFFSET ").bind(Arg::Int(page.offset()));
    let rows: Vec<ProductRow> = select.query().try_map(|r| sqlx::FromRow::from_row(&r)).fetch_all(pool).await?;
    Ok(Listing { products: with_variants(pool, rows).await?, total: counted as u64, total_capped: capped })
}

pub async fn get(pool: &Pool, id: &str) -> ServiceResult<pb::Product> {
    let row: Option<ProductRow> = sqlx::query_as(&format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    let row = row.ok_or_else(|| ServiceError::not_found("product not found"))?;
    Ok(with_variants(pool, vec![row]).await?.remove(0))
}

pub async fn variants(pool: &Pool, codes: &[String]) -> ServiceResult<Vec<pb::VariantInfo>> {
    if codes.is_empty() {
        return Ok(vec![]);
    }
    let mut sql = Sql::default();
    sql.push(&format!("SELECT {VARIANT_COLUMNS}, p.name, p.image FROM variants v JOIN products p ON p.id = v.product_id WHERE v.code IN ("));
    for (i, code) in codes.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(Arg::Text(code.trim().to_uppercase()));
    }
    sql.push(")");
    let rows = sql.query().fetch_all(pool).await?;
    rows.iter()
        .map(|row| {
            use sqlx::Row as _;
            let v: VariantRow = sqlx::FromRow::from_row(row)?;
            Ok(pb::VariantInfo {
                product_id: v.product_id.clone(),
                product_name: row.try_get(6)?,
                image: row.try_get(7)?,
                variant: Some(v.into()),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

async fn insert_variant(conn: &mut sqlx::AnyConnection, product_id: &str, v: &VariantFields) -> ServiceResult<()> {
    sqlx::query(
        "INSERT INTO variants (code, product_id, size, color, price_cents, stock) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&v.code)
    .bind(product_id)
    .bind(v.size)
    .bind(&v.color)
    .bind(v.price_cents)
    .bind(v.stock)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if db::is_unique_violation(&e) {
            ServiceError::AlreadyExists(format!("SKU {} already exists", v.code))
        } else {
            e.into()
        }
    })?;
    Ok(())
}

pub async fn create(pool: &Pool, p: ProductFields<'_>, variants: &[VariantFields]) -> ServiceResult<pb::Product> {
    let id = crate::validate::slug(p.name);
    let now = now_ms();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO products (id, name, description, category, image, created_at_ms, updated_at_ms, version)
         VALUES ($1, $2, $3, $4, $5, $6, $6, 1)",
    )
    .bind(&id)
    .bind(p.name)
    .bind(p.description)
    .bind(p.category)
    .bind(&p.image)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        if db::is_unique_violation(&e) {
            ServiceError::AlreadyExists("a product with this name already exists".into())
        } else {
            e.into()
        }
    })?;
    for v in variants {
        insert_variant(&mut tx, &id, v).await?;
    }
    refresh_listing_columns(&mut tx, &id).await?;
    tx.commit().await?;
    touch_catalog(pool).await;
    get(pool, &id).await
}

pub async fn update(pool: &Pool, id: &str, version: i64, p: ProductFields<'_>) -> ServiceResult<pb::Product> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE products SET name = $3, description = $4, category = $5, image = $6, updated_at_ms = $7, version = version + 1
         WHERE id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .bind(p.name)
    .bind(p.description)
    .bind(p.category)
    .bind(&p.image)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        drop(tx);
        get(pool, id).await?; // NotFound if it is gone
        return Err(ServiceError::Aborted("the product was changed by someone else; reload and try again".into()));
    }
    refresh_listing_columns(&mut tx, id).await?;
    tx.commit().await?;
    touch_catalog(pool).await;
    get(pool, id).await
}

async fn bump_version(conn: &mut sqlx::AnyConnection, product_id: &str) -> ServiceResult<()> {
    sqlx::query("UPDATE products SET version = version + 1, updated_at_ms = $2 WHERE id = $1")
        .bind(product_id)
        .bind(now_ms())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(pool: &Pool, id: &str) -> ServiceResult<Vec<String>> {
    // Writes first: on SQLite a transaction that reads before writing can
    // fail to upgrade its lock when another writer got in between.
    let mut tx = pool.begin().await?;
    let mut codes: Vec<String> = sqlx::query_scalar("DELETE FROM variants WHERE product_id = $1 RETURNING code")
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
    codes.sort();
    let done = sqlx::query("DELETE FROM products WHERE id = $1").bind(id).execute(&mut *tx).await?;
    if done.rows_affected() == 0 {
        return Err(ServiceError::not_found("product not found"));
    }
    tx.commit().await?;
    touch_catalog(pool).await;
    Ok(codes)
}

pub async fn add_variant(pool: &Pool, product_id: &str, v: &VariantFields) -> ServiceResult<pb::Product> {
    let mut tx = pool.begin().await?;
    bump_version(&mut tx, product_id).await?;
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM products WHERE id = $1").bind(product_id).fetch_optional(&mut *tx).await?;
    if exists.is_none() {
        return Err(ServiceError::not_found("product not found"));
    }
    insert_variant(&mut tx, product_id, v).await?;
    refresh_listing_columns(&mut tx, product_id).await?;
    tx.commit().await?;
    touch_catalog(pool).await;
    get(pool, product_id).await
}

/// Size, colour and price are set; stock moves by `stock_delta` in one
/// statement, so checkouts running meanwhile are never overwritten.
pub async fn update_variant(
    pool: &Pool,
    code: &str,
    size: &str,
    color: &str,
    price_cents: i64,
    stock_delta: i64,
) -> ServiceResult<pb::Product> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE variants SET size = $2, color = $3, price_cents = $4, stock = stock + $5
         WHERE code = $1 AND stock + $5 >= 0 AND stock + $5 <= $6",
    )
    .bind(code)
    .bind(size)
    .bind(color)
    .bind(price_cents)
    .bind(stock_delta)
    .bind(crate::validate::MAX_STOCK)
    .execute(&mut *tx)
    .await?;
    let product_id: Option<String> = sqlx::query_scalar("SELECT product_id FROM variants WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?;
    let product_id = product_id.ok_or_else(|| ServiceError::not_found("SKU not found"))?;
    if done.rows_affected() == 0 {
        return Err(ServiceError::FailedPrecondition(
            "that stock change would take stock out of range; reload and try again".into(),
        ));
    }
    bump_version(&mut tx, &product_id).await?;
    refresh_listing_columns(&mut tx, &product_id).await?;
    tx.commit().await?;
    touch_catalog(pool).await;
    get(pool, &product_id).await
}

pub async fn delete_variant(pool: &Pool, code: &str) -> ServiceResult<()> {
    let mut tx = pool.begin().await?;
    let product_id: Option<String> = sqlx::query_scalar("DELETE FROM variants WHERE code = $1 RETURNING product_id")
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?;
    let product_id = product_id.ok_or_else(|| ServiceError::not_found("SKU not found"))?;
    refresh_listing_columns(&mut tx, &product_id).await?;
    tx.commit().await?;
    touch_catalog(pool).await;
    Ok(())
}

/// Brings a product's listing columns (lowest price, search terms) in step
/// with its fields and SKUs, inside the transaction that changed them.
async fn refresh_listing_columns(conn: &mut sqlx::AnyConnection, product_id: &str) -> ServiceResult<()> {
    let fields: Option<(String, String, String)> =
        sqlx::query_as("SELECT name, description, category FROM products WHERE id = $1")
            .bind(product_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((name, description, category)) = fields else { return Ok(()) };
    let skus: Vec<(String, i64, String, String)> =
        sqlx::query_as("SELECT code, price_cents, size, color FROM variants WHERE product_id = $1")
            .bind(product_id)
            .fetch_all(&mut *conn)
            .await?;
    sqlx::query("UPDATE products SET min_price_cents = $2 WHERE id = $1")
        .bind(product_id)
        .bind(skus.iter().map(|(_, price, ..)| *price).min().unwrap_or(0))
        .execute(&mut *conn)
        .await?;
    let sku_terms: Vec<terms::SkuTerms> =
        skus.iter().map(|(code, _, size, color)| (code.as_str(), size.as_str(), color.as_str())).collect();
    terms::store(conn, product_id, &terms::of_product(&name, &description, &category, &sku_terms)).await?;
    Ok(())
}

/// Fills the listing columns of products stored before they existed.
pub async fn backfill_listing_columns(pool: &Pool) -> ServiceResult<()> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT p.id FROM products p WHERE NOT EXISTS (SELECT 1 FROM product_terms t WHERE t.product_id = p.id)",
    )
    .fetch_all(pool)
    .await?;
    for id in &ids {
        let mut tx = pool.begin().await?;
        refresh_listing_columns(&mut tx, id).await?;
        tx.commit().await?;
    }
    if !ids.is_empty() {
        touch_catalog(pool).await;
    }
    Ok(())
}

/// Marks the catalogue as changed, after the change is committed. A failure
/// here must not turn a committed change into an error (a retry would apply
/// it twice): cached listings also expire on their own within seconds.
pub async fn touch_catalog(pool: &Pool) {
    if let Err(e) = sqlx::query("UPDATE catalog_version SET version = version + 1 WHERE id = 1").execute(pool).await {
        tracing::warn!(error = %e, "could not mark the catalogue as changed");
    }
}

/// The catalogue's change counter.
pub async fn catalog_version(pool: &Pool) -> ServiceResult<i64> {
    Ok(sqlx::query_scalar("SELECT version FROM catalog_version WHERE id = 1").fetch_one(pool).await?)
}

#[derive(sqlx::FromRow)]
struct LowStockRow {
    product_id: String,
    product_name: String,
    code: String,
    size: String,
    color: String,
    stock: i64,
}

/// The variants with the least stock, at most `at_most` left, fewest first.
pub async fn low_stock(pool: &Pool, at_most: i64, limit: i32) -> ServiceResult<Vec<pb::LowStockVariant>> {
    let rows: Vec<LowStockRow> = sqlx::query_as(
        "SELECT v.product_id, p.name AS product_name, v.code, v.size, v.color, v.stock
         FROM variants v JOIN products p ON p.id = v.product_id
         WHERE v.stock <= $1 ORDER BY v.stock, p.name, v.code LIMIT $2",
    )
    .bind(at_most)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| pb::LowStockVariant {
            size: crate::size_value(&r.size),
            product_id: r.product_id,
            product_name: r.product_name,
            code: r.code,
            color: r.color,
            stock: r.stock,
        })
        .collect())
}
