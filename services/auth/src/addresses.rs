//! Delivery addresses: checked field by field, kept per account with one
//! default.

use atelier_proto::auth as pb;
use atelier_runtime::{ServiceError, db::Pool, error::ServiceResult, error::one_line, now_ms};

/// How many addresses one account keeps.
pub const MAX_PER_ACCOUNT: i64 = 10;

fn postcode(s: &str) -> Result<(), ServiceError> {
    let s = s.trim();
    let ok = (2..=12).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-'));
    if ok { Ok(()) } else { Err(ServiceError::invalid("postcode must be 2 to 12 letters, digits, spaces or '-'")) }
}

/// Every field of an address checked at once (None when all are right).
pub fn check(a: &pb::Address) -> Option<tonic::Status> {
    atelier_runtime::error::invalid_fields(&[
        ("name", one_line("name", &a.name, 1, 80)),
        ("line1", one_line("address", &a.line1, 1, 120)),
        ("line2", one_line("second address line", &a.line2, 0, 120)),
        ("postcode", postcode(&a.postcode)),
        ("city", one_line("city", &a.city, 1, 80)),
        ("country", one_line("country", &a.country, 2, 56)),
    ])
}

#[derive(sqlx::FromRow)]
struct AddressRow {
    id: String,
    name: String,
    line1: String,
    line2: String,
    postcode: String,
    city: String,
    country: String,
    is_default: i64,
}

impl From<AddressRow> for pb::Address {
    fn from(r: AddressRow) -> Self {
        pb::Address {
            id: r.id,
            name: r.name,
            line1: r.line1,
            line2: r.line2,
            postcode: r.postcode,
            city: r.city,
            country: r.country,
            is_default: r.is_default == 1,
        }
    }
}

/// The account's addresses, the default first, then the newest.
pub async fn list(pool: &Pool, user_id: &str) -> ServiceResult<Vec<pb::Address>> {
    let rows: Vec<AddressRow> = sqlx::query_as(
        "SELECT id, name, line1, line2, postcode, city, country, is_default FROM addresses
         WHERE user_id = $1 ORDER BY is_default DESC, created_at_ms DESC, id DESC",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(pb::Address::from).collect())
}

/// Saves a new address (empty id) or edits one of the account's; the first
/// one, or one saved with `make_default`, becomes the default.
pub async fn save(pool: &Pool, user_id: &str, a: &pb::Address, make_default: bool) -> ServiceResult<pb::Address> {
    let mut tx = pool.begin().await?;
    // Writing first (SQLite takes its write lock at once): count under the lock.
    let touched = sqlx::query("UPDATE users SET updated_at_ms = $2 WHERE id = $1")
        .bind(user_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    if touched.rows_affected() == 0 {
        return Err(ServiceError::NotFound("no such account".into()));
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM addresses WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    let id = if a.id.is_empty() {
        if count >= MAX_PER_ACCOUNT {
            return Err(ServiceError::FailedPrecondition(format!(
                "an account keeps at most {MAX_PER_ACCOUNT} addresses: delete one first"
            )));
        }
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO addresses (id, user_id, name, line1, line2, postcode, city, country, is_default, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(a.name.trim())
        .bind(a.line1.trim())
        .bind(a.line2.trim())
        .bind(a.postcode.trim().to_uppercase())
        .bind(a.city.trim())
        .bind(a.country.trim())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        id
    } else {
        let done = sqlx::query(
            "UPDATE addresses SET name = $3, line1 = $4, line2 = $5, postcode = $6, city = $7, country = $8
             WHERE id = $1 AND user_id = $2",
        )
        .bind(&a.id)
        .bind(user_id)
        .bind(a.name.trim())
        .bind(a.line1.trim())
        .bind(a.line2.trim())
        .bind(a.postcode.trim().to_uppercase())
        .bind(a.city.trim())
        .bind(a.country.trim())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(ServiceError::NotFound("no such address".into()));
        }
        a.id.clone()
    };
    if make_default || count == 0 {
        set_default(&mut tx, user_id, &id).await?;
    }
    tx.commit().await?;
    let saved = list(pool, user_id).await?.into_iter().find(|s| s.id == id);
    saved.ok_or_else(|| ServiceError::NotFound("no such address".into()))
}

async fn set_default(tx: &mut sqlx::Transaction<'_, sqlx::Any>, user_id: &str, id: &str) -> ServiceResult<()> {
    sqlx::query("UPDATE addresses SET is_default = CASE WHEN id = $2 THEN 1 ELSE 0 END WHERE user_id = $1")
        .bind(user_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deletes one of the account's addresses; if it was the default, the
/// newest other one becomes the default.
pub async fn delete(pool: &Pool, user_id: &str, id: &str) -> ServiceResult<()> {
    let mut tx = pool.begin().await?;
    let was_default: Option<i64> =
        sqlx::query_scalar("DELETE FROM addresses WHERE id = $1 AND user_id = $2 RETURNING is_default")
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    match was_default {
        None => return Err(ServiceError::NotFound("no such address".into())),
        Some(1) => {
            let next: Option<String> = sqlx::query_scalar(
                "SELECT id FROM addresses WHERE user_id = $1 ORDER BY created_at_ms DESC, id DESC LIMIT 1",
            )
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(next) = next {
                set_default(&mut tx, user_id, &next).await?;
            }
        }
        Some(_) => {}
    }
    tx.commit().await?;
    Ok(())
}
