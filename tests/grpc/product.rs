use crate::harness::{as_user, shops};
use crate::orders::stock;
use atelier_proto::product::*;
use tonic::Code;

fn variant(code: &str, size: Size, color: &str, price_cents: i64, stock: i64) -> Variant {
    Variant { code: code.into(), size: size as i32, color: color.into(), price_cents, stock }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeded_catalogue_holds_the_original_skus() {
    for shop in shops().await {
        let mut product = shop.product.clone();
        let codes = ["TSHIRT-001", "TSHIRT-002", "TSHIRT-003", "JEANS-001", "JEANS-002", "HOODIE-001", "HOODIE-002"];
        let found = product
            .get_variants(GetVariantsRequest { codes: codes.map(String::from).to_vec() })
            .await
            .unwrap()
            .into_inner()
            .variants;
        assert_eq!(found.len(), 7, "{}", shop.backend);
        let tee = found.iter().find(|v| v.variant.as_ref().unwrap().code == "TSHIRT-001").unwrap();
        let v = tee.variant.as_ref().unwrap();
        assert_eq!(
            (tee.product_name.as_str(), v.size(), v.color.as_str(), v.stock, v.price_cents),
            ("Basic Cotton T-Shirt", Size::M, "White", 100, 2499)
        );
        let all = product
            .list_products(ListProductsRequest { per_page: 100, ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        assert!(all.total >= 30, "at least 30 products, got {}", all.total);

        // Seeding again changes nothing.
        atelier::seed::seed(
            &shop.urls.auth,
            &shop.urls.product,
            atelier::seed::SeedOptions {
                admin_password: None,
                demo_accounts: true,
                sample_catalog: true,
                wait_for_database: std::time::Duration::from_secs(30),
            },
        )
        .await
        .unwrap();
        let again = product
            .list_products(ListProductsRequest { per_page: 100, ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(again.total, all.total);
        let tee = product
            .get_product(GetProductRequest { id: "basic-cotton-t-shirt".into() })
            .await
            .unwrap()
            .into_inner()
            .product
            .unwrap();
        assert_eq!(tee.variants.len(), 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_filter_sort_and_pages() {
    for shop in shops().await {
        let mut product = shop.product.clone();
        let list = |r: ListProductsRequest| {
            let mut p = product.clone();
            async move { p.list_products(r).await.unwrap().into_inner() }
        };
        let hoodies = list(ListProductsRequest { query: "HOODIE".into(), per_page: 100, ..Default::default() }).await;
        assert!(hoodies.total >= 3);
        assert!(
            hoodies
                .products
                .iter()
                .all(|p| { format!("{} {} {}", p.name, p.description, p.category).to_lowercase().contains("hoodie") })
        );

        let xxl_gray = list(ListProductsRequest {
            size: Size::Xxl as i32,
            color: "gray".into(),
            per_page: 100,
            ..Default::default()
        })
        .await;
        assert!(xxl_gray.products.iter().any(|p| p.id == "comfortable-fleece-hoodie"));
        assert!(
            xxl_gray.products.iter().all(|p| { p.variants.iter().any(|v| v.size() == Size::Xxl && v.color == "Gray") })
        );

        let cheap =
            list(ListProductsRequest { max_price_cents: Some(2000), per_page: 100, ..Default::default() }).await;
        assert!(!cheap.products.is_empty());
        assert!(cheap.products.iter().all(|p| p.variants.iter().any(|v| v.price_cents <= 2000)));
        let in_stock = list(ListProductsRequest {
            in_stock: true,
            min_price_cents: Some(10_000),
            per_page: 100,
            ..Default::default()
        })
        .await;
        assert!(
            in_stock.products.iter().all(|p| { p.variants.iter().any(|v| v.stock > 0 && v.price_cents >= 10_000) })
        );

        let by_price =
            list(ListProductsRequest { sort: Sort::PriceAsc as i32, per_page: 100, ..Default::default() }).await;
        let mins: Vec<i64> =
            by_price.products.iter().map(|p| p.variants.iter().map(|v| v.price_cents).min().unwrap()).collect();
        assert!(mins.windows(2).all(|w| w[0] <= w[1]), "sorted by price: {mins:?}");

        let p1 = list(ListProductsRequest { per_page: 5, page: 1, ..Default::default() }).await;
        let p2 = list(ListProductsRequest { per_page: 5, page: 2, ..Default::default() }).await;
        assert_eq!((p1.products.len(), p2.products.len()), (5, 5));
        assert!(p1.products.iter().all(|a| p2.products.iter().all(|b| a.id != b.id)));
        let none = list(ListProductsRequest { query: "'; DROP TABLE products; --".into(), ..Default::default() }).await;
        assert_eq!(none.total, 0);

        let bad = product.list_products(ListProductsRequest { size: 99, ..Default::default() }).await.unwrap_err();
        assert_eq!(bad.code(), Code::InvalidArgument);
        let bad = product
            .list_products(ListProductsRequest { min_price_cents: Some(-1), ..Default::default() })
            .await
            .unwrap_err();
        assert_eq!(bad.code(), Code::InvalidArgument);
        let missing = product.get_product(GetProductRequest { id: "no-such-thing".into() }).await.unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_the_catalogue() {
    for shop in shops().await {
        let admin = shop.admin().await;
        let mut product = shop.product.clone();
        let create = CreateProductRequest {
            name: "Velvet Blazer".into(),
            description: "Evening <b>blazer</b>".into(),
            category: "Jackets".into(),
            image: "builtin:jacket".into(),
            variants: vec![
                variant("blazer-m", Size::M, "Black", 12900, 3),
                variant("BLAZER-L", Size::L, "Black", 12900, 0),
            ],
        };
        let created =
            product.create_product(as_user(&admin, create.clone())).await.unwrap().into_inner().product.unwrap();
        assert_eq!(created.id, "velvet-blazer");
        assert_eq!(created.variants.iter().map(|v| v.code.as_str()).collect::<Vec<_>>(), ["BLAZER-M", "BLAZER-L"]);
        assert_eq!(created.description, "Evening <b>blazer</b>", "stored verbatim");
        assert_eq!(product.create_product(as_user(&admin, create)).await.unwrap_err().code(), Code::AlreadyExists);

        // Optimistic concurrency: a stale version is refused.
        let edit = |version| UpdateProductRequest {
            id: "velvet-blazer".into(),
            version,
            name: "Velvet Blazer".into(),
            description: "Now lined".into(),
            category: "Jackets".into(),
            image: "builtin:jacket".into(),
        };
        let edited =
            product.update_product(as_user(&admin, edit(created.version))).await.unwrap().into_inner().product.unwrap();
        assert_eq!(edited.description, "Now lined");
        assert_eq!(
            product.update_product(as_user(&admin, edit(created.version))).await.unwrap_err().code(),
            Code::Aborted
        );

        // Variants: add, change (stock by delta), delete.
        let added = product
            .add_variant(as_user(
                &admin,
                AddVariantRequest {
                    product_id: "velvet-blazer".into(),
                    variant: Some(variant("BLAZER-XL", Size::Xl, "Navy", 13900, 2)),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .product
            .unwrap();
        assert_eq!(added.variants.len(), 3);
        let dup = AddVariantRequest {
            product_id: "velvet-blazer".into(),
            variant: Some(variant("TSHIRT-001", Size::M, "Navy", 1, 1)),
        };
        assert_eq!(product.add_variant(as_user(&admin, dup)).await.unwrap_err().code(), Code::AlreadyExists);
        let change = |delta| UpdateVariantRequest {
            code: "BLAZER-M".into(),
            size: Size::M as i32,
            color: "Black".into(),
            price_cents: 9900,
            stock_delta: delta,
        };
        let changed = product.update_variant(as_user(&admin, change(7))).await.unwrap().into_inner().product.unwrap();
        let m = changed.variants.iter().find(|v| v.code == "BLAZER-M").unwrap();
        assert_eq!((m.stock, m.price_cents), (10, 9900));
        assert_eq!(
            product.update_variant(as_user(&admin, change(-11))).await.unwrap_err().code(),
            Code::FailedPrecondition,
            "stock never below zero"
        );
        product.delete_variant(as_user(&admin, DeleteVariantRequest { code: "BLAZER-XL".into() })).await.unwrap();

        // Bad input: nothing written.
        for bad in [
            CreateProductRequest { name: String::new(), ..Default::default() },
            CreateProductRequest { name: "x".repeat(81), ..Default::default() },
            CreateProductRequest {
                name: "Bad Image".into(),
                image: "javascript:alert(1)".into(),
                ..Default::default()
            },
            CreateProductRequest {
                name: "Negative".into(),
                variants: vec![variant("NEG-1", Size::M, "Red", -1, 1)],
                ..Default::default()
            },
            CreateProductRequest {
                name: "No Size".into(),
                variants: vec![variant("NOSIZE-1", Size::Unspecified, "Red", 1, 1)],
                ..Default::default()
            },
            CreateProductRequest {
                name: "Weird Size".into(),
                variants: vec![Variant { code: "W-1".into(), size: 42, color: "Red".into(), price_cents: 1, stock: 1 }],
                ..Default::default()
            },
        ] {
            assert_eq!(product.create_product(as_user(&admin, bad)).await.unwrap_err().code(), Code::InvalidArgument);
        }
        let total = product
            .list_products(ListProductsRequest { query: "bad image".into(), ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .total;
        assert_eq!(total, 0);

        let gone = product
            .delete_product(as_user(&admin, DeleteProductRequest { id: "velvet-blazer".into() }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(gone.codes, ["BLAZER-L", "BLAZER-M"]);
        assert_eq!(
            product.get_product(GetProductRequest { id: "velvet-blazer".into() }).await.unwrap_err().code(),
            Code::NotFound
        );
        assert_eq!(
            product
                .delete_product(as_user(&admin, DeleteProductRequest { id: "velvet-blazer".into() }))
                .await
                .unwrap_err()
                .code(),
            Code::NotFound
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_are_all_or_nothing_and_idempotent() {
    for shop in shops().await {
        let service = shop.keys.signer().unwrap().service_token("order");
        let mut product = shop.product.clone();
        let line = |code: &str, quantity| ReserveLine { code: code.into(), quantity, unit_price_cents: None };
        let reserve = |id: &str, lines| as_user(&service, ReserveRequest { order_id: id.into(), lines });

        // One line cannot be met: nothing is taken.
        let err =
            product.reserve(reserve("o-1", vec![line("JEANS-001", 2), line("HOODIE-002", 46)])).await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert!(err.message().contains("HOODIE-002"));
        assert_eq!((stock(&shop, "JEANS-001").await, stock(&shop, "HOODIE-002").await), (50, 45));

        let first = product
            .reserve(reserve("o-2", vec![line("JEANS-001", 2), line("jeans-001", 1), line("HOODIE-002", 45)]))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(first.lines.len(), 2, "lines of one code merged");
        assert_eq!((stock(&shop, "JEANS-001").await, stock(&shop, "HOODIE-002").await), (47, 0));
        let again = product.reserve(reserve("o-2", vec![line("JEANS-001", 2)])).await.unwrap().into_inner();
        assert_eq!(again.lines, first.lines, "a retry answers as the first time");
        assert_eq!(stock(&shop, "JEANS-001").await, 47, "and takes nothing more");
        let jeans = first.lines.iter().find(|l| l.code == "JEANS-001").unwrap();
        assert_eq!(
            (jeans.product_name.as_str(), jeans.unit_price_cents, jeans.quantity),
            ("Classic Denim Jeans", 4999, 3)
        );

        let release = |id: &str| as_user(&service, ReleaseRequest { order_id: id.into() });
        assert!(product.release(release("o-2")).await.unwrap().into_inner().released);
        assert!(!product.release(release("o-2")).await.unwrap().into_inner().released);
        assert_eq!((stock(&shop, "JEANS-001").await, stock(&shop, "HOODIE-002").await), (50, 45));
        // Released is final: a late retry is not told "reserved", nor is a late confirmation.
        let late = product.reserve(reserve("o-2", vec![line("JEANS-001", 3)])).await.unwrap_err();
        assert_eq!(late.code(), Code::FailedPrecondition, "{}", late.message());
        let confirm = |id: &str| as_user(&service, ConfirmRequest { order_id: id.into() });
        assert_eq!(product.confirm(confirm("o-2")).await.unwrap_err().code(), Code::FailedPrecondition);
        assert_eq!(stock(&shop, "JEANS-001").await, 50);

        // A price other than the one agreed: nothing is taken.
        let agreed = ReserveLine { code: "JEANS-001".into(), quantity: 1, unit_price_cents: Some(4000) };
        let changed = product.reserve(reserve("o-4", vec![agreed])).await.unwrap_err();
        assert_eq!(changed.code(), Code::FailedPrecondition);
        assert!(changed.message().contains("price of JEANS-001 changed"), "{}", changed.message());
        assert_eq!(stock(&shop, "JEANS-001").await, 50);
        let agreed = ReserveLine { code: "JEANS-001".into(), quantity: 1, unit_price_cents: Some(4999) };
        product.reserve(reserve("o-4", vec![agreed])).await.unwrap();
        assert_eq!(stock(&shop, "JEANS-001").await, 49);

        for bad in [vec![], vec![line("JEANS-001", 0)], vec![line("JEANS-001", -3)], vec![line("", 1)]] {
            assert_eq!(product.reserve(reserve("o-3", bad)).await.unwrap_err().code(), Code::InvalidArgument);
        }
        assert_eq!(
            product.reserve(reserve("", vec![line("JEANS-001", 1)])).await.unwrap_err().code(),
            Code::InvalidArgument
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_are_never_stale_after_a_change() {
    for shop in shops().await {
        let admin = shop.admin().await;
        let service = shop.keys.signer().unwrap().service_token("order");
        let mut product = shop.product.clone();
        let listed = |product: &mut atelier_proto::product::product_service_client::ProductServiceClient<_>| {
            let mut p = product.clone();
            async move {
                let r = p
                    .list_products(ListProductsRequest { query: "HOODIE-001".into(), ..Default::default() })
                    .await
                    .unwrap()
                    .into_inner();
                r.products[0].variants.iter().find(|v| v.code == "HOODIE-001").unwrap().stock
            }
        };
        assert_eq!(listed(&mut product).await, 75);
        assert_eq!(listed(&mut product).await, 75, "served again (from the cache)");
        let lines = vec![ReserveLine { code: "HOODIE-001".into(), quantity: 5, unit_price_cents: None }];
        product.reserve(as_user(&service, ReserveRequest { order_id: "cache-1".into(), lines })).await.unwrap();
        assert_eq!(listed(&mut product).await, 70, "a reservation shows at once ({})", shop.backend);
        let change = UpdateVariantRequest {
            code: "HOODIE-001".into(),
            size: Size::S as i32,
            color: "Gray".into(),
            price_cents: 2775,
            stock_delta: 10,
        };
        product.update_variant(as_user(&admin, change)).await.unwrap();
        assert_eq!(listed(&mut product).await, 80, "an admin edit shows at once");
        product.release(as_user(&service, ReleaseRequest { order_id: "cache-1".into() })).await.unwrap();
        assert_eq!(listed(&mut product).await, 85, "a release shows at once");

        // A sale empties only the listings of what it sold. Jeans listed, then
        // their stock changed behind the service's back (no catalogue change
        // recorded): while the listing is kept, it still says the old stock.
        let jeans = |product: &mut atelier_proto::product::product_service_client::ProductServiceClient<_>| {
            let mut p = product.clone();
            async move {
                let request = ListProductsRequest { query: "JEANS-001".into(), ..Default::default() };
                let r = p.list_products(request).await.unwrap().into_inner();
                r.products[0].variants.iter().find(|v| v.code == "JEANS-001").unwrap().stock
            }
        };
        let before = jeans(&mut product).await;
        let pool = sqlx::AnyPool::connect(&shop.urls.product).await.unwrap();
        sqlx::query("UPDATE variants SET stock = stock + 7 WHERE code = 'JEANS-001'").execute(&pool).await.unwrap();
        let lines = vec![ReserveLine { code: "HOODIE-001".into(), quantity: 1, unit_price_cents: None }];
        product.reserve(as_user(&service, ReserveRequest { order_id: "cache-2".into(), lines })).await.unwrap();
        assert_eq!(jeans(&mut product).await, before, "a hoodie's sale keeps the jeans' listing ({})", shop.backend);
        let lines = vec![ReserveLine { code: "JEANS-001".into(), quantity: 1, unit_price_cents: None }];
        product.reserve(as_user(&service, ReserveRequest { order_id: "cache-3".into(), lines })).await.unwrap();
        assert_eq!(jeans(&mut product).await, before + 6, "a sale of jeans shows at once ({})", shop.backend);
        pool.close().await;
    }
}

/// A checkout that died between reserving and storing its order: the product
/// service puts the stock back by itself once the reservation's TTL passes,
/// and a confirmed reservation never expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfirmed_reservations_expire() {
    for shop in shops().await {
        let service = shop.keys.signer().unwrap().service_token("order");
        let mut product = shop.product.clone();
        let reserve = |id: &str, code: &str| {
            let lines = vec![ReserveLine { code: code.into(), quantity: 2, unit_price_cents: None }];
            as_user(&service, ReserveRequest { order_id: id.into(), lines })
        };
        let confirm = |id: &str| as_user(&service, ConfirmRequest { order_id: id.into() });
        product.reserve(reserve("dropped", "JEANS-001")).await.unwrap();
        product.reserve(reserve("stored", "HOODIE-001")).await.unwrap();
        product.confirm(confirm("stored")).await.unwrap();
        product.confirm(confirm("stored")).await.expect("confirming twice is harmless");
        let (jeans, hoodies) = (stock(&shop, "JEANS-001").await, stock(&shop, "HOODIE-001").await);

        // The same database, seen by a product service whose TTL has passed.
        let expiring = atelier_product::ProductService::connect(&shop.urls.product, &shop.keys)
            .await
            .unwrap()
            .with_reservation_ttl(std::time::Duration::ZERO);
        assert_eq!(expiring.expire_reservations_once().await.unwrap(), 1, "{}", shop.backend);
        assert_eq!(expiring.expire_reservations_once().await.unwrap(), 0, "expiry happens once");
        assert_eq!(stock(&shop, "JEANS-001").await, jeans + 2, "the dropped checkout's stock is back");
        assert_eq!(stock(&shop, "HOODIE-001").await, hoodies, "the stored order keeps its stock");
        assert_eq!(product.confirm(confirm("dropped")).await.unwrap_err().code(), Code::FailedPrecondition);
        assert_eq!(
            product.reserve(reserve("dropped", "JEANS-001")).await.unwrap_err().code(),
            Code::FailedPrecondition
        );
        let release = as_user(&service, ReleaseRequest { order_id: "stored".into() });
        assert!(
            product.release(release).await.unwrap().into_inner().released,
            "a confirmed reservation can be released"
        );
        assert_eq!(stock(&shop, "HOODIE-001").await, hoodies + 2);
    }
}

/// The catalogue's filters come from its data: every category, colour and
/// size with how many products have it (the same on both databases), and
/// an edit shows in them at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_list_what_the_catalogue_holds_with_counts() {
    let mut seen = vec![];
    for shop in shops().await {
        let mut product = shop.product.clone();
        let facets = product.facets(FacetsRequest {}).await.unwrap().into_inner();
        let all = product
            .list_products(ListProductsRequest { per_page: 100, ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .products;
        // Each count is the number of products the catalogue lists for that filter.
        for c in &facets.colors {
            let with = all.iter().filter(|p| p.variants.iter().any(|v| v.color == c.value)).count() as u64;
            assert_eq!(c.products, with, "{} ({})", c.value, shop.backend);
        }
        let categories: u64 = facets.categories.iter().map(|c| c.products).sum();
        assert_eq!(categories, all.len() as u64, "every product in one category ({})", shop.backend);
        let prices = all.iter().flat_map(|p| p.variants.iter().map(|v| v.price_cents));
        let (min, max) = (prices.clone().min().unwrap(), prices.max().unwrap());
        assert_eq!((facets.min_price_cents, facets.max_price_cents), (min, max));
        let sizes: Vec<&str> = facets.sizes.iter().map(|s| s.value.as_str()).collect();
        let mut in_order = sizes.clone();
        in_order.sort_by_key(|s| ["XS", "S", "M", "L", "XL", "XXL"].iter().position(|o| o == s));
        assert_eq!(sizes, in_order, "sizes in size order");
        seen.push(facets.clone());

        // A new colour and category show at once.
        let admin = shop.admin().await;
        let create = CreateProductRequest {
            name: "Cream Cable Cardigan".into(),
            description: "Wool".into(),
            category: "Knitwear Extra".into(),
            image: "builtin:cardigan".into(),
            variants: vec![variant("CARD-CR-M", Size::M, "Cream Extra", 8900, 3)],
        };
        product.create_product(as_user(&admin, create)).await.unwrap();
        let after = product.facets(FacetsRequest {}).await.unwrap().into_inner();
        let count = |list: &[FacetValue], v: &str| list.iter().find(|f| f.value == v).map(|f| f.products);
        assert_eq!(count(&after.colors, "Cream Extra"), Some(1), "{}", shop.backend);
        assert_eq!(count(&after.categories, "Knitwear Extra"), Some(1), "{}", shop.backend);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "SQLite and PostgreSQL count alike");
}
