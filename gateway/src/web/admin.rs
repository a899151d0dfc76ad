//! Admin pages: users and roles, the catalogue, all orders.

use super::context::{Ctx, Flash, Layout, WebError, capitalize, field_of, page_links, redirect, render, render_status};
use super::orders::{OrdersQuery, orders_page};
use crate::clients::read;
use crate::{
    AppState,
    format::{self, money},
    session::as_user,
};
use askama::Template;
use atelier_proto::{auth, order, product as pb};
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;
use std::collections::HashMap;
use tonic::Code;

type Errors = HashMap<&'static str, String>;

pub struct UserRow {
    pub username: String,
    pub email: String,
    pub phone: String,
    pub is_admin: bool,
    pub is_me: bool,
    pub since: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    q: String,
    page: u32,
    prev_url: Option<String>,
    next_url: Option<String>,
    total: u64,
}

#[derive(Deserialize, Default)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
}

pub async fn users(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<UsersQuery>,
) -> Result<Response, WebError> {
    let me = ctx.admin()?;
    let page = crate::app::page_number(query.page.parse().ok());
    let q: String = query.q.chars().take(64).collect();
    let r = state
        .clients
        .auth
        .clone()
        .list_users(as_user(me, auth::ListUsersRequest { query: q.clone(), page, per_page: 20 }))
        .await?
        .into_inner();
    let (prev_url, next_url) = page_links("/admin/users", &[("q", &q)], page, r.total, 20);
    let users = r
        .users
        .into_iter()
        .map(|u| UserRow {
            is_admin: u.role() == auth::Role::Admin,
            is_me: u.id == me.id,
            since: format::date(u.created_at_ms),
            username: u.username,
            email: u.email,
            phone: u.phone,
        })
        .collect();
    Ok(render(&UsersPage { prev_url, next_url, layout: ctx.layout, users, q, page, total: r.total }))
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(username): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Response, WebError> {
    let me = ctx.admin()?;
    let role = match form.role.as_str() {
        "admin" => auth::Role::Admin,
        "client" => auth::Role::Client,
        _ => {
            return Ok(redirect("/admin/users", Flash::error("Unknown role."), ctx.secure));
        }
    };
    let request = as_user(me, auth::SetRoleRequest { username: username.clone(), role: role as i32 });
    match state.clients.auth.clone().set_role(request).await {
        Ok(_) => Ok(redirect(
            "/admin/users",
            Flash::success(format!(
                "{username} is now {}.",
                if role == auth::Role::Admin { "an admin" } else { "a client" }
            )),
            ctx.secure,
        )),
        Err(s) if crate::app::is_refusal(&s) => Ok(redirect("/admin/users", Flash::error(s.message()), ctx.secure)),
        Err(s) => Err(s.into()),
    }
}

pub struct AdminProductRow {
    pub id: String,
    pub name: String,
    pub category: String,
    pub image: String,
    pub variants: usize,
    pub stock: i64,
    /// Variants with at most the dashboard's low-stock level left (sold out included).
    pub low: usize,
    pub sold_out: bool,
    pub price: String,
}

#[derive(Template)]
#[template(path = "admin_products.html")]
struct ProductsPage {
    layout: Layout,
    products: Vec<AdminProductRow>,
    q: String,
    page: u32,
    prev_url: Option<String>,
    next_url: Option<String>,
}

pub async fn products(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<UsersQuery>,
) -> Result<Response, WebError> {
    ctx.admin()?;
    let page = crate::app::page_number(query.page.parse().ok());
    let q: String = query.q.chars().take(100).collect();
    let r = state
        .clients
        .product
        .clone()
        .list_products(pb::ListProductsRequest { query: q.clone(), page, per_page: 25, ..Default::default() })
        .await?
        .into_inner();
    let (prev_url, next_url) = page_links("/admin/products", &[("q", &q)], page, r.total, 25);
    let products = r
        .products
        .into_iter()
        .map(|p| AdminProductRow {
            image: format::image_url(&p.image, p.variants.first().map_or("", |v| v.color.as_str())),
            variants: p.variants.len(),
            low: p.variants.iter().filter(|v| v.stock <= super::dashboard::LOW_STOCK).count(),
            sold_out: p.variants.iter().all(|v| v.stock == 0),
            stock: p.variants.iter().map(|v| v.stock).sum(),
            price: p.variants.iter().map(|v| v.price_cents).min().map(money).unwrap_or_else(|| "—".into()),
            id: p.id,
            name: p.name,
            category: p.category,
        })
        .collect();
    Ok(render(&ProductsPage { prev_url, next_url, layout: ctx.layout, products, q, page }))
}

/// The product form's fields, kept as typed so errors can re-show them.
#[derive(Deserialize, Default, Clone)]
pub struct ProductForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    image: String,
    #[serde(default)]
    version: String,
    // The first variant, when creating.
    #[serde(default)]
    code: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    color: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    stock: String,
}

pub struct VariantRow {
    pub code: String,
    pub size: &'static str,
    pub color: String,
    pub price: String,
    pub stock: i64,
}

#[derive(Template)]
#[template(path = "admin_product_form.html")]
struct ProductFormPage {
    layout: Layout,
    /// None when creating.
    id: Option<String>,
    form: ProductForm,
    variants: Vec<VariantRow>,
    grid: Vec<super::variant_grid::GridRow>,
    /// Colours and categories already in the catalogue, offered as choices.
    known_colors: Vec<String>,
    known_categories: Vec<String>,
    errors: Errors,
    shapes: &'static [&'static str],
    sizes: [&'static str; 6],
}

const SHAPES: &[&str] = &atelier_proto::GARMENT_SHAPES;
const FIELDS: &[&str] = &["name", "description", "category", "image", "code", "size", "color", "price", "stock"];

/// The product form; with `product` (editing), its variants as a grid and
/// as a list of SKUs.
async fn form_page(
    state: &AppState,
    layout: Layout,
    form: ProductForm,
    product: Option<&pb::Product>,
    errors: Errors,
    status: StatusCode,
) -> Response {
    // Choices from the catalogue; typing a new one is still possible.
    let facets = read!(state.clients.product, facets, pb::FacetsRequest {}).unwrap_or_default();
    let page = ProductFormPage {
        layout,
        id: product.map(|p| p.id.clone()),
        form,
        variants: product.map(variant_rows).unwrap_or_default(),
        grid: product.map(super::variant_grid::grid).unwrap_or_default(),
        known_colors: facets.colors.into_iter().map(|f| f.value).collect(),
        known_categories: facets.categories.into_iter().map(|f| f.value).collect(),
        errors,
        shapes: SHAPES,
        sizes: format::SIZES,
    };
    render_status(status, &page)
}

pub async fn new_product(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    ctx.admin()?;
    let form =
        ProductForm { image: "builtin:tshirt".into(), size: "M".into(), stock: "10".into(), ..Default::default() };
    Ok(form_page(&state, ctx.layout, form, None, Errors::new(), StatusCode::OK).await)
}

/// Parses the numeric fields of a variant form; errors go next to fields.
fn parse_variant(
    code: &str,
    size: &str,
    color: &str,
    price: &str,
    stock: &str,
    errors: &mut Errors,
) -> Option<pb::Variant> {
    let size = format::parse_size(size);
    let price = format::parse_money(price);
    let stock = stock.trim().parse::<i64>().ok().filter(|s| (0..=1_000_000).contains(s));
    if size.is_none() {
        errors.insert("size", "Choose a size.".into());
    }
    if price.is_none() {
        errors.insert("price", "Enter a price such as 24.99.".into());
    }
    if stock.is_none() {
        errors.insert("stock", "Stock is a whole number from 0 to 1000000.".into());
    }
    Some(pb::Variant { code: code.into(), size: size? as i32, color: color.into(), price_cents: price?, stock: stock? })
}

fn service_error(s: &tonic::Status, errors: &mut Errors) -> Result<StatusCode, WebError> {
    match s.code() {
        Code::InvalidArgument | Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => {
            errors.insert(field_of(s.message(), FIELDS).unwrap_or("form"), capitalize(s.message()));
            Ok(if s.code() == Code::InvalidArgument { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::CONFLICT })
        }
        _ => Err(s.clone().into()),
    }
}

pub async fn create_product(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ProductForm>,
) -> Result<Response, WebError> {
    let me = ctx.admin()?;
    let mut errors = Errors::new();
    let variant = parse_variant(&form.code, &form.size, &form.color, &form.price, &form.stock, &mut errors);
    if let Some(variant) = variant.filter(|_| errors.is_empty()) {
        let request = pb::CreateProductRequest {
            name: form.name.clone(),
            description: form.description.clone(),
            category: form.category.clone(),
            image: form.image.clone(),
            variants: vec![variant],
        };
        match state.clients.product.clone().create_product(as_user(me, request)).await {
            Ok(r) => {
                let p = r.into_inner().product.unwrap_or_default();
                return Ok(redirect(
                    &format!("/admin/products/{}", p.id),
                    Flash::success(format!("{} is in the catalogue.", p.name)),
                    ctx.secure,
                ));
            }
            Err(s) => {
                let status = service_error(&s, &mut errors)?;
                return Ok(form_page(&state, ctx.layout, form, None, errors, status).await);
            }
        }
    }
    Ok(form_page(&state, ctx.layout, form, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await)
}

pub(super) async fn load(state: &AppState, id: &str) -> Result<pb::Product, WebError> {
    Ok(state
        .clients
        .product
        .clone()
        .get_product(pb::GetProductRequest { id: id.into() })
        .await?
        .into_inner()
        .product
        .unwrap_or_default())
}

fn variant_rows(p: &pb::Product) -> Vec<VariantRow> {
    p.variants
        .iter()
        .map(|v| VariantRow {
            code: v.code.clone(),
            size: format::size_name(v.size),
            color: v.color.clone(),
            price: format!("{}.{:02}", v.price_cents / 100, v.price_cents % 100),
            stock: v.stock,
        })
        .collect()
}

fn form_of(p: &pb::Product) -> ProductForm {
    ProductForm {
        name: p.name.clone(),
        description: p.description.clone(),
        category: p.category.clone(),
        image: p.image.clone(),
        version: p.version.to_string(),
        size: "M".into(),
        stock: "10".into(),
        ..Default::default()
    }
}

pub async fn edit_product(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.admin()?;
    let p = load(&state, &id).await?;
    Ok(form_page(&state, ctx.layout, form_of(&p), Some(&p), Errors::new(), StatusCode::OK).await)
}

pub async fn update_product(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<ProductForm>,
) -> Result<Response, WebError> {
    let me = ctx.admin()?;
    let request = pb::UpdateProductRequest {
        id: id.clone(),
        version: form.version.parse().unwrap_or(-1),
        name: form.name.clone(),
        description: form.description.clone(),
        category: form.category.clone(),
        image: form.image.clone(),
    };
    match state.clients.product.clone().update_product(as_user(me, request)).await {
        Ok(_) => Ok(redirect(&format!("/admin/products/{id}"), Flash::success("Product saved."), ctx.secure)),
        Err(s) => {
            let mut errors = Errors::new();
            let status = service_error(&s, &mut errors)?;
            let p = load(&state, &id).await?;
            let mut form = form;
            if s.code() == Code::Aborted {
                form.version = p.version.to_string();
            }
            Ok(form_page(&state, ctx.layout, form, Some(&p), errors, status).await)
        }
    }
}

pub async fn delete_product(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let me = ctx.admin()?;
    crate::app::delete_product(&state, me, id).await?;
    Ok(redirect(
        "/admin/products",
        Flash::success("Product deleted; it was removed from every cart. Past orders keep their copy."),
        ctx.secure,
    ))
}

#[derive(Deserialize)]
pub struct VariantForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    color: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    stock: String,
    /// The stock the admin saw when the form was rendered.
    #[serde(default)]
    original_stock: String,
    #[serde(default)]
    product_id: String,
}

pub(super) fn back_to(product_id: &str) -> String {
    if !product_id.is_empty() && product_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        format!("/admin/products/{product_id}")
    } else {
        "/admin/products".into()
    }
}

fn first_error(errors: &Errors) -> String {
    errors.values().next().cloned().unwrap_or_default()
}

pub async fn add_variant(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<VariantForm>,
) -> Result<Response, WebError> {
    let me = ctx.admin()?;
    let back = back_to(&id);
    let mut errors = Errors::new();
    let row = format!("New variant {} ({} / {})", form.code.trim(), form.size.trim(), form.color.trim());
    let Some(variant) = parse_variant(&form.code, &form.size, &form.color, &form.price, &form.stock, &mut errors)
    else {
        return Ok(redirect(&back, Flash::error(format!("{row}: {}", first_error(&errors))), ctx.secure));
    };
    match state
        .clients
        .product
        .clone()
        .add_variant(as_user(me, pb::AddVariantRequest { product_id: id, variant: Some(variant) }))
        .await
    {
        Ok(_) => Ok(redirect(&back, Flash::success("Variant added."), ctx.secure)),
        Err(s) if crate::app::is_user_fault(&s) => {
            Ok(redirect(&back, Flash::error(format!("{row}: {}", capitalize(s.message()))), ctx.secure))
        }
        Err(s) => Err(s.into()),
    }
}

pub async fn update_variant(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<VariantForm>,
) -> Result<Response, WebError> {
    let me = ctx.admin()?;
    let back = back_to(&form.product_id);
    let mut errors = Errors::new();
    let original: Option<i64> = form.original_stock.trim().parse().ok();
    // Every message names the row it is about.
    let row = format!("{code} ({} / {})", form.size.trim(), form.color.trim());
    let Some(v) = parse_variant(&code, &form.size, &form.color, &form.price, &form.stock, &mut errors) else {
        return Ok(redirect(&back, Flash::error(format!("{row}: {}", first_error(&errors))), ctx.secure));
    };
    // Stock is sent as the change the admin made, so sales in the meantime count.
    let stock_delta = original.map_or(0, |o| v.stock - o);
    let request =
        pb::UpdateVariantRequest { code, size: v.size, color: v.color, price_cents: v.price_cents, stock_delta };
    match state.clients.product.clone().update_variant(as_user(me, request)).await {
        Ok(_) => Ok(redirect(&back, Flash::success(format!("{row} saved.")), ctx.secure)),
        Err(s) if crate::app::is_refusal(&s) => {
            Ok(redirect(&back, Flash::error(format!("{row}: {}", capitalize(s.message()))), ctx.secure))
        }
        Err(s) => Err(s.into()),
    }
}

pub async fn delete_variant(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<VariantForm>,
) -> Result<Response, WebError> {
    let me = ctx.admin()?;
    crate::app::delete_variant(&state, me, code).await?;
    Ok(redirect(&back_to(&form.product_id), Flash::success("Variant deleted."), ctx.secure))
}

pub async fn orders(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OrdersQuery>,
) -> Result<Response, WebError> {
    let me = ctx.admin()?;
    let page = crate::app::page_number(q.page.parse().ok());
    let status = match q.status.as_str() {
        "" => order::Status::Unspecified,
        s => format::parse_status(s).unwrap_or(order::Status::Unspecified),
    };
    let request = order::ListAllOrdersRequest {
        status: status as i32,
        username: q.user.chars().take(64).collect(),
        page,
        per_page: 20,
    };
    let r = read!(state.clients.order, list_all_orders, with || as_user(me, request.clone()))?;
    Ok(orders_page(ctx.layout, r, page, true, &q))
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, WebError> {
    let me = ctx.admin()?;
    let back = format!("/orders/{}", format::urlencode(&id));
    let Some(status) = format::parse_status(&form.status) else {
        return Ok(redirect(&back, Flash::error("Unknown status."), ctx.secure));
    };
    match state
        .clients
        .order
        .clone()
        .update_status(as_user(me, order::UpdateStatusRequest { id, status: status as i32 }))
        .await
    {
        Ok(_) => Ok(redirect(
            &back,
            Flash::success(format!("The order is now {}.", format::status_name(status as i32))),
            ctx.secure,
        )),
        Err(s) if crate::app::is_refusal(&s) => Ok(redirect(&back, Flash::error(s.message()), ctx.secure)),
        Err(s) => Err(s.into()),
    }
}
