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
    /// What it was when added, in words ('' for lines older than labels).
    pub label: String,
}

/// A variant as the shopper was shown it when choosing.
pub struct Shown<'a> {
    pub code: &'a str,
    pub price_cents: i64,
    pub label: &'a str,
}

/// The cart's lines, oldest first, and its revision (0: never changed), in
/// one statement: the lines are exactly those of that revision. A cart with
/// lines always has its revision row (every change writes it).
pub async fn read(pool: &Pool, user_id: &str) -> ServiceResult<(Vec<Line>, i64)> {
    type Row = (i64, Option<String>, Option<i64>, Option<i64>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.revision, i.code, i.quantity, i.seen_price_cents, i.label
         FROM carts c LEFT JOIN cart_items i ON i.user_id = c.user_id
         WHERE c.user_id = $1 ORDER BY i.added_at_ms, i.code",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    let revision = rows.first().map_or(0, |r| r.0);
    let lines = rows.into_iter().filter_map(|(_, code, quantity, seen_price_cents, label)| {
        Some(Line {
            code: code?,
            quantity: quantity.unwrap_or(0),
            seen_price_cents: seen_price_cents.unwrap_or(-1),
            label: label.unwrap_or_default(),
        })
    });
    Ok((lines.collect(), revision))
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
pub async fn add(pool: &Pool, user_id: &str, line: &Shown<'_>, add: i64, limit: i64) -> ServiceResult<bool> {
    if add > limit {
        return Ok(false);
    }
    let mut tx = pool.begin().await?;
    let changed = sqlx::query(
        "INSERT INTO cart_items (user_id, code, quantity, added_at_ms, seen_price_cents, label)
         VALUES ($1, $2, $3, $4, $5, $7)
         ON CONFLICT (user_id, code) DO UPDATE
         SET quantity = cart_items.quantity + excluded.quantity, seen_price_cents = excluded.seen_price_cents,
             label = excluded.label
         WHERE cart_items.quantity + excluded.quantity <= $6",
    )
    .bind(user_id)
    .bind(line.code)
    .bind(add)
    .bind(now_ms())
    .bind(line.price_cents)
    .bind(limit)
    .bind(line.label)
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
pub async fn set(pool: &Pool, user_id: &str, line: &Shown<'_>, quantity: i64) -> ServiceResult<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO cart_items (user_id, code, quantity, added_at_ms, seen_price_cents, label)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, code) DO UPDATE
         SET quantity = excluded.quantity, seen_price_cents = excluded.seen_price_cents, label = excluded.label",
    )
    .bind(user_id)
    .bind(line.code)
    .bind(quantity)
    .bind(now_ms())
    .bind(line.price_cents)
    .bind(line.label)
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
        // Usually the whole line was bought: one statement then.
        let deleted = sqlx::query("DELETE FROM cart_items WHERE user_id = $1 AND code = $2 AND quantity <= $3")
            .bind(user_id)
            .bind(code)
            .bind(quantity)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            sqlx::query(
                "UPDATE cart_items SET quantity = quantity - $3 WHERE user_id = $1 AND code = $2 AND quantity > $3",
            )
            .bind(user_id)
            .bind(code)
            .bind(quantity)
            .execute(&mut *tx)
            .await?;
        }
    }
    bump(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Units in a cart.
pub async fn units(pool: &Pool, user_id: &str) -> ServiceResult<i64> {
    Ok(sqlx::query_scalar("SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM cart_items WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await?)
}

/// A line of a guest's bag that could not come over whole: the quantity
/// wanted (the user's plus the guest's) and what the cart holds now.
pub struct Clamped {
    pub code: String,
    pub wanted: i64,
    pub now: i64,
}

/// Moves a guest's lines into a user's cart in one transaction: each line's
/// quantities add up, at most `limit(code)` (0: not taken). The guest's
/// lines are deleted first, so of two concurrent merges only one finds
/// them. Returns the lines that were lowered or left out.
pub async fn merge(
    pool: &Pool,
    guest_id: &str,
    user_id: &str,
    limit: impl Fn(&str) -> (i64, i64, String),
) -> ServiceResult<Vec<Clamped>> {
    let mut tx = pool.begin().await?;
    let taken: Vec<(String, i64)> =
        sqlx::query_as("DELETE FROM cart_items WHERE user_id = $1 RETURNING code, quantity")
            .bind(guest_id)
            .fetch_all(&mut *tx)
            .await?;
    sqlx::query("DELETE FROM carts WHERE user_id = $1").bind(guest_id).execute(&mut *tx).await?;
    let mut clamped = vec![];
    for (code, guest_quantity) in taken {
        let (limit, price, label) = limit(&code);
        let had: i64 = sqlx::query_scalar("SELECT quantity FROM cart_items WHERE user_id = $1 AND code = $2")
            .bind(user_id)
            .bind(&code)
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0);
        let wanted = had + guest_quantity;
        if limit <= 0 {
            clamped.push(Clamped { code, wanted, now: had });
            continue;
        }
        // One statement, so a concurrent add to the user's cart still counts.
        let now: i64 = sqlx::query_scalar(
            "INSERT INTO cart_items (user_id, code, quantity, added_at_ms, seen_price_cents, label)
             VALUES ($1, $2, $3, $4, $5, $7)
             ON CONFLICT (user_id, code) DO UPDATE SET quantity = CASE
                 WHEN cart_items.quantity + excluded.quantity > $6 THEN $6
                 ELSE cart_items.quantity + excluded.quantity END
             RETURNING quantity",
        )
        .bind(user_id)
        .bind(&code)
        .bind(guest_quantity.min(limit))
        .bind(now_ms())
        .bind(price)
        .bind(limit)
        .bind(&label)
        .fetch_one(&mut *tx)
        .await?;
        if now < wanted {
            clamped.push(Clamped { code, wanted, now });
        }
    }
    bump(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(clamped)
}

/// Forgets guests' bags untouched for `older_than_ms` (their identities
/// have expired by then: nobody can reach them any more).
pub async fn forget_old_guest_bags(pool: &Pool, older_than_ms: i64) -> ServiceResult<u64> {
    let cutoff = now_ms() - older_than_ms;
    let mut tx = pool.begin().await?;
    let gone = sqlx::query(
        "DELETE FROM cart_items WHERE user_id LIKE 'guest:%' AND user_id IN
           (SELECT user_id FROM cart_items WHERE user_id LIKE 'guest:%' GROUP BY user_id HAVING MAX(added_at_ms) < $1)",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(
        "DELETE FROM carts WHERE user_id LIKE 'guest:%'
           AND NOT EXISTS (SELECT 1 FROM cart_items i WHERE i.user_id = carts.user_id)",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(gone)
}
