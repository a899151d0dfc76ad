use crate::harness::{Shop, as_user, shops};
use atelier_proto::{cart::AddItemRequest, order::*, product::GetVariantsRequest};
use tonic::Code;

pub async fn stock(shop: &Shop, code: &str) -> i64 {
    let mut p = shop.product.clone();
    p.get_variants(GetVariantsRequest { codes: vec![code.into()] }).await.unwrap().into_inner().variants[0]
        .variant
        .clone()
        .unwrap()
        .stock
}

pub async fn fill_cart(shop: &Shop, token: &str, lines: &[(&str, i64)]) {
    for (code, quantity) in lines {
        shop.cart
            .clone()
            .add_item(as_user(token, AddItemRequest { code: (*code).into(), quantity: *quantity }))
            .await
            .unwrap();
    }
}

/// A checkout under `key`, delivered by standard post to a test address.
pub fn place(key: &str) -> PlaceOrderRequest {
    PlaceOrderRequest { idempotency_key: key.into(), address: Some(address()), delivery: Delivery::Standard as i32 }
}

pub fn address() -> ShippingAddress {
    ShippingAddress {
        name: "Dora Test".into(),
        line1: "Via Roma 1".into(),
        line2: String::new(),
        postcode: "50100".into(),
        city: "Florence".into(),
        country: "Italy".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_cancel_and_life_cycle() {
    for shop in shops().await {
        let dora = shop.new_client("dora").await;
        let eric = shop.new_client("eric").await;
        let admin = shop.admin().await;
        let mut orders = shop.order.clone();

        assert_eq!(
            orders.place_order(as_user(&dora, place("k0"))).await.unwrap_err().code(),
            Code::FailedPrecondition,
            "empty cart"
        );
        fill_cart(&shop, &dora, &[("TSHIRT-001", 2), ("JEANS-001", 1)]).await;
        let order = orders.place_order(as_user(&dora, place("k1"))).await.unwrap().into_inner().order.unwrap();
        assert_eq!(
            (order.status(), order.total_cents, order.delivery_cents, order.lines.len()),
            (Status::Processing, 2 * 2499 + 4999 + 495, 495, 2),
            "{}",
            shop.backend
        );
        assert!(order.created_at_ms > 0);
        let tee = order.lines.iter().find(|l| l.code == "TSHIRT-001").unwrap();
        assert_eq!(
            (tee.product_name.as_str(), tee.size.as_str(), tee.color.as_str(), tee.unit_price_cents),
            ("Basic Cotton T-Shirt", "M", "White", 2499)
        );
        assert_eq!((stock(&shop, "TSHIRT-001").await, stock(&shop, "JEANS-001").await), (98, 49));
        let cart = shop
            .cart
            .clone()
            .get_cart(as_user(&dora, atelier_proto::cart::GetCartRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        assert!(cart.lines.is_empty(), "the cart is cleared");

        // The same key again: the same order, nothing more taken.
        let again = orders.place_order(as_user(&dora, place("k1"))).await.unwrap().into_inner().order.unwrap();
        assert_eq!(again.id, order.id);
        assert_eq!(stock(&shop, "TSHIRT-001").await, 98);

        // Who sees it.
        let get = |id: &str| GetOrderRequest { id: id.into() };
        assert!(orders.get_order(as_user(&dora, get(&order.id))).await.is_ok());
        assert!(orders.get_order(as_user(&admin, get(&order.id))).await.is_ok());
        assert_eq!(orders.get_order(as_user(&eric, get(&order.id))).await.unwrap_err().code(), Code::PermissionDenied);
        assert_eq!(orders.get_order(as_user(&dora, get("0000"))).await.unwrap_err().code(), Code::NotFound);
        let mine = orders.list_my_orders(as_user(&dora, ListMyOrdersRequest::default())).await.unwrap().into_inner();
        assert_eq!(mine.total, 1);
        assert_eq!(
            orders.list_my_orders(as_user(&eric, ListMyOrdersRequest::default())).await.unwrap().into_inner().total,
            0
        );

        // Admin advances status; while it is processing the order is Dora's
        // to cancel, not the admin's nor Eric's.
        let set = |status: Status| UpdateStatusRequest { id: order.id.clone(), status: status as i32 };
        assert_eq!(
            orders.update_status(as_user(&admin, set(Status::Delivered))).await.unwrap_err().code(),
            Code::FailedPrecondition
        );
        assert_eq!(
            orders.update_status(as_user(&admin, set(Status::Canceled))).await.unwrap_err().code(),
            Code::PermissionDenied
        );
        let cancel = || CancelOrderRequest { id: order.id.clone() };
        assert_eq!(orders.cancel_order(as_user(&eric, cancel())).await.unwrap_err().code(), Code::PermissionDenied);
        assert_eq!(orders.cancel_order(as_user(&admin, cancel())).await.unwrap_err().code(), Code::PermissionDenied);
        let shipped =
            orders.update_status(as_user(&admin, set(Status::Shipped))).await.unwrap().into_inner().order.unwrap();
        assert_eq!(shipped.status(), Status::Shipped);
        assert!(orders.update_status(as_user(&admin, set(Status::Shipped))).await.is_ok(), "same status is a no-op");
        assert_eq!(
            orders.update_status(as_user(&dora, set(Status::Delivered))).await.unwrap_err().code(),
            Code::PermissionDenied
        );
        assert_eq!(
            orders
                .update_status(as_user(&admin, UpdateStatusRequest { id: order.id.clone(), status: 9 }))
                .await
                .unwrap_err()
                .code(),
            Code::InvalidArgument
        );

        // Shipped, the goods are gone: Dora cannot cancel and nothing is restocked.
        let refused = orders.cancel_order(as_user(&dora, cancel())).await.unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition);
        assert!(refused.message().contains("send the goods back"), "{}", refused.message());
        assert_eq!((stock(&shop, "TSHIRT-001").await, stock(&shop, "JEANS-001").await), (98, 49));

        // The goods came back: the admin cancels the shipped order and the
        // stock returns exactly once.
        let returned =
            orders.update_status(as_user(&admin, set(Status::Canceled))).await.unwrap().into_inner().order.unwrap();
        assert_eq!(returned.status(), Status::Canceled);
        assert_eq!((stock(&shop, "TSHIRT-001").await, stock(&shop, "JEANS-001").await), (100, 50));
        assert_eq!(orders.cancel_order(as_user(&dora, cancel())).await.unwrap_err().code(), Code::FailedPrecondition);
        assert_eq!(
            orders.update_status(as_user(&admin, set(Status::Shipped))).await.unwrap_err().code(),
            Code::FailedPrecondition
        );
        assert_eq!(stock(&shop, "TSHIRT-001").await, 100);

        // Dora cancels an order still processing: stock comes back.
        fill_cart(&shop, &dora, &[("HOODIE-001", 1)]).await;
        let third = orders.place_order(as_user(&dora, place("k3"))).await.unwrap().into_inner().order.unwrap();
        let hoodies = stock(&shop, "HOODIE-001").await;
        let canceled = orders
            .cancel_order(as_user(&dora, CancelOrderRequest { id: third.id.clone() }))
            .await
            .unwrap()
            .into_inner()
            .order
            .unwrap();
        assert_eq!(canceled.status(), Status::Canceled);
        assert_eq!(stock(&shop, "HOODIE-001").await, hoodies + 1);

        // A delivered order cannot be canceled.
        fill_cart(&shop, &dora, &[("HOODIE-001", 1)]).await;
        let second = orders.place_order(as_user(&dora, place("k2"))).await.unwrap().into_inner().order.unwrap();
        for s in [Status::Shipped, Status::Delivered] {
            orders
                .update_status(as_user(&admin, UpdateStatusRequest { id: second.id.clone(), status: s as i32 }))
                .await
                .unwrap();
        }
        assert_eq!(
            orders.cancel_order(as_user(&dora, CancelOrderRequest { id: second.id.clone() })).await.unwrap_err().code(),
            Code::FailedPrecondition
        );

        // Admin lists: newest first, filters by status and user.
        let all = orders.list_all_orders(as_user(&admin, ListAllOrdersRequest::default())).await.unwrap().into_inner();
        assert_eq!(
            all.orders.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
            [second.id.as_str(), third.id.as_str(), order.id.as_str()]
        );
        let delivered =
            ListAllOrdersRequest { status: Status::Delivered as i32, username: "dora".into(), ..Default::default() };
        assert_eq!(orders.list_all_orders(as_user(&admin, delivered)).await.unwrap().into_inner().total, 1);
        let nobody = ListAllOrdersRequest { username: "eric".into(), ..Default::default() };
        assert_eq!(orders.list_all_orders(as_user(&admin, nobody)).await.unwrap().into_inner().total, 0);
        assert_eq!(
            orders.list_all_orders(as_user(&dora, ListAllOrdersRequest::default())).await.unwrap_err().code(),
            Code::PermissionDenied
        );
        let bad = ListAllOrdersRequest { status: 77, ..Default::default() };
        assert_eq!(orders.list_all_orders(as_user(&admin, bad)).await.unwrap_err().code(), Code::InvalidArgument);
        for key in ["", "has space", &"k".repeat(129)] {
            assert_eq!(orders.place_order(as_user(&dora, place(key))).await.unwrap_err().code(), Code::InvalidArgument);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_stock_checkout_takes_nothing() {
    for shop in shops().await {
        let fay = shop.new_client("fay").await;
        let admin = shop.admin().await;
        fill_cart(&shop, &fay, &[("JEANS-002", 1), ("HOODIE-002", 45)]).await;
        // Someone else buys a hoodie meanwhile.
        fill_cart(&shop, &admin, &[("HOODIE-002", 1)]).await;
        shop.order.clone().place_order(as_user(&admin, place("a1"))).await.unwrap();
        let err = shop.order.clone().place_order(as_user(&fay, place("f1"))).await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{}", shop.backend);
        // Told in the cart's words what changed, as the cart page tells it.
        assert!(err.message().contains("was lowered to 44: only 44 in stock"), "{}", err.message());
        assert_eq!((stock(&shop, "JEANS-002").await, stock(&shop, "HOODIE-002").await), (50, 44));
        let mine = shop
            .order
            .clone()
            .list_my_orders(as_user(&fay, ListMyOrdersRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(mine.total, 0);
        // After reviewing the lowered cart, the same key can place the order.
        let order =
            shop.order.clone().place_order(as_user(&fay, place("f1"))).await.unwrap().into_inner().order.unwrap();
        assert_eq!(order.lines.iter().map(|l| l.quantity).sum::<i64>(), 45);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_checkout_gives_its_stock_back() {
    for shop in shops().await {
        // A checkout that died after reserving: a stale PENDING order and a held reservation.
        let gil = shop.new_client("gil").await;
        let service = shop.keys.signer().unwrap().service_token("order");
        let lines =
            vec![atelier_proto::product::ReserveLine { code: "JEANS-001".into(), quantity: 3, unit_price_cents: None }];
        shop.product
            .clone()
            .reserve(as_user(&service, atelier_proto::product::ReserveRequest { order_id: "dead-beef".into(), lines }))
            .await
            .unwrap();
        let gil_id = atelier_runtime::Verifier::verify(&shop.keys.verifier(), &gil).unwrap().sub;
        let pool = sqlx::AnyPool::connect(&shop.urls.order).await.unwrap();
        sqlx::query("INSERT INTO orders (id, user_id, username, idempotency_key, status, total_cents, created_at_ms, updated_at_ms) VALUES ('dead-beef', $1, 'gil', 'k', 'PENDING', 0, 0, 0)")
            .bind(&gil_id)
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(stock(&shop, "JEANS-001").await, 47);

        // A new order service starts on the same database and recovers.
        let shutdown = atelier::Shutdown::default();
        let started = atelier::start_services(&shop.urls, &shop.keys, &shutdown).await;
        let started = started.unwrap();
        let mut client = atelier_proto::product::product_service_client::ProductServiceClient::new(
            atelier_runtime::grpc::channel(&started.product.to_string()).unwrap(),
        );
        let mut recovered = false;
        for _ in 0..100 {
            let s = client
                .get_variants(GetVariantsRequest { codes: vec!["JEANS-001".into()] })
                .await
                .unwrap()
                .into_inner()
                .variants[0]
                .variant
                .clone()
                .unwrap()
                .stock;
            // Released first, then the abandoned PENDING row is removed.
            let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE status = 'PENDING'")
                .fetch_one(&pool)
                .await
                .unwrap();
            if s == 50 && pending == 0 {
                recovered = true;
                break;
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        shutdown.trigger();
        assert!(recovered, "stock released and the abandoned order removed by recovery ({})", shop.backend);
        assert_eq!(stock(&shop, "JEANS-001").await, 50, "released exactly once");
    }
}

/// The price rose between the shopper seeing the cart and placing the order:
/// nothing is charged, the shopper is told old → new, and a second attempt
/// (having now seen the price) buys at the new price.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_raised_after_the_cart_was_seen_is_not_charged() {
    use atelier_proto::{cart::GetCartRequest, product::*};
    for shop in shops().await {
        let admin = shop.admin().await;
        let max = shop.new_client("max").await;
        fill_cart(&shop, &max, &[("JEANS-002", 1)]).await;
        let seen = shop.cart.clone().get_cart(as_user(&max, GetCartRequest::default())).await.unwrap().into_inner();
        assert_eq!(seen.cart.unwrap().total_cents, 4599);
        let raise = UpdateVariantRequest {
            code: "JEANS-002".into(),
            size: Size::S as i32,
            color: "Blue".into(),
            price_cents: 9900,
            stock_delta: 0,
        };
        shop.product.clone().update_variant(as_user(&admin, raise)).await.unwrap();
        let before = stock(&shop, "JEANS-002").await;

        let refused = shop.order.clone().place_order(as_user(&max, place("p1"))).await.unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition, "{}", shop.backend);
        assert!(refused.message().contains("now costs €99.00 (was €45.99)"), "{}", refused.message());
        assert_eq!(stock(&shop, "JEANS-002").await, before, "nothing taken");
        let mine = shop.order.clone().list_my_orders(as_user(&max, ListMyOrdersRequest::default())).await.unwrap();
        assert_eq!(mine.into_inner().total, 0, "no order");

        let placed = shop.order.clone().place_order(as_user(&max, place("p2"))).await.unwrap().into_inner();
        assert_eq!(placed.order.unwrap().total_cents, 9900 + 495, "bought at the price now shown, plus delivery");
    }
}

/// The browser drops the request mid-checkout (a double click, a closed
/// tab): the checkout still finishes, and the retry with the same key gets
/// its order rather than a locked key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_checkout_finishes_and_its_retry_gets_the_order() {
    for shop in shops().await {
        let ned = shop.new_client("ned").await;
        fill_cart(&shop, &ned, &[("TSHIRT-003", 2)]).await;
        let before = stock(&shop, "TSHIRT-003").await;
        for wait_ms in [0, 1, 5] {
            let mut orders = shop.order.clone();
            let dropped = orders.place_order(as_user(&ned, place("click")));
            let _ = tokio::time::timeout(std::time::Duration::from_millis(wait_ms), dropped).await;
        }
        let retry = shop.order.clone().place_order(as_user(&ned, place("click"))).await;
        let order = retry.unwrap_or_else(|s| panic!("retry refused ({}): {}", shop.backend, s.message()));
        assert_eq!(order.into_inner().order.unwrap().total_cents, 2 * 1999 + 495);
        let mine = shop.order.clone().list_my_orders(as_user(&ned, ListMyOrdersRequest::default())).await.unwrap();
        assert_eq!(mine.into_inner().total, 1, "one order ({})", shop.backend);
        assert_eq!(stock(&shop, "TSHIRT-003").await, before - 2, "stock taken once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_dashboard_counts_sales_orders_to_ship_and_low_stock() {
    use atelier_proto::{
        order::order_service_client::OrderServiceClient,
        product::{LowStockRequest, UpdateVariantRequest},
    };
    for shop in shops().await {
        let admin = shop.admin().await;
        let mut orders = shop.order.clone();
        let since = atelier_runtime::now_ms() - 1;
        let sales = |orders: &OrderServiceClient<tonic::transport::Channel>, admin: &str| {
            let request = as_user(admin, SalesRequest { since_ms: vec![since] });
            let mut orders = orders.clone();
            async move { orders.sales(request).await.unwrap().into_inner() }
        };
        let before = sales(&orders, &admin).await;
        assert_eq!(before.windows[0].orders, 0);

        let dana = shop.new_client("dana-dash").await;
        fill_cart(&shop, &dana, &[("TSHIRT-001", 2)]).await;
        let placed = orders.place_order(as_user(&dana, place("dash"))).await.unwrap().into_inner().order.unwrap();
        let after = sales(&orders, &admin).await;
        assert_eq!((after.windows[0].orders, after.windows[0].total_cents), (1, placed.total_cents));
        assert_eq!(after.to_ship, before.to_ship + 1, "a placed order waits to be shipped");
        orders.cancel_order(as_user(&dana, CancelOrderRequest { id: placed.id })).await.unwrap();
        let canceled = sales(&orders, &admin).await;
        assert_eq!(
            (canceled.windows[0].orders, canceled.to_ship),
            (0, before.to_ship),
            "a canceled order sold nothing"
        );
        let too_many = as_user(&admin, SalesRequest { since_ms: vec![0; 5] });
        assert_eq!(orders.sales(too_many).await.unwrap_err().code(), Code::InvalidArgument);

        // Two left of the jeans (50 - 48): on the low-stock list.
        let mut products = shop.product.clone();
        let update = UpdateVariantRequest {
            code: "JEANS-002".into(),
            size: atelier_proto::product::Size::S as i32,
            color: "Blue".into(),
            price_cents: 4599,
            stock_delta: -48,
        };
        products.update_variant(as_user(&admin, update)).await.unwrap();
        let low = products
            .low_stock(as_user(&admin, LowStockRequest { at_most: 2, limit: 50 }))
            .await
            .unwrap()
            .into_inner()
            .variants;
        assert!(low.iter().all(|v| v.stock <= 2) && low.windows(2).all(|w| w[0].stock <= w[1].stock), "{low:?}");
        let jeans = low.iter().find(|v| v.code == "JEANS-002").expect("listed");
        assert_eq!((jeans.product_name.as_str(), jeans.stock), ("Classic Denim Jeans", 2));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_keeps_where_and_how_it_goes_and_needs_an_address() {
    for shop in shops().await {
        let eve = shop.new_client("eve-ships").await;
        let mut orders = shop.order.clone();
        fill_cart(&shop, &eve, &[("JEANS-001", 2)]).await;
        // Without an address, or with a half one: every missing field named, nothing placed.
        let none = PlaceOrderRequest { idempotency_key: "a".into(), ..Default::default() };
        assert_eq!(orders.place_order(as_user(&eve, none)).await.unwrap_err().code(), Code::InvalidArgument);
        let half = PlaceOrderRequest {
            idempotency_key: "b".into(),
            address: Some(ShippingAddress { name: "Eve".into(), ..Default::default() }),
            ..Default::default()
        };
        let refused = orders.place_order(as_user(&eve, half)).await.unwrap_err();
        use tonic_types::StatusExt;
        let fields: Vec<String> =
            refused.get_details_bad_request().unwrap().field_violations.into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["address.line1", "address.postcode", "address.city", "address.country"]);
        assert_eq!(stock(&shop, "JEANS-001").await, 50, "nothing was taken");

        // Express: €9.95 whatever the goods; the address is kept as given.
        let express = PlaceOrderRequest { delivery: Delivery::Express as i32, ..place("c") };
        let order = orders.place_order(as_user(&eve, express)).await.unwrap().into_inner().order.unwrap();
        assert_eq!(
            (order.delivery(), order.delivery_cents, order.total_cents),
            (Delivery::Express, 995, 2 * 4999 + 995)
        );
        let fetched = orders.get_order(as_user(&eve, GetOrderRequest { id: order.id })).await.unwrap().into_inner();
        assert_eq!(fetched.order.unwrap().address, Some(address()), "{}", shop.backend);
    }
}
