//! The product page: colour swatches and size buttons instead of a row per
//! variant, the picture and price of the chosen variant, stock said only
//! when it is low. Works without JavaScript (the form posts colour and size;
//! the server finds the variant); `/static/product.js` makes the picture,
//! price and available sizes follow the choice at once.

use super::context::{Ctx, Layout, WebError, render};
use crate::{
    AppState,
    clients::read,
    format::{self, money},
};
use askama::Template;
use atelier_proto::product as pb;
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// At or below this many left, the page says how many ("Only 2 left").
pub const LOW_STOCK: i64 = 5;

pub struct ColorOption {
    pub name: String,
    pub swatch: &'static str,
    pub selected: bool,
    /// Some size of this colour can still go into the cart.
    pub available: bool,
}

pub struct SizeOption {
    pub name: &'static str,
    pub selected: bool,
    /// Available in the chosen colour.
    pub available: bool,
}

/// One variant, as the page's script reads it.
#[derive(Serialize)]
struct VariantData<'a> {
    code: &'a str,
    color: &'a str,
    size: &'static str,
    price: String,
    available: i64,
    in_cart: i64,
    image: String,
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    layout: Layout,
    product: Arc<pb::Product>,
    image: String,
    colors: Vec<ColorOption>,
    sizes: Vec<SizeOption>,
    color: String,
    size: &'static str,
    price: String,
    /// "Only 2 left", "Sold out in this size and colour", or nothing.
    stock_note: String,
    any_available: bool,
    variants_json: String,
}

#[derive(Deserialize)]
pub struct ProductQuery {
    #[serde(default)]
    code: String,
}

/// A CSS class for a colour swatch (the catalogue's colours; others grey).
pub fn swatch(color: &str) -> &'static str {
    match color.trim().to_lowercase().as_str() {
        "white" => "sw-white",
        "cream" => "sw-cream",
        "black" => "sw-black",
        "navy" => "sw-navy",
        "blue" => "sw-blue",
        "gray" | "grey" => "sw-gray",
        "charcoal" => "sw-charcoal",
        "red" => "sw-red",
        "burgundy" => "sw-burgundy",
        "pink" => "sw-pink",
        "orange" => "sw-orange",
        "yellow" => "sw-yellow",
        "green" => "sw-green",
        "olive" => "sw-olive",
        "sand" | "beige" => "sw-sand",
        "camel" => "sw-camel",
        _ => "sw-other",
    }
}

/// What the page says of the chosen variant's stock (`product.js` says the
/// same when the choice changes).
fn stock_note(available: i64, in_cart: i64) -> String {
    let left = match available {
        0 if in_cart > 0 => return "All we have of this is in your cart".into(),
        0 => return "Sold out in this size and colour".into(),
        n if n <= LOW_STOCK => format!("Only {n} left"),
        _ => String::new(),
    };
    match (left.is_empty(), in_cart) {
        (_, 0) => left,
        (true, n) => format!("{n} in your cart"),
        (false, n) => format!("{left} · {n} in your cart"),
    }
}

pub async fn product(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ProductQuery>,
) -> Result<Response, WebError> {
    let product = state
        .reads
        .product(&id, || async {
            let request = pb::GetProductRequest { id: id.clone() };
            let mut product = read!(state.clients.product, get_product, request)?.product.unwrap_or_default();
            // Sizes in their natural order (XS … XXL), colours as the catalogue lists them.
            product.variants.sort_by_key(|v| v.size);
            Ok(Arc::new(product))
        })
        .await?;
    let cart = super::bag::lines_for_page(&state, &ctx).await;
    let left = |v: &pb::Variant| (v.stock - cart.get(&v.code).copied().unwrap_or(0)).max(0);
    let chosen = product
        .variants
        .iter()
        .find(|v| v.code == q.code)
        .or_else(|| product.variants.iter().find(|v| left(v) > 0))
        .or_else(|| product.variants.first())
        .cloned();
    let (color, size) = chosen.as_ref().map_or((String::new(), ""), |v| (v.color.clone(), format::size_name(v.size)));
    let mut colors: Vec<ColorOption> = vec![];
    for v in &product.variants {
        match colors.iter_mut().find(|c| c.name == v.color) {
            Some(c) => c.available |= left(v) > 0,
            None => colors.push(ColorOption {
                name: v.color.clone(),
                swatch: swatch(&v.color),
                selected: v.color == color,
                available: left(v) > 0,
            }),
        }
    }
    let sizes = format::SIZES
        .iter()
        .filter(|s| product.variants.iter().any(|v| format::size_name(v.size) == **s))
        .map(|s| SizeOption {
            name: s,
            selected: *s == size,
            available: product
                .variants
                .iter()
                .any(|v| v.color == color && format::size_name(v.size) == *s && left(v) > 0),
        })
        .collect();
    let data: Vec<VariantData> = product
        .variants
        .iter()
        .map(|v| VariantData {
            code: &v.code,
            color: &v.color,
            size: format::size_name(v.size),
            price: money(v.price_cents),
            available: left(v),
            in_cart: cart.get(&v.code).copied().unwrap_or(0),
            image: format::image_url(&product.image, &v.color),
        })
        .collect();
    // `</` cannot end the data block early: JSON allows `\/` for `/`.
    let variants_json = serde_json::to_string(&data).unwrap_or_default().replace("</", "<\\/");
    let (price, stock_note_text) = match &chosen {
        Some(v) => (money(v.price_cents), stock_note(left(v), cart.get(&v.code).copied().unwrap_or(0))),
        None => (String::new(), String::new()),
    };
    Ok(render(&ProductPage {
        image: format::image_url(&product.image, &color),
        any_available: product.variants.iter().any(|v| left(v) > 0),
        colors,
        sizes,
        color,
        size,
        price,
        stock_note: stock_note_text,
        variants_json,
        layout: ctx.layout,
        product,
    }))
}

/// The variant of `product` in `color` and `size`, if it has one.
pub fn variant_of<'a>(product: &'a pb::Product, color: &str, size: &str) -> Option<&'a pb::Variant> {
    product.variants.iter().find(|v| v.color.eq_ignore_ascii_case(color) && format::size_name(v.size) == size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_is_told_only_when_low() {
        assert_eq!(stock_note(39, 0), "");
        assert_eq!(stock_note(LOW_STOCK + 1, 0), "");
        assert_eq!(stock_note(2, 0), "Only 2 left");
        assert_eq!(stock_note(0, 0), "Sold out in this size and colour");
        assert_eq!(stock_note(0, 3), "All we have of this is in your cart");
        assert_eq!(stock_note(2, 1), "Only 2 left · 1 in your cart");
        assert_eq!(stock_note(30, 1), "1 in your cart");
    }
}
