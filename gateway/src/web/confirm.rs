//! "Are you sure?" pages for what cannot be undone: emptying the cart,
//! canceling an order, deleting a product or a variant. The buttons that do
//! these link here; the page's own button posts the real form. No script
//! needed, and a mistaken click costs nothing.

use super::context::{Ctx, Layout, WebError, render};
use crate::{AppState, clients::read, format, session::as_user};
use askama::Template;
use atelier_proto::{order as order_pb, product as product_pb};
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    layout: Layout,
    title: String,
    consequences: String,
    action: String,
    fields: Vec<(&'static str, String)>,
    confirm: &'static str,
    back: String,
    back_label: &'static str,
}

pub async fn empty_cart(ctx: Ctx) -> Result<Response, WebError> {
    ctx.user()?;
    Ok(render(&ConfirmPage {
        layout: ctx.layout,
        title: "Empty your cart?".into(),
        consequences: "Everything in your cart goes. The products stay in the shop.".into(),
        action: "/cart/clear".into(),
        fields: vec![],
        confirm: "Empty the cart",
        back: "/cart".into(),
        back_label: "Keep my cart",
    }))
}

pub async fn cancel_order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let user = ctx.user()?;
    let request = || as_user(user, order_pb::GetOrderRequest { id: id.clone() });
    let order = read!(state.clients.order, get_order, with request)?.order.unwrap_or_default();
    let id = format::urlencode(&order.id);
    Ok(render(&ConfirmPage {
        title: format!("Cancel order {}?", format::order_label(order.number, &order.id)),
        consequences: format!(
            "The order ({}) is canceled and nothing is sent. This cannot be undone.",
            format::money(order.total_cents)
        ),
        layout: ctx.layout,
        action: format!("/orders/{id}/cancel"),
        fields: vec![],
        confirm: "Cancel the order",
        back: format!("/orders/{id}"),
        back_label: "Keep the order",
    }))
}

pub async fn delete_product(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.admin()?;
    let product =
        read!(state.clients.product, get_product, product_pb::GetProductRequest { id })?.product.unwrap_or_default();
    let id = format::urlencode(&product.id);
    Ok(render(&ConfirmPage {
        title: format!("Delete {}?", product.name),
        consequences: format!(
            "{} and its {} variant(s) leave the catalogue, and shoppers' carts. Orders that hold it keep their lines. \
             This cannot be undone.",
            product.name,
            product.variants.len()
        ),
        layout: ctx.layout,
        action: format!("/admin/products/{id}/delete"),
        fields: vec![],
        confirm: "Delete the product",
        back: format!("/admin/products/{id}"),
        back_label: "Keep it",
    }))
}

#[derive(Deserialize)]
pub struct OfProduct {
    #[serde(default)]
    product_id: String,
}

pub async fn delete_variant(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<OfProduct>,
) -> Result<Response, WebError> {
    ctx.admin()?;
    let (code_url, product_url) = (format::urlencode(&code), format::urlencode(&q.product_id));
    Ok(render(&ConfirmPage {
        title: format!("Delete variant {code}?"),
        consequences: "It leaves the product and shoppers' carts; orders that hold it keep their lines. This cannot \
                       be undone."
            .into(),
        layout: ctx.layout,
        action: format!("/admin/variants/{code_url}/delete"),
        fields: vec![("product_id", q.product_id)],
        confirm: "Delete the variant",
        back: format!("/admin/products/{product_url}"),
        back_label: "Keep it",
    }))
}
