//! Checkout in two steps: where and how (a saved address or a new one, the
//! delivery method with its price), then a review of lines, delivery and
//! total with the button that places the order.

use super::context::{Ctx, Flash, Layout, WebError, capitalize, redirect, render, render_status};
use crate::clients::read;
use crate::{AppState, checkout, format::money, session::as_user};
use askama::Template;
use atelier_proto::{auth, cart as cart_pb, delivery, order};
use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use std::collections::HashMap;
use tonic::Code;

type Errors = HashMap<&'static str, String>;

/// The new-address fields, as the form names them.
const ADDRESS_FIELDS: [&str; 6] = ["name", "line1", "line2", "postcode", "city", "country"];

pub struct LineSummary {
    pub name: String,
    pub variant: String,
    pub quantity: i64,
    pub subtotal: String,
}

pub struct DeliveryOption {
    pub value: &'static str,
    pub name: &'static str,
    pub estimate: &'static str,
    pub price: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    layout: Layout,
    lines: Vec<LineSummary>,
    goods: String,
    addresses: Vec<auth::Address>,
    /// The chosen saved address's id, or "new".
    chosen: String,
    form: AddressForm,
    errors: Errors,
    deliveries: Vec<DeliveryOption>,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    layout: Layout,
    lines: Vec<LineSummary>,
    goods: String,
    address: auth::Address,
    delivery: DeliveryOption,
    total: String,
    idempotency_key: String,
}

/// The first step's form: a saved address (`address` = its id) or a new one.
#[derive(Deserialize, Default)]
pub struct AddressForm {
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub line1: String,
    #[serde(default)]
    pub line2: String,
    #[serde(default)]
    pub postcode: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub make_default: String,
    #[serde(default)]
    pub delivery: String,
}

/// The cart as checkout shows it, with the goods' total in cents; None when empty.
async fn cart_summary(state: &AppState, ctx: &Ctx) -> Result<Option<(Vec<LineSummary>, i64)>, WebError> {
    let user = ctx.user()?;
    let cart = read!(state.clients.cart, get_cart, with || as_user(user, cart_pb::GetCartRequest::default()))?;
    let cart = cart.cart.unwrap_or_default();
    if cart.lines.is_empty() {
        return Ok(None);
    }
    let lines = cart
        .lines
        .iter()
        .map(|l| LineSummary {
            name: l.product_name.clone(),
            variant: format!("{} / {}", l.size, l.color),
            quantity: l.quantity,
            subtotal: money(l.unit_price_cents * l.quantity),
        })
        .collect();
    Ok(Some((lines, cart.total_cents)))
}

fn deliveries(goods_cents: i64, chosen: order::Delivery) -> Vec<DeliveryOption> {
    delivery::OPTIONS
        .iter()
        .map(|(method, name, estimate)| {
            let cents = delivery::price(*method, goods_cents);
            DeliveryOption {
                value: checkout::delivery_name(*method as i32),
                name,
                estimate,
                price: if cents == 0 { "Free".into() } else { money(cents) },
                checked: *method == chosen,
            }
        })
        .collect()
}

async fn checkout_page(
    state: &AppState,
    ctx: Ctx,
    form: AddressForm,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, WebError> {
    let Some((lines, goods)) = cart_summary(state, &ctx).await? else {
        return Ok(redirect("/cart", Flash::warning("Your cart is empty: add something first."), ctx.secure));
    };
    let addresses = checkout::addresses(state, ctx.user()?).await?;
    let chosen = if form.address.is_empty() {
        addresses.iter().find(|a| a.is_default).map_or_else(|| "new".to_string(), |a| a.id.clone())
    } else {
        form.address.clone()
    };
    let delivery = checkout::parse_delivery(&form.delivery).unwrap_or(order::Delivery::Standard);
    let page = CheckoutPage {
        deliveries: deliveries(goods, delivery),
        goods: money(goods),
        layout: ctx.layout,
        lines,
        addresses,
        chosen,
        form,
        errors,
    };
    Ok(render_status(status, &page))
}

/// Step one: where and how.
pub async fn start(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    checkout_page(&state, ctx, AddressForm::default(), Errors::new(), StatusCode::OK).await
}

/// Step two: a new address saved to the account (every mistake shown next
/// to its field), then to the review (a page of its own: reloading it
/// sends nothing again).
pub async fn choose(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<AddressForm>,
) -> Result<Response, WebError> {
    let user = ctx.user()?.clone();
    let delivery = checkout::parse_delivery(&form.delivery).unwrap_or(order::Delivery::Standard);
    let address_id = if form.address.is_empty() || form.address == "new" {
        let new = auth::Address {
            name: form.name.clone(),
            line1: form.line1.clone(),
            line2: form.line2.clone(),
            postcode: form.postcode.clone(),
            city: form.city.clone(),
            country: form.country.clone(),
            ..Default::default()
        };
        let request = auth::SaveAddressRequest { address: Some(new), make_default: !form.make_default.is_empty() };
        match state.clients.auth.clone().save_address(as_user(&user, request)).await {
            Ok(r) => r.into_inner().address.unwrap_or_default().id,
            Err(s) if matches!(s.code(), Code::InvalidArgument | Code::FailedPrecondition) => {
                let errors = field_errors(&s);
                let form = AddressForm { address: "new".into(), ..form };
                return checkout_page(&state, ctx, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            Err(s) => return Err(s.into()),
        }
    } else {
        form.address.clone()
    };
    let query = [("address", address_id.as_str()), ("delivery", checkout::delivery_name(delivery as i32))];
    let to = format!("/checkout/review?{}", serde_urlencoded::to_string(query).unwrap_or_default());
    Ok(axum::response::Redirect::to(&to).into_response())
}

#[derive(Deserialize)]
pub struct ReviewQuery {
    #[serde(default)]
    address: String,
    #[serde(default)]
    delivery: String,
}

/// The review: lines, where and how it goes, the total, and the button.
pub async fn review(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ReviewQuery>,
) -> Result<Response, WebError> {
    let user = ctx.user()?.clone();
    let delivery = checkout::parse_delivery(&q.delivery).unwrap_or(order::Delivery::Standard);
    let saved = checkout::addresses(&state, &user).await?;
    let Some(address) = saved.into_iter().find(|a| a.id == q.address) else {
        return Ok(redirect("/checkout", Flash::error("Choose one of your addresses."), ctx.secure));
    };
    let Some((lines, goods)) = cart_summary(&state, &ctx).await? else {
        return Ok(redirect("/cart", Flash::warning("Your cart is empty: add something first."), ctx.secure));
    };
    let delivery_option = deliveries(goods, delivery).into_iter().find(|d| d.checked).expect("a method is chosen");
    Ok(render(&ReviewPage {
        total: money(goods + delivery::price(delivery, goods)),
        goods: money(goods),
        delivery: delivery_option,
        layout: ctx.layout,
        lines,
        address,
        idempotency_key: uuid::Uuid::new_v4().to_string(),
    }))
}

/// The service's field violations, next to the new-address fields.
fn field_errors(status: &tonic::Status) -> Errors {
    use tonic_types::StatusExt;
    let mut errors = Errors::new();
    for v in status.get_details_bad_request().map(|b| b.field_violations).unwrap_or_default() {
        if let Some(field) = ADDRESS_FIELDS.iter().find(|f| **f == v.field) {
            errors.insert(field, capitalize(&v.description));
        }
    }
    if errors.is_empty() {
        errors.insert("form", capitalize(status.message()));
    }
    errors
}
