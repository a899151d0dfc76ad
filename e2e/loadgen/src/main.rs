//! `atelier-loadgen`: shoppers on Atelier's web site, driven by goose.
//!
//! Each simulated shopper registers an account of their own, then browses
//! and buys with the weights of the well-known reference shops: home 1,
//! product page 10, cart 3, add to cart 2, checkout 1, plus search 2 and
//! filters 1. Every goose option works (`--host`, `--users`,
//! `--increase-rate`, `--run-time`, `--report-file`…); goose prints requests/s,
//! latency percentiles and errors per step.
//!
//!   atelier-loadgen --host http://127.0.0.1:3000 --users 20 --increase-rate 5 --run-time 60s

use goose::prelude::*;
use rand::{Rng as _, seq::SliceRandom as _};
use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// What one shopper knows: their form token and the catalogue's products and SKUs.
#[derive(Clone)]
struct Shopper {
    csrf: String,
    products: Vec<String>,
    skus: Vec<String>,
    orders: u64,
}

static NEXT_SHOPPER: AtomicU64 = AtomicU64::new(0);

const WORDS: &[&str] = &["tee", "jeans", "hoodie", "linen", "wool", "shirt", "jacket", "dress"];
const COLORS: &[&str] = &["black", "white", "navy", "gray", "blue", "green"];
const SIZES: &[&str] = &["S", "M", "L", "XL"];

#[tokio::main]
async fn main() -> Result<(), GooseError> {
    GooseAttack::initialize()?
        .register_scenario(
            scenario!("shopper")
                .set_wait_time(Duration::from_millis(100), Duration::from_millis(1_000))?
                .register_transaction(transaction!(register).set_on_start().set_name("register"))
                .register_transaction(transaction!(home).set_weight(1)?.set_name("home"))
                .register_transaction(transaction!(product_page).set_weight(10)?.set_name("product page"))
                .register_transaction(transaction!(view_cart).set_weight(3)?.set_name("view cart"))
                .register_transaction(transaction!(add_to_cart).set_weight(2)?.set_name("add to cart"))
                .register_transaction(transaction!(checkout).set_weight(1)?.set_name("checkout"))
                .register_transaction(transaction!(search).set_weight(2)?.set_name("search"))
                .register_transaction(transaction!(filter).set_weight(1)?.set_name("filter")),
        )
        .set_default(GooseDefault::Host, "http://127.0.0.1:3000")?
        .execute()
        .await?;
    Ok(())
}

/// The CSRF token of a page's forms.
fn form_token(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_string())
}

async fn page(user: &mut GooseUser, path: &str, name: &str) -> Result<String, Box<TransactionError>> {
    let goose = user.get_named(path, name).await?;
    match goose.response {
        Ok(response) => Ok(response.text().await.unwrap_or_default()),
        Err(_) => Ok(String::new()),
    }
}

/// A form post, failed unless it lands where `success` says.
async fn submit(
    user: &mut GooseUser,
    path: &str,
    name: &str,
    form: &[(&str, &str)],
    success: fn(&str) -> bool,
) -> TransactionResult {
    let builder = user.get_request_builder(&GooseMethod::Post, path)?.form(form);
    let request =
        GooseRequest::builder().method(GooseMethod::Post).path(path).name(name).set_request_builder(builder).build();
    let mut goose = user.request(request).await?;
    if let Ok(response) = &goose.response {
        let landed = response.url().path().to_string();
        if !success(&landed) {
            return user.set_failure(&format!("{name}: landed on {landed}"), &mut goose.request, None, None);
        }
    }
    Ok(())
}

async fn register(user: &mut GooseUser) -> TransactionResult {
    let n = NEXT_SHOPPER.fetch_add(1, Ordering::Relaxed);
    let username = format!("load-{}-{n}", std::process::id());
    let html = page(user, "/register", "register").await?;
    let csrf = form_token(&html).unwrap_or_default();
    let email = format!("{username}@example.com");
    let form = [
        ("csrf", csrf.as_str()),
        ("username", username.as_str()),
        ("password", "load-test-password"),
        ("confirm", "load-test-password"),
        ("email", email.as_str()),
        ("phone", "+39 055 000000"),
    ];
    submit(user, "/register", "register", &form, |path| !path.starts_with("/register")).await?;
    // Signed in now: forms carry the session's token, read off a page as a
    // browser would.
    let csrf = form_token(&page(user, "/", "register").await?).unwrap_or_default();
    // A delivery address, as checkout's first step saves it (the cart is
    // empty yet, so it lands back on the cart).
    let address = [
        ("csrf", csrf.as_str()),
        ("address", "new"),
        ("name", username.as_str()),
        ("line1", "Via Roma 1"),
        ("postcode", "50100"),
        ("city", "Florence"),
        ("country", "Italy"),
    ];
    submit(user, "/checkout/review", "register", &address, |path| path == "/cart").await?;
    // The catalogue, once: what this shopper will look at and buy.
    let goose = user.get_named("/api/v1/products?per_page=100&in_stock=true", "register").await?;
    let catalogue: serde_json::Value = match goose.response {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(_) => serde_json::Value::Null,
    };
    let items = catalogue["items"].as_array().cloned().unwrap_or_default();
    let products = items.iter().filter_map(|p| p["id"].as_str().map(String::from)).collect();
    let skus = items
        .iter()
        .flat_map(|p| p["variants"].as_array().cloned().unwrap_or_default())
        .filter(|v| v["stock"].as_i64().unwrap_or(0) > 0)
        .filter_map(|v| v["sku"].as_str().map(String::from))
        .collect();
    user.set_session_data(Shopper { csrf, products, skus, orders: 0 });
    Ok(())
}

fn shopper(user: &GooseUser) -> &Shopper {
    user.get_session_data_unchecked::<Shopper>()
}

async fn home(user: &mut GooseUser) -> TransactionResult {
    page(user, "/", "home").await.map(drop)
}

async fn product_page(user: &mut GooseUser) -> TransactionResult {
    let Some(id) = shopper(user).products.choose(&mut rand::thread_rng()).cloned() else { return Ok(()) };
    page(user, &format!("/products/{id}"), "product page").await.map(drop)
}

async fn view_cart(user: &mut GooseUser) -> TransactionResult {
    page(user, "/cart", "view cart").await.map(drop)
}

async fn add_to_cart(user: &mut GooseUser) -> TransactionResult {
    let Some(code) = shopper(user).skus.choose(&mut rand::thread_rng()).cloned() else { return Ok(()) };
    let csrf = shopper(user).csrf.clone();
    let form = [("csrf", csrf.as_str()), ("code", code.as_str()), ("quantity", "1")];
    // Lands on the product or the cart page; a sold-out SKU is an answer, not an error.
    submit(user, "/cart/items", "add to cart", &form, |path| !path.starts_with("/login")).await
}

async fn checkout(user: &mut GooseUser) -> TransactionResult {
    let csrf = shopper(user).csrf.clone();
    let orders = shopper(user).orders;
    let key = format!("{}-{orders}", user.weighted_users_index);
    user.get_session_data_unchecked_mut::<Shopper>().orders += 1;
    let form = [("csrf", csrf.as_str()), ("idempotency_key", key.as_str())];
    // An empty cart or sold-out stock sends the shopper back to the cart:
    // a business answer; anything else but an order page is a failure.
    submit(user, "/checkout", "checkout", &form, |path| path.starts_with("/orders/") || path == "/cart").await
}

async fn search(user: &mut GooseUser) -> TransactionResult {
    let word = WORDS[rand::thread_rng().gen_range(0..WORDS.len())];
    page(user, &format!("/products?q={word}"), "search").await.map(drop)
}

async fn filter(user: &mut GooseUser) -> TransactionResult {
    let (size, color) = {
        let mut rng = rand::thread_rng();
        (SIZES[rng.gen_range(0..SIZES.len())], COLORS[rng.gen_range(0..COLORS.len())])
    };
    page(user, &format!("/products?size={size}&color={color}&in_stock=true&sort=price_asc"), "filter").await.map(drop)
}
