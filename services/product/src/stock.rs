//! Stock reservations for orders: all lines or none, never below zero, at
//! the price the shopper agreed to, idempotent per order id while held,
//! released exactly once. A reservation the order service does not confirm
//! within the TTL expires: its stock goes back by itself.

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

/// What to take of one SKU, and at which unit price if one was agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Take {
    pub quantity: i64,
    pub unit_price_cents: Option<i64>,
}

/// Validated, merged lines: one per code, in code order (a fixed lock order
/// keeps concurrent reservations from deadlocking).
pub fn merge_lines(lines: &[pb::ReserveLine]) -> ServiceResult<BTreeMap<String, Take>> {
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
        let take = merged.entry(code).or_insert(Take { quantity: 0, unit_price_cents: line.unit_price_cents });
        if take.unit_price_cents != line.unit_price_cents {
            return Err(ServiceError::invalid("one SKU cannot be agreed at two prices"));
        }
        take.quantity += line.quantity;
    }
    Ok(merged)
}

pub async fn reserve(
    pool: &Pool,
    order_id: &str,
    lines: BTreeMap<String, Take>,
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
            // Reserved before (a retry): answer as the first time, unless the
            // stock went back meanwhile.
            drop(tx);
            let state: Option<String> = sqlx::query_scalar("SELECT state FROM reservations WHERE order_id = $1")
                .bind(order_id)
                .fetch_optional(pool)
                .await?;
            if state.as_deref() != Some("held") {
                return Err(ServiceError::FailedPrecondition(
                    "this checkout's reservation was released; start the checkout again".into(),
                ));
            }
            return reserved_lines(pool, order_id).await;
        }
        Err(e) => return Err(e.into()),
    }
    // The lines first, the stock last: on PostgreSQL the stock update locks
    // the SKU's row until the commit, so a storm on one SKU queues for as
    // little as one round trip per order.
    let mut reserved: Vec<LineRow> = Vec::with_capacity(lines.len());
    for (code, Take { quantity, .. }) in &lines {
        let line: Option<LineRow> = sqlx::query_as(
            "INSERT INTO reservation_lines (order_id, code, quantity, product_id, product_name, size, color, unit_price_cents)
             SELECT $1, v.code, $2, p.id, p.name, v.size, v.color, v.price_cents
             FROM variants v JOIN products p ON p.id = v.product_id WHERE v.code = $3
             RETURNING code, quantity, product_id, product_name, size, color, unit_price_cents",
        )
        .bind(order_id)
        .bind(quantity)
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?;
        reserved.push(line.ok_or_else(|| ServiceError::FailedPrecondition(format!("{code} is no longer sold")))?);
    }
    for line in &reserved {
        // At the price the shopper agreed to, else at the one just written
        // down: a price changed in between is told, never charged silently.
        let price = lines[&line.code].unit_price_cents.unwrap_or(line.unit_price_cents);
        let taken =
            sqlx::query("UPDATE variants SET stock = stock - $1 WHERE code = $2 AND stock >= $1 AND price_cents = $3")
                .bind(line.quantity)
                .bind(&line.code)
                .bind(price)
                .execute(&mut *tx)
                .await?;
        if taken.rows_affected() == 0 {
            let found: Option<(i64, i64)> = sqlx::query_as("SELECT stock, price_cents FROM variants WHERE code = $1")
                .bind(&line.code)
                .fetch_optional(&mut *tx)
                .await?;
            let code = &line.code;
            return Err(ServiceError::FailedPrecondition(match found {
                None => format!("{code} is no longer sold"),
                Some((_, now)) if now != price => format!("the price of {code} changed; please review your cart"),
                Some((0, _)) => format!("{code} is out of stock"),
                Some((n, _)) => format!("not enough stock for {code}: {n} left"),
            }));
        }
    }
    tx.commit().await?;
    // No global change counter here: the replica that reserved forgets the
    // listings of these products (see `Listings::forget_products`).
    Ok(reserved.into_iter().map(Into::into).collect())
}

/// Keeps a held reservation for good; an error when it went back meanwhile.
pub async fn confirm(pool: &Pool, order_id: &str) -> ServiceResult<()> {
    let kept = sqlx::query(
        "UPDATE reservations SET confirmed_at_ms = COALESCE(confirmed_at_ms, $2) WHERE order_id = $1 AND state = 'held'",
    )
    .bind(order_id)
    .bind(now_ms())
    .execute(pool)
    .await?;
    if kept.rows_affected() == 0 {
        return Err(ServiceError::FailedPrecondition(
            "the reservation expired or was released before the order was stored".into(),
        ));
    }
    Ok(())
}

/// The products whose stock this call put back; None when it was already
/// released (or never reserved).
pub async fn release(pool: &Pool, order_id: &str) -> ServiceResult<Option<Vec<String>>> {
    put_back(pool, order_id, false).await
}

/// Puts back the stock of reservations held unconfirmed since before
/// `held_before_ms`: how many expired, and the products they touched.
pub async fn expire(pool: &Pool, held_before_ms: i64) -> ServiceResult<(usize, Vec<String>)> {
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT order_id FROM reservations
         WHERE state = 'held' AND confirmed_at_ms IS NULL AND created_at_ms < $1
         ORDER BY created_at_ms LIMIT 500",
    )
    .bind(held_before_ms)
    .fetch_all(pool)
    .await?;
    let (mut expired, mut products) = (0, vec![]);
    for order_id in stale {
        if let Some(touched) = put_back(pool, &order_id, true).await? {
            tracing::warn!(order_id, "a reservation was never confirmed; its stock is back");
            expired += 1;
            products.extend(touched);
        }
    }
    Ok((expired, products))
}

/// Flips a held reservation (an unconfirmed one, for expiry) to released and
/// puts its stock back, in one transaction: the compare-and-set makes
/// release, confirmation and expiry exclusive, whichever comes first.
async fn put_back(pool: &Pool, order_id: &str, only_unconfirmed: bool) -> ServiceResult<Option<Vec<String>>> {
    let mut tx = pool.begin().await?;
    let flip = if only_unconfirmed {
        "UPDATE reservations SET state = 'released' WHERE order_id = $1 AND state = 'held' AND confirmed_at_ms IS NULL"
    } else {
        "UPDATE reservations SET state = 'released' WHERE order_id = $1 AND state = 'held'"
    };
    let flipped = sqlx::query(flip).bind(order_id).execute(&mut *tx).await?;
    if flipped.rows_affected() == 0 {
        return Ok(None);
    }
    let lines: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT code, quantity, product_id FROM reservation_lines WHERE order_id = $1 ORDER BY code")
            .bind(order_id)
            .fetch_all(&mut *tx)
            .await?;
    let products = lines.iter().map(|(_, _, product)| product.clone()).collect();
    for (code, quantity, _) in lines {
        // A deleted SKU has nowhere to go back to.
        sqlx::query("UPDATE variants SET stock = stock + $1 WHERE code = $2")
            .bind(quantity)
            .bind(&code)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Some(products))
}
