//! Shopper and admin journeys in a real headless Chromium against the whole
//! shop, started fresh on a free port. Screenshots: target/e2e-screenshots/.

use atelier_e2e::{Browser, RunningShop};
use fantoccini::Locator;

async fn login(b: &Browser, shop: &RunningShop, username: &str, password: &str) {
    b.goto(&format!("{}/login", shop.url)).await;
    b.fill("#username", username).await;
    b.fill("#password", password).await;
    b.click("form[action='/login'] button").await;
    assert!(b.text().await.contains(&format!("Hello {username}")), "{username} is logged in");
}

async fn logout(b: &Browser) {
    b.click("form[action='/logout'] button").await;
    assert!(b.text().await.contains("You are logged out"));
}

async fn choose(b: &Browser, select: &str, value: &str) {
    let element = b.client.find(Locator::Css(select)).await.expect("select");
    element.select_by_value(value).await.expect("option");
}

/// Chooses a colour swatch and a size button as a shopper clicks them, then
/// adds `quantity` to the cart; returns what the product page says then.
async fn add_to_cart(b: &Browser, color: &str, size: &str, quantity: &str) -> String {
    b.tap(&format!("label.color-choice:has(input[value='{color}']) .dot")).await;
    b.tap(&format!("label.size-choice:has(input[value='{size}']) span")).await;
    b.fill("#quantity", quantity).await;
    b.click_text("Add to cart").await;
    let page = b.text().await;
    let what = if quantity == "1" { String::new() } else { format!("{quantity} × ") };
    assert!(
        page.contains(&format!("Added to your cart: {what}")) && page.contains(&format!("— {size} / {color}")),
        "added {size} / {color}: {page}"
    );
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_shopper_buys_and_cancels() {
    let Some(b) = Browser::start().await else { return };
    let shop = RunningShop::start().await.expect("shop starts");
    b.goto(&shop.url).await;
    b.screenshot("01-home").await;

    // Search and filter.
    b.goto(&format!("{}/products", shop.url)).await;
    b.fill("#q", "denim").await;
    choose(&b, "#size", "L").await;
    b.click_text("Apply").await;
    let results = b.text().await;
    assert!(results.contains("Classic Denim Jeans"), "{results}");
    assert!(!results.contains("Basic Cotton T-Shirt"));
    b.screenshot("03-catalogue-filtered").await;

    // From here on a phone, 390 px wide, as a visitor without an account.
    b.resize(390, 844).await;
    let fits = async |what: &str| assert_eq!(b.overflow_x().await, 0, "{what} fits a phone's width");
    // Product page: two sizes into the bag.
    b.click("article.card h3 a[href='/products/classic-denim-jeans']").await;
    fits("the product page").await;
    let page = b.text().await;
    assert!(
        page.contains("€45.99") && !page.contains("in stock"),
        "the cheaper size first, stock untold when plenty: {page}"
    );
    // The price follows the size chosen (the page's script), before anything is sent.
    b.tap("label.size-choice:has(input[value='L']) span").await;
    assert_eq!(b.client.find(Locator::Css("#product-price")).await.unwrap().text().await.unwrap(), "€49.99");
    b.screenshot("04-product").await;
    let page = add_to_cart(&b, "Blue", "L", "2").await;
    assert!(page.contains("2 in your cart"), "{page}");
    add_to_cart(&b, "Blue", "S", "1").await;
    let count = b.client.find(Locator::Css(".bag-count")).await.expect("a count on the Cart link");
    assert_eq!(count.text().await.unwrap(), "3");

    // Cart: change a quantity, see the total, place the order.
    b.goto(&format!("{}/cart", shop.url)).await;
    b.fill("#qty-JEANS-001", "3").await;
    b.click("form[action='/cart/items/JEANS-001'] button").await;
    let cart = b.text().await;
    assert!(cart.contains("€195.96"), "3 × 49.99 + 45.99: {cart}");
    fits("the cart").await;
    b.screenshot("05-cart").await;
    // Checkout asks a visitor to sign in; a new account brings the bag along.
    b.click("#checkout a.btn").await;
    assert!(b.text().await.contains("your cart comes with you"));
    b.click_text("Create an account").await;
    b.fill("#username", "e2e-shopper").await;
    b.fill("#email", "e2e@example.com").await;
    b.fill("#phone", "+39 055 123456").await;
    b.fill("#password", "a good password").await;
    b.fill("#confirm", "a good password").await;
    fits("registration").await;
    b.screenshot("02-register").await;
    b.click_text("Create account").await;
    let checkout = b.text().await;
    assert!(
        checkout.contains("Welcome to Atelier, e2e-shopper! Your bag is in your account's cart now."),
        "{checkout}"
    );
    assert_eq!(b.path().await, "/checkout", "back to checkout after registering");
    // Checkout: a first address (saved to the account), a delivery method, a review.
    b.click_text("Review order").await;
    let errors = b.text().await;
    assert!(
        errors.contains("Name is required") && errors.contains("City is required"),
        "every field at once: {errors}"
    );
    for (field, value) in [
        ("#name", "E2E Shopper"),
        ("#line1", "Via dei Servi 3"),
        ("#postcode", "50122"),
        ("#city", "Florence"),
        ("#country", "Italy"),
    ] {
        b.fill(field, value).await;
    }
    b.tap("label.choice:has(input[value='express'])").await;
    fits("checkout").await;
    b.screenshot("05b-checkout").await;
    b.click_text("Review order").await;
    let review = b.text().await;
    assert!(
        review.contains("Express delivery") && review.contains("€9.95") && review.contains("E2E Shopper"),
        "{review}"
    );
    fits("the review").await;
    b.screenshot("05c-review").await;
    b.click_text("Place order").await;
    let order = b.text().await;
    assert!(
        order.contains("Thank you! Your order has been placed: A-10001.")
            && order.contains("Order A-10001")
            && order.contains("Express delivery · €9.95")
            && order.contains("€205.91")
            && order.contains("cancel it here until it ships")
            && order.to_lowercase().contains("status processing"),
        "{order}"
    );
    fits("the order").await;
    b.screenshot("06-order").await;
    b.resize(1280, 1000).await;
    let order_path = b.path().await;

    b.goto(&format!("{}/orders", shop.url)).await;
    assert!(b.text().await.contains("€205.91"));
    b.screenshot("07-my-orders").await;
    b.goto(&format!("{}{order_path}", shop.url)).await;
    b.click_text("Cancel order").await;
    // One click is not enough to undo an order: a page asks first.
    let confirm = b.text().await;
    assert!(confirm.contains("Cancel order A-10001?") && confirm.contains("€205.91"), "{confirm}");
    b.click_text("Keep the order").await;
    assert!(b.text().await.to_lowercase().contains("status processing"), "kept");
    b.click_text("Cancel order").await;
    b.click_text("Cancel the order").await;
    assert!(b.text().await.contains("Your order was canceled"));

    let api = reqwest::get(format!("{}/api/v1/products/classic-denim-jeans", shop.url)).await.unwrap();
    let product: serde_json::Value = api.json().await.unwrap();
    let stock: Vec<i64> =
        product["variants"].as_array().unwrap().iter().map(|v| v["stock"].as_i64().unwrap()).collect();
    assert_eq!(stock, [50, 50], "stock is back: {product}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_runs_the_shop() {
    let Some(b) = Browser::start().await else { return };
    let shop = RunningShop::start().await.expect("shop starts");

    // A demo order to work on.
    login(&b, &shop, "demo-client", "demo123").await;
    b.goto(&format!("{}/products/comfortable-fleece-hoodie", shop.url)).await;
    add_to_cart(&b, "Gray", "S", "1").await;
    b.goto(&format!("{}/cart", shop.url)).await;
    // The seeded account's default address is already chosen.
    b.click_text("Checkout").await;
    b.click_text("Review order").await;
    assert!(b.text().await.contains("Via dei Servi 12"), "the default address");
    b.click_text("Place order").await;
    assert!(b.text().await.contains("Thank you"));
    logout(&b).await;

    login(&b, &shop, "admin", "admin123").await;
    // The dashboard: the demo order waits to be shipped, and counts today.
    b.goto(&format!("{}/admin", shop.url)).await;
    let dashboard = b.text().await;
    assert!(
        dashboard.contains("order to ship")
            && dashboard.contains("Today: 1 order")
            && dashboard.contains("This week: 1 order"),
        "{dashboard}"
    );
    b.screenshot("09-admin-dashboard").await;
    b.goto(&format!("{}/admin/products/new", shop.url)).await;
    b.fill("#name", "Linen Blazer").await;
    b.fill("#description", "Unlined linen blazer for summer evenings.").await;
    b.fill("#category", "Jackets").await;
    b.tap("label.shape-choice:has(input[value='builtin:blazer']) img").await;
    b.fill("#code", "BLAZER-LIN-M").await;
    choose(&b, "#size", "M").await;
    b.fill("#color", "Sand").await;
    b.fill("#price", "129.00").await;
    b.fill("#stock", "5").await;
    b.screenshot("10-admin-new-product").await;
    b.click_text("Create product").await;
    assert!(b.text().await.contains("Linen Blazer is in the catalogue."));
    let picture = b.client.find(Locator::Css("input[name='image']:checked")).await.unwrap();
    assert_eq!(
        picture.attr("value").await.unwrap().as_deref(),
        Some("builtin:blazer"),
        "the picture chosen by its preview"
    );
    b.fill("#new-code", "BLAZER-LIN-L").await;
    choose(&b, "#new-size", "L").await;
    b.fill("#new-color", "Sand").await;
    b.fill("#new-price", "129").await;
    b.fill("#new-stock", "3").await;
    b.click_text("Add variant").await;
    assert!(b.text().await.contains("Variant added."));
    b.screenshot("11-admin-edit-product").await;

    b.goto(&format!("{}/products?q=linen+blazer", shop.url)).await;
    assert!(b.text().await.contains("Linen Blazer"));
    b.goto(&format!("{}/products/linen-blazer", shop.url)).await;
    let page = b.text().await;
    assert!(page.contains("Only 5 left") && page.contains("€129.00"), "{page}");
    b.tap("label.size-choice:has(input[value='L']) span").await;
    assert_eq!(b.client.find(Locator::Css("#stock-note")).await.unwrap().text().await.unwrap(), "Only 3 left");
    // The grid: a new colour in two sizes at once.
    b.goto(&format!("{}/admin/products/linen-blazer", shop.url)).await;
    b.fill("#new-row-color", "Navy").await;
    b.fill("input[form='row-new'][name='price']", "129").await;
    b.fill("input[form='row-new'][name='stock_M']", "2").await;
    b.fill("input[form='row-new'][name='stock_L']", "1").await;
    b.click_text("Add colour").await;
    assert!(b.text().await.contains("Navy saved: M, L."), "{}", b.text().await);
    b.screenshot("11b-admin-variant-grid").await;

    // Advance the demo order: shipped, then delivered.
    b.goto(&format!("{}/admin/orders", shop.url)).await;
    assert!(b.text().await.contains("demo-client"));
    b.screenshot("12-admin-orders").await;
    b.click("table.data a").await;
    b.click_text("Mark as shipped").await;
    assert!(b.text().await.contains("The order is now shipped."));
    b.click_text("Mark as delivered").await;
    let order = b.text().await;
    assert!(order.contains("The order is now delivered.") && !order.contains("Cancel order"));
    b.screenshot("13-admin-order-delivered").await;

    // Promote demo-client.
    b.goto(&format!("{}/admin/users?q=demo", shop.url)).await;
    choose(&b, "#role-demo-client", "admin").await;
    b.click("form[action='/admin/users/demo-client/role'] button").await;
    assert!(b.text().await.contains("demo-client is now an admin"));
    b.screenshot("14-admin-users").await;

    // An admin on a phone: wide tables scroll within their box, the page does not.
    b.resize(390, 844).await;
    for path in ["/admin", "/admin/users", "/admin/products", "/admin/products/linen-blazer", "/admin/orders"] {
        b.goto(&format!("{}{path}", shop.url)).await;
        assert_eq!(b.overflow_x().await, 0, "{path} fits a phone's width");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cannot_use_admin_pages() {
    let Some(b) = Browser::start().await else { return };
    let shop = RunningShop::start().await.expect("shop starts");
    login(&b, &shop, "demo-client", "demo123").await;
    for path in ["/admin/users", "/admin/products", "/admin/orders"] {
        b.goto(&format!("{}{path}", shop.url)).await;
        let text = b.text().await;
        assert!(text.contains("Not allowed") && text.contains("administrators only"), "{path}: {text}");
        assert!(text.contains("Hello demo-client"), "the error page keeps the signed-in header");
    }
    b.screenshot("20-client-refused").await;
    assert!(!b.text().await.contains("Users\nProducts"), "no admin bar for clients");
}

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(needle))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_browser_process_outlives_its_test() {
    let Some(b) = Browser::start().await else { return };
    b.goto("about:blank").await;
    let profile = b.profile_dir().display().to_string();
    assert!(!processes_mentioning(&profile).is_empty(), "Chromium runs with its own profile");
    // Chromium keeps its singleton socket in a directory of TMPDIR, which it
    // never removes when killed.
    let socket = std::fs::read_link(b.profile_dir().join("SingletonSocket")).expect("Chromium's singleton socket");
    let socket_dir = socket.parent().unwrap().to_path_buf();
    assert!(socket_dir.exists());
    drop(b);
    assert!(!socket_dir.exists(), "Chromium's temporary directory {} is left behind", socket_dir.display());
    // SIGKILL is delivered at once; the kernel may take a moment to tear the processes down.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut left = processes_mentioning(&profile);
    while !left.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        left = processes_mentioning(&profile);
    }
    assert!(left.is_empty(), "Chromium processes left behind: {left:?}");
}
