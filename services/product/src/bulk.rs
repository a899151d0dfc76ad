//! A generated catalogue for scale runs (`atelier seed --products N`):
//! N products of five SKUs each, named and priced deterministically, so the
//! same command always yields the same catalogue and running it again adds
//! nothing.

use atelier_runtime::{
    db::{Arg, Pool, Sql},
    now_ms,
};

const ADJECTIVES: &[&str] = &["Relaxed", "Slim", "Classic", "Cropped", "Oversized", "Tailored", "Washed", "Everyday"];
const MATERIALS: &[&str] = &["Linen", "Cotton", "Wool", "Denim", "Jersey", "Corduroy", "Fleece", "Twill"];
/// (garment, category, image shape)
const GARMENTS: &[(&str, &str, &str)] = &[
    ("Tee", "T-Shirts", "tshirt"),
    ("Shirt", "Shirts", "shirt"),
    ("Jeans", "Jeans", "jeans"),
    ("Hoodie", "Hoodies", "hoodie"),
    ("Trousers", "Trousers", "jeans"),
    ("Jacket", "Jackets", "jacket"),
];
const COLORS: &[&str] = &["Black", "White", "Navy", "Olive", "Sand", "Gray", "Red", "Blue"];
const SIZES: &[&str] = &["XS", "S", "M", "L", "XL"];
/// Products per transaction.
const BATCH: usize = 400;

/// Adds generated products `0..count` that are not there yet. Returns how
/// many SKUs the generated range holds.
pub async fn generate_catalog(pool: &Pool, count: usize) -> anyhow::Result<usize> {
    // Batches commit in order: when the last product exists, all do.
    if count > 0 {
        let last: Option<String> = sqlx::query_scalar("SELECT id FROM products WHERE id = $1")
            .bind(crate::validate::slug(&product_of(count - 1).0))
            .fetch_optional(pool)
            .await?;
        if last.is_some() {
            return Ok(count * SIZES.len());
        }
    }
    let now = now_ms();
    for start in (0..count).step_by(BATCH) {
        let range = start..(start + BATCH).min(count);
        let mut tx = pool.begin().await?;
        let products: Vec<Vec<Arg>> = range
            .clone()
            .map(|i| {
                let (name, category, shape) = product_of(i);
                let id = crate::validate::slug(&name);
                let description = format!("{name}: generated for scale runs.");
                vec![
                    Arg::from(id),
                    Arg::from(name.clone()),
                    Arg::from(description),
                    Arg::from(category),
                    Arg::from(format!("builtin:{shape}")),
                    // Spread over a year so "newest" has work to do.
                    Arg::from(now - i as i64 * 31_536_000_000 / count.max(1) as i64),
                    Arg::from(now),
                    Arg::from(1),
                ]
            })
            .collect();
        let columns = ["id", "name", "description", "category", "image", "created_at_ms", "updated_at_ms", "version"];
        Sql::insert_all(&mut tx, "products", &columns, &products, true).await?;

        let variants: Vec<Vec<Arg>> = range
            .flat_map(|i| {
                let product_id = crate::validate::slug(&product_of(i).0);
                SIZES.iter().enumerate().map(move |(s, size)| {
                    vec![
                        Arg::from(sku_code(i, size)),
                        Arg::from(product_id.clone()),
                        Arg::from(*size),
                        Arg::from(color_of(i)),
                        Arg::from(price_of(i, s)),
                        // Some sold out, most not.
                        Arg::from((i as i64 * 7 + s as i64 * 3) % 60),
                    ]
                })
            })
            .collect();
        let columns = ["code", "product_id", "size", "color", "price_cents", "stock"];
        Sql::insert_all(&mut tx, "variants", &columns, &variants, true).await?;
        tx.commit().await?;
    }
    crate::catalog::touch_catalog(pool).await;
    Ok(count * SIZES.len())
}

fn color_of(i: usize) -> &'static str {
    COLORS[(i / 3) % COLORS.len()]
}

fn sku_code(i: usize, size: &str) -> String {
    format!("GEN{i:06}-{size}")
}

/// Larger sizes cost a little more; the smallest is the product's lowest price.
fn price_of(i: usize, size_index: usize) -> i64 {
    1500 + (i as i64 * 37 % 120) * 100 + size_index as i64 * 100
}

fn product_of(i: usize) -> (String, &'static str, &'static str) {
    let adjective = ADJECTIVES[i % ADJECTIVES.len()];
    let material = MATERIALS[(i / ADJECTIVES.len()) % MATERIALS.len()];
    let (garment, category, shape) = GARMENTS[(i / 7) % GARMENTS.len()];
    (format!("{adjective} {material} {garment} No. {i}"), category, shape)
}

/// A SKU as an order line records it.
#[derive(Debug, Clone)]
pub struct SkuSnapshot {
    pub code: String,
    pub product_id: String,
    pub product_name: String,
    pub size: String,
    pub color: String,
    pub price_cents: i64,
}

/// Up to `limit` SKUs of the catalogue, for generated order lines.
pub async fn sku_snapshots(pool: &Pool, limit: i64) -> anyhow::Result<Vec<SkuSnapshot>> {
    let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
        "SELECT v.code, v.product_id, p.name, v.size, v.color, v.price_cents
         FROM variants v JOIN products p ON p.id = v.product_id ORDER BY v.code LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(code, product_id, product_name, size, color, price_cents)| SkuSnapshot {
            code,
            product_id,
            product_name,
            size,
            color,
            price_cents,
        })
        .collect())
}
