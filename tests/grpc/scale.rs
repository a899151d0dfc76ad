//! What scale runs rely on: the bulk generator, the listing columns kept in
//! step with every edit, and order totals that stay cheap at any size.

use crate::harness::{Shop, as_user, shops};
use atelier::seed::{Generated, generate};
use atelier_proto::{
    order::{ListAllOrdersRequest, ListOrdersResponse, Status},
    product::*,
};

async fn products(shop: &Shop, r: ListProductsRequest) -> ListProductsResponse {
    shop.product.clone().list_products(r).await.unwrap().into_inner()
}

async fn all_orders(shop: &Shop, admin: &str, r: ListAllOrdersRequest) -> ListOrdersResponse {
    shop.order.clone().list_all_orders(as_user(admin, r)).await.unwrap().into_inner()
}

#[tokio::test]
async fn generated_data_is_listed_searchable_and_generated_once() {
    for shop in shops().await {
        let admin = shop.admin().await;
        let before = products(&shop, ListProductsRequest::default()).await.total;
        for _ in 0..2 {
            generate(&shop.urls, Generated { products: 40, orders: 250 }).await.unwrap();
        }
        let after = products(&shop, ListProductsRequest::default()).await;
        assert_eq!(after.total, before + 40, "{}: forty products, however often it runs", shop.backend);

        // Found by SKU code through the maintained search text.
        let found = products(&shop, ListProductsRequest { query: "gen000007-m".into(), ..Default::default() }).await;
        assert_eq!(found.products.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["Everyday Linen Shirt No. 7"]);
        assert_eq!(found.products[0].variants.len(), 5);

        let everyone = all_orders(&shop, &admin, ListAllOrdersRequest { per_page: 100, ..Default::default() }).await;
        assert_eq!(everyone.total, 250, "{}", shop.backend);
        let dates: Vec<i64> = everyone.orders.iter().map(|o| o.created_at_ms).collect();
        assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
        assert!(everyone.orders.iter().all(|o| o.username == "demo-client" && !o.lines.is_empty()));
        assert!(everyone.orders.iter().all(|o| o.total_cents
            == o.delivery_cents + o.lines.iter().map(|l| l.unit_price_cents * l.quantity).sum::<i64>()));

        let mut by_status = 0;
        for status in [Status::Processing, Status::Shipped, Status::Delivered, Status::Canceled] {
            let r = ListAllOrdersRequest { status: status as i32, per_page: 100, ..Default::default() };
            let page = all_orders(&shop, &admin, r).await;
            assert!(page.orders.iter().all(|o| o.status() == status));
            by_status += page.total;
        }
        assert_eq!(by_status, 250);
    }
}

#[tokio::test]
async fn listing_columns_follow_every_edit() {
    for shop in shops().await {
        let admin = shop.admin().await;
        let mut product = shop.product.clone();
        let cheapest_first =
            || products(&shop, ListProductsRequest { sort: Sort::PriceAsc as i32, ..Default::default() });
        let first = cheapest_first().await.products.remove(0);
        let jeans = product
            .get_product(GetProductRequest { id: "classic-denim-jeans".into() })
            .await
            .unwrap()
            .into_inner()
            .product
            .unwrap();
        assert_ne!(first.id, jeans.id);

        // The small blue jeans, at a price and with a stock change.
        let small_jeans = |price_cents, stock_delta| UpdateVariantRequest {
            code: "JEANS-002".into(),
            size: Size::S as i32,
            color: "Blue".into(),
            price_cents,
            stock_delta,
        };
        // A price cut makes the jeans the cheapest; the listing follows.
        product.update_variant(as_user(&admin, small_jeans(1, 0))).await.unwrap();
        assert_eq!(cheapest_first().await.products[0].id, jeans.id, "{}", shop.backend);

        // Size, colour and stock filters hold on one and the same SKU.
        product.update_variant(as_user(&admin, small_jeans(1, -50))).await.unwrap();
        let shop_ref = &shop;
        let has_jeans = |size: Size, in_stock: bool| {
            let r = ListProductsRequest {
                size: size as i32,
                color: "BLUE".into(),
                in_stock,
                per_page: 100,
                ..Default::default()
            };
            let id = jeans.id.clone();
            async move { products(shop_ref, r).await.products.iter().any(|p| p.id == id) }
        };
        assert!(has_jeans(Size::S, false).await);
        assert!(!has_jeans(Size::S, true).await, "{}: the S is sold out", shop.backend);
        assert!(has_jeans(Size::L, true).await);
        assert!(!has_jeans(Size::M, false).await);

        // A new SKU is found by its code; once deleted it is not.
        let search = |q: &str| products(&shop, ListProductsRequest { query: q.into(), ..Default::default() });
        let variant = Variant {
            code: "ZZ-TOP-1".into(),
            size: Size::M as i32,
            color: "Blue".into(),
            price_cents: 5000,
            stock: 3,
        };
        let add = AddVariantRequest { product_id: jeans.id.clone(), variant: Some(variant) };
        product.add_variant(as_user(&admin, add)).await.unwrap();
        assert_eq!(
            search("zz-top").await.products.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            [jeans.id.as_str()]
        );
        product.delete_variant(as_user(&admin, DeleteVariantRequest { code: "ZZ-TOP-1".into() })).await.unwrap();
        assert_eq!(search("zz-top").await.total, 0);

        // A new name is searchable at once, the old one no longer.
        let current = product.get_product(GetProductRequest { id: jeans.id.clone() }).await.unwrap().into_inner();
        let current = current.product.unwrap();
        let rename = UpdateProductRequest {
            id: current.id.clone(),
            version: current.version,
            name: "Selvedge Denim Jeans".into(),
            description: current.description,
            category: current.category,
            image: current.image,
        };
        product.update_product(as_user(&admin, rename)).await.unwrap();
        assert_eq!(search("selvedge").await.total, 1);
        assert_eq!(search("classic denim").await.total, 0);
    }
}

#[tokio::test]
async fn totals_are_exact_for_products_and_capped_for_orders() {
    let shop = Shop::start("sqlite").await;
    let admin = shop.admin().await;
    generate(&shop.urls, Generated { products: 1_100, orders: 2_050 }).await.unwrap();

    // Products are counted in memory: exact on every page.
    let listing = |page| products(&shop, ListProductsRequest { page, per_page: 12, ..Default::default() });
    let all = (1_100 + atelier_product::SAMPLE_CATALOG_LEN) as u64;
    for page in [1, 10, all.div_ceil(12) as u32] {
        let listed = listing(page).await;
        assert_eq!((listed.total, listed.total_capped), (all, false), "page {page}");
    }
    let last = listing(all.div_ceil(12) as u32).await;
    assert_eq!(last.products.len() as u64, all - (all.div_ceil(12) - 1) * 12);
    let tees = products(&shop, ListProductsRequest { category: "t-shirts".into(), ..Default::default() }).await;
    let generated_tees = (0..1_100).filter(|i| (i / 7) % 6 == 0).count() as u64;
    assert!(tees.total > generated_tees && !tees.total_capped, "generated tees and the sample's");

    let page = |page| all_orders(&shop, &admin, ListAllOrdersRequest { page, per_page: 20, ..Default::default() });
    // Counted exactly up to 1 000 past the page's first order: "at least" beyond.
    let first = page(1).await;
    assert_eq!((first.total, first.total_capped), (1_001, true));
    assert_eq!(page(3).await.total, 40 + 1_001);
    let last = page(103).await;
    assert_eq!((last.total, last.total_capped, last.orders.len()), (2_050, false, 10));
    // A filtered count below the cap is exact.
    let canceled = ListAllOrdersRequest { status: Status::Canceled as i32, ..Default::default() };
    assert_eq!(all_orders(&shop, &admin, canceled).await.total, (0..2_050).filter(|i| i % 20 >= 18).count() as u64);
}
