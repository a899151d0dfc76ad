use crate::harness::{as_user, shops};
use atelier_proto::{cart::*, product};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_is_per_user_and_bounded_by_stock() {
    for shop in shops().await {
        let mut cart = shop.cart.clone();
        let ann = shop.new_client("ann").await;
        let ben = shop.new_client("ben").await;
        let add = |code: &str, quantity| AddItemRequest { code: code.into(), quantity };

        cart.add_item(as_user(&ann, add("JEANS-001", 2))).await.unwrap();
        let c = cart.add_item(as_user(&ann, add("jeans-001", 3))).await.unwrap().into_inner().cart.unwrap();
        assert_eq!(c.lines.len(), 1, "{}", shop.backend);
        assert_eq!((c.lines[0].quantity, c.total_cents), (5, 5 * 4999));
        assert_eq!(c.lines[0].product_name, "Classic Denim Jeans");

        // Ben's cart is his own.
        let b = cart.get_cart(as_user(&ben, GetCartRequest::default())).await.unwrap().into_inner().cart.unwrap();
        assert!(b.lines.is_empty());

        // Stock bounds: 45 HOODIE-002 exist; the last unit can be bought.
        let too_many = cart.add_item(as_user(&ann, add("HOODIE-002", 46))).await.unwrap_err();
        assert_eq!(too_many.code(), Code::FailedPrecondition);
        cart.add_item(as_user(&ann, add("HOODIE-002", 45))).await.unwrap();
        assert_eq!(
            cart.add_item(as_user(&ann, add("HOODIE-002", 1))).await.unwrap_err().code(),
            Code::FailedPrecondition
        );

        let set = |code: &str, quantity| SetQuantityRequest { code: code.into(), quantity };
        let c = cart.set_quantity(as_user(&ann, set("HOODIE-002", 10))).await.unwrap().into_inner().cart.unwrap();
        assert_eq!(c.lines.iter().find(|l| l.code == "HOODIE-002").unwrap().quantity, 10);
        let c = cart.set_quantity(as_user(&ann, set("HOODIE-002", 0))).await.unwrap().into_inner().cart.unwrap();
        assert!(c.lines.iter().all(|l| l.code != "HOODIE-002"), "0 removes the line");

        for bad in
            [add("JEANS-001", 0), add("JEANS-001", -1), add("JEANS-001", 1_000_000), add("", 1), add("NOT A CODE", 1)]
        {
            assert_eq!(cart.add_item(as_user(&ann, bad)).await.unwrap_err().code(), Code::InvalidArgument);
        }
        assert_eq!(cart.add_item(as_user(&ann, add("NOPE-404", 1))).await.unwrap_err().code(), Code::NotFound);
        assert_eq!(
            cart.set_quantity(as_user(&ann, set("JEANS-001", -2))).await.unwrap_err().code(),
            Code::InvalidArgument
        );

        let c = cart
            .remove_item(as_user(&ann, RemoveItemRequest { code: "JEANS-001".into() }))
            .await
            .unwrap()
            .into_inner()
            .cart
            .unwrap();
        assert!(c.lines.is_empty());
        cart.add_item(as_user(&ann, add("TSHIRT-001", 1))).await.unwrap();
        let c = cart.clear_cart(as_user(&ann, ClearCartRequest::default())).await.unwrap().into_inner().cart.unwrap();
        assert!(c.lines.is_empty());
        assert!(
            cart.get_cart(as_user(&ann, GetCartRequest::default()))
                .await
                .unwrap()
                .into_inner()
                .cart
                .unwrap()
                .lines
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_changes_show_in_carts_with_a_notice() {
    for shop in shops().await {
        let admin = shop.admin().await;
        let cat = shop.new_client("cat").await;
        let mut cart = shop.cart.clone();
        cart.add_item(as_user(&cat, AddItemRequest { code: "JEANS-002".into(), quantity: 10 })).await.unwrap();
        cart.add_item(as_user(&cat, AddItemRequest { code: "HOODIE-001".into(), quantity: 1 })).await.unwrap();

        // Stock falls to 4 under the cart's 10; the hoodie product is deleted.
        let mut product = shop.product.clone();
        let lower = product::UpdateVariantRequest {
            code: "JEANS-002".into(),
            size: product::Size::S as i32,
            color: "Blue".into(),
            price_cents: 4599,
            stock_delta: -46,
        };
        product.update_variant(as_user(&admin, lower)).await.unwrap();
        product
            .delete_product(as_user(&admin, product::DeleteProductRequest { id: "comfortable-fleece-hoodie".into() }))
            .await
            .unwrap();

        // Read as stored (as a checkout reads it, its reservation checking
        // the lines), the cart is what the shopper last saw, unchanged.
        let stored = cart.get_cart(as_user(&cat, GetCartRequest { as_stored: true })).await.unwrap().into_inner();
        let stored = stored.cart.unwrap();
        let lines: Vec<_> = stored.lines.iter().map(|l| (l.code.as_str(), l.quantity)).collect();
        assert_eq!(lines, [("JEANS-002", 10), ("HOODIE-001", 1)], "{}", shop.backend);
        assert_eq!(stored.lines[0].unit_price_cents, 4599);
        assert!(stored.notices.is_empty());

        let c = cart.get_cart(as_user(&cat, GetCartRequest::default())).await.unwrap().into_inner().cart.unwrap();
        assert_eq!(c.lines.len(), 1);
        assert_eq!(c.lines[0].quantity, 4, "lowered to the stock");
        assert_eq!(c.notices.len(), 2);
        // Said in the shopper's words, not as a code.
        let gone = c.notices.iter().find(|n| n.code == "HOODIE-001").expect("told that the hoodie is gone");
        assert!(
            gone.message.starts_with("Comfortable Fleece Hoodie (") && gone.message.contains("is no longer sold"),
            "{} ({})",
            gone.message,
            shop.backend
        );
        assert!(c.notices.iter().any(|n| n.code == "JEANS-002" && n.message.contains("lowered to 4")));
        // The notice is told once: the cart now matches the catalogue.
        assert!(
            cart.get_cart(as_user(&cat, GetCartRequest::default()))
                .await
                .unwrap()
                .into_inner()
                .cart
                .unwrap()
                .notices
                .is_empty()
        );
    }
}

/// A visitor's bag: kept under a guest identity, brought into the account at
/// sign-in with quantities added up and clamped to the stock (said so),
/// counted once however many sign-ins race for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_guest_bag_comes_into_the_account_once_and_within_stock() {
    use atelier_proto::auth::StartGuestRequest;
    for shop in shops().await {
        let mut cart = shop.cart.clone();
        let guest = || async { shop.auth.clone().start_guest(StartGuestRequest {}).await.unwrap().into_inner() };
        let visitor = guest().await.identity_token;
        let add = |code: &str, quantity| AddItemRequest { code: code.into(), quantity };
        // 45 HOODIE-002 exist: the visitor takes 30, the account already holds 20.
        cart.add_item(as_user(&visitor, add("HOODIE-002", 30))).await.unwrap();
        cart.add_item(as_user(&visitor, add("JEANS-001", 2))).await.unwrap();
        let units = cart.count_items(as_user(&visitor, CountItemsRequest {})).await.unwrap().into_inner().units;
        assert_eq!(units, 32, "the bag link counts the guest's units ({})", shop.backend);

        let ann = shop.new_client("ann").await;
        cart.add_item(as_user(&ann, add("HOODIE-002", 20))).await.unwrap();
        // Four sign-ins (tabs, double clicks) race to bring the same bag.
        let merges = (0..4).map(|_| {
            let mut cart = cart.clone();
            let (ann, visitor) = (ann.clone(), visitor.clone());
            async move { cart.merge_cart(as_user(&ann, MergeCartRequest { guest_token: visitor })).await }
        });
        let answers = futures::future::join_all(merges).await;
        let told: Vec<String> = answers
            .into_iter()
            .flat_map(|a| a.unwrap().into_inner().cart.unwrap().notices)
            .map(|n| n.message)
            .collect();
        assert!(
            told.iter().any(|m| m.contains("Hoodie") && m.contains("only 45 in stock")),
            "the clamp is said ({}): {told:?}",
            shop.backend
        );
        let c = cart.get_cart(as_user(&ann, GetCartRequest::default())).await.unwrap().into_inner().cart.unwrap();
        let quantity = |code: &str| c.lines.iter().find(|l| l.code == code).map_or(0, |l| l.quantity);
        assert_eq!(
            (quantity("HOODIE-002"), quantity("JEANS-001")),
            (45, 2),
            "added once, within stock ({})",
            shop.backend
        );
        let left =
            cart.get_cart(as_user(&visitor, GetCartRequest::default())).await.unwrap().into_inner().cart.unwrap();
        assert!(left.lines.is_empty(), "the guest's bag is empty afterwards");

        // A guest cannot merge, nor can a user merge someone's session token.
        let other = guest().await.identity_token;
        let refused = cart.merge_cart(as_user(&other, MergeCartRequest { guest_token: visitor.clone() })).await;
        assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
        let refused = cart.merge_cart(as_user(&ann, MergeCartRequest { guest_token: ann.clone() })).await;
        assert_eq!(refused.unwrap_err().code(), Code::InvalidArgument, "only a guest's bag can be brought");
        // A guest identity is good for its bag only.
        let orders = shop.order.clone().list_my_orders(as_user(&other, Default::default())).await;
        assert_eq!(orders.unwrap_err().code(), Code::PermissionDenied);
    }
}
