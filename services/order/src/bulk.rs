//! Generated order history for scale runs (`atelier seed --orders M`):
//! deterministic ids, keys and dates, so running the same command again adds
//! nothing. History only: it takes no stock (those orders were fulfilled long
//! ago), which is why the stock audit counts live orders, not these.

use atelier_runtime::db::{Arg, Pool, Sql};

/// A SKU as an order line records it.
pub struct LineTemplate {
    pub code: String,
    pub product_id: String,
    pub product_name: String,
    pub size: String,
    pub color: String,
    pub unit_price_cents: i64,
}

/// Orders per transaction.
const BATCH: usize = 500;
/// The generated history runs over the year before this instant (2026-01-01 UTC).
const HISTORY_END_MS: i64 = 1_767_225_600_000;
const YEAR_MS: i64 = 31_536_000_000;

fn created_at(i: usize, count: usize) -> i64 {
    HISTORY_END_MS - YEAR_MS + (i as i64 * YEAR_MS / count.max(1) as i64)
}

/// A UUIDv7 (time-ordered like real order ids) made from the order's number.
fn order_id(i: usize, count: usize) -> anyhow::Result<String> {
    let random: [u8; 10] = (i as u128).to_le_bytes()[..10].try_into()?;
    Ok(uuid::Builder::from_unix_timestamp_millis(created_at(i, count) as u64, &random).into_uuid().to_string())
}

/// Adds orders `0..count`, spread over `shoppers` (id, username) and a year,
/// each of one to three lines taken from `skus`.
pub async fn generate_orders(
    pool: &Pool,
    count: usize,
    shoppers: &[(String, String)],
    skus: &[LineTemplate],
) -> anyhow::Result<()> {
    anyhow::ensure!(!shoppers.is_empty(), "generating orders needs at least one shopper account");
    anyhow::ensure!(!skus.is_empty(), "generating orders needs a catalogue");
    // Batches commit in order: when the last order exists, all do.
    if count > 0 {
        let last: Option<String> = sqlx::query_scalar("SELECT id FROM orders WHERE id = $1")
            .bind(order_id(count - 1, count)?)
            .fetch_optional(pool)
            .await?;
        if last.is_some() {
            return Ok(());
        }
    }
    for start in (0..count).step_by(BATCH) {
        let range = start..(start + BATCH).min(count);
        let mut orders = Vec::with_capacity(range.len());
        let mut lines = Vec::with_capacity(range.len() * 2);
        for i in range {
            let at = created_at(i, count);
            let id = order_id(i, count)?;
            let (user_id, username) = &shoppers[i % shoppers.len()];
            let status = match i % 20 {
                0..12 => "DELIVERED",
                12..16 => "SHIPPED",
                16..18 => "PROCESSING",
                _ => "CANCELED",
            };
            let mut total = 0;
            for l in 0..(1 + i % 3).min(skus.len()) {
                // Consecutive SKUs: distinct within one order.
                let sku = &skus[(i * 7 + l) % skus.len()];
                let quantity = 1 + ((i + l) % 2) as i64;
                total += sku.unit_price_cents * quantity;
                lines.push(vec![
                    Arg::from(id.as_str()),
                    Arg::from(sku.code.as_str()),
                    Arg::from(sku.product_id.as_str()),
                    Arg::from(sku.product_name.as_str()),
                    Arg::from(sku.size.as_str()),
                    Arg::from(sku.color.as_str()),
                    Arg::from(sku.unit_price_cents),
                    Arg::from(quantity),
                ]);
            }
            orders.push(vec![
                Arg::from(id),
                Arg::from(user_id.as_str()),
                Arg::from(username.as_str()),
                Arg::from(format!("generated-{i}")),
                Arg::from(status),
                Arg::from(total),
                Arg::from(i64::from(status == "CANCELED")),
                Arg::from(at),
                Arg::from(at),
            ]);
        }
        let mut tx = pool.begin().await?;
        let columns = [
            "id",
            "user_id",
            "username",
            "idempotency_key",
            "status",
            "total_cents",
            "stock_released",
            "created_at_ms",
            "updated_at_ms",
        ];
        Sql::insert_all(&mut tx, "orders", &columns, &orders, true).await?;
        let columns =
            ["order_id", "code", "product_id", "product_name", "size", "color", "unit_price_cents", "quantity"];
        // Lines for several SKUs of one order are distinct by construction; a
        // line already there means its order was generated before.
        Sql::insert_all(&mut tx, "order_lines", &columns, &lines, true).await?;
        tx.commit().await?;
    }
    Ok(())
}
