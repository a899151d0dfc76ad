//! The JSON API under /api/v1: Bearer-token authentication, errors as
//! `{"error": {"code", "message"}}`, described by OpenAPI.

mod account;
mod admin;
mod extract;
mod shop;
mod types;

pub use extract::{ApiError, ApiJson, ApiUser};

use crate::state::AppState;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

#[derive(OpenApi)]
#[openapi(
    info(title = "Atelier API", description = "The JSON API of Atelier, an online clothing store. Money is in integer cents."),
    modifiers(&BearerAuth),
    tags(
        (name = "session", description = "Log in and out"),
        (name = "account", description = "Your account"),
        (name = "catalogue", description = "Products (public)"),
        (name = "cart", description = "Your cart"),
        (name = "orders", description = "Your orders"),
        (name = "admin", description = "Administration (admins only)")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's routes and their OpenAPI description, under /api/v1.
pub fn router() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .routes(routes!(account::login, account::logout))
        .routes(routes!(account::register))
        .routes(routes!(account::me, account::update_me))
        .routes(routes!(account::change_password))
        .routes(routes!(shop::list_products))
        .routes(routes!(shop::get_product))
        .routes(routes!(shop::get_cart, shop::clear_cart))
        .routes(routes!(shop::add_item))
        .routes(routes!(shop::set_quantity, shop::remove_item))
        .routes(routes!(shop::place_order, shop::my_orders))
        .routes(routes!(shop::get_order))
        .routes(routes!(shop::cancel_order))
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::set_role))
        .routes(routes!(admin::create_product))
        .routes(routes!(admin::update_product, admin::delete_product))
        .routes(routes!(admin::add_variant))
        .routes(routes!(admin::update_variant, admin::delete_variant))
        .routes(routes!(admin::list_orders))
        .routes(routes!(admin::set_status));
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", v1)
}
