//! Administration endpoints.

use super::{
    ApiError, ApiJson, ApiUser,
    extract::{ApiQuery, ErrorBody},
    types::*,
};
use crate::clients::read;
use crate::{format, session::as_user, state::AppState};
use atelier_proto::{auth, order, product};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};

fn unprocessable(m: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m)
}

fn size(s: &str) -> Result<i32, ApiError> {
    format::parse_size(s).map(|s| s as i32).ok_or_else(|| unprocessable("size must be XS, S, M, L, XL or XXL"))
}

/// All users, by username.
#[utoipa::path(get, path = "/admin/users", tag = "admin", security(("bearer" = [])), params(UserQuery),
    responses((status = 200, body = UserPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    user: ApiUser,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> Result<Json<UserPage>, ApiError> {
    let admin = user.admin()?;
    let (page, per_page) = crate::app::paging(q.page, q.per_page, 20);
    let request = auth::ListUsersRequest { query: q.q.unwrap_or_default(), page, per_page };
    let r = read!(state.clients.auth, list_users, with || as_user(&admin, request.clone()))?;
    Ok(Json(UserPage { items: r.users.into_iter().map(Into::into).collect(), total: r.total, page, per_page }))
}

/// Make a user a client or an admin (not yourself; one admin always remains).
#[utoipa::path(patch, path = "/admin/users/{username}", tag = "admin", security(("bearer" = [])), params(("username" = String, Path)), request_body = RoleBody,
    responses((status = 200, body = UserOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_role(
    State(state): State<AppState>,
    user: ApiUser,
    Path(username): Path<String>,
    ApiJson(b): ApiJson<RoleBody>,
) -> Result<Json<UserOut>, ApiError> {
    let admin = user.admin()?;
    let role = match b.role.as_str() {
        "client" => auth::Role::Client,
        "admin" => auth::Role::Admin,
        _ => return Err(unprocessable("role must be client or admin")),
    };
    let r = state
        .clients
        .auth
        .clone()
        .set_role(as_user(&admin, auth::SetRoleRequest { username, role: role as i32 }))
        .await?;
    Ok(Json(r.into_inner().user.unwrap_or_default().into()))
}

fn variant_in(v: VariantIn) -> Result<product::Variant, ApiError> {
    Ok(product::Variant {
        code: v.sku,
        size: size(&v.size)?,
        color: v.color,
        price_cents: v.price_cents,
        stock: v.stock,
    })
}

/// Create a product with its variants.
#[utoipa::path(post, path = "/admin/products", tag = "admin", security(("bearer" = [])), request_body = ProductBody,
    responses((status = 201, body = ProductOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_product(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(b): ApiJson<ProductBody>,
) -> Result<(StatusCode, Json<ProductOut>), ApiError> {
    let admin = user.admin()?;
    let variants = b.variants.into_iter().map(variant_in).collect::<Result<_, _>>()?;
    let request = product::CreateProductRequest {
        name: b.name,
        description: b.description,
        category: b.category,
        image: b.image,
        variants,
    };
    let r = state.clients.product.clone().create_product(as_user(&admin, request)).await?;
    Ok((StatusCode::CREATED, Json(r.into_inner().product.unwrap_or_default().into())))
}

/// Edit a product's details (a stale `version` is refused with 409).
#[utoipa::path(patch, path = "/admin/products/{id}", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)), request_body = ProductPatch,
    responses((status = 200, body = ProductOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_product(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ProductPatch>,
) -> Result<Json<ProductOut>, ApiError> {
    let admin = user.admin()?;
    let current = state
        .clients
        .product
        .clone()
        .get_product(product::GetProductRequest { id: id.clone() })
        .await?
        .into_inner()
        .product
        .unwrap_or_default();
    let request = product::UpdateProductRequest {
        id,
        version: b.version,
        name: b.name.unwrap_or(current.name),
        description: b.description.unwrap_or(current.description),
        category: b.category.unwrap_or(current.category),
        image: b.image.unwrap_or(current.image),
    };
    let r = state.clients.product.clone().update_product(as_user(&admin, request)).await?;
    Ok(Json(r.into_inner().product.unwrap_or_default().into()))
}

/// Delete a product: it leaves every cart; past orders keep their copy.
#[utoipa::path(delete, path = "/admin/products/{id}", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_product(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let admin = user.admin()?;
    crate::app::delete_product(&state, &admin, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a variant (SKU) to a product.
#[utoipa::path(post, path = "/admin/products/{id}/variants", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)), request_body = VariantIn,
    responses((status = 201, body = ProductOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_variant(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<VariantIn>,
) -> Result<(StatusCode, Json<ProductOut>), ApiError> {
    let admin = user.admin()?;
    let request = product::AddVariantRequest { product_id: id, variant: Some(variant_in(b)?) };
    let r = state.clients.product.clone().add_variant(as_user(&admin, request)).await?;
    Ok((StatusCode::CREATED, Json(r.into_inner().product.unwrap_or_default().into())))
}

/// Change a variant: size, colour, price; stock by a delta (never below zero).
#[utoipa::path(patch, path = "/admin/variants/{sku}", tag = "admin", security(("bearer" = [])), params(("sku" = String, Path)), request_body = VariantPatch,
    responses((status = 200, body = ProductOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_variant(
    State(state): State<AppState>,
    user: ApiUser,
    Path(sku): Path<String>,
    ApiJson(b): ApiJson<VariantPatch>,
) -> Result<Json<ProductOut>, ApiError> {
    let admin = user.admin()?;
    let found = state
        .clients
        .product
        .clone()
        .get_variants(product::GetVariantsRequest { codes: vec![sku.clone()] })
        .await?
        .into_inner();
    let current = found
        .variants
        .into_iter()
        .next()
        .and_then(|v| v.variant)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "SKU not found"))?;
    let request = product::UpdateVariantRequest {
        code: sku,
        size: match b.size {
            Some(s) => size(&s)?,
            None => current.size,
        },
        color: b.color.unwrap_or(current.color),
        price_cents: b.price_cents.unwrap_or(current.price_cents),
        stock_delta: b.stock_delta.unwrap_or(0),
    };
    let r = state.clients.product.clone().update_variant(as_user(&admin, request)).await?;
    Ok(Json(r.into_inner().product.unwrap_or_default().into()))
}

/// Delete a variant (it leaves every cart).
#[utoipa::path(delete, path = "/admin/variants/{sku}", tag = "admin", security(("bearer" = [])), params(("sku" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_variant(
    State(state): State<AppState>,
    user: ApiUser,
    Path(sku): Path<String>,
) -> Result<StatusCode, ApiError> {
    let admin = user.admin()?;
    crate::app::delete_variant(&state, &admin, sku).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every order, newest first, by status and customer.
#[utoipa::path(get, path = "/admin/orders", tag = "admin", security(("bearer" = [])), params(AdminOrderQuery),
    responses((status = 200, body = OrderPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_orders(
    State(state): State<AppState>,
    user: ApiUser,
    ApiQuery(q): ApiQuery<AdminOrderQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    let admin = user.admin()?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => order::Status::Unspecified,
        Some(s) => format::parse_status(s)
            .ok_or_else(|| unprocessable("status must be processing, shipped, delivered or canceled"))?,
    };
    let (page, per_page) = crate::app::paging(q.page, q.per_page, 20);
    let request =
        order::ListAllOrdersRequest { status: status as i32, username: q.user.unwrap_or_default(), page, per_page };
    let r = read!(state.clients.order, list_all_orders, with || as_user(&admin, request.clone()))?;
    Ok(Json(OrderPage::new(r, page, per_page)))
}

/// Advance an order: processing → shipped → delivered.
#[utoipa::path(patch, path = "/admin/orders/{id}", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)), request_body = StatusBody,
    responses((status = 200, body = OrderOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_status(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<StatusBody>,
) -> Result<Json<OrderOut>, ApiError> {
    let admin = user.admin()?;
    let status = format::parse_status(&b.status)
        .ok_or_else(|| unprocessable("status must be processing, shipped, delivered or canceled"))?;
    let r = state
        .clients
        .order
        .clone()
        .update_status(as_user(&admin, order::UpdateStatusRequest { id, status: status as i32 }))
        .await?;
    Ok(Json(r.into_inner().order.unwrap_or_default().into()))
}
