//! A product's variants as a colour × size grid: one row per colour with
//! its price and each size's stock, saved a row at a time. A size left
//! empty is not made in that colour; a number there adds it (its SKU code
//! made up from the product, colour and size). Stock is sent as the change
//! the admin made, so sales meanwhile still count.

use super::context::{Ctx, Flash, WebError, capitalize, redirect};
use crate::{AppState, format, session::as_user};
use atelier_proto::product as pb;
use axum::{
    Form,
    extract::{Path, State},
    response::Response,
};

pub struct GridCell {
    pub size: &'static str,
    /// None: not made in this colour and size.
    pub stock: Option<i64>,
}

pub struct GridRow {
    /// The id of the row's form (its cells name it).
    pub form_id: String,
    pub color: String,
    /// The row's price when every size costs the same ("" when they differ).
    pub price: String,
    /// The sizes' prices when they differ ("S €45.99 · L €49.99").
    pub prices: String,
    pub cells: Vec<GridCell>,
}

fn euros(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn same_color(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// The grid of a product: its colours in the order first added, sizes XS … XXL.
pub fn grid(p: &pb::Product) -> Vec<GridRow> {
    let mut colors: Vec<&str> = vec![];
    for v in &p.variants {
        if !colors.iter().any(|c| same_color(c, &v.color)) {
            colors.push(&v.color);
        }
    }
    colors
        .into_iter()
        .enumerate()
        .map(|(n, color)| {
            let of_color: Vec<&pb::Variant> = p.variants.iter().filter(|v| same_color(&v.color, color)).collect();
            let mut prices: Vec<i64> = of_color.iter().map(|v| v.price_cents).collect();
            prices.dedup();
            let cells = format::SIZES
                .iter()
                .map(|size| GridCell {
                    size,
                    stock: of_color.iter().find(|v| format::size_name(v.size) == *size).map(|v| v.stock),
                })
                .collect();
            let varies = prices.len() > 1;
            GridRow {
                form_id: format!("row-{n}"),
                color: color.to_string(),
                price: if varies { String::new() } else { euros(of_color[0].price_cents) },
                prices: if varies {
                    let mut by_size = of_color.clone();
                    by_size.sort_by_key(|v| v.size);
                    let each =
                        by_size.iter().map(|v| format!("{} €{}", format::size_name(v.size), euros(v.price_cents)));
                    each.collect::<Vec<_>>().join(" · ")
                } else {
                    String::new()
                },
                cells,
            }
        })
        .collect()
}

/// A SKU code for a new variant: the product's initials, the colour's
/// first letters, the size ("OCNT-CRE-M"), and a number if that is taken.
fn sku(product_id: &str, color: &str, size: &str, attempt: u32) -> String {
    let initials: String = product_id.split('-').filter_map(|w| w.chars().next()).take(5).collect();
    let shade: String = color.chars().filter(char::is_ascii_alphanumeric).take(3).collect();
    let base = format!("{}-{}-{size}", initials.to_uppercase(), shade.to_uppercase());
    if attempt == 0 { base } else { format!("{base}-{}", attempt + 1) }
}

/// One change to make: an edit of an existing variant, or a new one.
enum Change {
    Edit { code: String, size: &'static str, price_cents: i64, stock_delta: i64 },
    Add { size: &'static str, price_cents: i64, stock: i64 },
}

/// Saves one colour's row. Every mistake is checked first and named by its
/// cell ("Cream / M: …"); with any, nothing is changed.
pub async fn save_row(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let me = ctx.admin()?;
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str()).trim();
    let back = super::admin::back_to(&id);
    let color = field("color").to_string();
    if color.is_empty() {
        return Ok(redirect(&back, Flash::error("New colour: give it a name, such as Cream."), ctx.secure));
    }
    let product = super::admin::load(&state, &id).await?;
    let mut problems = vec![];
    let price = match field("price") {
        "" => None,
        p => format::parse_money(p).or_else(|| {
            problems.push(format!("{color}: enter a price such as 24.99."));
            None
        }),
    };
    let row_price =
        price.or_else(|| product.variants.iter().find(|v| same_color(&v.color, &color)).map(|v| v.price_cents));
    let mut changes = vec![];
    for size in format::SIZES {
        let existing =
            product.variants.iter().find(|v| same_color(&v.color, &color) && format::size_name(v.size) == size);
        let entered = field(&format!("stock_{size}"));
        if entered.is_empty() {
            // No stock change (deleting is the SKU list's job); a new row price still applies.
            if let (Some(v), Some(p)) = (existing, price)
                && v.price_cents != p
            {
                changes.push(Change::Edit { code: v.code.clone(), size, price_cents: p, stock_delta: 0 });
            }
            continue;
        }
        let Some(stock) = entered.parse::<i64>().ok().filter(|s| (0..=1_000_000).contains(s)) else {
            problems.push(format!("{color} / {size}: stock is a whole number from 0 to 1000000."));
            continue;
        };
        match existing {
            Some(v) => {
                // Against the stock the admin saw, so that sales meanwhile count.
                let seen = field(&format!("was_{size}")).parse::<i64>().unwrap_or(v.stock);
                let price_cents = price.unwrap_or(v.price_cents);
                if stock != seen || price_cents != v.price_cents {
                    changes.push(Change::Edit { code: v.code.clone(), size, price_cents, stock_delta: stock - seen });
                }
            }
            None => match row_price {
                Some(price_cents) => changes.push(Change::Add { size, price_cents, stock }),
                None => problems.push(format!("{color} / {size}: give the row a price first.")),
            },
        }
    }
    if !problems.is_empty() {
        return Ok(redirect(&back, Flash::error(format!("Nothing was saved. {}", problems.join(" "))), ctx.secure));
    }
    let mut products = state.clients.product.clone();
    let mut done = vec![];
    for change in changes {
        let (size, result) = match change {
            Change::Edit { code, size, price_cents, stock_delta } => {
                let variant = product.variants.iter().find(|v| v.code == code).cloned().unwrap_or_default();
                let request = pb::UpdateVariantRequest {
                    code,
                    size: variant.size,
                    color: variant.color,
                    price_cents,
                    stock_delta,
                };
                (size, products.update_variant(as_user(me, request)).await.map(drop))
            }
            Change::Add { size, price_cents, stock } => {
                let mut result = Ok(());
                for attempt in 0..5 {
                    let variant = pb::Variant {
                        code: sku(&product.id, &color, size, attempt),
                        size: format::parse_size(size).map_or(0, |s| s as i32),
                        color: color.clone(),
                        price_cents,
                        stock,
                    };
                    let request = pb::AddVariantRequest { product_id: product.id.clone(), variant: Some(variant) };
                    result = products.add_variant(as_user(me, request)).await.map(drop);
                    if !matches!(&result, Err(s) if s.code() == tonic::Code::AlreadyExists) {
                        break;
                    }
                }
                (size, result)
            }
        };
        match result {
            Ok(()) => done.push(size),
            Err(s) if crate::app::is_refusal(&s) || crate::app::is_user_fault(&s) => {
                let saved = if done.is_empty() { String::new() } else { format!(" (saved: {})", done.join(", ")) };
                let message = format!("{color} / {size}: {}{saved}", capitalize(s.message()));
                return Ok(redirect(&back, Flash::error(message), ctx.secure));
            }
            Err(s) => return Err(s.into()),
        }
    }
    let message = if done.is_empty() {
        format!("{color}: nothing to change.")
    } else {
        format!("{color} saved: {}.", done.join(", "))
    };
    Ok(redirect(&back, Flash::success(message), ctx.secure))
}
