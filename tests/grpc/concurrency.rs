//! The invariants that the original broke, proven under concurrency on
//! PostgreSQL: no oversell, one order per idempotency key, stock restored once.

use crate::harness::{as_user, postgres_shop};
use crate::orders::{fill_cart, place, stock};
use atelier_proto::{order::*, product::*};
use futures::future::join_all;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_shoppers_five_units() {
    let Some(shop) = postgres_shop().await else {
        return;
    };
    let admin = shop.admin().await;
    let create = CreateProductRequest {
        name: "Limited Edition Jacket".into(),
        image: "builtin:jacket".into(),
        variants: vec![Variant {
            code: "LTD-1".into(),
            size: Size::M as i32,
            color: "Gold".into(),
            price_cents: 50000,
            stock: 5,
        }],
        ..Default::default()
    };
    shop.product.clone().create_product(as_user(&admin, create)).await.unwrap();
    let mut shoppers = vec![];
    for i in 0..50 {
        let token = shop.new_client(&format!("rush-{i}")).await;
        fill_cart(&shop, &token, &[("LTD-1", 1)]).await;
        shoppers.push(token);
    }
    let results = join_all(shoppers.iter().map(|t| {
        let mut orders = shop.order.clone();
        async move { orders.place_order(as_user(t, place("buy"))).await }
    }))
    .await;
    let placed = results.iter().filter(|r| r.is_ok()).count();
    let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(placed, 5, "exactly as many orders as units");
    assert!(refused.iter().all(|s| s.code() == tonic::Code::FailedPrecondition), "{refused:?}");
    assert_eq!(stock(&shop, "LTD-1").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_ten_requests_one_order() {
    let Some(shop) = postgres_shop().await else {
        return;
    };
    let hal = shop.new_client("hal").await;
    fill_cart(&shop, &hal, &[("TSHIRT-002", 2)]).await;
    let results = join_all((0..10).map(|_| {
        let mut orders = shop.order.clone();
        let hal = hal.clone();
        async move { orders.place_order(as_user(&hal, place("double-click"))).await }
    }))
    .await;
    let ids: std::collections::HashSet<String> =
        results.into_iter().map(|r| r.unwrap().into_inner().order.unwrap().id).collect();
    assert_eq!(ids.len(), 1);
    let mine =
        shop.order.clone().list_my_orders(as_user(&hal, ListMyOrdersRequest::default())).await.unwrap().into_inner();
    assert_eq!(mine.total, 1);
    assert_eq!(stock(&shop, "TSHIRT-002").await, 83);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_cancels_restore_stock_once() {
    let Some(shop) = postgres_shop().await else {
        return;
    };
    let ivy = shop.new_client("ivy").await;
    fill_cart(&shop, &ivy, &[("JEANS-002", 4)]).await;
    let order = shop.order.clone().place_order(as_user(&ivy, place("k"))).await.unwrap().into_inner().order.unwrap();
    assert_eq!(stock(&shop, "JEANS-002").await, 46);
    let results = join_all((0..10).map(|_| {
        let mut orders = shop.order.clone();
        let (ivy, id) = (ivy.clone(), order.id.clone());
        async move { orders.cancel_order(as_user(&ivy, CancelOrderRequest { id })).await }
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert_eq!(stock(&shop, "JEANS-002").await, 50);
}
