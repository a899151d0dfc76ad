//! The auth service's tables. Every write that could race is a single
//! statement or a transaction that starts by writing.

use atelier_runtime::{ServiceError, db, db::Pool, error::ServiceResult, now_ms, page::Page};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub email: String,
    pub phone: String,
    pub role: String,
    pub password_hash: String,
    pub created_at_ms: i64,
}

const USER_COLUMNS: &str = "id, username, email, phone, role, password_hash, created_at_ms";

pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
}

pub async fn insert_user(pool: &Pool, user: NewUser<'_>) -> ServiceResult<UserRow> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = now_ms();
    let result = sqlx::query(
        "INSERT INTO users (id, username, username_key, email, phone, role, password_hash, created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&id)
    .bind(user.username)
    .bind(user.username.to_lowercase())
    .bind(user.email)
    .bind(user.phone)
    .bind(user.role)
    .bind(user.password_hash)
    .bind(now)
    .execute(pool)
    .await;
    match result {
        Ok(_) => user_by_id(pool, &id).await,
        // The unique constraints decide, not a check-then-insert.
        Err(e) if db::is_unique_violation(&e) => {
            Err(ServiceError::AlreadyExists("username or email already used".into()))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn user_by_name(pool: &Pool, username: &str) -> ServiceResult<Option<UserRow>> {
    Ok(sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE username_key = $1"))
        .bind(username.trim().to_lowercase())
        .fetch_optional(pool)
        .await?)
}

pub async fn user_by_id(pool: &Pool, id: &str) -> ServiceResult<UserRow> {
    sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| ServiceError::not_found("user not found"))
}

pub async fn list_users(pool: &Pool, query: &str, page: Page) -> ServiceResult<(Vec<UserRow>, u64)> {
    let pattern = format!("%{}%", query.trim().to_lowercase().replace(['%', '_'], ""));
    let filter = "WHERE username_key LIKE $1 OR email LIKE $1";
    let total: i64 =
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM users {filter}")).bind(&pattern).fetch_one(pool).await?;
    let rows =
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users {filter} ORDER BY username_key LIMIT $2 OFFSET $3"))
            .bind(&pattern)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(pool)
            .await?;
    Ok((rows, total as u64))
}

pub async fn update_profile(pool: &Pool, id: &str, email: Option<&str>, phone: Option<&str>) -> ServiceResult<UserRow> {
    let result = sqlx::query(
        "UPDATE users SET email = COALESCE($2, email), phone = COALESCE($3, phone), updated_at_ms = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(email)
    .bind(phone)
    .bind(now_ms())
    .execute(pool)
    .await;
    match result {
        Ok(_) => user_by_id(pool, id).await,
        Err(e) if db::is_unique_violation(&e) => Err(ServiceError::AlreadyExists("email already used".into())),
        Err(e) => Err(e.into()),
    }
}

/// Replaces the password and ends every session of the user, atomically.
pub async fn set_password(pool: &Pool, id: &str, password_hash: &str) -> ServiceResult<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $2, updated_at_ms = $3 WHERE id = $1")
        .bind(id)
        .bind(password_hash)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Changes a role and ends the target's sessions. Refuses to remove the last
/// admin: the guard row serialises concurrent role changes.
pub async fn set_role(pool: &Pool, username: &str, role: &str) -> ServiceResult<UserRow> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE role_guard SET changes = changes + 1 WHERE id = 1").execute(&mut *tx).await?;
    let user: UserRow = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE username_key = $1"))
        .bind(username.trim().to_lowercase())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ServiceError::not_found("user not found"))?;
    if user.role == role {
        return Ok(user);
    }
    if user.role == "admin" {
        let admins: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'").fetch_one(&mut *tx).await?;
        if admins <= 1 {
            return Err(ServiceError::FailedPrecondition("the shop must keep at least one admin".into()));
        }
    }
    sqlx::query("UPDATE users SET role = $2, updated_at_ms = $3 WHERE id = $1")
        .bind(&user.id)
        .bind(role)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(&user.id).execute(&mut *tx).await?;
    tx.commit().await?;
    user_by_id(pool, &user.id).await
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Opens a session and returns its bearer secret and expiry.
pub async fn create_session(pool: &Pool, user_id: &str, ttl_ms: i64) -> ServiceResult<(String, i64)> {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let now = now_ms();
    let expires = now + ttl_ms;
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4)")
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(now)
        .bind(expires)
        .execute(pool)
        .await?;
    Ok((token, expires))
}

#[derive(sqlx::FromRow)]
struct SessionUser {
    #[sqlx(flatten)]
    user: UserRow,
    expires_at_ms: i64,
}

/// The user behind a live session, and the session's expiry (one query:
/// every signed-in request asks this).
pub async fn session_user(pool: &Pool, token: &str) -> ServiceResult<Option<(UserRow, i64)>> {
    let row: Option<SessionUser> = sqlx::query_as(
        "SELECT u.id, u.username, u.email, u.phone, u.role, u.password_hash, u.created_at_ms, s.expires_at_ms
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at_ms > $2",
    )
    .bind(token_hash(token))
    .bind(now_ms())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.user, r.expires_at_ms)))
}

pub async fn delete_session(pool: &Pool, token: &str) -> ServiceResult<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at_ms < $2")
        .bind(token_hash(token))
        .bind(now_ms())
        .execute(pool)
        .await?;
    Ok(())
}
