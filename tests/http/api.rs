use crate::client::{TestShop, json};
use http::StatusCode;
use serde_json::{Value, json};

async fn token(shop: &TestShop, username: &str, password: &str) -> String {
    let (status, body) =
        json(&shop.app, "POST", "/api/v1/session", None, Some(json!({"username": username, "password": password})))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_journey_through_the_api() {
    let shop = TestShop::start().await;
    let app = &shop.app;
    let (s, b) = json(app, "POST", "/api/v1/users", None, Some(json!({"username": "api-ann", "password": "long enough", "email": "ann@example.com", "phone": "0123456789"}))).await;
    assert_eq!((s, b["role"].as_str()), (StatusCode::CREATED, Some("client")));
    let (s, b) = json(
        app,
        "POST",
        "/api/v1/users",
        None,
        Some(
            json!({"username": "api-ann", "password": "long enough", "email": "x@example.com", "phone": "0123456789"}),
        ),
    )
    .await;
    assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")));
    let (s, b) = json(
        app,
        "POST",
        "/api/v1/users",
        None,
        Some(json!({"username": "x", "password": "1", "email": "bad", "phone": "1"})),
    )
    .await;
    assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid")));
    let (s, _) =
        json(app, "POST", "/api/v1/session", None, Some(json!({"username": "api-ann", "password": "wrong password"})))
            .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let t = token(&shop, "api-ann", "long enough").await;

    let (s, b) =
        json(app, "GET", "/api/v1/products?q=jeans&size=L&in_stock=true&sort=price_desc&per_page=5", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(b["items"].as_array().unwrap().iter().any(|p| p["id"] == "classic-denim-jeans"));
    let (s, _) = json(app, "GET", "/api/v1/products?size=XXXL", None, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = json(app, "GET", "/api/v1/products?min_price=-5", None, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, b) = json(app, "GET", "/api/v1/products/classic-denim-jeans", None, None).await;
    assert_eq!((s, b["variants"].as_array().unwrap().len()), (StatusCode::OK, 2));

    let (s, _) = json(app, "GET", "/api/v1/cart", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, b) =
        json(app, "POST", "/api/v1/cart/items", Some(&t), Some(json!({"sku": "JEANS-001", "quantity": 2}))).await;
    assert_eq!((s, b["total_cents"].as_i64()), (StatusCode::OK, Some(9998)));
    let (s, _) =
        json(app, "POST", "/api/v1/cart/items", Some(&t), Some(json!({"sku": "JEANS-001", "quantity": "two"}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) =
        json(app, "POST", "/api/v1/cart/items", Some(&t), Some(json!({"sku": "JEANS-001", "quantity": 51}))).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, b) = json(app, "PATCH", "/api/v1/cart/items/JEANS-001", Some(&t), Some(json!({"quantity": 3}))).await;
    assert_eq!((s, b["lines"][0]["quantity"].as_i64()), (StatusCode::OK, Some(3)));

    let (s, _) = json(app, "POST", "/api/v1/orders", Some(&t), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "Idempotency-Key required");
    let place = |key: &'static str| {
        let app = app.clone();
        let t = t.clone();
        async move {
            use tower::ServiceExt as _;
            let request = http::Request::post("/api/v1/orders")
                .header("authorization", format!("Bearer {t}"))
                .header("idempotency-key", key)
                .body(axum::body::Body::empty())
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let body: Value =
                serde_json::from_slice(&axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap()).unwrap();
            (status, body)
        }
    };
    // No address given and none saved: a clear 422, nothing placed.
    let (s, refused) = place("key-0").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("no delivery address"), "{refused}");
    let address =
        json!({"name": "Ann Api", "line1": "Via Roma 1", "postcode": "50100", "city": "Florence", "country": "Italy"});
    let (s, b) = json(
        app,
        "POST",
        "/api/v1/addresses",
        Some(&t),
        Some(json!({"name": "", "line1": "", "postcode": "", "city": "", "country": ""})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let (s, saved) = json(app, "POST", "/api/v1/addresses", Some(&t), Some(address)).await;
    assert_eq!(
        (s, saved["is_default"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "the first address is the default"
    );
    let (s, list) = json(app, "GET", "/api/v1/addresses", Some(&t), None).await;
    assert_eq!((s, list.as_array().unwrap().len()), (StatusCode::OK, 1));
    let (s, order) = place("key-1").await;
    assert_eq!(
        (s, order["status"].as_str(), order["total_cents"].as_i64()),
        (StatusCode::CREATED, Some("processing"), Some(14997)),
        "goods of €149.97 travel free by standard delivery: {order}"
    );
    assert_eq!((order["address"]["city"].as_str(), order["delivery"].as_str()), (Some("Florence"), Some("standard")));
    let (_, again) = place("key-1").await;
    assert_eq!(again["id"], order["id"]);
    let (s, b) = json(app, "GET", "/api/v1/orders", Some(&t), None).await;
    assert_eq!((s, b["total"].as_u64()), (StatusCode::OK, Some(1)));
    let id = order["id"].as_str().unwrap();
    let (s, b) = json(app, "POST", &format!("/api/v1/orders/{id}/cancel"), Some(&t), None).await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("canceled")));
    let (s, _) = json(app, "POST", &format!("/api/v1/orders/{id}/cancel"), Some(&t), None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (_, b) = json(app, "GET", "/api/v1/products/classic-denim-jeans", None, None).await;
    assert_eq!(b["variants"].as_array().unwrap().iter().find(|v| v["sku"] == "JEANS-001").unwrap()["stock"], 50);

    // Admin routes refuse a client; the admin can use them.
    for (method, path) in [
        ("GET", "/api/v1/admin/users"),
        ("GET", "/api/v1/admin/orders"),
        ("POST", "/api/v1/admin/products"),
        ("PATCH", "/api/v1/admin/users/admin"),
        ("DELETE", "/api/v1/admin/products/classic-denim-jeans"),
    ] {
        let (s, b) = json(app, method, path, Some(&t), Some(json!({"role": "client", "name": "x"}))).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{method} {path}");
    }
    let admin = token(&shop, "admin", "admin123").await;
    let (s, b) = json(app, "GET", "/api/v1/admin/orders?user=api-ann&status=canceled", Some(&admin), None).await;
    assert_eq!((s, b["total"].as_u64()), (StatusCode::OK, Some(1)));
    let (s, p) = json(app, "POST", "/api/v1/admin/products", Some(&admin), Some(json!({"name": "Wax Jacket", "category": "Jackets", "image": "builtin:jacket", "variants": [{"sku": "WAX-M", "size": "M", "color": "Olive", "price_cents": 19900, "stock": 3}]}))).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, _) = json(
        app,
        "PATCH",
        "/api/v1/admin/products/wax-jacket",
        Some(&admin),
        Some(json!({"version": p["version"], "description": "Waxed cotton"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = json(
        app,
        "PATCH",
        "/api/v1/admin/products/wax-jacket",
        Some(&admin),
        Some(json!({"version": p["version"], "description": "Stale"})),
    )
    .await;
    assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "a stale edit is refused");
    let (s, b) = json(
        app,
        "PATCH",
        "/api/v1/admin/variants/WAX-M",
        Some(&admin),
        Some(json!({"stock_delta": 2, "price_cents": 17900})),
    )
    .await;
    assert_eq!(
        (s, b["variants"][0]["stock"].as_i64(), b["variants"][0]["price_cents"].as_i64()),
        (StatusCode::OK, Some(5), Some(17900))
    );
    let (s, _) = json(
        app,
        "POST",
        "/api/v1/admin/products/wax-jacket/variants",
        Some(&admin),
        Some(json!({"sku": "WAX-L", "size": "L", "color": "Olive", "price_cents": 17900, "stock": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = json(app, "DELETE", "/api/v1/admin/variants/WAX-L", Some(&admin), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = json(app, "DELETE", "/api/v1/admin/products/wax-jacket", Some(&admin), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = json(app, "PATCH", "/api/v1/admin/users/api-ann", Some(&admin), Some(json!({"role": "admin"}))).await;
    assert_eq!((s, b["role"].as_str()), (StatusCode::OK, Some("admin")));
    let (s, _) = json(app, "GET", "/api/v1/me", Some(&t), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a role change ends the user's sessions");

    let (s, _) = json(app, "DELETE", "/api/v1/session", Some(&admin), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = json(app, "GET", "/api/v1/me", Some(&admin), None).await;
    assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route() {
    let shop = TestShop::start().await;
    let (s, doc) = json(&shop.app, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    // Every route the API serves is documented…
    let served = [
        ("post", "/api/v1/session"),
        ("delete", "/api/v1/session"),
        ("post", "/api/v1/users"),
        ("get", "/api/v1/me"),
        ("patch", "/api/v1/me"),
        ("post", "/api/v1/me/password"),
        ("get", "/api/v1/products"),
        ("get", "/api/v1/products/{id}"),
        ("get", "/api/v1/cart"),
        ("delete", "/api/v1/cart"),
        ("post", "/api/v1/cart/items"),
        ("patch", "/api/v1/cart/items/{sku}"),
        ("delete", "/api/v1/cart/items/{sku}"),
        ("post", "/api/v1/orders"),
        ("get", "/api/v1/orders"),
        ("get", "/api/v1/orders/{id}"),
        ("post", "/api/v1/orders/{id}/cancel"),
        ("get", "/api/v1/addresses"),
        ("post", "/api/v1/addresses"),
        ("get", "/api/v1/admin/users"),
        ("patch", "/api/v1/admin/users/{username}"),
        ("post", "/api/v1/admin/products"),
        ("patch", "/api/v1/admin/products/{id}"),
        ("delete", "/api/v1/admin/products/{id}"),
        ("post", "/api/v1/admin/products/{id}/variants"),
        ("patch", "/api/v1/admin/variants/{sku}"),
        ("delete", "/api/v1/admin/variants/{sku}"),
        ("get", "/api/v1/admin/orders"),
        ("patch", "/api/v1/admin/orders/{id}"),
    ];
    for (method, path) in served {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is not documented");
    }
    // …and everything documented is served (no 404 "no such route", no 405).
    let mut documented = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            documented += 1;
            let uri = path.replace("{id}", "x").replace("{sku}", "X-1").replace("{username}", "u");
            let (s, b) = json(&shop.app, &method.to_uppercase(), &uri, None, None).await;
            assert_ne!(s, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !(s == StatusCode::NOT_FOUND && b["error"]["message"] == "no such API route"),
                "{method} {path} not served"
            );
        }
    }
    assert_eq!(documented, served.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_cart_service_down_the_catalogue_still_works() {
    let shop = TestShop::start().await;
    // A gateway whose cart service address answers nothing.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let backends = atelier_gateway::Backends { cart: dead, ..shop.backends.clone() };
    let app = atelier_gateway::app(&backends).unwrap();
    let t = {
        let (_, b) = json(
            &app,
            "POST",
            "/api/v1/session",
            None,
            Some(json!({"username": "demo-client", "password": "demo123"})),
        )
        .await;
        b["token"].as_str().unwrap().to_string()
    };
    let (s, _) = json(&app, "GET", "/api/v1/products", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = json(&app, "GET", "/api/v1/cart", Some(&t), None).await;
    assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")));
    // The gateway stays ready (it still serves the catalogue); the report of
    // its dependencies names the one that is down.
    let (s, _) = json(&app, "GET", "/readyz", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = json(&app, "GET", "/readyz/dependencies", None, None).await;
    assert_eq!(
        (s, b["cart"].as_str(), b["product"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable"), Some("ok"))
    );
    let (s, _) = json(&shop.app, "GET", "/readyz/dependencies", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let metrics = {
        use tower::ServiceExt as _;
        let r =
            app.clone().oneshot(http::Request::get("/metrics").body(axum::body::Body::empty()).unwrap()).await.unwrap();
        String::from_utf8(axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
    };
    assert!(metrics.contains("route=\"/api/v1/cart\",status=\"503\"}"), "{metrics}");
    assert!(
        metrics.contains(
            "atelier_grpc_requests_total{method=\"POST\",rpc=\"/atelier.auth.v1.AuthService/Login\",code=\"0\"}"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("atelier_logins_succeeded_total"), "business counters: {metrics}");
    assert!(metrics.contains("atelier_db_pool_connections{service=\"product\""), "pool gauges: {metrics}");
    assert!(!metrics.contains(&t), "no secrets in metrics");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_limited_per_account_with_retry_after() {
    use tower::ServiceExt as _;
    let shop = TestShop::start().await;
    let attempt = |username: &'static str, password: &'static str| {
        let app = shop.app.clone();
        async move {
            let request = http::Request::post("/api/v1/session")
                .header("content-type", "application/json")
                .header("x-forwarded-for", "203.0.113.9")
                .body(axum::body::Body::from(json!({"username": username, "password": password}).to_string()))
                .unwrap();
            app.oneshot(request).await.unwrap()
        }
    };
    for _ in 0..5 {
        assert_eq!(attempt("demo-client", "guess-guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = attempt("demo-client", "demo123").await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits: {:?}", locked.headers());
    let wait: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait > 0);
    // Someone else at the same address (an office behind NAT) logs in fine.
    assert_eq!(attempt("admin", "admin123").await.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_never_answers_is_cut_off_at_the_deadline() {
    let shop = TestShop::start().await;
    // A test double behind a real socket: accepts connections, never answers.
    let black_hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = black_hole.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let mut held = vec![];
        while let Ok((socket, _)) = black_hole.accept().await {
            held.push(socket);
        }
    });
    let app = atelier_gateway::app(&atelier_gateway::Backends { product: address, ..shop.backends.clone() }).unwrap();
    let started = std::time::Instant::now();
    let results = futures::future::join_all((0..20).map(|_| json(&app, "GET", "/api/v1/products", None, None))).await;
    let took = started.elapsed();
    assert!(
        results.iter().all(|(s, b)| *s == StatusCode::SERVICE_UNAVAILABLE && b["error"]["code"] == "unavailable"),
        "{results:?}"
    );
    // The rest of the shop is unaffected meanwhile.
    let (s, _) =
        json(&app, "POST", "/api/v1/session", None, Some(json!({"username": "demo-client", "password": "demo123"})))
            .await;
    assert_eq!(s, StatusCode::CREATED);
    println!("FIGURE slow product service: 20 concurrent catalogue requests all answered 503 within {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_clear_4xx_and_change_nothing() {
    use tower::ServiceExt as _;
    let shop = TestShop::start().await;
    let send = |request: http::Request<axum::body::Body>| {
        let app = shop.app.clone();
        async move {
            let r = app.oneshot(request).await.unwrap();
            let status = r.status();
            let body: Value = serde_json::from_slice(&axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap())
                .unwrap_or(Value::Null);
            (status, body)
        }
    };
    let post = |content_type: &str, body: Vec<u8>| {
        http::Request::post("/api/v1/users")
            .header("content-type", content_type)
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    // Too large, wrong content type, broken JSON, invalid UTF-8, wrong types, huge numbers.
    let (s, b) = send(post("application/json", vec![b' '; 100 * 1024])).await;
    assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));
    let (s, _) = send(post("text/plain", br#"{"username":"x"}"#.to_vec())).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, _) = send(post("application/json", br#"{"username": "#.to_vec())).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = send(post("application/json", b"{\"username\": \"\xff\xfe\", \"password\": \"long enough\", \"email\": \"u@example.com\", \"phone\": \"0123456789\"}".to_vec())).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "invalid UTF-8 is not JSON");
    let (s, _) =
        send(post("application/json", br#"{"username": 42, "password": [], "email": null, "phone": {}}"#.to_vec()))
            .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let t = token(&shop, "demo-client", "demo123").await;
    for quantity in [json!(-1), json!(0), json!(1e30), json!(9_223_372_036_854_775_807i64), json!("3")] {
        let (s, b) = json(
            &shop.app,
            "POST",
            "/api/v1/cart/items",
            Some(&t),
            Some(json!({"sku": "TSHIRT-001", "quantity": quantity})),
        )
        .await;
        assert!(s == StatusCode::UNPROCESSABLE_ENTITY, "{quantity}: {s} {b}");
    }
    let (_, cart) = json(&shop.app, "GET", "/api/v1/cart", Some(&t), None).await;
    assert!(cart["lines"].as_array().unwrap().is_empty(), "nothing was written");
    let (s, _) = json(
        &shop.app,
        "PATCH",
        "/api/v1/admin/orders/x",
        Some(&token(&shop, "admin", "admin123").await),
        Some(json!({"status": "teleported"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "unknown enum value");

    // The web forms: invalid UTF-8 and oversized bodies are refused as well.
    let mut b = shop.browser();
    b.get("/login").await;
    let csrf = b.cookies["atelier_csrf"].clone();
    let mut form = format!("csrf={csrf}&username=").into_bytes();
    form.extend_from_slice(b"\xff\xfe&password=x");
    let request = http::Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(form))
        .unwrap();
    let page = b.send(request).await;
    assert!(page.status.is_client_error(), "{}", page.status);
    let big = format!("csrf={csrf}&username={}", "a".repeat(100 * 1024));
    let request = http::Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(big))
        .unwrap();
    assert_eq!(b.send(request).await.status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// Rotating X-Forwarded-For does not escape the failed-login limit, and
/// naming somebody else's address does not lock them out: the header counts
/// only from the trusted proxy (the ingress, 10.0.0.0/8 in these tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    use tower::ServiceExt as _;
    let shop = TestShop::start().await;
    let attempt = |peer: &'static str, xff: String, password: &'static str| {
        let app = shop.app.clone();
        async move {
            let mut request = http::Request::post("/api/v1/session")
                .header("content-type", "application/json")
                .header("x-forwarded-for", xff)
                .body(axum::body::Body::from(json!({"username": "admin", "password": password}).to_string()))
                .unwrap();
            let peer: std::net::SocketAddr = format!("{peer}:40000").parse().unwrap();
            request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            app.oneshot(request).await.unwrap().status()
        }
    };
    // A direct client (not a proxy) writing a new address each time: all
    // its failures count against its own address.
    for i in 0..5 {
        assert_eq!(attempt("198.51.100.7", format!("192.0.2.{i}"), "guess").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt("198.51.100.7", "192.0.2.99".into(), "guess").await, StatusCode::TOO_MANY_REQUESTS);
    // The owner, through the ingress from elsewhere, is not locked out by it,
    // even when the attacker named the owner's address in its headers.
    assert_eq!(attempt("10.0.0.2", "192.0.2.1".into(), "admin123").await, StatusCode::CREATED);
}

/// Personal answers are never stored by a cache, static assets carry no
/// cookie, and HSTS is sent only when the trusted proxy says TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_answers_are_not_stored_and_assets_carry_no_cookie() {
    use tower::ServiceExt as _;
    let shop = TestShop::start().await;
    let mut b = shop.browser();
    b.login("demo-client", "demo123").await;
    for path in ["/account", "/orders", "/cart"] {
        let page = b.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(page.headers[http::header::CACHE_CONTROL], "no-store", "{path}");
    }
    let token = token(&shop, "demo-client", "demo123").await;
    let request = http::Request::get("/api/v1/me").header("authorization", format!("Bearer {token}"));
    let me = shop.app.clone().oneshot(request.body(axum::body::Body::empty()).unwrap()).await.unwrap();
    assert_eq!(me.headers()[http::header::CACHE_CONTROL], "no-store");
    let mut anonymous = shop.browser();
    for asset in ["/static/app.css", "/img/tshirt.svg?color=White"] {
        let page = anonymous.get(asset).await;
        assert_eq!(page.status, StatusCode::OK, "{asset}");
        assert!(!page.headers.contains_key(http::header::SET_COOKIE), "{asset} sets no cookie");
        assert!(page.headers[http::header::CACHE_CONTROL].to_str().unwrap().starts_with("public"));
    }
    let tls = |peer: &'static str| {
        let app = shop.app.clone();
        async move {
            let mut request =
                http::Request::get("/").header("x-forwarded-proto", "https").body(axum::body::Body::empty()).unwrap();
            let peer: std::net::SocketAddr = format!("{peer}:40000").parse().unwrap();
            request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            app.oneshot(request).await.unwrap()
        }
    };
    let via_ingress = tls("10.0.0.2").await;
    assert!(via_ingress.headers()[http::header::STRICT_TRANSPORT_SECURITY].to_str().unwrap().contains("max-age="));
    assert!(via_ingress.headers()[http::header::SET_COOKIE].to_str().unwrap().contains("Secure"));
    let claimed = tls("198.51.100.7").await;
    assert!(!claimed.headers().contains_key(http::header::STRICT_TRANSPORT_SECURITY), "a client's own claim");
}

/// A stolen session cannot guess the account's password through the
/// password change: wrong current passwords are limited like logins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_guesses_are_limited() {
    let shop = TestShop::start().await;
    let token = token(&shop, "demo-client", "demo123").await;
    let guess = |current: &'static str| {
        let (app, token) = (shop.app.clone(), token.clone());
        async move {
            let body = json!({"current_password": current, "new_password": "a much longer passphrase"});
            json(&app, "POST", "/api/v1/me/password", Some(&token), Some(body)).await
        }
    };
    for _ in 0..5 {
        assert_eq!(guess("wrong-guess").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, body) = guess("demo123").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "even the right one waits: {body}");
}

/// Every API error, query-string and wrong-method ones included, is the
/// API's JSON error; a web form target opened directly gets a page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_and_method_errors_speak_json_on_the_api_and_html_on_the_site() {
    let shop = TestShop::start().await;
    for query in ["page=abc", "in_stock=1", "min_price=1e3", "per_page=-1"] {
        let (status, body) = json(&shop.app, "GET", &format!("/api/v1/products?{query}"), None, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{query}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    let (status, body) = json(&shop.app, "PUT", "/api/v1/products", None, Some(json!({}))).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert_eq!(body["error"]["code"], "method_not_allowed");
    let mut b = shop.browser();
    for path in ["/admin/users/x/role", "/logout", "/cart/items"] {
        let page = b.get(path).await;
        assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert!(page.body.contains("Atelier") && page.body.contains("form"), "a branded page: {}", page.body);
    }
    // The document lists these answers on the operations that can give them.
    let (_, doc) = json(&shop.app, "GET", "/api/v1/openapi.json", None, None).await;
    let list = &doc["paths"]["/api/v1/products"]["get"]["responses"];
    assert!(list["400"].is_object() && list["503"].is_object(), "{list}");
}
