//! The cart_items table.

use atelier_runtime::{db::Pool, error::ServiceResult, now_ms};

pub async fn lines(pool: &Pool, user_id: &str) -> ServiceResult<Vec<(String, i64)>> {
    Ok(sqlx::query_as("SELECT code, quantity FROM cart_items WHERE user_id = $1 ORDER BY added_at_ms, code")
        .bind(user_id)
        .fetch_all(pool)
        .await?)
}

pub async fn quantity(pool: &Pool, user_id: &str, code: &str) -> ServiceResult<i64> {
    let q: Option<i64> = sqlx::query_scalar("SELECT quantity FROM cart_items WHERE user_id = $1 AND code = $2")
        .bind(user_id)
        .bind(code)
        .fetch_optional(pool)
        .await?;
    Ok(q.unwrap_or(0))
}

/// Sets a line's quantity (0 removes it).
pub async fn set(pool: &Pool, user_id: &str, code: &str, quantity: i64) -> ServiceResult<()> {
    if quantity <= 0 {
        return remove(pool, user_id, code).await;
    }
    sqlx::query(
        "INSERT INTO cart_items (user_id, code, quantity, added_at_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, code) DO UPDATE SET quantity = excluded.quantity",
    )
    .bind(user_id)
    .bind(code)
    .bind(quantity)
    .bind(now_ms())
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn remove(pool: &Pool, user_id: &str, code: &str) -> ServiceResult<()> {
    sqlx::query("DELETE FROM cart_items WHERE user_id = $1 AND code = $2")
        .bind(user_id)
        .bind(code)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn clear(pool: &Pool, user_id: &str) -> ServiceResult<()> {
    sqlx::query("DELETE FROM cart_items WHERE user_id = $1").bind(user_id).execute(pool).await?;
    Ok(())
}
