//! Orders: checkout, my orders, order details, cancel, and the admin's
//! status change.

use super::context::{Ctx, Flash, Layout, WebError, page_links, redirect, render};
use crate::{
    AppState,
    clients::read,
    format::{self, money},
    session::as_user,
};
use askama::Template;
use atelier_proto::{order as pb, product as product_pb};
use axum::{
    Form,
    extract::{Path, Query, State},
    response::Response,
};
use serde::Deserialize;
use tonic::Code;

pub struct LineView {
    pub code: String,
    pub product_id: String,
    pub name: String,
    pub size: String,
    pub color: String,
    pub unit_price: String,
    pub quantity: i64,
    pub subtotal: String,
    /// The product is still in the catalogue (its page can be linked).
    pub still_sold: bool,
}

pub struct OrderView {
    pub id: String,
    /// A-10042.
    pub label: String,
    pub username: String,
    pub date: String,
    pub updated: String,
    pub status: &'static str,
    pub total: String,
    pub items: i64,
    pub lines: Vec<LineView>,
    /// Where it goes, line by line (empty for orders placed before addresses).
    pub address: Vec<String>,
    /// "Standard delivery · €4.95".
    pub delivery: String,
}

impl From<pb::Order> for OrderView {
    fn from(o: pb::Order) -> Self {
        OrderView {
            label: format::order_label(o.number, &o.id),
            address: o
                .address
                .as_ref()
                .map(|a| {
                    let place = format!("{} {}", a.postcode, a.city);
                    [&a.name, &a.line1, &a.line2, &place, &a.country]
                        .into_iter()
                        .filter(|l| !l.trim().is_empty())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default(),
            delivery: format!(
                "{} delivery · {}",
                super::context::capitalize(crate::checkout::delivery_name(o.delivery)),
                if o.delivery_cents == 0 { "free".to_string() } else { money(o.delivery_cents) }
            ),
            date: format::date(o.created_at_ms),
            updated: format::date(o.updated_at_ms),
            status: format::status_name(o.status),
            total: money(o.total_cents),
            items: o.lines.iter().map(|l| l.quantity).sum(),
            lines: o
                .lines
                .into_iter()
                .map(|l| LineView {
                    subtotal: money(l.unit_price_cents * l.quantity),
                    unit_price: money(l.unit_price_cents),
                    code: l.code,
                    product_id: l.product_id,
                    name: l.product_name,
                    size: l.size,
                    color: l.color,
                    quantity: l.quantity,
                    still_sold: true,
                })
                .collect(),
            id: o.id,
            username: o.username,
        }
    }
}

/// The review page's form: the order's key, where and how.
#[derive(Deserialize)]
pub struct CheckoutForm {
    #[serde(default)]
    idempotency_key: String,
    /// A saved address of the account's; the default when absent.
    #[serde(default)]
    address_id: String,
    #[serde(default)]
    delivery: String,
}

pub async fn checkout(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CheckoutForm>,
) -> Result<Response, WebError> {
    let user = ctx.user()?;
    let destination = match form.address_id.as_str() {
        "" => crate::checkout::Destination::Default,
        id => crate::checkout::Destination::Saved(id.to_string()),
    };
    let delivery = crate::checkout::parse_delivery(&form.delivery).unwrap_or(pb::Delivery::Standard);
    match crate::checkout::place_order(&state, user, form.idempotency_key, destination, None, delivery).await {
        Ok(order) => Ok(redirect(
            &format!("/orders/{}", order.id),
            Flash::success(format!(
                "Thank you! Your order has been placed: {}. We are preparing it now; this page shows where it \
                     is, and you can cancel it here until it ships.",
                format::order_label(order.number, &order.id)
            )),
            ctx.secure,
        )),
        Err(s) if crate::app::is_user_fault(&s) && s.message().contains("address") => {
            Ok(redirect("/checkout", Flash::error(format!("Your order was not placed: {}.", s.message())), ctx.secure))
        }
        Err(s) if crate::app::is_user_fault(&s) => {
            Ok(redirect("/cart", Flash::error(format!("Your order was not placed: {}", s.message())), ctx.secure))
        }
        Err(s) if s.code() == Code::Unavailable => Ok(redirect(
            "/cart",
            Flash::error(
                "Ordering is temporarily unavailable; nothing was charged or reserved. Please try again shortly.",
            ),
            ctx.secure,
        )),
        Err(s) => Err(s.into()),
    }
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    layout: Layout,
    orders: Vec<OrderView>,
    admin_view: bool,
    page: u32,
    prev_url: Option<String>,
    next_url: Option<String>,
    status_filter: String,
    user_filter: String,
    statuses: [&'static str; 4],
}

#[derive(Deserialize, Default)]
pub struct OrdersQuery {
    #[serde(default)]
    pub page: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub user: String,
}

pub const STATUSES: [&str; 4] = ["processing", "shipped", "delivered", "canceled"];

/// Renders a page of orders (mine or, for the admin list, everyone's).
pub fn orders_page(
    layout: Layout,
    r: pb::ListOrdersResponse,
    page: u32,
    admin_view: bool,
    q: &OrdersQuery,
) -> Response {
    let base = if admin_view { "/admin/orders" } else { "/orders" };
    let (prev_url, next_url) = page_links(base, &[("status", &q.status), ("user", &q.user)], page, r.total, 20);
    render(&OrdersPage {
        layout,
        orders: r.orders.into_iter().map(OrderView::from).collect(),
        admin_view,
        page,
        prev_url,
        next_url,
        status_filter: q.status.clone(),
        user_filter: q.user.clone(),
        statuses: STATUSES,
    })
}

pub async fn my_orders(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OrdersQuery>,
) -> Result<Response, WebError> {
    let user = ctx.user()?;
    let page = crate::app::page_number(q.page.parse().ok());
    let r = state
        .clients
        .order
        .clone()
        .list_my_orders(as_user(user, pb::ListMyOrdersRequest { page, per_page: 20 }))
        .await?
        .into_inner();
    Ok(orders_page(ctx.layout, r, page, false, &q))
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    layout: Layout,
    order: OrderView,
    is_owner: bool,
    can_cancel: bool,
    next_statuses: Vec<(&'static str, &'static str)>,
    /// Shipped: the customer can no longer cancel, only send the goods back.
    shipped_to_owner: bool,
}

pub async fn order(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, WebError> {
    let user = ctx.user()?;
    let order = state
        .clients
        .order
        .clone()
        .get_order(as_user(user, pb::GetOrderRequest { id }))
        .await?
        .into_inner()
        .order
        .unwrap_or_default();
    let is_owner = order.user_id == user.id;
    let can_cancel = is_owner && order.status() == pb::Status::Processing;
    let shipped_to_owner = is_owner && order.status() == pb::Status::Shipped;
    let next_statuses = if user.is_admin { format::next_statuses(order.status) } else { vec![] };
    // What the order holds is shown as it was bought; a product deleted since
    // is named without a link to a page that is gone.
    let codes = order.lines.iter().map(|l| l.code.clone()).collect();
    let sold: Option<Vec<String>> =
        read!(state.clients.product, get_variants, product_pb::GetVariantsRequest { codes })
            .ok()
            .map(|r| r.variants.into_iter().map(|v| v.product_id).collect());
    let mut order: OrderView = order.into();
    if let Some(sold) = sold {
        for line in &mut order.lines {
            line.still_sold = sold.contains(&line.product_id);
        }
    }
    let page = OrderPage { layout: ctx.layout, order, is_owner, can_cancel, next_statuses, shipped_to_owner };
    Ok(render(&page))
}

pub async fn cancel(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, WebError> {
    let user = ctx.user()?;
    let back = format!("/orders/{}", format::urlencode(&id));
    match state.clients.order.clone().cancel_order(as_user(user, pb::CancelOrderRequest { id })).await {
        Ok(_) => {
            Ok(redirect(&back, Flash::success("Your order was canceled and the items are back in stock."), ctx.secure))
        }
        Err(s) if crate::app::is_user_fault(&s) => Ok(redirect(&back, Flash::error(s.message()), ctx.secure)),
        Err(s) => Err(s.into()),
    }
}
