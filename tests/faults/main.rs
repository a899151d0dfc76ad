//! The shop split into its five processes (`atelier-<role>`) on
//! PostgreSQL, with faults injected: services killed and restarted, the order
//! service crashing mid-checkout, a checkout storm. Figures are printed.

mod split;
mod tracing;

use serde_json::{Value, json};
use split::Split;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_product_service_fails_fast_and_recovers_without_restarting_the_gateway() {
    let Some(shop) = Split::start(&[]).await else { return };
    let token = shop.login("demo-client", "demo123").await;
    shop.call("POST", "/api/v1/cart/items", Some(&token), Some(json!({"sku": "JEANS-001", "quantity": 1}))).await;

    shop.kill("product");
    let started = Instant::now();
    let (status, body) = shop.call("GET", "/api/v1/products", None, None).await;
    let failed_in = started.elapsed();
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("unavailable")), "{body}");
    let (status, _) = shop.call("GET", "/api/v1/cart", Some(&token), None).await;
    assert_eq!(status, 503, "the cart needs the catalogue's prices");
    // What does not need the catalogue keeps working.
    assert_eq!(shop.call("GET", "/api/v1/me", Some(&token), None).await.0, 200);
    assert_eq!(shop.call("GET", "/api/v1/orders", Some(&token), None).await.0, 200);

    shop.restart("product");
    let restarted = Instant::now();
    let recovered_in = shop.until_ok("GET", "/api/v1/products").await;
    assert_eq!(shop.call("GET", "/api/v1/cart", Some(&token), None).await.0, 200);
    println!(
        "FIGURE product down: 503 after {failed_in:?}; recovered {recovered_in:?} after restart ({:?} incl. start-up)",
        restarted.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_auth_down_the_catalogue_browses_and_logging_in_waits() {
    let Some(shop) = Split::start(&[]).await else { return };
    let token = shop.login("demo-client", "demo123").await;
    shop.kill("auth");
    assert_eq!(shop.call("GET", "/api/v1/products?q=jeans", None, None).await.0, 200);
    assert_eq!(shop.call("GET", "/products", None, None).await.0, 200, "the web catalogue too");
    let (status, _) =
        shop.call("POST", "/api/v1/session", None, Some(json!({"username": "admin", "password": "admin123"}))).await;
    assert_eq!(status, 503);
    // Sessions are checked with the auth service on every request: while it
    // is down, signed-in calls answer 503 (never a wrong identity).
    assert_eq!(shop.call("GET", "/api/v1/cart", Some(&token), None).await.0, 503);
    shop.restart("auth");
    shop.until_ok("GET", "/readyz/dependencies").await;
    assert_eq!(shop.call("GET", "/api/v1/cart", Some(&token), None).await.0, 200, "the session survived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_cart_down_checkout_refuses_and_loses_nothing() {
    let Some(shop) = Split::start(&[]).await else { return };
    let token = shop.login("demo-client", "demo123").await;
    shop.call("POST", "/api/v1/cart/items", Some(&token), Some(json!({"sku": "HOODIE-001", "quantity": 2}))).await;
    let before = shop.stock("HOODIE-001").await;
    shop.kill("cart");
    assert_eq!(shop.call("GET", "/api/v1/products", None, None).await.0, 200);
    let (status, _) = shop.place_order(&token, "k-cart-down").await;
    assert_eq!(status, 503);
    assert_eq!(shop.stock("HOODIE-001").await, before, "nothing reserved");
    shop.restart("cart");
    shop.until_ok("GET", "/readyz/dependencies").await;
    let (status, order) = shop.place_order(&token, "k-cart-down").await;
    assert_eq!((status, order["lines"][0]["quantity"].as_i64()), (201, Some(2)), "the same key now places it");
    assert_eq!(shop.stock("HOODIE-001").await, before - 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_service_crash_between_reservation_and_order_loses_no_stock() {
    let Some(shop) =
        Split::start(&[("ATELIER_FAULT_CRASH_AFTER_RESERVE", "1"), ("ATELIER_ABANDONED_CHECKOUT_AFTER", "1")]).await
    else {
        return;
    };
    let token = shop.login("demo-client", "demo123").await;
    shop.call("POST", "/api/v1/cart/items", Some(&token), Some(json!({"sku": "JEANS-002", "quantity": 3}))).await;
    let initial = shop.stock("JEANS-002").await;
    let (status, _) = shop.place_order(&token, "k-crash").await;
    assert_eq!(status, 503, "the order service died mid-checkout");
    assert_eq!(shop.stock("JEANS-002").await, initial - 3, "the reservation was made before the crash");

    shop.clear_env("order");
    shop.restart("order");
    let started = Instant::now();
    loop {
        if shop.stock("JEANS-002").await == initial {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "recovery never released the stock");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("FIGURE order crash mid-checkout: stock released {:?} after restart", started.elapsed());
    // Audit: stock + units in live orders = initial.
    let (_, orders) = shop.call("GET", "/api/v1/orders", Some(&token), None).await;
    let ordered: i64 = orders["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["lines"].as_array().unwrap().clone())
        .filter(|l| l["sku"] == "JEANS-002")
        .map(|l| l["quantity"].as_i64().unwrap())
        .sum();
    assert_eq!(shop.stock("JEANS-002").await + ordered, initial);
    // The cart was kept; the shopper can simply try again.
    let (status, _) = shop.place_order(&token, "k-crash").await;
    assert_eq!(status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_checkout_storm_of_200_shoppers_on_20_units_sells_exactly_20() {
    let Some(shop) = Split::start(&[]).await else { return };
    let admin = shop.login("admin", "admin123").await;
    let (status, _) = shop
        .call(
            "POST",
            "/api/v1/admin/products",
            Some(&admin),
            Some(json!({"name": "Storm Jacket", "image": "builtin:jacket",
            "variants": [{"sku": "STORM-1", "size": "M", "color": "Navy", "price_cents": 9900, "stock": 20}]})),
        )
        .await;
    assert_eq!(status, 201);
    // Shoppers sign up a few at a time (argon2 is deliberately costly); then all check out at once.
    let mut tokens: Vec<String> = vec![];
    for batch in (0..200).collect::<Vec<_>>().chunks(10) {
        tokens.extend(futures::future::join_all(batch.iter().map(|i| {
        let shop = &shop;
        async move {
            let name = format!("storm-{i}");
            let body = json!({"username": name, "password": "storm password", "email": format!("{name}@example.com"), "phone": "0123456789"});
            assert_eq!(shop.call("POST", "/api/v1/users", None, Some(body)).await.0, 201);
            let token = shop.login(&name, "storm password").await;
            assert_eq!(shop.call("POST", "/api/v1/cart/items", Some(&token), Some(json!({"sku": "STORM-1", "quantity": 1}))).await.0, 200);
            token
        }
    }))
    .await);
    }
    let started = Instant::now();
    let results = futures::future::join_all(tokens.iter().map(|t| shop.place_order(t, "storm"))).await;
    let took = started.elapsed();
    let placed = results.iter().filter(|(s, _)| *s == 201).count();
    let refused: Vec<&Value> = results.iter().filter(|(s, _)| *s != 201).map(|(_, b)| b).collect();
    assert_eq!(placed, 20);
    assert!(results.iter().all(|(s, _)| *s == 201 || *s == 409), "only sold or a clear refusal: {refused:?}");
    assert!(
        refused.iter().all(|b| b["error"]["message"].as_str().unwrap_or_default().contains("out of stock")),
        "{:?}",
        refused.first()
    );
    assert_eq!(shop.stock("STORM-1").await, 0);
    let (_, all) = shop.call("GET", "/api/v1/admin/orders?per_page=100", Some(&admin), None).await;
    assert_eq!(all["total"], 20);
    println!(
        "FIGURE checkout storm: 200 concurrent checkouts, 20 units, {placed} orders, {} refusals, in {took:?}",
        refused.len()
    );
}

/// Shoppers checking out in a loop until `stop`; every (status, order id).
async fn checkout_traffic(shop: &Split, tokens: &[String], stop: &std::sync::atomic::AtomicBool) -> Vec<(u16, String)> {
    use std::sync::atomic::Ordering;
    let results = futures::future::join_all(tokens.iter().enumerate().map(|(i, token)| async move {
        let mut seen = vec![];
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let (s, _) = shop
                .call("POST", "/api/v1/cart/items", Some(token), Some(json!({"sku": "LOAD-1", "quantity": 1})))
                .await;
            if s != 200 {
                seen.push((s, String::new()));
                continue;
            }
            // A client that got no answer retries with the same key, as the
            // web site's form and any careful API client do.
            let key = format!("load-{i}-{n}");
            let mut outcome = shop.place_order(token, &key).await;
            for _ in 0..100 {
                if outcome.0 != 503 {
                    break;
                }
                seen.push((503, String::new()));
                tokio::time::sleep(Duration::from_millis(50)).await;
                outcome = shop.place_order(token, &key).await;
            }
            seen.push((outcome.0, outcome.1["id"].as_str().unwrap_or_default().to_string()));
        }
        seen
    }))
    .await;
    results.into_iter().flatten().collect()
}

async fn shoppers(shop: &Split, n: usize) -> Vec<String> {
    let admin = shop.login("admin", "admin123").await;
    let body = json!({"name": "Load Tee", "image": "builtin:tshirt", "variants": [{"sku": "LOAD-1", "size": "M", "color": "Black", "price_cents": 1000, "stock": 100000}]});
    assert_eq!(shop.call("POST", "/api/v1/admin/products", Some(&admin), Some(body)).await.0, 201);
    let mut tokens = vec![];
    for i in 0..n {
        let name = format!("load-{i}");
        let body = json!({"username": name, "password": "load password", "email": format!("{name}@example.com"), "phone": "0123456789"});
        assert_eq!(shop.call("POST", "/api/v1/users", None, Some(body)).await.0, 201);
        tokens.push(shop.login(&name, "load password").await);
    }
    tokens
}

/// Units of LOAD-1 in orders that are not canceled, across all shoppers.
async fn ordered_units(shop: &Split) -> (i64, usize) {
    let admin = shop.login("admin", "admin123").await;
    let (mut units, mut orders, mut page) = (0, 0, 1);
    loop {
        let (_, body) =
            shop.call("GET", &format!("/api/v1/admin/orders?per_page=100&page={page}"), Some(&admin), None).await;
        let items = body["items"].as_array().unwrap().clone();
        if items.is_empty() {
            return (units, orders);
        }
        for o in items.iter().filter(|o| o["status"] != "canceled") {
            orders += 1;
            units += o["lines"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| l["sku"] == "LOAD-1")
                .map(|l| l["quantity"].as_i64().unwrap())
                .sum::<i64>();
        }
        page += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_on_the_order_service_mid_traffic_finishes_what_it_accepted() {
    let Some(shop) = Split::start(&[]).await else { return };
    let tokens = shoppers(&shop, 8).await;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let fault = async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        shop.terminate("order"); // graceful: stop accepting, finish in-flight checkouts
        tokio::time::sleep(Duration::from_millis(300)).await;
        shop.restart("order");
        shop.until_ok("GET", "/readyz/dependencies").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let (results, ()) = tokio::join!(checkout_traffic(&shop, &tokens, &stop), fault);
    let placed: Vec<&String> = results.iter().filter(|(s, _)| *s == 201).map(|(_, id)| id).collect();
    let unavailable = results.iter().filter(|(s, _)| *s == 503).count();
    assert!(
        results.iter().all(|(s, _)| matches!(s, 200 | 201 | 503)),
        "only successes and clear 503s: {:?}",
        results.iter().filter(|(s, _)| !matches!(s, 200 | 201 | 503)).collect::<Vec<_>>()
    );
    assert!(
        !placed.is_empty() && unavailable > 0,
        "the fault hit live traffic ({} placed, {unavailable} refused)",
        placed.len()
    );
    // No accepted order is lost, none is doubled, no stock is held by a dead checkout.
    let (units, orders) = ordered_units(&shop).await;
    let distinct: std::collections::HashSet<&String> = placed.iter().copied().collect();
    assert_eq!(distinct.len(), placed.len());
    assert_eq!(orders, placed.len(), "every 201 is an order, and only those");
    assert_eq!(shop.stock("LOAD-1").await + units, 100_000, "audit: stock + ordered = initial");
    println!(
        "FIGURE SIGTERM on order mid-traffic: {} requests, {} orders, {unavailable} clear 503s, audit balanced",
        results.len(),
        placed.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgresql_restart_under_traffic_loses_and_doubles_nothing() {
    let Some(shop) = Split::start_dedicated(&[("ATELIER_ABANDONED_CHECKOUT_AFTER", "1")]).await else { return };
    let pg = shop.pg.unwrap();
    let tokens = shoppers(&shop, 8).await;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let down = std::sync::Mutex::new(Duration::ZERO);
    let fault = async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        let killed = Instant::now();
        pg.kill();
        tokio::time::sleep(Duration::from_millis(1000)).await;
        pg.start_again();
        shop.until_ok("GET", "/api/v1/products?q=LOAD-1").await;
        *down.lock().unwrap() = killed.elapsed();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let (results, ()) = tokio::join!(checkout_traffic(&shop, &tokens, &stop), fault);
    let statuses: std::collections::BTreeMap<u16, usize> = results.iter().fold(Default::default(), |mut m, (s, _)| {
        *m.entry(*s).or_default() += 1;
        m
    });
    assert!(!statuses.contains_key(&500), "no 500 hides a lost write: {statuses:?}");
    // Requests during the outage either wait for a connection and succeed or
    // get a clear 503; both are fine, a 500 or a lost order is not.
    let placed: Vec<&String> = results.iter().filter(|(s, _)| *s == 201).map(|(_, id)| id).collect();
    let after_restart = results.iter().rev().take(8).filter(|(s, _)| *s == 201 || *s == 200).count();
    assert!(after_restart > 0, "the services reconnected by themselves: {statuses:?}");
    // Checkouts cut by the outage are released by recovery; then the audit balances.
    let started = Instant::now();
    loop {
        let (units, orders) = ordered_units(&shop).await;
        if shop.stock("LOAD-1").await + units == 100_000 {
            assert!(orders >= placed.len(), "every 201 is an order");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "stock + ordered never balanced");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let distinct: std::collections::HashSet<&String> = placed.iter().copied().collect();
    assert_eq!(distinct.len(), placed.len(), "no order recorded twice");
    println!(
        "FIGURE PostgreSQL killed and restarted under traffic: {statuses:?}; catalogue back {:?} after the kill",
        down.lock().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_process_serves_metrics() {
    let Some(shop) = Split::start(&[]).await else { return };
    let token = shop.login("demo-client", "demo123").await;
    shop.call("POST", "/api/v1/cart/items", Some(&token), Some(json!({"sku": "TSHIRT-001", "quantity": 1}))).await;
    assert_eq!(shop.place_order(&token, "m-1").await.0, 201);
    let product = shop.metrics("product").await;
    assert!(product.contains("atelier_grpc_requests_total{method=\"POST\",rpc=\"/atelier.product.v1.ProductService/Reserve\",code=\"0\"} 1"), "{product}");
    assert!(product.contains("atelier_grpc_request_duration_seconds_bucket"), "{product}");
    assert!(product.contains("atelier_db_pool_connections{service=\"product\""), "{product}");
    let order = shop.metrics("order").await;
    assert!(order.contains("atelier_orders_placed_total 1"), "{order}");
    let auth = shop.metrics("auth").await;
    assert!(auth.contains("atelier_logins_succeeded_total 1"), "{auth}");
    assert!(shop.metrics("cart").await.contains("/atelier.cart.v1.CartService/AddItem"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admin_stock_edits_during_checkouts_lose_no_update() {
    let Some(shop) = Split::start(&[]).await else { return };
    let tokens = shoppers(&shop, 6).await;
    let admin = shop.login("admin", "admin123").await;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let edits = async {
        // Twenty restocks of +5 each, concurrently with the checkouts.
        let results = futures::future::join_all((0..20).map(|_| {
            shop.call("PATCH", "/api/v1/admin/variants/LOAD-1", Some(&admin), Some(json!({"stock_delta": 5})))
        }))
        .await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        results
    };
    let (traffic, edits) = tokio::join!(checkout_traffic(&shop, &tokens, &stop), edits);
    assert!(edits.iter().all(|(s, _)| *s == 200), "{edits:?}");
    assert!(traffic.iter().all(|(s, _)| matches!(s, 200 | 201)), "{traffic:?}");
    let (units, _) = ordered_units(&shop).await;
    assert_eq!(shop.stock("LOAD-1").await, 100_000 + 20 * 5 - units, "every restock and every sale counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mixed_load_ends_with_zero_5xx_and_a_balanced_audit() {
    let Some(shop) = Split::start(&[]).await else { return };
    let tokens = shoppers(&shop, 8).await;
    let started = Instant::now();
    let per_shopper = futures::future::join_all(tokens.iter().enumerate().map(|(i, token)| {
        let shop = &shop;
        async move {
            let mut statuses = vec![];
            for n in 0..12 {
                statuses.push(shop.call("GET", "/api/v1/products?q=tee&sort=price_asc", None, None).await.0);
                statuses.push(shop.call("GET", "/products/load-tee", None, None).await.0);
                statuses.push(
                    shop.call(
                        "POST",
                        "/api/v1/cart/items",
                        Some(token),
                        Some(json!({"sku": "LOAD-1", "quantity": 1 + n % 3})),
                    )
                    .await
                    .0,
                );
                statuses.push(shop.call("GET", "/api/v1/cart", Some(token), None).await.0);
                let (s, order) = shop.place_order(token, &format!("mix-{i}-{n}")).await;
                statuses.push(s);
                if n % 3 == 0 {
                    let id = order["id"].as_str().unwrap_or_default();
                    statuses.push(shop.call("POST", &format!("/api/v1/orders/{id}/cancel"), Some(token), None).await.0);
                }
            }
            statuses
        }
    }))
    .await;
    let took = started.elapsed();
    let all: Vec<u16> = per_shopper.into_iter().flatten().collect();
    let server_errors = all.iter().filter(|s| **s >= 500).count();
    assert_eq!(server_errors, 0, "{all:?}");
    assert!(all.iter().all(|s| matches!(s, 200 | 201)), "{all:?}");
    let (units, orders) = ordered_units(&shop).await;
    assert_eq!(shop.stock("LOAD-1").await + units, 100_000, "stock + ordered − canceled = initial");
    println!(
        "FIGURE mixed load: {} requests by 8 shoppers in {took:?} ({:.0} req/s), 0 5xx, {orders} live orders, audit balanced",
        all.len(),
        all.len() as f64 / took.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn secrets_never_reach_logs_errors_or_metrics() {
    let Some(shop) =
        Split::start_with(&[("RUST_LOG", "debug,h2=info,hyper=info,tower=info"), ("ATELIER_LOG_FORMAT", "json")], &[])
            .await
    else {
        return;
    };
    let password = "Correct-Horse-7731";
    let body =
        json!({"username": "secretive", "password": password, "email": "secretive@example.com", "phone": "0123456789"});
    assert_eq!(shop.call("POST", "/api/v1/users", None, Some(body)).await.0, 201);
    let token = shop.login("secretive", password).await;
    let (_, wrong) = shop
        .call("POST", "/api/v1/session", None, Some(json!({"username": "secretive", "password": "Wrong-Guess-9917"})))
        .await;
    let new_password = "Battery-Staple-4402";
    let (s, changed) = shop
        .call(
            "POST",
            "/api/v1/me/password",
            Some(&token),
            Some(json!({"current_password": password, "new_password": new_password})),
        )
        .await;
    assert_eq!(s, 200);
    shop.call(
        "POST",
        "/api/v1/cart/items",
        Some(changed["token"].as_str().unwrap()),
        Some(json!({"sku": "TSHIRT-001", "quantity": 1})),
    )
    .await;
    assert_eq!(shop.place_order(changed["token"].as_str().unwrap(), "secret-order").await.0, 201);

    let env = shop.env_of("auth");
    let signing_key = env.iter().find(|(k, _)| k == "ATELIER_IDENTITY_SIGNING_KEY").unwrap().1.clone();
    let database_url = env.iter().find(|(k, _)| k == "ATELIER_DATABASE_URL").unwrap().1.clone();
    let service_token = shop.env_of("order").into_iter().find(|(k, _)| k == "ATELIER_SERVICE_TOKEN").unwrap().1;
    let secrets = [
        password,
        new_password,
        "Wrong-Guess-9917",
        &token,
        changed["token"].as_str().unwrap(),
        &signing_key,
        &service_token,
        &database_url,
    ];
    let logs = shop.all_logs();
    assert!(logs.contains("registered") && logs.len() > 10_000, "debug logs were written: {} bytes", logs.len());
    let mut metrics = String::new();
    for role in ["auth", "product", "cart", "order"] {
        metrics.push_str(&shop.metrics(role).await);
    }
    let gateway_metrics = shop.text("/metrics").await;
    for secret in secrets {
        assert!(!logs.contains(secret), "a secret is in the logs");
        assert!(!metrics.contains(secret) && !gateway_metrics.contains(secret), "a secret is in /metrics");
        assert!(!wrong.to_string().contains(secret), "a secret is in an error");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wrong_password_and_an_unknown_user_take_as_long() {
    let Some(shop) = Split::start(&[]).await else { return };
    for i in 0..5 {
        let body = json!({"username": format!("known-{i}"), "password": "long enough", "email": format!("known-{i}@example.com"), "phone": "0123456789"});
        assert_eq!(shop.call("POST", "/api/v1/users", None, Some(body)).await.0, 201);
    }
    let mut known = vec![];
    let mut unknown = vec![];
    for round in 0..4 {
        for i in 0..5 {
            for (name, into) in [(format!("known-{i}"), &mut known), (format!("ghost-{round}-{i}"), &mut unknown)] {
                let started = Instant::now();
                let (s, b) = shop
                    .call("POST", "/api/v1/session", None, Some(json!({"username": name, "password": "not it at all"})))
                    .await;
                into.push(started.elapsed());
                assert_eq!((s, b["error"]["message"].as_str()), (401, Some("wrong username or password")));
            }
        }
    }
    known.sort();
    unknown.sort();
    let (k, u) = (known[known.len() / 2], unknown[unknown.len() / 2]);
    let ratio = k.as_secs_f64() / u.as_secs_f64();
    println!(
        "FIGURE login timing: median {k:?} for a known user with a wrong password, {u:?} for an unknown user (ratio {ratio:.2})"
    );
    // Both verify an argon2 hash; without the dummy hash the unknown user
    // would answer many times faster.
    assert!((0.5..2.0).contains(&ratio), "a measurable difference: {k:?} vs {u:?}");
}

/// Pages read sessions, bags and products through a cache that lives a
/// moment; a form post renews the browser's bag stamp, so the next page
/// reads the bag afresh on whichever gateway replica serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bag_filled_on_one_gateway_shows_at_once_on_another() {
    let Some(shop) = Split::start(&[]).await else { return };
    let other = shop.start_another_gateway().await;
    let token = shop.login("demo-client", "demo123").await;
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let cookies = |stamp: &str| format!("atelier_session={token}; atelier_bag_stamp={stamp}");
    let page = |base: String, stamp: String| {
        let request = browser.get(format!("{base}/products/classic-denim-jeans")).header("cookie", cookies(&stamp));
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    // The other replica has just read the (empty) bag under this stamp.
    assert!(!page(other.clone(), "before".into()).await.contains("bag-count"), "the bag starts empty");

    let form = page(shop.base().to_string(), "before".into()).await;
    let field = |name: &str| {
        let at = form.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no {name} field"));
        let value = &form[at + name.len() + 15..];
        value[..value.find('"').unwrap()].to_string()
    };
    let added = browser
        .post(format!("{}/cart/items", shop.base()))
        .header("cookie", cookies("before"))
        .form(&[
            ("csrf", field("csrf")),
            ("product_id", field("product_id")),
            ("code", "JEANS-002".into()),
            ("quantity", "2".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 303);
    let stamp = added
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.strip_prefix("atelier_bag_stamp="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .next()
        .expect("a form post renews the bag stamp");
    assert_ne!(stamp, "before");

    let next = page(other, stamp).await;
    assert!(
        next.contains(r#"<span class="bag-count" aria-hidden="true">2</span>"#),
        "the other replica shows the bag as it is now"
    );
}

/// A guest cookie is never checked before a page's bag is read from the
/// read cache, so it must never name a signed-in shopper's bag.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_made_up_guest_cookie_never_shows_a_shoppers_bag() {
    let Some(shop) = Split::start(&[]).await else { return };
    let token = shop.login("demo-client", "demo123").await;
    let (_, me) = shop.call("GET", "/api/v1/me", Some(&token), None).await;
    let id = me["id"].as_str().expect("the account's id").to_string();
    let (status, _) =
        shop.call("POST", "/api/v1/cart/items", Some(&token), Some(json!({"sku": "JEANS-002", "quantity": 3}))).await;
    assert_eq!(status, 200);
    let browser = reqwest::Client::new();
    let page = |cookies: String| {
        let request = browser.get(format!("{}/products/classic-denim-jeans", shop.base())).header("cookie", cookies);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let count = r#"<span class="bag-count" aria-hidden="true">3</span>"#;
    // The shopper's page puts their bag in the read cache...
    assert!(page(format!("atelier_session={token}; atelier_bag_stamp=s1")).await.contains(count));
    // ...which a visitor naming the shopper's id as their guest bag never reads.
    let visitor = page(format!("atelier_bag={id}; atelier_bag_stamp=s1")).await;
    assert!(!visitor.contains("bag-count"), "a visitor saw the shopper's bag");
}
