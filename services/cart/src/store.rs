//! The carts and cart_items tables. Every change is one transaction that
//! also takes the cart's revision one up, so a checkout that claimed a
//! revision knows the cart it read is the cart it bought.

use atelier_runtime::{db::Pool, error::ServiceResult, now_ms};
use sqlx::{Any, Transaction};

pub struct Line {
    pub code: String,
    pub quantity: i64,
    /// The unit price last shown for this line; -1 when never shown.
    pub seen_price_cents: i64,
}

/// The cart's lines, oldest first, and its revision (0: never changed). The
/// revision is read first: the lines are at least as new as it says.
pub async fn read(pool: &Pool, user_id: &str) -> ServiceResult<(Vec<Line>, i64)> {
    let revision: Option<i64> =
        sqlx::query_scalar("SELECT revision FROM carts WHERE user_id = $1").bind(user_id).fetch_optional(pool).await?;
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT code, quantity, seen_price_cents FROM cart_items WHERE user_id = $1 ORDER BY added_at_ms, code",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    let lines = rows.into_iter().map(|(code, quantity, seen_price_cents)| Line { code, quantity, seen_price_cents });
    Ok((lines.collect(), revision.unwrap_or(0)))
}

pub async fn quantity(pool: &Pool, user_id: &str, code: &str) -> ServiceResult<i64> {
    let q: Option<i64> = sqlx::query_scalar("SELECT quantity FROM cart_items WHERE user_id = $1 AND code = $2")
        .bind(user_id)
        .bind(code)
        .fetch_optional(pool)
        .await?;
    Ok(q.unwrap_or(0))
}

/// Takes the cart's revision one up; the new revision.
async fn bump(tx: &mut Transaction<'static, Any>, user_id: &str) -> ServiceResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO carts (user_id, revision) VALUES ($1, 1)
         ON CONFLICT (user_id) DO UPDATE SET revision = carts.revision + 1 RETURNING revision",
    )
    .bind(user_id)
    .fetch_one(&mut **tx)
    .await?)
}

/// Adds `add` units in one statement, so concurrent adds all count; refuses
/// (false) when the line would pass `limit`.
pub async fn add(pool: &Pool, user_id: &str, code: &str, add: i64, limit: i64, price: i64) -> ServiceResult<bool> {
    if add > limit {
        return Ok(false);
    }
    let mut tx = pool.begin().await?;
    let changed = sqlx::query(
        "INSERT INTO cart_items (user_id, code, quantity, added_at_ms, seen_price_cents) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id, code) DO UPDATE
         SET quantity = cart_items.quantity + excluded.quantity, seen_price_cents = excluded.seen_price_cents
         WHERE cart_items.quantity + excluded.quantity <= $6",
    )
    .bind(user_id)
    .bind(code)
    .bind(add)
    .bind(now_ms())
    .bind(price)
    .bind(limit)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        return Ok(false);
    }
    bump(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(true)
}

/// Sets a line's quantity (>= 1) and the price shown with it.
pub async fn set(pool: &Pool, user_id: &str, code: &str, quantity: i64, price: i64) -> ServiceResult<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO cart_items (user_id, code, quantity, added_at_ms, seen_price_cents) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id, code) DO UPDATE SET quantity = excluded.quantity, seen_price_cents = excluded.seen_price_cents",
    )
    .bind(user_id)
    .bind(code)
    .bind(quantity)
    .bind(now_ms())
    .bind(price)
    .execute(&mut *tx)
    .await?;
    bump(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Lines lowered to the stock and prices now shown, as read from the
/// catalogue: (code, new quantity or 0 to remove, price shown). The new
/// revision, if anything changed.
pub async fn adjust(pool: &Pool, user_id: &str, changes: &[(String, i64, i64)]) -> ServiceResult<Option<i64>> {
    if changes.is_empty() {
        return Ok(None);
    }
    let mut tx = pool.begin().await?;
    for (code, quantity, price) in changes {
        let query = if *quantity > 0 {
            sqlx::query("UPDATE cart_items SET quantity = $3, seen_price_cents = $4 WHERE user_id = $1 AND code = $2")
                .bind(user_id)
                .bind(code)
                .bind(quantity)
                .bind(price)
        } else {
            sqlx::query("DELETE FROM cart_items WHERE user_id = $1 AND code = $2").bind(user_id).bind(code)
        };
        query.execute(&mut *tx).await?;
    }
    let revision = bump(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(Some(revision))
}

pub async fn remove(pool: &Pool, user_id: &str, codes: &[String]) -> ServiceResult<()> {
    let mut tx = pool.begin().await?;
    for code in codes {
        sqlx::query("DELETE FROM cart_items WHERE user_id = $1 AND code = $2")
            .bind(user_id)
            .bind(code)
            .execute(&mut *tx)
            .await?;
    }
    bump(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn clear(pool: &Pool, user_id: &str) -> ServiceResult<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM cart_items WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    bump(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes out what an order bought, leaving anything added meanwhile.
pub async fn take_out(pool: &Pool, user_id: &str, bought: &[(String, i64)]) -> ServiceResult<()> {
    let mut tx = pool.begin().await?;
    for (code, quantity) in bought {
        for statement in [
            "DELETE FROM cart_items WHERE user_id = $1 AND code = $2 AND quantity <= $3",
            "UPDATE cart_items SET quantity = quantity - $3 WHERE user_id = $1 AND code = $2 AND quantity > $3",
        ] {
            sqlx::query(statement).bind(user_id).bind(code).bind(quantity).execute(&mut *tx).await?;
        }
    }
    bump(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(())
}
