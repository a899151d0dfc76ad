//! The orders and order_lines tables.

use crate::status;
use atelier_proto::{order as pb, product::ReservedLine};
use atelier_runtime::{ServiceError, db, db::Pool, error::ServiceResult, now_ms, page::Page};

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: String,
    user_id: String,
    username: String,
    status: String,
    total_cents: i64,
    created_at_ms: i64,
    updated_at_ms: i64,
    number: Option<i64>,
    ship_name: String,
    ship_line1: String,
    ship_line2: String,
    ship_postcode: String,
    ship_city: String,
    ship_country: String,
    delivery: String,
    delivery_cents: i64,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    order_id: String,
    code: String,
    product_id: String,
    product_name: String,
    size: String,
    color: String,
    unit_price_cents: i64,
    quantity: i64,
}

const ORDER_COLUMNS: &str = "id, user_id, username, status, total_cents, created_at_ms, updated_at_ms, number, \
     ship_name, ship_line1, ship_line2, ship_postcode, ship_city, ship_country, delivery, delivery_cents";

/// The first order number a shop gives.
pub const FIRST_NUMBER: i64 = 10001;

/// Makes what order numbers need. On PostgreSQL a sequence gives them
/// (no two checkouts wait for each other); SQLite, whose writes are one at a
/// time, takes the highest number so far plus one.
pub async fn prepare_numbers(pool: &Pool) -> anyhow::Result<()> {
    if is_postgres(pool) {
        sqlx::query(&format!("CREATE SEQUENCE IF NOT EXISTS order_numbers START WITH {FIRST_NUMBER}"))
            .execute(pool)
            .await?;
    }
    Ok(())
}

fn is_postgres(pool: &Pool) -> bool {
    pool.connect_options().database_url.scheme().starts_with("postgres")
}

/// The SQL expression for the next order number.
fn next_number(pool: &Pool) -> String {
    if is_postgres(pool) {
        "nextval('order_numbers')".into()
    } else {
        format!("(SELECT COALESCE(MAX(number), {}) + 1 FROM orders)", FIRST_NUMBER - 1)
    }
}

async fn with_lines(pool: &Pool, rows: Vec<OrderRow>) -> ServiceResult<Vec<pb::Order>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let placeholders: Vec<String> = (1..=rows.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT order_id, code, product_id, product_name, size, color, unit_price_cents, quantity
         FROM order_lines WHERE order_id IN ({}) ORDER BY product_name, code",
        placeholders.join(", ")
    );
    let lines: Vec<LineRow> = rows.iter().fold(sqlx::query_as(&sql), |q, r| q.bind(&r.id)).fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|o| {
            let mine = lines.iter().filter(|l| l.order_id == o.id).map(|l| pb::OrderLine {
                code: l.code.clone(),
                product_id: l.product_id.clone(),
                product_name: l.product_name.clone(),
                size: l.size.clone(),
                color: l.color.clone(),
                unit_price_cents: l.unit_price_cents,
                quantity: l.quantity,
            });
            let mine = mine.collect();
            order(o, mine)
        })
        .collect())
}

/// An order from its row and its lines (in the order listings show them).
fn order(o: OrderRow, lines: Vec<pb::OrderLine>) -> pb::Order {
    pb::Order {
        lines,
        status: status::parse(&o.status) as i32,
        id: o.id,
        user_id: o.user_id,
        username: o.username,
        total_cents: o.total_cents,
        created_at_ms: o.created_at_ms,
        updated_at_ms: o.updated_at_ms,
        number: o.number.unwrap_or(0),
        address: (!o.ship_name.is_empty()).then_some(pb::ShippingAddress {
            name: o.ship_name,
            line1: o.ship_line1,
            line2: o.ship_line2,
            postcode: o.ship_postcode,
            city: o.ship_city,
            country: o.ship_country,
        }),
        delivery: crate::delivery::parse(&o.delivery) as i32,
        delivery_cents: o.delivery_cents,
    }
}

/// The order, with its raw status (PENDING included).
pub async fn get(pool: &Pool, id: &str) -> ServiceResult<Option<(pb::Order, String)>> {
    let row: Option<OrderRow> = sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let raw = row.status.clone();
    Ok(Some((with_lines(pool, vec![row]).await?.remove(0), raw)))
}

pub async fn id_by_key(pool: &Pool, user_id: &str, key: &str) -> ServiceResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM orders WHERE user_id = $1 AND idempotency_key = $2")
        .bind(user_id)
        .bind(key)
        .fetch_optional(pool)
        .await?)
}

/// Who orders which cart revision, under which key, to where and how.
pub struct Claim<'a> {
    pub user_id: &'a str,
    pub username: &'a str,
    pub key: &'a str,
    pub cart_revision: i64,
    pub address: &'a pb::ShippingAddress,
    pub delivery: pb::Delivery,
}

/// Who holds what a checkout tried to claim.
pub enum Claimed {
    /// This checkout: the key and the cart revision are its own.
    Ours,
    /// The order placed (or being placed) under the same key.
    ByKey(String),
    /// The order placed (or being placed) from the same cart revision.
    ByCart(String),
    /// The holder gave up meanwhile: try again.
    Gone,
}

/// Claims the idempotency key and the cart revision with one PENDING order:
/// one key, one order; one cart revision, one order.
pub async fn claim(pool: &Pool, id: &str, c: &Claim<'_>) -> ServiceResult<Claimed> {
    let now = now_ms();
    let a = c.address;
    let result = sqlx::query(
        "INSERT INTO orders (id, user_id, username, idempotency_key, cart_revision, status, total_cents, created_at_ms,
                             updated_at_ms, ship_name, ship_line1, ship_line2, ship_postcode, ship_city, ship_country,
                             delivery)
         VALUES ($1, $2, $3, $4, $5, 'PENDING', 0, $6, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(id)
    .bind(c.user_id)
    .bind(c.username)
    .bind(c.key)
    .bind(c.cart_revision)
    .bind(now)
    .bind(a.name.trim())
    .bind(a.line1.trim())
    .bind(a.line2.trim())
    .bind(a.postcode.trim())
    .bind(a.city.trim())
    .bind(a.country.trim())
    .bind(crate::delivery::name(c.delivery))
    .execute(pool)
    .await;
    match result {
        Ok(_) => Ok(Claimed::Ours),
        Err(e) if db::is_unique_violation(&e) => {
            if let Some(holder) = id_by_key(pool, c.user_id, c.key).await? {
                return Ok(Claimed::ByKey(holder));
            }
            let holder: Option<String> =
                sqlx::query_scalar("SELECT id FROM orders WHERE user_id = $1 AND cart_revision = $2")
                    .bind(c.user_id)
                    .bind(c.cart_revision)
                    .fetch_optional(pool)
                    .await?;
            Ok(holder.map_or(Claimed::Gone, Claimed::ByCart))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn drop_pending(pool: &Pool, id: &str) -> ServiceResult<()> {
    sqlx::query("DELETE FROM orders WHERE id = $1 AND status = 'PENDING'").bind(id).execute(pool).await?;
    Ok(())
}

/// Stores the reserved lines and turns the PENDING order into PROCESSING:
/// the order as placed (no second read).
pub async fn complete(
    pool: &Pool,
    id: &str,
    reserved: &[ReservedLine],
    delivery: pb::Delivery,
) -> ServiceResult<pb::Order> {
    let goods: i64 = reserved.iter().map(|l| l.unit_price_cents * l.quantity).sum();
    let delivery_cents = crate::delivery::price(delivery, goods);
    let mut tx = pool.begin().await?;
    let sql = format!(
        "UPDATE orders SET status = 'PROCESSING', total_cents = $2, updated_at_ms = $3, delivery_cents = $4, number = {}
         WHERE id = $1 AND status = 'PENDING' RETURNING {ORDER_COLUMNS}",
        next_number(pool)
    );
    let row: Option<OrderRow> = sqlx::query_as(&sql)
        .bind(id)
        .bind(goods + delivery_cents)
        .bind(now_ms())
        .bind(delivery_cents)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Err(ServiceError::Aborted("the order was abandoned while being placed".into()));
    };
    let mut lines: Vec<pb::OrderLine> = reserved
        .iter()
        .map(|l| pb::OrderLine {
            code: l.code.clone(),
            product_id: l.product_id.clone(),
            product_name: l.product_name.clone(),
            size: atelier_proto::product::Size::label_of(l.size).to_string(),
            color: l.color.clone(),
            unit_price_cents: l.unit_price_cents,
            quantity: l.quantity,
        })
        .collect();
    for l in &lines {
        sqlx::query(
            "INSERT INTO order_lines (order_id, code, product_id, product_name, size, color, unit_price_cents, quantity)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(&l.code)
        .bind(&l.product_id)
        .bind(&l.product_name)
        .bind(&l.size)
        .bind(&l.color)
        .bind(l.unit_price_cents)
        .bind(l.quantity)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    lines.sort_by(|a, b| (&a.product_name, &a.code).cmp(&(&b.product_name, &b.code)));
    Ok(order(row, lines))
}

/// Moves `from` -> `to` if the order is still in `from` (compare-and-set).
pub async fn transition(pool: &Pool, id: &str, from: pb::Status, to: pb::Status) -> ServiceResult<bool> {
    let done = sqlx::query("UPDATE orders SET status = $3, updated_at_ms = $4 WHERE id = $1 AND status = $2")
        .bind(id)
        .bind(status::name(from))
        .bind(status::name(to))
        .bind(now_ms())
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mark_released(pool: &Pool, id: &str) -> ServiceResult<()> {
    sqlx::query("UPDATE orders SET stock_released = 1 WHERE id = $1").bind(id).execute(pool).await?;
    Ok(())
}

/// Placed orders (processing, shipped or delivered) since each moment, and
/// how many wait to be shipped.
pub async fn sales(pool: &Pool, since: &[i64]) -> ServiceResult<pb::SalesResponse> {
    let mut windows = vec![];
    for since_ms in since {
        let (orders, total_cents): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(total_cents), 0) AS BIGINT) FROM orders
             WHERE created_at_ms >= $1 AND status IN ('PROCESSING', 'SHIPPED', 'DELIVERED')",
        )
        .bind(since_ms)
        .fetch_one(pool)
        .await?;
        windows.push(pb::SalesWindow { since_ms: *since_ms, orders, total_cents });
    }
    let to_ship: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE status = 'PROCESSING'").fetch_one(pool).await?;
    Ok(pb::SalesResponse { windows, to_ship })
}

pub struct Filter<'a> {
    pub user_id: Option<&'a str>,
    pub username: Option<&'a str>,
    pub status: Option<&'static str>,
}

/// Listings count matching orders exactly up to this many past the page's
/// offset; beyond, the total says "at least", so a page costs the same at a
/// million orders and "next page" links stay right.
const COUNT_CAP: i64 = 1_000;

pub async fn list(
    pool: &Pool,
    counts: &crate::counts::ListingCounts,
    filter: Filter<'_>,
    page: Page,
) -> ServiceResult<pb::ListOrdersResponse> {
    let mut conditions = vec![];
    let mut args: Vec<String> = vec![];
    for (column, value) in [("user_id", filter.user_id), ("username", filter.username), ("status", filter.status)] {
        if let Some(v) = value {
            args.push(v.to_string());
            conditions.push(format!("{column} = ${}", args.len()));
        }
    }
    if filter.status.is_none() {
        conditions.push("status <> 'PENDING'".to_string());
    }
    let clause = conditions.join(" AND ");
    let n = args.len();
    let limit = page.offset() + COUNT_CAP + 1;
    let key = format!("{clause}\u{0}{args:?}");
    let total = match counts.get(&key, limit) {
        Some(total) => total,
        None => {
            let count_sql =
                format!("SELECT COUNT(*) FROM (SELECT 1 FROM orders WHERE {clause} LIMIT ${}) capped", n + 1);
            let total: i64 =
                args.iter().fold(sqlx::query_scalar(&count_sql), |q, a| q.bind(a)).bind(limit).fetch_one(pool).await?;
            counts.put(key, total, limit);
            total
        }
    };
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE {clause} ORDER BY created_at_ms DESC, id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let rows: Vec<OrderRow> = args
        .iter()
        .fold(sqlx::query_as(&sql), |q, a| q.bind(a))
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(pool)
        .await?;
    Ok(pb::ListOrdersResponse {
        orders: with_lines(pool, rows).await?,
        total: total as u64,
        total_capped: total > page.offset() + COUNT_CAP,
    })
}

/// Orders whose stock must still go back: PENDING ones older than
/// `stale_before_ms` (their checkout died), and CANCELED ones not released.
pub async fn unreleased(pool: &Pool, stale_before_ms: i64) -> ServiceResult<Vec<(String, String)>> {
    // Two queries, each matching an index exactly (a partial one for the
    // canceled orders), rather than one OR that would scan every canceled order.
    let mut found: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, status FROM orders WHERE status = 'PENDING' AND created_at_ms < $1 ORDER BY created_at_ms LIMIT 500",
    )
    .bind(stale_before_ms)
    .fetch_all(pool)
    .await?;
    found.extend(
        sqlx::query_as::<_, (String, String)>(
            "SELECT id, status FROM orders WHERE status = 'CANCELED' AND stock_released = 0
             ORDER BY created_at_ms LIMIT 500",
        )
        .fetch_all(pool)
        .await?,
    );
    Ok(found)
}
