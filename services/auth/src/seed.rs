//! The default accounts of the original shop, created once.

use crate::{password, store};
use atelier_runtime::db::Pool;

/// (username, password, email, phone, role)
pub const DEMO_ACCOUNTS: [(&str, &str, &str, &str, &str); 2] = [
    ("admin", "admin123", "admin@example.com", "0000000000", "admin"),
    ("demo-client", "demo123", "demo-client@example.com", "1111111111", "client"),
];

/// Creates the admin (with `admin_password` if given) and, when `demo` is
/// set, the demo client. Accounts that exist are left alone.
pub async fn seed_accounts(pool: &Pool, admin_password: Option<&str>, demo: bool) -> anyhow::Result<()> {
    for (username, default_password, email, phone, role) in DEMO_ACCOUNTS {
        if role == "client" && !demo {
            continue;
        }
        if let Some(user) = store::user_by_name(pool, username).await? {
            seed_address(pool, &user.id, username).await?;
            continue;
        }
        let password = match (role, admin_password) {
            ("admin", Some(p)) => p,
            _ => default_password,
        };
        let password_hash = password::hash(password.to_string()).await?;
        match store::insert_user(pool, store::NewUser { username, email, phone, role, password_hash: &password_hash })
            .await
        {
            Ok(user) => seed_address(pool, &user.id, username).await?,
            Err(atelier_runtime::ServiceError::AlreadyExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
        tracing::info!(username, "seeded account");
    }
    Ok(())
}

/// A demo account without an address gets a default one, so that it can
/// check out at once.
async fn seed_address(pool: &Pool, user_id: &str, username: &str) -> anyhow::Result<()> {
    if !crate::addresses::list(pool, user_id).await?.is_empty() {
        return Ok(());
    }
    let address = atelier_proto::auth::Address {
        name: if username == "admin" { "Atelier Admin".into() } else { "Demo Client".into() },
        line1: "Via dei Servi 12".into(),
        postcode: "50122".into(),
        city: "Florence".into(),
        country: "Italy".into(),
        ..Default::default()
    };
    crate::addresses::save(pool, user_id, &address, true).await?;
    Ok(())
}

/// The shoppers' accounts (id, username), for generated order history.
pub async fn shoppers(pool: &Pool) -> anyhow::Result<Vec<(String, String)>> {
    Ok(sqlx::query_as("SELECT id, username FROM users WHERE role = 'client' ORDER BY username").fetch_all(pool).await?)
}
