//! Stock reservations for orders: all lines or none, never below zero,
//! idempotent per order id, released exactly once.

use atelier_proto::product as pb;
use atelier_runtime::{ServiceError, db, db::Pool, error::ServiceResult, now_ms};
use std::collections::BTreeMap;

#[derive(sqlx::FromRow)]
struct LineRow {
    code: String,
    quantity: i64,
    product_id: String,
    product_name: String,
    size: String,
    color: String,
    unit_price_cents: i64,
}

impl From<LineRow> for pb::ReservedLine {
    fn from(l: LineRow) -> Self {
        pb::ReservedLine {
            code: l.code,
            quantity: l.quantity,
            product_id: l.product_id,
            product_name: l.product_name,
            size: crate::size_value(&l.size),
            color: l.color,
            unit_price_cents: l.unit_price_cents,
        }
    }
}

async fn reserved_lines(pool: &Pool, order_id: &str) -> ServiceResult<Vec<pb::ReservedLine>> {
    let rows: Vec<LineRow> = sqlx::query_as(
        "SELECT code, quantity, product_id, product_name, size, color, unit_price_cents
         FROM reservation_lines WHERE order_id = $1 ORDER BY code",
    )
    .bind(order_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Validated, merged lines: one per code, in code order (a fixed lock order
/// keeps concurrent reservations from deadlocking).
pub fn merge_lines(lines: &[pb::ReserveLine]) -> ServiceResult<BTreeMap<String, i64>> {
    if lines.is_empty() {
        return Err(ServiceError::invalid("an order needs at least one line"));
    }
    if lines.len() > 100 {
        return Err(ServiceError::invalid("an order has at most 100 lines"));
    }
    let mut merged = BTreeMap::new();
    for line in lines {
        if !(1..=1000).contains(&line.quantity) {
            return Err(ServiceError::invalid("each quantity must be between 1 and 1000"));
        }
        let code = crate::validate::code(&line.code)?;
        *merged.entry(code).or_insert(0) += line.quantity;
    }
    Ok(merged)
}

pub async fn reserve(
    pool: &Pool,
    order_id: &str,
    lines: BTreeMap<String, i64>,
) -> ServiceResult<Vec<pb::ReservedLine>> {
    let mut tx = pool.begin().await?;
    let claimed = sqlx::query("INSERT INTO reservations (order_id, state, created_at_ms) VALUES ($1, 'held', $2)")
        .bind(order_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await;
    match claimed {
        Ok(_) => {}
        Err(e) if db::is_unique_violation(&e) => {
            // Reserved before (a retry): answer as the first time.
            drop(tx);
            return reserved_lines(pool, order_id).await;
        }
        Err(e) => return Err(e.into()),
    }
    for (code, quantity) in &lines {
        let taken = sqlx::query("UPDATE variants SET stock = stock - $1 WHERE code = $2 AND stock >= $1")
            .bind(quantity)
            .bind(code)
            .execute(&mut *tx)
            .await?;
        if taken.rows_affected() == 0 {
            let stock: Option<i64> = sqlx::query_scalar("SELECT stock FROM variants WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match stock {
                None => ServiceError::FailedPrecondition(format!("{code} is no longer sold")),
                Some(0) => ServiceError::FailedPrecondition(format!("{code} is out of stock")),
                Some(n) => ServiceError::FailedPrecondition(format!("not enough stock for {code}: {n} left")),
            });
        }
        sqlx::query(
            "INSERT INTO reservation_lines (order_id, code, quantity, product_id, product_name, size, color, unit_price_cents)
             SELECT $1, v.code, $2, p.id, p.name, v.size, v.color, v.price_cents
             FROM variants v JOIN products p ON p.id = v.product_id WHERE v.code = $3",
        )
        .bind(order_id)
        .bind(quantity)
        .bind(code)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    crate::catalog::touch_catalog(pool).await;
    reserved_lines(pool, order_id).await
}

/// Returns true when this call put the stock back, false when it was already
/// released (or never reserved).
pub async fn release(pool: &Pool, order_id: &str) -> ServiceResult<bool> {
    let mut tx = pool.begin().await?;
    let flipped = sqlx::query("UPDATE reservations SET state = 'released' WHERE order_id = $1 AND state = 'held'")
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
    if flipped.rows_affected() == 0 {
        return Ok(false);
    }
    let lines: Vec<(String, i64)> =
        sqlx::query_as("SELECT code, quantity FROM reservation_lines WHERE order_id = $1 ORDER BY code")
            .bind(order_id)
            .fetch_all(&mut *tx)
            .await?;
    for (code, quantity) in lines {
        // A deleted SKU has nowhere to go back to.
        sqlx::query("UPDATE variants SET stock = stock + $1 WHERE code = $2")
            .bind(quantity)
            .bind(&code)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    crate::catalog::touch_catalog(pool).await;
    Ok(true)
}
