//! The web site: server-rendered pages and HTML forms (no JavaScript needed),
//! redirect after POST, flash messages, CSRF protection on every form.

mod account;
mod admin;
mod bag;
mod checkout_pages;
mod confirm;
mod context;
pub mod cookie_key;
mod dashboard;
mod orders;
mod product_page;
mod shop;
mod variant_grid;

pub use bag::BAG_COOKIE;
pub use context::{Ctx, FLASH_COOKIE, Flash, Layout, WebError, carries_cookie, cookie_name, made_as_somebody};

use crate::state::AppState;
use axum::{
    Router,
    routing::{get, post},
};

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(shop::home))
        .route("/products", get(shop::catalogue))
        .route("/products/{id}", get(product_page::product))
        .route("/cart", get(shop::cart))
        .route("/cart/items", post(shop::add_to_cart))
        .route("/cart/items/{code}", post(shop::set_quantity))
        .route("/cart/items/{code}/remove", post(shop::remove_from_cart))
        .route("/cart/clear", get(confirm::empty_cart).post(shop::clear_cart))
        .route("/checkout", get(checkout_pages::start).post(orders::checkout))
        .route("/checkout/review", get(checkout_pages::review).post(checkout_pages::choose))
        .route("/orders", get(orders::my_orders))
        .route("/orders/{id}", get(orders::order))
        .route("/orders/{id}/cancel", get(confirm::cancel_order).post(orders::cancel))
        .route("/login", get(account::login_page).post(account::login))
        .route("/register", get(account::register_page).post(account::register))
        .route("/logout", post(account::logout))
        .route("/account", get(account::profile_page).post(account::profile))
        .route("/account/password", get(account::password_page).post(account::password))
        .route("/account/addresses/{id}/default", post(account::make_default_address))
        .route("/account/addresses/{id}/delete", post(account::delete_address))
        .route("/admin", get(dashboard::dashboard))
        .route("/admin/users", get(admin::users))
        .route("/admin/users/{username}/role", post(admin::set_role))
        .route("/admin/products", get(admin::products).post(admin::create_product))
        .route("/admin/products/new", get(admin::new_product))
        .route("/admin/products/{id}", get(admin::edit_product).post(admin::update_product))
        .route("/admin/products/{id}/delete", get(confirm::delete_product).post(admin::delete_product))
        .route("/admin/products/{id}/variants", post(admin::add_variant))
        .route("/admin/products/{id}/colors", post(variant_grid::save_row))
        .route("/admin/variants/{code}", post(admin::update_variant))
        .route("/admin/variants/{code}/delete", get(confirm::delete_variant).post(admin::delete_variant))
        .route("/admin/orders", get(admin::orders))
        .route("/admin/orders/{id}/status", post(admin::set_status))
        .route("/img/{file}", get(crate::images::garment))
        .route("/static/app.css", get(context::stylesheet))
        .route("/static/favicon.svg", get(context::favicon))
        .route("/static/product.js", get(context::product_script))
        .method_not_allowed_fallback(context::method_not_allowed)
        .fallback(context::not_found)
        .layer(axum::middleware::from_fn_with_state(state, context::web_middleware))
}
