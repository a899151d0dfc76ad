//! `/admin`: what an admin looks at first — orders waiting to be shipped,
//! what sold today and this week (the shop's time zone), and the variants about to run out.

use super::context::{Ctx, Layout, WebError, render};
use crate::{
    AppState,
    format::{self, money},
    session::as_user,
};
use askama::Template;
use atelier_proto::{order, product as pb};
use axum::{extract::State, response::Response};

/// At or below this many left, a variant is on the dashboard's list.
pub const LOW_STOCK: i64 = 5;

pub struct Window {
    pub label: &'static str,
    pub orders: i64,
    pub total: String,
}

pub struct LowStockRow {
    pub product_id: String,
    pub product_name: String,
    pub variant: String,
    pub code: String,
    pub stock: i64,
}

#[derive(Template)]
#[template(path = "admin_dashboard.html")]
struct DashboardPage {
    layout: Layout,
    to_ship: i64,
    windows: Vec<Window>,
    low_stock: Vec<LowStockRow>,
    low_stock_limit: i64,
}

pub async fn dashboard(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let me = ctx.admin()?;
    let now = atelier_runtime::now_ms();
    let (day, week) = format::today_and_week_start(now);
    let sales = order::SalesRequest { since_ms: vec![day, week] };
    let low = pb::LowStockRequest { at_most: LOW_STOCK, limit: 10 };
    let (mut orders, mut products) = (state.clients.order.clone(), state.clients.product.clone());
    let (sales, low) = tokio::join!(orders.sales(as_user(me, sales)), products.low_stock(as_user(me, low)));
    let sales = sales?.into_inner();
    let labels = ["Today", "This week"];
    let windows = sales
        .windows
        .iter()
        .zip(labels)
        .map(|(w, label)| Window { label, orders: w.orders, total: money(w.total_cents) })
        .collect();
    let low_stock = low?
        .into_inner()
        .variants
        .into_iter()
        .map(|v| LowStockRow {
            variant: format!("{} / {}", format::size_name(v.size), v.color),
            product_id: v.product_id,
            product_name: v.product_name,
            code: v.code,
            stock: v.stock,
        })
        .collect();
    Ok(render(&DashboardPage {
        layout: ctx.layout,
        to_ship: sales.to_ship,
        windows,
        low_stock,
        low_stock_limit: LOW_STOCK,
    }))
}
