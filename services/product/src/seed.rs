//! The default catalogue: the original shop's seven SKUs, grouped into their
//! three products, and a larger clothing range of Atelier's own. Seeded once
//! (a marker row), so products an admin deletes stay deleted.

use crate::validate::VariantFields;
use atelier_runtime::{ServiceError, db::Pool, now_ms};

struct Item {
    name: &'static str,
    category: &'static str,
    shape: &'static str,
    description: &'static str,
    variants: Variants,
}

enum Variants {
    /// Exact SKUs: (code, size, colour, stock, price in cents).
    Listed(&'static [(&'static str, &'static str, &'static str, i64, i64)]),
    /// Every colour in every size, priced alike; codes `<prefix>-<COL>-<SIZE>`.
    Grid { prefix: &'static str, colors: &'static [&'static str], sizes: &'static [&'static str], price_cents: i64 },
}

const ALL: &[&str] = &["XS", "S", "M", "L", "XL", "XXL"];
const CORE: &[&str] = &["S", "M", "L", "XL"];

const CATALOG: &[Item] = &[
    Item {
        name: "Basic Cotton T-Shirt",
        category: "T-Shirts",
        shape: "tshirt",
        description: "Comfortable 100% cotton t-shirt for everyday wear",
        variants: Variants::Listed(&[
            ("TSHIRT-001", "M", "White", 100, 2499),
            ("TSHIRT-002", "XS", "Black", 85, 2999),
            ("TSHIRT-003", "XL", "Black", 85, 1999),
        ]),
    },
    Item {
        name: "Classic Denim Jeans",
        category: "Jeans",
        shape: "jeans",
        description: "Durable straight-cut denim jeans",
        variants: Variants::Listed(&[("JEANS-001", "L", "Blue", 50, 4999), ("JEANS-002", "S", "Blue", 50, 4599)]),
    },
    Item {
        name: "Comfortable Fleece Hoodie",
        category: "Hoodies",
        shape: "hoodie",
        description: "Hoodie with front pocket",
        variants: Variants::Listed(&[("HOODIE-001", "S", "Gray", 75, 2775), ("HOODIE-002", "XXL", "Gray", 45, 1825)]),
    },
    Item {
        name: "Organic Crew Neck Tee",
        category: "T-Shirts",
        shape: "tshirt",
        description: "Soft organic cotton tee with a relaxed crew neck.",
        variants: Variants::Grid {
            prefix: "TEE-ORG",
            colors: &["White", "Navy", "Olive"],
            sizes: ALL,
            price_cents: 2200,
        },
    },
    Item {
        name: "Striped Breton Tee",
        category: "T-Shirts",
        shape: "tshirt",
        description: "Long-sleeve striped tee in heavyweight jersey.",
        variants: Variants::Grid { prefix: "TEE-BRE", colors: &["Navy", "Red"], sizes: CORE, price_cents: 3400 },
    },
    Item {
        name: "Graphic Pocket Tee",
        category: "T-Shirts",
        shape: "tshirt",
        description: "Boxy tee with a chest pocket and a small embroidered logo.",
        variants: Variants::Grid { prefix: "TEE-POC", colors: &["Black", "Sand"], sizes: CORE, price_cents: 2600 },
    },
    Item {
        name: "Slim Fit Chinos",
        category: "Trousers",
        shape: "chinos",
        description: "Stretch cotton chinos with a tapered leg.",
        variants: Variants::Grid {
            prefix: "CHINO-SLM",
            colors: &["Beige", "Navy", "Olive"],
            sizes: CORE,
            price_cents: 5500,
        },
    },
    Item {
        name: "Relaxed Black Jeans",
        category: "Jeans",
        shape: "jeans",
        description: "Washed black denim with a roomy, relaxed fit.",
        variants: Variants::Grid { prefix: "JEANS-BLK", colors: &["Black"], sizes: ALL, price_cents: 5900 },
    },
    Item {
        name: "Skinny Stretch Jeans",
        category: "Jeans",
        shape: "jeans",
        description: "High-rise skinny jeans with two-way stretch.",
        variants: Variants::Grid { prefix: "JEANS-SKN", colors: &["Blue", "Gray"], sizes: ALL, price_cents: 5200 },
    },
    Item {
        name: "Zip-Up Hoodie",
        category: "Hoodies",
        shape: "hoodie",
        description: "Brushed-back fleece hoodie with a full-length zip.",
        variants: Variants::Grid {
            prefix: "HOODIE-ZIP",
            colors: &["Black", "Burgundy"],
            sizes: ALL,
            price_cents: 4800,
        },
    },
    Item {
        name: "Oversized Pullover Hoodie",
        category: "Hoodies",
        shape: "hoodie",
        description: "Dropped shoulders, kangaroo pocket, heavyweight fleece.",
        variants: Variants::Grid { prefix: "HOODIE-OVR", colors: &["Sand", "Green"], sizes: CORE, price_cents: 5200 },
    },
    Item {
        name: "Merino Crew Sweater",
        category: "Knitwear",
        shape: "sweater",
        description: "Fine-gauge merino wool, warm and breathable.",
        variants: Variants::Grid {
            prefix: "KNIT-MER",
            colors: &["Navy", "Gray", "Burgundy"],
            sizes: CORE,
            price_cents: 7900,
        },
    },
    Item {
        name: "Cable Knit Jumper",
        category: "Knitwear",
        shape: "sweater",
        description: "Chunky cable knit in soft lambswool.",
        variants: Variants::Grid { prefix: "KNIT-CBL", colors: &["Cream", "Green"], sizes: CORE, price_cents: 8900 },
    },
    Item {
        name: "Cotton Cardigan",
        category: "Knitwear",
        shape: "cardigan",
        description: "Button-through cardigan in light cotton knit.",
        variants: Variants::Grid { prefix: "KNIT-CAR", colors: &["Beige", "Black"], sizes: ALL, price_cents: 6400 },
    },
    Item {
        name: "Oxford Button-Down Shirt",
        category: "Shirts",
        shape: "shirt",
        description: "Classic oxford cloth with a button-down collar.",
        variants: Variants::Grid { prefix: "SHIRT-OXF", colors: &["White", "Blue"], sizes: ALL, price_cents: 4900 },
    },
    Item {
        name: "Linen Summer Shirt",
        category: "Shirts",
        shape: "shirt",
        description: "Breezy pure linen shirt for hot days.",
        variants: Variants::Grid {
            prefix: "SHIRT-LIN",
            colors: &["White", "Sand", "Olive"],
            sizes: CORE,
            price_cents: 5400,
        },
    },
    Item {
        name: "Flannel Check Shirt",
        category: "Shirts",
        shape: "shirt",
        description: "Brushed cotton flannel in a warm check.",
        variants: Variants::Grid { prefix: "SHIRT-FLN", colors: &["Red", "Green"], sizes: CORE, price_cents: 4600 },
    },
    Item {
        name: "Denim Trucker Jacket",
        category: "Jackets",
        shape: "jacket",
        description: "The timeless denim jacket with chest pockets.",
        variants: Variants::Grid { prefix: "JKT-DNM", colors: &["Blue", "Black"], sizes: CORE, price_cents: 8900 },
    },
    Item {
        name: "Quilted Puffer Jacket",
        category: "Jackets",
        shape: "puffer",
        description: "Lightweight recycled-fill puffer that packs into its pocket.",
        variants: Variants::Grid {
            prefix: "JKT-PUF",
            colors: &["Black", "Navy", "Orange"],
            sizes: ALL,
            price_cents: 11900,
        },
    },
    Item {
        name: "Waterproof Rain Jacket",
        category: "Jackets",
        shape: "jacket",
        description: "Taped seams, adjustable hood, fully waterproof.",
        variants: Variants::Grid { prefix: "JKT-RAIN", colors: &["Yellow", "Green"], sizes: CORE, price_cents: 9900 },
    },
    Item {
        name: "Wool Overcoat",
        category: "Coats",
        shape: "overcoat",
        description: "Tailored single-breasted coat in Italian wool.",
        variants: Variants::Grid {
            prefix: "COAT-WOL",
            colors: &["Camel", "Charcoal"],
            sizes: CORE,
            price_cents: 24900,
        },
    },
    Item {
        name: "Classic Trench Coat",
        category: "Coats",
        shape: "trench",
        description: "Belted cotton gabardine trench, water-repellent.",
        variants: Variants::Grid { prefix: "COAT-TRN", colors: &["Beige"], sizes: ALL, price_cents: 19900 },
    },
    Item {
        name: "Floral Midi Dress",
        category: "Dresses",
        shape: "dress",
        description: "Flowing viscose midi dress with a floral print.",
        variants: Variants::Grid { prefix: "DRESS-FLR", colors: &["Blue", "Pink"], sizes: ALL, price_cents: 6900 },
    },
    Item {
        name: "Little Black Dress",
        category: "Dresses",
        shape: "dress",
        description: "A sleek knee-length dress for every occasion.",
        variants: Variants::Grid { prefix: "DRESS-LBD", colors: &["Black"], sizes: ALL, price_cents: 7900 },
    },
    Item {
        name: "Linen Wrap Dress",
        category: "Dresses",
        shape: "dress",
        description: "Wrap dress in washed linen with a tie waist.",
        variants: Variants::Grid { prefix: "DRESS-LIN", colors: &["Sand", "Green"], sizes: CORE, price_cents: 8400 },
    },
    Item {
        name: "Pleated Midi Skirt",
        category: "Skirts",
        shape: "skirt",
        description: "Sunray pleats that move beautifully.",
        variants: Variants::Grid { prefix: "SKIRT-PLT", colors: &["Black", "Burgundy"], sizes: ALL, price_cents: 5600 },
    },
    Item {
        name: "Denim Mini Skirt",
        category: "Skirts",
        shape: "skirt",
        description: "Five-pocket mini skirt in rigid denim.",
        variants: Variants::Grid { prefix: "SKIRT-DNM", colors: &["Blue"], sizes: CORE, price_cents: 3900 },
    },
    Item {
        name: "Chino Shorts",
        category: "Shorts",
        shape: "shorts",
        description: "Cotton twill shorts with a 7-inch inseam.",
        variants: Variants::Grid { prefix: "SHORT-CHN", colors: &["Beige", "Navy"], sizes: CORE, price_cents: 3500 },
    },
    Item {
        name: "Running Shorts",
        category: "Shorts",
        shape: "shorts",
        description: "Quick-dry shorts with a built-in liner.",
        variants: Variants::Grid { prefix: "SHORT-RUN", colors: &["Black", "Blue"], sizes: ALL, price_cents: 2900 },
    },
    Item {
        name: "Wool Beanie Cap",
        category: "Accessories",
        shape: "beanie",
        description: "Ribbed merino beanie, one size fits most.",
        variants: Variants::Grid {
            prefix: "CAP-BEA",
            colors: &["Gray", "Orange", "Navy"],
            sizes: &["M"],
            price_cents: 1900,
        },
    },
    Item {
        name: "Baseball Cap",
        category: "Accessories",
        shape: "cap",
        description: "Six-panel cotton cap with an adjustable strap.",
        variants: Variants::Grid {
            prefix: "CAP-BSB",
            colors: &["Black", "White", "Green"],
            sizes: &["M"],
            price_cents: 2100,
        },
    },
    Item {
        name: "Everyday Socks (3 Pack)",
        category: "Accessories",
        shape: "socks",
        description: "Combed cotton socks with a cushioned sole.",
        variants: Variants::Grid {
            prefix: "SOCK-EVD",
            colors: &["White", "Black"],
            sizes: &["S", "M", "L"],
            price_cents: 1200,
        },
    },
    Item {
        name: "Wool Hiking Socks",
        category: "Accessories",
        shape: "socks",
        description: "Merino-blend socks for long days outdoors.",
        variants: Variants::Grid {
            prefix: "SOCK-HIK",
            colors: &["Gray", "Green"],
            sizes: &["S", "M", "L"],
            price_cents: 1600,
        },
    },
];

pub const SAMPLE_CATALOG_LEN: usize = CATALOG.len();

fn variants_of(item: &Item) -> Vec<VariantFields> {
    match &item.variants {
        Variants::Listed(list) => list
            .iter()
            .map(|&(code, size, color, stock, price_cents)| VariantFields {
                code: code.into(),
                size,
                color: color.into(),
                price_cents,
                stock,
            })
            .collect(),
        Variants::Grid { prefix, colors, sizes, price_cents } => {
            let mut out = vec![];
            for (ci, color) in colors.iter().enumerate() {
                for (si, size) in sizes.iter().enumerate() {
                    let tag: String = color.chars().take(3).collect::<String>().to_uppercase();
                    // A deterministic spread of stock levels, a few sold out.
                    let stock = ((prefix.len() * 7 + ci * 13 + si * 5) % 41) as i64;
                    out.push(VariantFields {
                        code: format!("{prefix}-{tag}-{size}"),
                        size,
                        color: (*color).into(),
                        price_cents: *price_cents,
                        stock,
                    });
                }
            }
            out
        }
    }
}

/// Seeds the sample catalogue once. Returns true if it ran now.
pub async fn seed_catalog(pool: &Pool) -> anyhow::Result<bool> {
    let done: Option<String> =
        sqlx::query_scalar("SELECT name FROM seed_runs WHERE name = 'sample-catalog-v1'").fetch_optional(pool).await?;
    if done.is_some() {
        return Ok(false);
    }
    let base = now_ms();
    for (i, item) in CATALOG.iter().enumerate() {
        let fields =
            crate::validate::product(item.name, item.description, item.category, &format!("builtin:{}", item.shape))?;
        match crate::catalog::create(pool, fields, &variants_of(item)).await {
            Ok(p) => {
                // Spread creation times so "newest" has a meaning: the list order.
                sqlx::query("UPDATE products SET created_at_ms = $2 WHERE id = $1")
                    .bind(&p.id)
                    .bind(base - i as i64 * 60_000)
                    .execute(pool)
                    .await?;
            }
            Err(ServiceError::AlreadyExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Marked only once complete: an interrupted seed runs again; creation
    // skips what exists, so concurrent or repeated seeds never duplicate.
    let marked = sqlx::query("INSERT INTO seed_runs (name, ran_at_ms) VALUES ('sample-catalog-v1', $1)")
        .bind(now_ms())
        .execute(pool)
        .await;
    if let Err(e) = marked
        && !atelier_runtime::db::is_unique_violation(&e)
    {
        return Err(e.into());
    }
    tracing::info!(products = CATALOG.len(), "seeded the sample catalogue");
    Ok(true)
}
