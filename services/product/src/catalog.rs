//! Reading and editing the catalogue.

use crate::validate::{ProductFields, VariantFields};
use atelier_proto::product as pb;
use atelier_runtime::{
    ServiceError, db,
    db::{Arg, Pool, Sql},
    error::ServiceResult,
    now_ms,
};

#[derive(sqlx::FromRow)]
pub(crate) struct ProductRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub image: String,
    pub created_at_ms: i64,
    pub version: i64,
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

impl From<&VariantRow> for pb::Variant {
    fn from(v: &VariantRow) -> Self {
        pb::Variant {
            code: v.code.clone(),
            size: crate::size_value(&v.size),
            color: v.color.clone(),
            price_cents: v.price_cents,
            stock: v.stock,
        }
    }
}

pub(crate) const PRODUCT_COLUMNS: &str = "p.id, p.name, p.description, p.category, p.image, p.created_at_ms, p.version";
pub(crate) const VARIANT_COLUMNS: &str = "v.product_id, v.code, v.size, v.color, v.price_cents, v.stock";

impl ProductRow {
    /// The product with `variants` in the order every page shows them:
    /// colour, size (XS to XL, then the rest), code. Sorted here rather than
    /// in SQL, so that no database collation changes it.
    pub(crate) fn with_variants(&self, mut variants: Vec<pb::Variant>) -> pb::Product {
        fn shown(v: &pb::Variant) -> (&str, i32, &str) {
            (&v.color, if (1..=5).contains(&v.size) { v.size } else { 6 }, &v.code)
        }
        variants.sort_by(|a, b| shown(a).cmp(&shown(b)));
        pb::Product {
            variants,
            id: self.id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            category: self.category.clone(),
            image: self.image.clone(),
            created_at_ms: self.created_at_ms,
            version: self.version,
        }
    }
}

/// Products with their SKUs as stored now (live stock).
pub(crate) async fn with_live_variants(pool: &Pool, rows: Vec<&ProductRow>) -> ServiceResult<Vec<pb::Product>> {
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
    sql.push(")");
    let variants: Vec<VariantRow> = sql.query().try_map(|r| sqlx::FromRow::from_row(&r)).fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|p| p.with_variants(variants.iter().filter(|v| v.product_id == p.id).map(pb::Variant::from).collect()))
        .collect())
}

pub async fn get(pool: &Pool, id: &str) -> ServiceResult<pb::Product> {
    let row: Option<ProductRow> = sqlx::query_as(&format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    let row = row.ok_or_else(|| ServiceError::not_found("product not found"))?;
    Ok(with_live_variants(pool, vec![&row]).await?.remove(0))
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
                variant: Some((&v).into()),
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
    bump_version(&mut tx, &product_id).await?;
    tx.commit().await?;
    touch_catalog(pool).await;
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
