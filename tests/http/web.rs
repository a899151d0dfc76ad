use crate::client::{Browser, TestShop};
use http::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_browsing_and_security_headers() {
    let shop = TestShop::start().await;
    let mut b = shop.browser();
    let home = b.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Basic Cotton T-Shirt"));
    for h in ["content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options"] {
        assert!(home.headers.contains_key(h), "missing {h}");
    }
    assert!(home.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let csrf_cookie = home
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("atelier_csrf"))
        .unwrap();
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"), "{csrf_cookie}");

    let found = b.get("/products?q=denim&size=L&sort=price_asc").await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.body.contains("Classic Denim Jeans"));
    assert!(!found.body.contains("Basic Cotton T-Shirt"));
    let none = b.get("/products?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(none.status, StatusCode::OK, "no results is not an error");
    assert!(none.body.contains("No products match"));
    assert!(!none.body.contains("<script>alert(1)"), "search text is escaped");
    let bad_price = b.get("/products?min_price=abc").await;
    assert_eq!(bad_price.status, StatusCode::OK);
    assert!(bad_price.body.contains("is not an amount"));
    let page2 = b.get("/products?page=2").await;
    assert!(page2.body.contains("Page 2 of"));

    let product = b.get("/products/basic-cotton-t-shirt").await;
    assert_eq!(product.status, StatusCode::OK);
    assert!(product.body.contains("€24.99") && !product.body.contains("in stock"), "plenty of stock goes unsaid");
    assert!(
        product.body.contains("/login?next=/products/basic-cotton-t-shirt")
            && product.body.contains("id=\"add-to-cart\""),
        "log in, then back here; visitors add to a bag: {}",
        product.body
    );
    assert_eq!(b.get("/products/no-such-thing").await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get("/nowhere").await.status, StatusCode::NOT_FOUND);
    let svg = b.get("/img/hoodie.svg?color=Navy").await;
    assert!(svg.body.starts_with("<svg") && svg.body.contains("#26345a"));

    // Pages that need an account send anonymous people to log in, and back.
    for path in ["/checkout", "/orders", "/account", "/admin/users"] {
        let page = b.get(path).await;
        let back = format!("/login?{}", serde_urlencoded::to_string([("next", path)]).unwrap());
        assert_eq!((page.status, page.location), (StatusCode::SEE_OTHER, Some(back)), "{path}");
    }
    assert!(b.get("/cart").await.body.contains("Your cart is empty."), "a visitor's empty bag");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_the_csrf_token() {
    let shop = TestShop::start().await;
    let mut b = shop.browser();
    b.get("/login").await;
    let forged = b
        .post("/login", &[("username", "admin"), ("password", "admin123"), ("csrf", "forged-token-from-elsewhere")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!b.cookies.contains_key("atelier_session"));
    let missing = b.post("/login", &[("username", "admin"), ("password", "admin123"), ("csrf", "")]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    b.login("admin", "admin123").await;
    // Logged in, a forged form still changes nothing.
    let page = b.post("/admin/users/demo-client/role", &[("role", "admin"), ("csrf", "nope")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // Nor does a made-up pair of CSRF cookie and field (a cookie planted by
    // a sibling site): signed in, the token is bound to the session.
    let planted = "planted-token-0123456789";
    b.cookies.insert("atelier_csrf".into(), planted.into());
    let page = b.post("/admin/users/demo-client/role", &[("role", "admin"), ("csrf", planted)]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // A flash message the gateway did not sign is never shown.
    b.cookies.insert("atelier_flash".into(), "k=error&m=Your+account+was+hacked%2C+call+us".into());
    let page = b.get("/").await;
    assert!(!page.body.contains("hacked"), "an unsigned flash cookie shows nothing");
    // Another session's token is refused too.
    let mut other = shop.browser();
    other.login("demo-client", "demo123").await;
    let others_page = other.get("/account").await.body;
    let start = others_page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    let others_token = others_page[start..].split('"').next().unwrap().to_string();
    let page = b.post("/admin/users/demo-client/role", &[("role", "admin"), ("csrf", &others_token)]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let users = b.get("/admin/users?q=demo").await;
    assert!(users.body.contains("<option value=\"client\" selected>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_shop_checkout_and_cancel() {
    let shop = TestShop::start().await;
    let mut b = shop.browser();
    b.get("/register").await;
    let bad = b
        .post(
            "/register",
            &[
                ("username", "zoe"),
                ("password", "short"),
                ("confirm", "short"),
                ("email", "zoe@example"),
                ("phone", "12345678"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("field-error"), "message next to the field");
    let dup = b
        .post(
            "/register",
            &[
                ("username", "admin"),
                ("password", "long enough"),
                ("confirm", "long enough"),
                ("email", "x@example.com"),
                ("phone", "12345678"),
            ],
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert!(dup.body.contains("Username or email already used"));
    b.register("zoe").await;

    let empty_cart = b.get("/cart").await;
    assert_eq!(empty_cart.status, StatusCode::OK);
    assert!(empty_cart.body.contains("Your cart is empty"));
    assert!(b.get("/orders").await.body.contains("No orders yet"));

    let added = b
        .post("/cart/items", &[("code", "HOODIE-002"), ("quantity", "45"), ("product_id", "comfortable-fleece-hoodie")])
        .await;
    let after = b.follow(added).await;
    assert!(after.body.contains("All we have of this is in your cart"), "the last unit can be bought");
    let too_many = b
        .post("/cart/items", &[("code", "HOODIE-002"), ("quantity", "1"), ("product_id", "comfortable-fleece-hoodie")])
        .await;
    assert!(b.follow(too_many).await.body.contains("Could not add to your cart"));
    b.post("/cart/items", &[("code", "TSHIRT-001"), ("quantity", "2"), ("product_id", "basic-cotton-t-shirt")]).await;
    b.post("/cart/items/HOODIE-002", &[("quantity", "3")]).await;
    let negative = b.post("/cart/items/HOODIE-002", &[("quantity", "-1")]).await;
    assert!(b.follow(negative).await.body.contains("whole numbers"));
    let cart = b.get("/cart").await;
    assert!(cart.body.contains("€104.73"), "3 × 18.25 + 2 × 24.99");

    // Checkout: a new address (saved), standard delivery (free from €100), a review, then the order.
    let review = b.review("standard").await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.body);
    assert!(review.body.contains("Zoe Test") && review.body.contains("50100 Florence"), "{}", review.body);
    assert!(review.body.contains("Standard delivery") && review.body.contains("Free"));
    assert!(review.body.contains("Place order · €104.73"));
    // Double submit of the same review: one order.
    let first = b.place_reviewed(&review).await;
    let second = b.place_reviewed(&review).await;
    assert_eq!(first.location, second.location);
    let order = b.follow(first).await;
    assert!(order.body.contains("Thank you") && order.body.contains("processing"));
    let orders = b.get("/orders").await;
    assert_eq!(orders.body.matches("href=\"/orders/").count(), 1, "one order after a double submit");
    assert_eq!(b.stock("comfortable-fleece-hoodie", "HOODIE-002").await, 42);

    let order_url = second.location.unwrap();
    let canceled = b.post(&format!("{order_url}/cancel"), &[]).await;
    assert!(b.follow(canceled).await.body.contains("canceled"));
    assert_eq!(b.stock("comfortable-fleece-hoodie", "HOODIE-002").await, 45);

    // Another shopper cannot see it.
    let mut other = shop.browser();
    other.register("yan").await;
    assert_eq!(other.get(&order_url).await.status, StatusCode::FORBIDDEN);
    assert_eq!(other.post(&format!("{order_url}/cancel"), &[]).await.status, StatusCode::FORBIDDEN);

    // Profile and password.
    let profile = b.post("/account", &[("email", "not-an-email"), ("phone", "")]).await;
    assert_eq!(profile.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(profile.body.contains("email-error"));
    let saved = b.post("/account", &[("email", "zoe@atelier.test"), ("phone", "")]).await;
    assert!(b.follow(saved).await.body.contains("zoe@atelier.test"));
    let wrong = b
        .post("/account/password", &[("current", "nope"), ("new", "another password"), ("confirm", "another password")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let old_session = b.cookies["atelier_session"].clone();
    let changed = b
        .post(
            "/account/password",
            &[("current", "long enough"), ("new", "another password"), ("confirm", "another password")],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert_ne!(b.cookies["atelier_session"], old_session, "a new session replaces the old");
    assert_eq!(b.get("/account").await.status, StatusCode::OK);

    // Logout is a POST and ends the session.
    assert_eq!(b.get("/logout").await.status, StatusCode::METHOD_NOT_ALLOWED);
    let session = b.cookies["atelier_session"].clone();
    b.post("/logout", &[]).await;
    let mut thief = shop.browser();
    thief.cookies.insert("atelier_session".into(), session);
    assert_eq!(thief.get("/orders").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_are_for_admins() {
    let shop = TestShop::start().await;
    let mut client = shop.browser();
    client.login("demo-client", "demo123").await;
    for path in [
        "/admin/users",
        "/admin/products",
        "/admin/products/new",
        "/admin/orders",
        "/admin/products/basic-cotton-t-shirt",
    ] {
        assert_eq!(client.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    for (path, fields) in [
        ("/admin/users/admin/role", vec![("role", "client")]),
        ("/admin/products", vec![("name", "Hack")]),
        ("/admin/products/basic-cotton-t-shirt/delete", vec![]),
        ("/admin/variants/TSHIRT-001", vec![("size", "M"), ("color", "Red"), ("price", "0.01"), ("stock", "1")]),
    ] {
        assert_eq!(client.post(path, &fields).await.status, StatusCode::FORBIDDEN, "{path}");
    }

    let mut admin = shop.browser();
    admin.login("admin", "admin123").await;
    let users = admin.get("/admin/users").await;
    assert!(users.body.contains("demo-client") && users.body.contains("(you)"));
    let created = admin
        .post(
            "/admin/products",
            &[
                ("name", "Silk <Scarf>"),
                ("description", "Robert'); DROP TABLE products;--"),
                ("category", "Accessories"),
                ("image", "builtin:socks"),
                ("code", "SCARF-1"),
                ("size", "M"),
                ("color", "Red"),
                ("price", "39.5"),
                ("stock", "4"),
            ],
        )
        .await;
    let edit = admin.follow(created).await;
    assert!(edit.body.contains("Silk &#60;Scarf&#62;") && !edit.body.contains("Silk <Scarf>"), "names are escaped");
    let product = admin.get("/products/silk-scarf").await;
    assert!(product.body.contains("Robert&#39;); DROP TABLE products;--"), "stored verbatim, shown escaped");
    assert!(product.body.contains("€39.50"));
    let bad = admin
        .post(
            "/admin/products",
            &[("name", "Broken"), ("code", "B-1"), ("size", "M"), ("color", "Red"), ("price", "-3"), ("stock", "x")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Enter a price") && bad.body.contains("Stock is a whole number"));

    let orders = admin.get("/admin/orders?status=bogus").await;
    assert_eq!(orders.status, StatusCode::OK);
    // An empty list says whether the shop has no orders or the filters found none.
    assert!(admin.get("/admin/orders").await.body.contains("No orders yet."));
    assert!(admin.get("/admin/orders?user=nobody").await.body.contains("No orders match these filters."));
    let promoted = admin.post("/admin/users/demo-client/role", &[("role", "admin")]).await;
    assert!(admin.follow(promoted).await.body.contains("demo-client is now an admin"));
    let me = admin.post("/admin/users/admin/role", &[("role", "client")]).await;
    assert!(admin.follow(me).await.body.contains("cannot change your own role"));
}

#[tokio::test]
async fn anonymous_pages_are_shared_but_never_stale_after_a_change_here_nor_personal() {
    let shop = TestShop::start().await;
    let mut visitor = shop.browser();
    let mut other = shop.browser();
    let first = visitor.get("/products?q=jeans").await;
    assert!(first.body.contains("€45.99"), "the S jeans' price");
    // A second visitor gets the same page, and still their own CSRF cookie.
    let second = other.get("/products?q=jeans").await;
    assert_eq!(second.body, first.body);
    assert_ne!(visitor.cookies.get("atelier_csrf"), other.cookies.get("atelier_csrf"));

    // An admin's change through this gateway shows at once to anonymous visitors.
    let mut admin = shop.browser();
    admin.login("admin", "admin123").await;
    let saved = admin
        .post(
            "/admin/variants/JEANS-002",
            &[
                ("product_id", "classic-denim-jeans"),
                ("size", "S"),
                ("color", "Blue"),
                ("price", "12.34"),
                ("stock", "50"),
                ("original_stock", "50"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let after = visitor.get("/products?q=jeans").await;
    assert!(after.body.contains("€12.34") && !after.body.contains("€45.99"), "no stale price after a change");
    let api: serde_json::Value = serde_json::from_str(&visitor.get("/api/v1/products?q=jeans").await.body).unwrap();
    assert!(api.to_string().contains("1234"));

    // A signed-in shopper never gets the anonymous copy (their header shows them).
    let mut shopper = shop.browser();
    shopper.login("demo-client", "demo123").await;
    let mine = shopper.get("/products?q=jeans").await;
    assert!(mine.body.contains("demo-client") && mine.body != after.body);
    assert!(!visitor.get("/products?q=jeans").await.body.contains("demo-client"));
}

/// Bytes that are not UTF-8 in a form are refused, not turned into U+FFFD
/// (which would make two different passwords one): 400, nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_with_invalid_utf8_are_refused_and_change_nothing() {
    let shop = TestShop::start().await;
    let mut b = shop.browser();
    b.get("/register").await;
    let csrf = b.cookies["atelier_csrf"].clone();
    let body = format!(
        "username=utf8-victim&password=%FF%FEpassphrase-long&confirm=%FF%FEpassphrase-long&email=v%40example.com&phone=0123456789&csrf={csrf}"
    );
    let request = http::Request::post("/register")
        .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body))
        .unwrap();
    let page = b.send(request).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("not valid text"));
    // Nothing was registered: the same name, with a valid password, is free.
    b.get("/register").await;
    let ok = b
        .post(
            "/register",
            &[
                ("username", "utf8-victim"),
                ("password", "passphrase-long"),
                ("confirm", "passphrase-long"),
                ("email", "v@example.com"),
                ("phone", "0123456789"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
}

/// Over HTTPS (through the trusted ingress) the cookies carry the `__Host-`
/// prefix and Secure, so no sibling subdomain can plant one; a cookie
/// without the prefix is not believed there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_cookies_are_host_only() {
    let shop = TestShop::start().await;
    let mut b = shop.browser();
    b.via_tls_ingress = true;
    b.login("demo-client", "demo123").await;
    assert!(b.cookies.contains_key("__Host-atelier_session"), "{:?}", b.cookies.keys());
    assert!(b.cookies.contains_key("__Host-atelier_csrf"));
    assert!(!b.cookies.contains_key("atelier_session"));
    let account = b.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.body.contains("demo-client"));
    // A form posted over TLS works with the host-only cookies.
    let page = b
        .post("/cart/items", &[("code", "TSHIRT-001"), ("quantity", "1"), ("product_id", "basic-cotton-t-shirt")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // The same session under the plain name (as a planted cookie would be) is ignored over TLS.
    let session = b.cookies.remove("__Host-atelier_session").unwrap();
    b.cookies.insert("atelier_session".into(), session);
    let page = b.get("/account").await;
    assert!(page.status.is_redirection(), "not signed in: {}", page.status);
}

/// Every page says what it is about to search engines and link previews,
/// has an icon, and marks where the shopper is in the navigation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_a_description_an_icon_and_the_current_section() {
    let shop = TestShop::start().await;
    let mut b = shop.browser();
    let page = b.get("/products").await;
    assert!(page.body.contains(r#"<meta name="description" content="Atelier: clothing made to last."#));
    assert!(page.body.contains(r#"<link rel="icon" href="/static/favicon.svg""#));
    assert!(page.body.contains(r#"<a href="/products" aria-current="page">Shop</a>"#), "Shop is current");
    assert!(page.body.contains(r#"<a href="/">Home</a>"#), "Home is not");
    let home = b.get("/").await;
    assert!(home.body.contains(r#"<a href="/" aria-current="page">Home</a>"#));
    let icon = b.get("/static/favicon.svg").await;
    assert_eq!(icon.status, StatusCode::OK);
    assert_eq!(icon.headers[http::header::CONTENT_TYPE], "image/svg+xml");
    assert!(!icon.headers.contains_key(http::header::SET_COOKIE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_picks_colour_and_size_and_returns_where_they_were_after_logging_in() {
    let shop = TestShop::start().await;
    let mut b = shop.browser();
    // Signing in from a product page comes back to it; never to another site.
    b.get("/login?next=/products/classic-denim-jeans").await;
    let back = b
        .post(
            "/login",
            &[("username", "demo-client"), ("password", "demo123"), ("next", "/products/classic-denim-jeans")],
        )
        .await;
    assert_eq!(back.location.as_deref(), Some("/products/classic-denim-jeans"));
    for elsewhere in ["//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "/a b"] {
        let mut other = shop.browser();
        other.get("/login").await;
        let page =
            other.post("/login", &[("username", "demo-client"), ("password", "demo123"), ("next", elsewhere)]).await;
        assert_eq!(page.location.as_deref(), Some("/"), "{elsewhere:?} is not followed");
    }

    // Swatches and size buttons: the page sells what the shopper chose.
    let page = b.get("/products/classic-denim-jeans").await;
    assert!(page.body.contains("name=\"color\" value=\"Blue\"") && page.body.contains("name=\"size\" value=\"L\""));
    let add = |color: &'static str, size: &'static str| {
        vec![("product_id", "classic-denim-jeans"), ("color", color), ("size", size), ("quantity", "1")]
    };
    let added = b.post("/cart/items", &add("Blue", "L")).await;
    assert_eq!(added.location.as_deref(), Some("/products/classic-denim-jeans?code=JEANS-001"));
    let after = b.follow(added).await;
    assert!(after.body.contains("Added to your cart: Classic Denim Jeans — L / Blue"), "{}", after.body);
    assert!(after.body.contains("href=\"/cart\"") && after.body.contains("View cart"));
    // A combination the product is not made in is refused, and nothing is added.
    let missing = b.post("/cart/items", &add("Red", "M")).await;
    assert!(b.follow(missing).await.body.contains("Classic Denim Jeans is not made in M / Red."));
    let nothing = b.post("/cart/items", &add("", "")).await;
    assert!(b.follow(nothing).await.body.contains("Choose a colour and a size."));
    let cart = b.get("/cart").await;
    assert_eq!(cart.body.matches("href=\"/products/classic-denim-jeans\"").count(), 1, "one line: {}", cart.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_be_undone_is_asked_first() {
    let shop = TestShop::start().await;
    let mut b = shop.browser();
    b.register("ines").await;
    b.post("/cart/items", &[("code", "TSHIRT-001"), ("quantity", "1"), ("product_id", "basic-cotton-t-shirt")]).await;
    // The cart's link leads to a question, which changes nothing by itself.
    let cart = b.get("/cart").await;
    assert!(cart.body.contains("href=\"/cart/clear\"") && !cart.body.contains("action=\"/cart/clear\""));
    let ask = b.get("/cart/clear").await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.body.contains("Empty your cart?") && ask.body.contains("action=\"/cart/clear\""));
    assert!(b.get("/cart").await.body.contains("Basic Cotton T-Shirt"), "asking empties nothing");
    let emptied = b.post("/cart/clear", &[]).await;
    assert!(b.follow(emptied).await.body.contains("Your cart is empty"));

    // Admins are asked before a product goes; shoppers cannot even ask.
    assert_eq!(b.get("/admin/products/basic-cotton-t-shirt/delete").await.status, StatusCode::FORBIDDEN);
    let mut admin = shop.browser();
    admin.login("admin", "admin123").await;
    let ask = admin.get("/admin/products/basic-cotton-t-shirt/delete").await;
    assert!(ask.body.contains("Delete Basic Cotton T-Shirt?") && ask.body.contains("Orders that hold it keep"));
    let ask = admin.get("/admin/variants/TSHIRT-001/delete?product_id=basic-cotton-t-shirt").await;
    assert!(ask.body.contains("Delete variant TSHIRT-001?"));
    assert!(ask.body.contains("name=\"product_id\" value=\"basic-cotton-t-shirt\""));
    assert!(admin.get("/products/basic-cotton-t-shirt").await.status.is_success(), "asking deletes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_dashboard_shows_orders_to_ship_sales_and_what_runs_low() {
    let shop = TestShop::start().await;
    let mut shopper = shop.browser();
    let anonymous = shopper.get("/admin").await;
    assert_eq!(anonymous.location.as_deref(), Some("/login?next=%2Fadmin"), "anonymous: log in first, then back");
    shopper.register("olga").await;
    assert_eq!(shopper.get("/admin").await.status, StatusCode::FORBIDDEN, "shoppers have no dashboard");
    shopper
        .post("/cart/items", &[("code", "JEANS-002"), ("quantity", "50"), ("product_id", "classic-denim-jeans")])
        .await;
    let key = "dashboard-order";
    let _ = key;
    let review = shopper.review("standard").await;
    let placed = shopper.place_reviewed(&review).await;
    assert_eq!(placed.status, StatusCode::SEE_OTHER);

    let mut admin = shop.browser();
    admin.login("admin", "admin123").await;
    let page = admin.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.body;
    assert!(text.contains("1</span> order to ship"), "{text}");
    assert!(text.contains("€2,299.50") || text.contains("€2299.50"), "50 × €45.99 sold today: {text}");
    let jeans = text.split("JEANS-002").nth(1).expect("the sold-out jeans are listed");
    assert!(jeans.split("</tr>").next().unwrap().contains("Sold out"), "{text}");
    // The products table says the same at a glance, with a picture per product.
    let table = admin.get("/admin/products?q=classic+denim").await.body;
    let row = table.split("Classic Denim Jeans</a>").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains("<span class=\"badge low\">1 low</span>") && row.contains(">2<"), "2 variants, 1 low: {row}");
    assert!(table.contains("<img class=\"thumb\" src=\"/img/jeans.svg?color=Blue\""), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_keeps_showing_a_product_deleted_since() {
    let shop = TestShop::start().await;
    let mut shopper = shop.browser();
    shopper.register("pia").await;
    shopper
        .post("/cart/items", &[("code", "JEANS-001"), ("quantity", "1"), ("product_id", "classic-denim-jeans")])
        .await;
    let review = shopper.review("express").await;
    let placed = shopper.place_reviewed(&review).await;
    let order_url = placed.location.clone().unwrap();
    assert!(shopper.get(&order_url).await.body.contains("href=\"/products/classic-denim-jeans\""));

    let mut admin = shop.browser();
    admin.login("admin", "admin123").await;
    admin.get("/admin/products/classic-denim-jeans/delete").await;
    let deleted = admin.post("/admin/products/classic-denim-jeans/delete", &[]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);

    let order = shopper.get(&order_url).await;
    assert_eq!(order.status, StatusCode::OK);
    assert!(order.body.contains("Classic Denim Jeans <span class=\"muted\">(no longer sold)</span>"), "{}", order.body);
    assert!(!order.body.contains("href=\"/products/classic-denim-jeans\""), "no link to a page that is gone");
    assert!(order.body.contains("€49.99"), "the line as it was bought");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_filters_show_as_removable_chips_and_paging_says_where_you_are() {
    let shop = TestShop::start().await;
    let mut b = shop.browser();
    let page = b.get("/products?q=denim&size=L&min_price=10&in_stock=1").await.body;
    // The filters offer what the catalogue holds, with how many products have it.
    let option = |value: &str| {
        let marker = format!("<option value=\"{value}\"");
        page.split(&marker).nth(1).and_then(|r| r.split("</option>").next()).map(|o| o.to_string())
    };
    for (value, shown) in [("Cream", "Cream ("), ("Charcoal", "Charcoal ("), ("Jeans", "Jeans (")] {
        let found = option(value).unwrap_or_else(|| panic!("{value} is offered: {page}"));
        assert!(found.contains(shown), "{value} with its count: {found}");
    }
    for (label, without) in [
        ("“denim”", "/products?size=L&#38;min_price=10&#38;in_stock=1"),
        ("Size L", "/products?q=denim&#38;min_price=10&#38;in_stock=1"),
        ("From €10.00", "/products?q=denim&#38;size=L&#38;in_stock=1"),
        ("In stock", "/products?q=denim&#38;size=L&#38;min_price=10"),
    ] {
        assert!(
            page.contains(&format!("<a href=\"{without}\" aria-label=\"Remove filter: {label}\">")),
            "{label}: {page}"
        );
    }
    assert!(page.contains("Clear all") && !page.contains("Page 1 of 1"), "one page needs no pager");

    let swapped = b.get("/products?min_price=100&max_price=10").await.body;
    assert!(swapped.contains("the two were swapped") && swapped.contains("Up to €100.00"), "{swapped}");

    let beyond = b.get("/products?page=99").await.body;
    assert!(beyond.contains("There is no page 99.") && beyond.contains("They fill 3 pages."), "{beyond}");
    assert!(beyond.contains("href=\"/products?page=3\""), "a way to the last page");
    assert!(!beyond.contains("Try fewer filters"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_shows_every_mistake_at_once_next_to_its_field() {
    let shop = TestShop::start().await;
    let mut b = shop.browser();
    b.get("/register").await;
    let empty =
        b.post("/register", &[("username", ""), ("password", ""), ("confirm", ""), ("email", ""), ("phone", "")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["username", "password", "email", "phone"] {
        assert!(empty.body.contains(&format!("id=\"{field}-error\"")), "{field} is flagged: {}", empty.body);
        assert!(empty.body.contains(&format!("aria-describedby=\"{field}-error\"")));
    }
    let some = b
        .post(
            "/register",
            &[
                ("username", "fine-name"),
                ("password", "x"),
                ("confirm", "x"),
                ("email", "nope"),
                ("phone", "0123456789"),
            ],
        )
        .await;
    assert!(some.body.contains("id=\"password-error\"") && some.body.contains("id=\"email-error\""));
    assert!(
        !some.body.contains("id=\"username-error\"") && !some.body.contains("id=\"phone-error\""),
        "only what is wrong"
    );
    assert!(some.body.contains("value=\"fine-name\""), "what was right stays filled in");

    b.register("quinn").await;
    b.get("/account").await;
    let profile = b.post("/account", &[("email", "not an email"), ("phone", "12")]).await;
    assert!(
        profile.body.contains("id=\"email-error\"") && profile.body.contains("id=\"phone-error\""),
        "{}",
        profile.body
    );
    assert!(profile.body.contains("novalidate"), "the site's messages, not the browser's");
}

/// A visitor fills a bag without an account; the Cart link counts it;
/// checkout asks them to sign in and brings them back to it, bag and all;
/// what went over the stock is lowered and said.
#[tokio::test]
async fn a_guest_fills_a_bag_signs_up_at_checkout_and_keeps_it() {
    let shop = TestShop::start().await;
    let mut visitor = shop.browser();
    let product = visitor.get("/products/classic-denim-jeans").await;
    assert!(product.body.contains("id=\"add-to-cart\""), "visitors can add to the bag");
    let add = [("product_id", "classic-denim-jeans"), ("color", "Blue"), ("size", "L"), ("quantity", "2")];
    let added = visitor.post("/cart/items", &add).await;
    assert!(visitor.cookies.keys().any(|k| k == "atelier_bag"), "the bag is kept by a cookie");
    let after = visitor.follow(added).await;
    assert!(after.body.contains("Added to your cart: 2 × Classic Denim Jeans — L / Blue"), "{}", after.body);
    assert!(after.body.contains("<span class=\"sr-only\">, 2 items</span>"), "the Cart link counts the bag");
    // The home page is cached for visitors without a bag, never for one with.
    let mut stranger = shop.browser();
    assert!(!stranger.get("/").await.body.contains(" items</span>"));
    assert!(visitor.get("/").await.body.contains(", 2 items"), "the count on every page");
    assert!(!stranger.get("/").await.body.contains(" items</span>"), "nor shared with others");

    let cart = visitor.get("/cart").await;
    assert!(cart.body.contains("Classic Denim Jeans") && cart.body.contains("€99.98"), "{}", cart.body);
    assert!(cart.body.contains("your cart comes with you"));
    // Another visitor's bag is their own.
    assert!(stranger.get("/cart").await.body.contains("Your cart is empty."));

    // Checkout: sign in first, then straight back to checkout.
    let checkout = visitor.get("/checkout").await;
    assert_eq!(checkout.location.as_deref(), Some("/login?next=%2Fcheckout"));
    let login = visitor.follow(checkout).await;
    assert!(login.body.contains("your cart comes with you"), "{}", login.body);
    visitor.get("/register?next=/checkout").await;
    let fields = [
        ("username", "guest-gina"),
        ("password", "long enough"),
        ("confirm", "long enough"),
        ("email", "gina@example.com"),
        ("phone", "0123456789"),
        ("next", "/checkout"),
    ];
    let registered = visitor.post("/register", &fields).await;
    assert_eq!(registered.location.as_deref(), Some("/checkout"));
    assert!(!visitor.cookies.contains_key("atelier_bag"), "the guest bag is forgotten once brought over");
    let checkout = visitor.follow(registered).await;
    assert_eq!(checkout.status, StatusCode::OK);
    assert!(checkout.body.contains("Your bag is in your account&#39;s cart now."), "{}", checkout.body);
    let review = visitor.review("standard").await;
    assert!(review.body.contains("Classic Denim Jeans") && review.body.contains("€99.98"), "{}", review.body);

    // Over the stock: a guest takes all 50 blue L jeans while an account
    // already holds some; signing in keeps the account within the stock.
    let mut other = shop.browser();
    other.login("demo-client", "demo123").await;
    other.post("/cart/items", &[("product_id", "classic-denim-jeans"), ("code", "JEANS-001"), ("quantity", "3")]).await;
    other.post("/logout", &[]).await;
    let stock = other.stock("classic-denim-jeans", "JEANS-001").await;
    let all = stock.to_string();
    other.get("/products/classic-denim-jeans").await;
    other
        .post("/cart/items", &[("product_id", "classic-denim-jeans"), ("code", "JEANS-001"), ("quantity", &all)])
        .await;
    other.get("/login").await;
    let back = other.post("/login", &[("username", "demo-client"), ("password", "demo123")]).await;
    let home = other.follow(back).await;
    assert!(home.body.contains(&format!("only {stock} in stock, so your cart holds {stock}")), "{}", home.body);
    let cart = other.get("/cart").await;
    assert!(cart.body.contains(&format!("value=\"{stock}\"")), "{}", cart.body);
}

/// Admins edit stock as a colour × size grid: a number in an empty size
/// adds it, a row's mistakes are named by their cell and save nothing.
#[tokio::test]
async fn admins_edit_variants_as_a_colour_by_size_grid() {
    let shop = TestShop::start().await;
    let mut admin = shop.browser();
    admin.login("admin", "admin123").await;
    let page = admin.get("/admin/products/classic-denim-jeans").await;
    assert!(page.body.contains("Stock by colour and size") && page.body.contains("name=\"was_L\""), "{}", page.body);
    assert!(page.body.contains("<datalist id=\"known-colors\">") && page.body.contains("<option value=\"Cream\">"));
    let cell = |variants: &[serde_json::Value], color: &str, size: &str| {
        variants
            .iter()
            .find(|v| v["color"] == color && v["size"] == size)
            .map(|v| (v["stock"].clone(), v["price_cents"].clone()))
    };

    // A new colour in two sizes.
    let added = admin
        .post(
            "/admin/products/classic-denim-jeans/colors",
            &[("color", "Cream"), ("price", "59.00"), ("stock_M", "3"), ("stock_L", "2")],
        )
        .await;
    assert!(admin.follow(added).await.body.contains("Cream saved: M, L."));
    let now = jeans_variants(&mut admin).await;
    assert_eq!(cell(&now, "Cream", "M"), Some((3.into(), 5900.into())));
    assert_eq!(cell(&now, "Cream", "L"), Some((2.into(), 5900.into())));
    assert_eq!(cell(&now, "Cream", "S"), None, "an empty size is not made");

    // A stock edit is a change against what the admin saw: a sale meanwhile counts.
    admin.get("/admin/products/classic-denim-jeans").await;
    let edited = admin
        .post(
            "/admin/products/classic-denim-jeans/colors",
            &[("color", "Cream"), ("stock_M", "5"), ("was_M", "3"), ("stock_L", "2"), ("was_L", "2")],
        )
        .await;
    assert!(admin.follow(edited).await.body.contains("Cream saved: M."));
    assert_eq!(cell(&jeans_variants(&mut admin).await, "Cream", "M"), Some((5.into(), 5900.into())));

    // Mistakes are named by their cell, and nothing of the row is saved.
    admin.get("/admin/products/classic-denim-jeans").await;
    let refused = admin
        .post(
            "/admin/products/classic-denim-jeans/colors",
            &[("color", "Cream"), ("stock_S", "x"), ("stock_M", "9"), ("was_M", "5")],
        )
        .await;
    let page = admin.follow(refused).await;
    assert!(page.body.contains("Nothing was saved. Cream / S: stock is a whole number"), "{}", page.body);
    assert_eq!(cell(&jeans_variants(&mut admin).await, "Cream", "M"), Some((5.into(), 5900.into())));
    admin.get("/admin/products/classic-denim-jeans").await;
    let priceless =
        admin.post("/admin/products/classic-denim-jeans/colors", &[("color", "Sand"), ("stock_M", "1")]).await;
    assert!(admin.follow(priceless).await.body.contains("Sand / M: give the row a price first."));
    // Each SKU's own form names its row too.
    admin.get("/admin/products/classic-denim-jeans").await;
    let fields =
        [("product_id", "classic-denim-jeans"), ("size", "L"), ("color", "Blue"), ("price", "lots"), ("stock", "1")];
    let bad_price = admin.post("/admin/variants/JEANS-001", &fields).await;
    assert!(admin.follow(bad_price).await.body.contains("JEANS-001 (L / Blue): Enter a price such as 24.99."));
}

/// The jeans' variants, as the JSON API lists them.
async fn jeans_variants(b: &mut Browser) -> Vec<serde_json::Value> {
    let page = b.get("/api/v1/products/classic-denim-jeans").await;
    let body: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    body["variants"].as_array().unwrap().clone()
}

/// The addresses saved at checkout are listed on the account page, where
/// one is made the default or deleted.
#[tokio::test]
async fn shoppers_keep_their_addresses_on_the_account_page() {
    let shop = TestShop::start().await;
    let mut b = shop.browser();
    b.login("demo-client", "demo123").await;
    b.post("/cart/items", &[("product_id", "classic-denim-jeans"), ("code", "JEANS-001"), ("quantity", "1")]).await;
    b.review("standard").await;
    let account = b.get("/account").await.body;
    assert!(account.contains("Via dei Servi 12") && account.contains("Via Roma 1"), "{account}");
    assert_eq!(account.matches("<span class=\"badge\">Default</span>").count(), 1, "one default");
    let id = |body: &str, street: &str| {
        let card = body.split("<li class=\"address-card\">").find(|c| c.contains(street)).unwrap().to_string();
        card.split("/account/addresses/").nth(1).unwrap().split('/').next().unwrap().to_string()
    };
    let roma = id(&account, "Via Roma 1");
    let made = b.post(&format!("/account/addresses/{roma}/default"), &[]).await;
    let account = b.follow(made).await.body;
    let roma_card = account.split("<li class=\"address-card\">").find(|c| c.contains("Via Roma 1")).unwrap();
    assert!(roma_card.contains(">Default<"), "{account}");
    assert!(b.get("/checkout").await.body.contains(&format!("value=\"{roma}\" checked")), "checkout starts with it");
    let servi = id(&account, "Via dei Servi 12");
    let deleted = b.post(&format!("/account/addresses/{servi}/delete"), &[]).await;
    let account = b.follow(deleted).await.body;
    assert!(account.contains("Address deleted.") && !account.contains("Via dei Servi 12"), "{account}");
    // Someone else's address is not found, and stays.
    let mut other = shop.browser();
    other.register("zed").await;
    other.get("/account").await;
    assert_eq!(other.post(&format!("/account/addresses/{roma}/default"), &[]).await.status, StatusCode::NOT_FOUND);
    assert!(b.get("/account").await.body.contains("Via Roma 1"));
}
