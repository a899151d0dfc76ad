//! The invariants that the original broke, proven under concurrency on both
//! databases (SQLite is the embedded default): no oversell, one order per
//! idempotency key and per cart, every concurrent cart add counted, stock
//! restored once, every order a number of its own.

use crate::harness::{Shop, as_user, shops};
use crate::orders::{fill_cart, place, stock};
use atelier_proto::{order::*, product::*};
use futures::future::join_all;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_shoppers_five_units() {
    for shop in shops().await {
        fifty_shoppers_five_units_on(&shop).await;
    }
}

async fn fifty_shoppers_five_units_on(shop: &Shop) {
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
        fill_cart(shop, &token, &[("LTD-1", 1)]).await;
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
    assert_eq!(stock(shop, "LTD-1").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_ten_requests_one_order() {
    for shop in shops().await {
        one_key_ten_requests_one_order_on(&shop).await;
    }
}

async fn one_key_ten_requests_one_order_on(shop: &Shop) {
    let hal = shop.new_client("hal").await;
    fill_cart(shop, &hal, &[("TSHIRT-002", 2)]).await;
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
    assert_eq!(stock(shop, "TSHIRT-002").await, 83);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_cancels_restore_stock_once() {
    for shop in shops().await {
        racing_cancels_restore_stock_once_on(&shop).await;
    }
}

async fn racing_cancels_restore_stock_once_on(shop: &Shop) {
    let ivy = shop.new_client("ivy").await;
    fill_cart(shop, &ivy, &[("JEANS-002", 4)]).await;
    let order = shop.order.clone().place_order(as_user(&ivy, place("k"))).await.unwrap().into_inner().order.unwrap();
    assert_eq!(stock(shop, "JEANS-002").await, 46);
    let results = join_all((0..10).map(|_| {
        let mut orders = shop.order.clone();
        let (ivy, id) = (ivy.clone(), order.id.clone());
        async move { orders.cancel_order(as_user(&ivy, CancelOrderRequest { id })).await }
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert_eq!(stock(shop, "JEANS-002").await, 50);
}

/// Two tabs, or an API client retrying under new keys: one cart revision
/// becomes one order, and every checkout of it answers with that order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_cart_four_keys_one_order() {
    for shop in shops().await {
        one_cart_four_keys_one_order_on(&shop).await;
    }
}

async fn one_cart_four_keys_one_order_on(shop: &Shop) {
    let kim = shop.new_client("kim").await;
    fill_cart(shop, &kim, &[("HOODIE-001", 1)]).await;
    let before = stock(shop, "HOODIE-001").await;
    let results = join_all((0..4).map(|i| {
        let mut orders = shop.order.clone();
        let kim = kim.clone();
        async move { orders.place_order(as_user(&kim, place(&format!("tab-{i}")))).await }
    }))
    .await;
    let ids: std::collections::HashSet<String> = results
        .into_iter()
        .filter_map(|r| match r {
            Ok(r) => Some(r.into_inner().order.unwrap().id),
            // A checkout that came after the cart was emptied finds nothing to buy.
            Err(s) if s.code() == tonic::Code::FailedPrecondition && s.message().contains("empty") => None,
            Err(s) => panic!("{} ({})", s.message(), shop.backend),
        })
        .collect();
    assert_eq!(ids.len(), 1, "every checkout that placed one placed the same ({})", shop.backend);
    let mine =
        shop.order.clone().list_my_orders(as_user(&kim, ListMyOrdersRequest::default())).await.unwrap().into_inner();
    assert_eq!(mine.total, 1, "one order ({})", shop.backend);
    assert_eq!(stock(shop, "HOODIE-001").await, before - 1, "stock taken once ({})", shop.backend);
}

/// A double click on "Add to cart": both clicks count.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_all_count() {
    for shop in shops().await {
        let lou = shop.new_client("lou").await;
        let results = join_all((0..10).map(|_| {
            let mut cart = shop.cart.clone();
            let lou = lou.clone();
            async move {
                let add = atelier_proto::cart::AddItemRequest { code: "TSHIRT-001".into(), quantity: 1 };
                cart.add_item(as_user(&lou, add)).await
            }
        }))
        .await;
        assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
        let cart = shop
            .cart
            .clone()
            .get_cart(as_user(&lou, atelier_proto::cart::GetCartRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        assert_eq!(cart.lines[0].quantity, 10, "ten adds of one ({})", shop.backend);
    }
}

/// Two admins demoting each other at the same moment, ten times over: the
/// shop always keeps an admin (role changes are serialised by a guard row).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_demotions_never_remove_the_last_admin() {
    use atelier_proto::auth::{ListUsersRequest, Role, SetRoleRequest};
    for shop in shops().await {
        let admin = shop.admin().await;
        shop.new_client("mia").await;
        let promote = SetRoleRequest { username: "mia".into(), role: Role::Admin as i32 };
        shop.auth.clone().set_role(as_user(&admin, promote)).await.unwrap();
        let mia = shop.login("mia", "correct horse").await.1;
        let demote = |name: &str| SetRoleRequest { username: name.into(), role: Role::Client as i32 };
        for _ in 0..10 {
            let (mut a, mut b) = (shop.auth.clone(), shop.auth.clone());
            let (first, second) =
                tokio::join!(a.set_role(as_user(&admin, demote("mia"))), b.set_role(as_user(&mia, demote("admin"))));
            assert!(first.is_ok() || second.is_ok(), "one demotion wins ({})", shop.backend);
            let all = ListUsersRequest { per_page: 100, ..Default::default() };
            let users = match shop.auth.clone().list_users(as_user(&admin, all.clone())).await {
                Ok(users) => users,
                Err(_) => shop.auth.clone().list_users(as_user(&mia, all)).await.unwrap(),
            };
            let admins = users.into_inner().users.iter().filter(|u| u.role() == Role::Admin).count();
            assert_eq!(admins, 1, "exactly one admin left ({})", shop.backend);
            // Put the other back for the next round.
            let (survivor, demoted) = if first.is_ok() { (&admin, "mia") } else { (&mia, "admin") };
            let promote = SetRoleRequest { username: demoted.into(), role: Role::Admin as i32 };
            shop.auth.clone().set_role(as_user(survivor, promote)).await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_checkouts_get_numbers_of_their_own() {
    for shop in shops().await {
        concurrent_checkouts_get_numbers_of_their_own_on(&shop).await;
    }
}

async fn concurrent_checkouts_get_numbers_of_their_own_on(shop: &Shop) {
    let mut shoppers = vec![];
    for i in 0..12 {
        let token = shop.new_client(&format!("numbered-{i}")).await;
        fill_cart(shop, &token, &[("TSHIRT-001", 1)]).await;
        shoppers.push(token);
    }
    let results = join_all(shoppers.iter().map(|t| {
        let mut orders = shop.order.clone();
        async move { orders.place_order(as_user(t, place("numbered"))).await }
    }))
    .await;
    let mut numbers: Vec<i64> =
        results.into_iter().map(|r| r.expect("placed").into_inner().order.unwrap().number).collect();
    numbers.sort();
    let first = numbers[0];
    assert!(first >= 10001, "numbers start at 10001: {numbers:?}");
    assert_eq!(numbers, (first..first + 12).collect::<Vec<_>>(), "twelve orders, twelve numbers, none twice");
    // A number stays with its order.
    let mut orders = shop.order.clone();
    let listed = orders.list_my_orders(as_user(&shoppers[0], ListMyOrdersRequest::default())).await.unwrap();
    assert!(numbers.contains(&listed.into_inner().orders[0].number));
}
