//! Catalogue, cart and orders.

use super::{
    ApiBuyer, ApiError, ApiJson, ApiUser,
    extract::{ApiQuery, ErrorBody},
    types::*,
};
use crate::{clients::read, format, session::as_user, state::AppState};
use atelier_proto::{cart, order, product};
use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
};

/// The catalogue: search, filter, sort, page.
#[utoipa::path(get, path = "/products", tag = "catalogue", params(ProductQuery),
    responses((status = 200, body = ProductPage), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn list_products(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ProductQuery>,
) -> Result<Json<ProductPage>, ApiError> {
    let size = match q.size.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => format::parse_size(s)
            .ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "size must be XS, S, M, L, XL or XXL"))?
            as i32,
    };
    let sort = crate::app::sort(q.sort.as_deref().unwrap_or_default()).ok_or_else(|| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "sort must be relevance, name, price_asc, price_desc or newest")
    })?;
    let (page, per_page) = crate::app::paging(q.page, q.per_page, 12);
    let filter = crate::app::CatalogueFilter {
        query: q.q.unwrap_or_default(),
        category: q.category.unwrap_or_default(),
        size,
        color: q.color.unwrap_or_default(),
        min_price_cents: q.min_price,
        max_price_cents: q.max_price,
        in_stock: q.in_stock.unwrap_or(false),
        sort,
    };
    let request = filter.request(page, per_page);
    let r = read!(state.clients.product, list_products, request)?;
    Ok(Json(ProductPage {
        items: r.products.into_iter().map(Into::into).collect(),
        total: r.total,
        total_capped: r.total_capped,
        page,
        per_page,
    }))
}

/// One product with its variants.
#[utoipa::path(get, path = "/products/{id}", tag = "catalogue", params(("id" = String, Path)),
    responses((status = 200, body = ProductOut), (status = 404, body = ErrorBody)))]
pub async fn get_product(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<ProductOut>, ApiError> {
    let r = read!(state.clients.product, get_product, product::GetProductRequest { id })?;
    Ok(Json(r.product.unwrap_or_default().into()))
}

fn cart_out(r: cart::CartResponse) -> Json<CartOut> {
    Json(r.cart.unwrap_or_default().into())
}

/// Your cart, adjusted to the current catalogue.
#[utoipa::path(get, path = "/cart", tag = "cart", security(("bearer" = [])),
    responses((status = 200, body = CartOut), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn get_cart(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<CartOut>, ApiError> {
    Ok(cart_out(read!(state.clients.cart, get_cart, with || as_user(&user, cart::GetCartRequest::default()))?))
}

/// Empty your cart.
#[utoipa::path(delete, path = "/cart", tag = "cart", security(("bearer" = [])),
    responses((status = 200, body = CartOut), (status = 401, body = ErrorBody)))]
pub async fn clear_cart(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<CartOut>, ApiError> {
    Ok(cart_out(
        state.clients.cart.clone().clear_cart(as_user(&user, cart::ClearCartRequest::default())).await?.into_inner(),
    ))
}

/// Add units of a SKU (added to what is already in the cart).
#[utoipa::path(post, path = "/cart/items", tag = "cart", security(("bearer" = [])), request_body = AddItemBody,
    responses((status = 200, body = CartOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_item(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(b): ApiJson<AddItemBody>,
) -> Result<Json<CartOut>, ApiError> {
    Ok(cart_out(
        state
            .clients
            .cart
            .clone()
            .add_item(as_user(&user, cart::AddItemRequest { code: b.sku, quantity: b.quantity }))
            .await?
            .into_inner(),
    ))
}

/// Set the quantity of a line (0 removes it).
#[utoipa::path(patch, path = "/cart/items/{sku}", tag = "cart", security(("bearer" = [])), params(("sku" = String, Path)), request_body = QuantityBody,
    responses((status = 200, body = CartOut), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_quantity(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(sku): Path<String>,
    ApiJson(b): ApiJson<QuantityBody>,
) -> Result<Json<CartOut>, ApiError> {
    Ok(cart_out(
        state
            .clients
            .cart
            .clone()
            .set_quantity(as_user(&user, cart::SetQuantityRequest { code: sku, quantity: b.quantity }))
            .await?
            .into_inner(),
    ))
}

/// Remove a line.
#[utoipa::path(delete, path = "/cart/items/{sku}", tag = "cart", security(("bearer" = [])), params(("sku" = String, Path)),
    responses((status = 200, body = CartOut), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove_item(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(sku): Path<String>,
) -> Result<Json<CartOut>, ApiError> {
    Ok(cart_out(
        state
            .clients
            .cart
            .clone()
            .remove_item(as_user(&user, cart::RemoveItemRequest { code: sku }))
            .await?
            .into_inner(),
    ))
}

/// Place your cart as an order. The same `Idempotency-Key` always gives the
/// same order. The body is optional: without an address it goes to the
/// account's default address (422 when the account has none), without a
/// delivery method by standard delivery.
#[utoipa::path(post, path = "/orders", tag = "orders", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Unique per order attempt, e.g. a UUID")),
    request_body(content = Option<PlaceOrderBody>, description = "Where and how (optional)"),
    responses((status = 201, body = OrderOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn place_order(
    State(state): State<AppState>,
    ApiBuyer(user, saved): ApiBuyer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<OrderOut>), ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "send an Idempotency-Key header (for example a UUID)"))?;
    // No body, an empty one or `null` all mean "the account's defaults".
    let body: PlaceOrderBody = if body.iter().all(u8::is_ascii_whitespace) {
        PlaceOrderBody::default()
    } else {
        serde_json::from_slice::<Option<PlaceOrderBody>>(&body)
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("the order's body: {e}")))?
            .unwrap_or_default()
    };
    let delivery = crate::checkout::parse_delivery(body.delivery.as_deref().unwrap_or_default())
        .ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "delivery is standard or express"))?;
    use crate::checkout::Destination;
    let destination = match (body.address, body.address_id) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "give address or address_id, not both"));
        }
        (Some(a), None) => Destination::Given(crate::checkout::shipping(a.into())),
        (None, Some(id)) => Destination::Saved(id),
        (None, None) => Destination::Default,
    };
    let order = crate::checkout::place_order(&state, &user, key.into(), destination, Some(saved), delivery).await?;
    Ok((StatusCode::CREATED, Json(order.into())))
}

/// Your saved delivery addresses, the default first.
#[utoipa::path(get, path = "/addresses", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Vec<AddressOut>), (status = 401, body = ErrorBody)))]
pub async fn list_addresses(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Vec<AddressOut>>, ApiError> {
    let saved = crate::checkout::addresses(&state, &user).await?;
    Ok(Json(saved.into_iter().map(AddressOut::from).collect()))
}

/// Save a delivery address (at most 10; the first becomes the default).
#[utoipa::path(post, path = "/addresses", tag = "account", security(("bearer" = [])), request_body = NewAddressBody,
    responses((status = 201, body = AddressOut), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_address(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<NewAddressBody>,
) -> Result<(StatusCode, Json<AddressOut>), ApiError> {
    let address: atelier_proto::auth::Address = body.address.into();
    let request = as_user(
        &user,
        atelier_proto::auth::SaveAddressRequest { address: Some(address), make_default: body.make_default },
    );
    let saved = state.clients.auth.clone().save_address(request).await?.into_inner().address.unwrap_or_default();
    Ok((StatusCode::CREATED, Json(saved.into())))
}

/// Your orders, newest first.
#[utoipa::path(get, path = "/orders", tag = "orders", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = OrderPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn my_orders(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    let (page, per_page) = crate::app::paging(q.page, q.per_page, 20);
    let r = state
        .clients
        .order
        .clone()
        .list_my_orders(as_user(&user, order::ListMyOrdersRequest { page, per_page }))
        .await?
        .into_inner();
    Ok(Json(OrderPage::new(r, page, per_page)))
}

/// One of your orders (any order for an admin).
#[utoipa::path(get, path = "/orders/{id}", tag = "orders", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = OrderOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_order(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<OrderOut>, ApiError> {
    let r = read!(state.clients.order, get_order, with || as_user(&user, order::GetOrderRequest { id: id.clone() }))?;
    Ok(Json(r.order.unwrap_or_default().into()))
}

/// Cancel your order (unless delivered or canceled); its items go back in stock.
#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "orders", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = OrderOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_order(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<OrderOut>, ApiError> {
    let r = state.clients.order.clone().cancel_order(as_user(&user, order::CancelOrderRequest { id })).await?;
    Ok(Json(r.into_inner().order.unwrap_or_default().into()))
}
