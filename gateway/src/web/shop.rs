//! Shopper pages: home, catalogue, product, cart.

use super::bag;
use super::context::{Ctx, Flash, Layout, WebError, redirect, render, render_status};
use crate::{
    AppState,
    clients::read,
    format::{self, money},
};
use askama::Template;
use atelier_proto::{cart as cart_pb, product as pb};
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;

/// A product in a grid.
pub struct Card {
    pub id: String,
    pub name: String,
    pub category: String,
    pub image: String,
    pub price: String,
    pub colors: Vec<String>,
    pub in_stock: bool,
}

/// The page's cards. A product service from before cards answers with
/// whole products (during a rolling upgrade): their cards are worked out here.
fn cards(r: &pb::ListProductsResponse) -> Vec<Card> {
    if r.cards.is_empty() && !r.products.is_empty() {
        return r.products.iter().map(|p| Card::from(&card_of(p))).collect();
    }
    r.cards.iter().map(Card::from).collect()
}

fn card_of(p: &pb::Product) -> pb::ProductCard {
    let mut colors: Vec<String> = vec![];
    for v in &p.variants {
        if !colors.contains(&v.color) {
            colors.push(v.color.clone());
        }
    }
    pb::ProductCard {
        id: p.id.clone(),
        name: p.name.clone(),
        category: p.category.clone(),
        image: p.image.clone(),
        colors,
        min_price_cents: p.variants.iter().map(|v| v.price_cents).min(),
        max_price_cents: p.variants.iter().map(|v| v.price_cents).max(),
        in_stock: p.variants.iter().any(|v| v.stock > 0),
    }
}

impl From<&pb::ProductCard> for Card {
    fn from(p: &pb::ProductCard) -> Self {
        Card {
            id: p.id.clone(),
            name: p.name.clone(),
            category: p.category.clone(),
            image: format::image_url(&p.image, p.colors.first().map_or("", |c| c.as_str())),
            price: match (p.min_price_cents, p.max_price_cents) {
                (Some(a), Some(b)) if a != b => format!("from {}", money(a)),
                (Some(a), _) => money(a),
                _ => "—".into(),
            },
            colors: p.colors.clone(),
            in_stock: p.in_stock,
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    featured: Vec<Card>,
    categories: Vec<String>,
    catalogue_down: bool,
}

pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Response {
    let request = pb::ListProductsRequest {
        sort: pb::Sort::Newest as i32,
        per_page: 8,
        in_stock: true,
        cards: true,
        ..Default::default()
    };
    let (featured, catalogue_down) = match read!(state.clients.product, list_products, request.clone()) {
        Ok(r) => (cards(&r), false),
        Err(_) => (vec![], true),
    };
    let categories = [
        "T-Shirts",
        "Shirts",
        "Jeans",
        "Trousers",
        "Hoodies",
        "Knitwear",
        "Jackets",
        "Coats",
        "Dresses",
        "Skirts",
        "Shorts",
        "Accessories",
    ];
    render(&HomePage {
        layout: ctx.layout,
        featured,
        categories: categories.map(String::from).to_vec(),
        catalogue_down,
    })
}

/// Catalogue query string; every field optional and parsed leniently.
#[derive(Debug, Default, Deserialize)]
pub struct CatalogueQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub size: String,
    #[serde(default)]
    pub color: String,
    #[serde(default)]
    pub min_price: String,
    #[serde(default)]
    pub max_price: String,
    #[serde(default)]
    pub in_stock: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub page: String,
}

impl CatalogueQuery {
    /// The service request, and what could not be understood.
    pub fn to_request(&self) -> (pb::ListProductsRequest, Vec<String>) {
        let mut problems = vec![];
        let mut price = |s: &str, what: &str| {
            if s.trim().is_empty() {
                return None;
            }
            let p = format::parse_money(s);
            if p.is_none() {
                problems.push(format!(
                    "The {what} price \"{}\" is not an amount and was ignored.",
                    s.chars().take(20).collect::<String>()
                ));
            }
            p
        };
        let min_price_cents = price(&self.min_price, "minimum");
        let max_price_cents = price(&self.max_price, "maximum");
        let size = match self.size.trim() {
            "" => 0,
            s => format::parse_size(s).map_or_else(
                || {
                    problems.push("Unknown size ignored.".into());
                    0
                },
                |s| s as i32,
            ),
        };
        let filter = crate::app::CatalogueFilter {
            query: self.q.clone(),
            category: self.category.clone(),
            size,
            color: self.color.clone(),
            min_price_cents,
            max_price_cents,
            in_stock: matches!(self.in_stock.as_str(), "1" | "true" | "on"),
            // An unknown sort in a URL falls back to the default order.
            sort: crate::app::sort(&self.sort).unwrap_or(pb::Sort::Unspecified),
        };
        let request = filter.request(crate::app::page_number(self.page.parse().ok()), 12);
        (pb::ListProductsRequest { cards: true, ..request }, problems)
    }

    /// A minimum price above the maximum matches nothing: the two are
    /// swapped, and the shopper is told.
    pub fn swap_reversed_prices(&mut self) -> Option<String> {
        let (min, max) = (format::parse_money(&self.min_price)?, format::parse_money(&self.max_price)?);
        (min > max).then(|| {
            std::mem::swap(&mut self.min_price, &mut self.max_price);
            "The minimum price was above the maximum: the two were swapped.".to_string()
        })
    }

    /// This query with another page number, as a URL.
    fn page_url(&self, page: u32) -> String {
        self.url(None, Some(page))
    }

    /// The active filters as removable chips: (what it is, the URL without it).
    fn chips(&self) -> Vec<(String, String)> {
        let mut chips = vec![];
        let mut chip = |field: &'static str, label: String| chips.push((label, self.url(Some(field), None)));
        if !self.q.trim().is_empty() {
            chip("q", format!("“{}”", self.q.trim()));
        }
        if !self.category.is_empty() {
            chip("category", self.category.clone());
        }
        if !self.size.is_empty() {
            chip("size", format!("Size {}", self.size));
        }
        if !self.color.is_empty() {
            chip("color", self.color.clone());
        }
        if let Some(min) = format::parse_money(&self.min_price) {
            chip("min_price", format!("From {}", format::money(min)));
        }
        if let Some(max) = format::parse_money(&self.max_price) {
            chip("max_price", format!("Up to {}", format::money(max)));
        }
        if matches!(self.in_stock.as_str(), "1" | "true" | "on") {
            chip("in_stock", "In stock".into());
        }
        chips
    }

    /// This query as a URL, without the field `drop`, at `page` (the first
    /// page when None).
    fn url(&self, drop: Option<&str>, page: Option<u32>) -> String {
        let pairs = [
            ("q", &self.q),
            ("category", &self.category),
            ("size", &self.size),
            ("color", &self.color),
            ("min_price", &self.min_price),
            ("max_price", &self.max_price),
            ("in_stock", &self.in_stock),
            ("sort", &self.sort),
        ];
        let mut kept: Vec<(&str, &str)> =
            pairs.iter().filter(|(k, v)| !v.is_empty() && Some(*k) != drop).map(|(k, v)| (*k, v.as_str())).collect();
        let page = page.map(|p| p.to_string());
        if let Some(page) = &page {
            kept.push(("page", page));
        }
        match serde_urlencoded::to_string(kept).unwrap_or_default() {
            q if q.is_empty() => "/products".into(),
            q => format!("/products?{q}"),
        }
    }
}

#[derive(Template)]
#[template(path = "catalogue.html")]
struct CataloguePage {
    layout: Layout,
    query: CatalogueQuery,
    products: Vec<Card>,
    total: u64,
    /// More than `total` products match (large catalogues are not counted to the end).
    more: bool,
    page: u32,
    pages: u32,
    prev_url: Option<String>,
    next_url: Option<String>,
    last_url: String,
    chips: Vec<(String, String)>,
    /// Each filter's choices from the catalogue itself: (value, products).
    categories: Vec<(String, u64)>,
    sizes: Vec<(String, u64)>,
    colors: Vec<(String, u64)>,
    /// "12" and "180": the catalogue's price range, as the price fields' hints.
    price_from: String,
    price_to: String,
    unavailable: bool,
}

/// The filters' choices: from the catalogue (with counts), or, should the
/// catalogue not say, the sizes alone. A choice in the address that the
/// catalogue no longer has stays selectable (with 0), so nothing is lost.
fn facet_choices(facets: &[pb::FacetValue], chosen: &str) -> Vec<(String, u64)> {
    let mut choices: Vec<(String, u64)> = facets.iter().map(|f| (f.value.clone(), f.products)).collect();
    if !chosen.is_empty() && !choices.iter().any(|(v, _)| v.eq_ignore_ascii_case(chosen)) {
        choices.push((chosen.to_string(), 0));
    }
    choices
}

pub async fn catalogue(
    State(state): State<AppState>,
    mut ctx: Ctx,
    Query(mut query): Query<CatalogueQuery>,
) -> Response {
    let swapped = query.swap_reversed_prices();
    let (request, problems) = query.to_request();
    ctx.layout.flashes.extend(swapped.map(Flash::warning));
    ctx.layout.flashes.extend(problems.into_iter().map(Flash::warning));
    let (result, facets) =
        tokio::join!(async { read!(state.clients.product, list_products, request.clone()) }, async {
            read!(state.clients.product, facets, pb::FacetsRequest {})
        });
    let facets = facets.unwrap_or_else(|_| pb::FacetsResponse {
        sizes: format::SIZES.iter().map(|s| pb::FacetValue { value: s.to_string(), products: 0 }).collect(),
        ..Default::default()
    });
    let euros = |cents: i64| (cents / 100 + i64::from(cents % 100 != 0 && cents > 0)).to_string();
    let (price_from, price_to) = if facets.max_price_cents > 0 {
        (((facets.min_price_cents / 100).to_string()), euros(facets.max_price_cents))
    } else {
        (String::new(), String::new())
    };
    let (products, total, more, unavailable) = match result {
        Ok(r) => (cards(&r), r.total, r.total_capped, false),
        Err(s) if s.code() == tonic::Code::InvalidArgument => {
            ctx.layout.flashes.push(Flash::warning(s.message()));
            (vec![], 0, false, false)
        }
        Err(_) => (vec![], 0, false, true),
    };
    let pages = total.div_ceil(12).max(1) as u32;
    let page = request.page;
    let categories = facet_choices(&facets.categories, &query.category);
    let sizes = facet_choices(&facets.sizes, &query.size);
    let colors = facet_choices(&facets.colors, &query.color);
    let page_view = CataloguePage {
        prev_url: (page > 1).then(|| query.page_url(page - 1)),
        next_url: (page < pages).then(|| query.page_url(page + 1)),
        last_url: query.page_url(pages),
        chips: query.chips(),
        layout: ctx.layout,
        query,
        products,
        total,
        more,
        page,
        pages,
        categories,
        sizes,
        colors,
        price_from,
        price_to,
        unavailable,
    };
    if unavailable { render_status(StatusCode::SERVICE_UNAVAILABLE, &page_view) } else { render(&page_view) }
}

#[derive(Deserialize)]
pub struct AddForm {
    /// A variant by its code, or by `color` and `size` of `product_id`
    /// (the product page's swatches and size buttons).
    #[serde(default)]
    code: String,
    #[serde(default)]
    color: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    product_id: String,
}

fn product_url(id: &str, code: &str) -> String {
    let safe = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !s.is_empty();
    match (safe(id), safe(code)) {
        (true, true) => format!("/products/{id}?code={code}"),
        (true, false) => format!("/products/{id}"),
        _ => "/products".into(),
    }
}

pub fn parse_quantity(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok().filter(|q| (0..=1000).contains(q))
}

pub async fn add_to_cart(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<AddForm>,
) -> Result<Response, WebError> {
    let mut back = product_url(&form.product_id, &form.code);
    let Some(quantity) = parse_quantity(&form.quantity).filter(|q| *q >= 1) else {
        return Ok(redirect(&back, Flash::error("Choose a quantity between 1 and 1000."), ctx.secure));
    };
    // What the shopper chose, in their words: "Organic Crew Neck Tee — M / Olive".
    let (code, chosen) = if form.code.is_empty() {
        let request = pb::GetProductRequest { id: form.product_id.clone() };
        let product = read!(state.clients.product, get_product, request)?.product.unwrap_or_default();
        let Some(v) = super::product_page::variant_of(&product, &form.color, &form.size) else {
            let missing = if form.color.is_empty() || form.size.is_empty() {
                "Choose a colour and a size.".to_string()
            } else {
                format!("{} is not made in {} / {}.", product.name, form.size, form.color)
            };
            return Ok(redirect(&back, Flash::error(missing), ctx.secure));
        };
        back = product_url(&form.product_id, &v.code);
        (v.code.clone(), format!("{} — {} / {}", product.name, format::size_name(v.size), v.color))
    } else {
        (form.code.clone(), form.code.clone())
    };
    if ctx.layout.auth_down && ctx.layout.user.is_none() {
        return Err(WebError::Unavailable("The cart is temporarily unavailable. Please try again in a moment.".into()));
    }
    // A guest identity that has expired is replaced by a new one, once.
    let mut added = Err(tonic::Status::unauthenticated("not tried"));
    let mut cookie = None;
    for expired in [false, true] {
        let (owner, set) = bag::owner_for_adding(&state, &ctx, expired).await?;
        cookie = set;
        let request = bag::as_owner(&owner, cart_pb::AddItemRequest { code: code.clone(), quantity });
        added = state.clients.cart.clone().add_item(request).await;
        let guest_expired =
            ctx.layout.user.is_none() && matches!(&added, Err(s) if s.code() == tonic::Code::Unauthenticated);
        if !guest_expired {
            break;
        }
    }
    match added {
        Ok(_) => {
            let what = if quantity == 1 { chosen } else { format!("{quantity} × {chosen}") };
            let response = redirect(&back, Flash::added(format!("Added to your cart: {what}")), ctx.secure);
            Ok(bag::with_cookie(response, cookie))
        }
        Err(s) if crate::app::is_refusal(&s) => {
            Ok(redirect(&back, Flash::error(format!("Could not add to your cart: {}.", s.message())), ctx.secure))
        }
        Err(s) if s.code() == tonic::Code::Unavailable => Ok(redirect(
            &back,
            Flash::error("The cart is temporarily unavailable. Please try again in a moment."),
            ctx.secure,
        )),
        Err(s) => Err(s.into()),
    }
}

pub struct CartLineView {
    pub code: String,
    pub product_id: String,
    pub name: String,
    pub size: String,
    pub color: String,
    pub image: String,
    pub unit_price: String,
    pub quantity: i64,
    pub stock: i64,
    pub subtotal: String,
}

#[derive(Template)]
#[template(path = "cart.html")]
struct CartPage {
    layout: Layout,
    lines: Vec<CartLineView>,
    total: String,
    /// Not signed in: checkout asks to log in or register first.
    guest: bool,
}

pub async fn cart(State(state): State<AppState>, mut ctx: Ctx) -> Result<Response, WebError> {
    if ctx.layout.auth_down && ctx.layout.user.is_none() {
        ctx.user()?;
    }
    let Some(owner) = bag::owner(&ctx).map(str::to_string) else {
        return Ok(render(&CartPage { layout: ctx.layout, lines: vec![], total: money(0), guest: true }));
    };
    let cart =
        match read!(state.clients.cart, get_cart, with || bag::as_owner(&owner, cart_pb::GetCartRequest::default())) {
            Ok(r) => r.cart.unwrap_or_default(),
            // A guest bag whose identity expired: an empty bag.
            Err(s) if s.code() == tonic::Code::Unauthenticated && ctx.layout.user.is_none() => cart_pb::Cart::default(),
            Err(s) if s.code() == tonic::Code::Unavailable => {
                return Err(WebError::Unavailable(
                    "Your cart is temporarily unavailable. The catalogue is still open; please try again in a moment."
                        .into(),
                ));
            }
            Err(s) => return Err(s.into()),
        };
    ctx.layout.flashes.extend(cart.notices.iter().map(|n| Flash::warning(n.message.clone())));
    // Reading the cart may have lowered or removed lines: the header counts
    // what the page shows, and the next page reads the bag afresh.
    ctx.layout.bag_units = cart.lines.iter().map(|l| l.quantity).sum();
    if !cart.notices.is_empty()
        && let Some(key) = &ctx.bag_key
    {
        state.reads.forget_bag(key);
    }
    let lines = cart
        .lines
        .into_iter()
        .map(|l| CartLineView {
            image: format::image_url(&l.image, &l.color),
            subtotal: money(l.unit_price_cents * l.quantity),
            unit_price: money(l.unit_price_cents),
            code: l.code,
            product_id: l.product_id,
            name: l.product_name,
            size: l.size,
            color: l.color,
            quantity: l.quantity,
            stock: l.stock,
        })
        .collect();
    let guest = ctx.layout.user.is_none();
    Ok(render(&CartPage { layout: ctx.layout, lines, total: money(cart.total_cents), guest }))
}

#[derive(Deserialize)]
pub struct QuantityForm {
    #[serde(default)]
    quantity: String,
}

pub async fn set_quantity(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<QuantityForm>,
) -> Result<Response, WebError> {
    let owner = bag_owner(&ctx)?;
    let Some(quantity) = parse_quantity(&form.quantity) else {
        return Ok(redirect("/cart", Flash::error("Quantities are whole numbers from 0 to 1000."), ctx.secure));
    };
    let request = bag::as_owner(owner, cart_pb::SetQuantityRequest { code, quantity });
    match state.clients.cart.clone().set_quantity(request).await {
        Ok(_) => Ok(redirect(
            "/cart",
            Flash::success(if quantity == 0 { "Removed from your cart." } else { "Quantity updated." }),
            ctx.secure,
        )),
        Err(s) if crate::app::is_refusal(&s) => {
            Ok(redirect("/cart", Flash::error(format!("Could not change the quantity: {}.", s.message())), ctx.secure))
        }
        Err(s) => Err(s.into()),
    }
}

pub async fn remove_from_cart(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let owner = bag_owner(&ctx)?;
    state.clients.cart.clone().remove_item(bag::as_owner(owner, cart_pb::RemoveItemRequest { code })).await?;
    Ok(redirect("/cart", Flash::success("Removed from your cart."), ctx.secure))
}

pub async fn clear_cart(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let owner = bag_owner(&ctx)?;
    state.clients.cart.clone().clear_cart(bag::as_owner(owner, cart_pb::ClearCartRequest::default())).await?;
    Ok(redirect("/cart", Flash::success("Your cart is empty now."), ctx.secure))
}

/// The bag a cart form changes: the user's or the guest's (a form posted
/// with neither has nothing to change: to the login page).
fn bag_owner(ctx: &Ctx) -> Result<&str, WebError> {
    match bag::owner(ctx) {
        Some(owner) => Ok(owner),
        None => ctx.user().map(|u| u.identity.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(code: &str, color: &str, price_cents: i64, stock: i64) -> pb::Variant {
        pb::Variant { code: code.into(), size: 3, color: color.into(), price_cents, stock }
    }

    /// During a rolling upgrade an older product service answers a grid
    /// with whole products: the page shows the same cards.
    #[test]
    fn whole_products_from_an_older_service_show_as_cards() {
        let product = pb::Product {
            id: "wrap-dress".into(),
            name: "Wrap Dress".into(),
            category: "Dresses".into(),
            image: "builtin:dress".into(),
            variants: vec![variant("D-1", "Green", 8400, 0), variant("D-2", "Sand", 7900, 3)],
            ..Default::default()
        };
        let old = pb::ListProductsResponse { products: vec![product.clone()], total: 1, ..Default::default() };
        let new = pb::ListProductsResponse { cards: vec![card_of(&product)], total: 1, ..Default::default() };
        for answer in [old, new] {
            let shown = cards(&answer);
            assert_eq!(shown.len(), 1);
            let card = &shown[0];
            assert_eq!((card.id.as_str(), card.price.as_str(), card.in_stock), ("wrap-dress", "from €79.00", true));
            assert_eq!(card.colors, ["Green", "Sand"]);
            assert!(card.image.contains("Green"), "{}", card.image);
        }
        assert!(cards(&pb::ListProductsResponse::default()).is_empty());
    }
}
