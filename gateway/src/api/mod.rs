//! The JSON API under /api/v1: Bearer-token authentication, errors as
//! `{"error": {"code", "message"}}`, described by OpenAPI.

mod account;
mod admin;
mod extract;
mod shop;
mod types;

pub use extract::{ApiBuyer, ApiError, ApiJson, ApiUser, method_not_allowed};

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
        .routes(routes!(shop::list_addresses, shop::add_address))
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

/// Adds the errors any operation can answer to every operation of the
/// document, so that each lists every status it may return: 400 for a
/// malformed body or query string, 413/415 for a body too large or not JSON,
/// 401 where a token is needed, 404 where the path names something, 422 for
/// a value a service refused, 503 when a service behind the gateway is down.
pub fn document_common_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder, path::ParameterIn};
    let error = |description: &str| {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
        ResponseBuilder::new().description(description).content("application/json", content).build()
    };
    for item in doc.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            let has_body = operation.request_body.is_some();
            let params = operation.parameters.iter().flatten();
            let has_query = params.clone().any(|p| p.parameter_in == ParameterIn::Query);
            let has_path = params.clone().any(|p| p.parameter_in == ParameterIn::Path);
            let has_input = has_body || params.count() > 0;
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let mut add = |code: &str, description: &str, applies: bool| {
                if applies && !operation.responses.responses.contains_key(code) {
                    operation.responses.responses.insert(code.to_string(), error(description).into());
                }
            };
            add("400", "Malformed JSON body or query string", has_body || has_query);
            add("401", "Missing, invalid or expired token", secured);
            add("404", "What the path names does not exist", has_path);
            add("413", "Request body too large", has_body);
            add("415", "The body is not JSON", has_body);
            add("422", "A value was refused", has_input);
            add("503", "A service behind the gateway is unavailable", true);
        }
    }
}
