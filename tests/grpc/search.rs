//! Catalogue search as shoppers use it: best matches first, prefixes and
//! typos forgiven, filters and sorts exact; the same answers on SQLite and
//! PostgreSQL; and a second product replica that follows what the first
//! one changes.

use crate::harness::{Shop, as_user, shops};
use atelier::seed::{Generated, generate};
use atelier_proto::product::{product_service_client::ProductServiceClient, *};

async fn list(shop: &Shop, r: ListProductsRequest) -> ListProductsResponse {
    shop.product.clone().list_products(r).await.unwrap().into_inner()
}

fn search(query: &str) -> ListProductsRequest {
    ListProductsRequest { query: query.into(), per_page: 100, ..Default::default() }
}

fn names(r: &ListProductsResponse) -> Vec<&str> {
    r.products.iter().map(|p| p.name.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn best_matches_come_first_and_a_typo_is_forgiven() {
    for shop in shops().await {
        let jeans = list(&shop, search("jeans")).await;
        let with_typo = list(&shop, search("jens")).await;
        assert!(jeans.total >= 2, "{}", shop.backend);
        let (mut found, mut expected) = (names(&with_typo), names(&jeans));
        let named_first = |names: &[&str]| names.iter().take_while(|n| n.to_lowercase().contains("jeans")).count();
        assert_eq!(named_first(&found), named_first(&expected), "{}: named ones first: {found:?}", shop.backend);
        found.sort();
        expected.sort();
        assert_eq!(found, expected, "{}: one typo finds the same", shop.backend);
        // A name says more than a description: products named jeans first.
        let named = jeans.products.iter().take_while(|p| p.name.to_lowercase().contains("jeans")).count();
        assert!(named >= 2, "{}: {:?}", shop.backend, names(&jeans));
        assert!(
            jeans.products[named..].iter().all(|p| !p.name.to_lowercase().contains("jeans")),
            "{}: named ones are all first: {:?}",
            shop.backend,
            names(&jeans)
        );

        let hood = list(&shop, search("hood")).await;
        let has_word_from_hood = |p: &Product| {
            format!("{} {} {}", p.name, p.category, p.description)
                .to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.starts_with("hood"))
        };
        assert!(hood.total >= 3 && hood.products.iter().all(has_word_from_hood), "{}: a prefix", shop.backend);
        let by_name = list(&shop, ListProductsRequest { sort: Sort::Name as i32, ..search("hood") }).await;
        let mut sorted = names(&hood);
        sorted.sort();
        assert_eq!(names(&by_name), sorted, "{}: a chosen sort wins over relevance", shop.backend);

        let two_words = list(&shop, search("fleece hodie")).await;
        assert_eq!(names(&two_words)[0], "Comfortable Fleece Hoodie", "{}", shop.backend);
        assert_eq!(list(&shop, search("jxxns")).await.total, 0, "two typos are another word");
    }
}

/// Every combination of text, filter, sort and page gives the same products
/// in the same order, with the same count, on both databases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_databases_give_the_same_answers() {
    let shops = shops().await;
    if shops.len() < 2 {
        assert!(std::env::var_os("CI").is_none(), "PostgreSQL is required under CI");
        return;
    }
    for shop in &shops {
        generate(&shop.urls, Generated { products: 300, orders: 0 }).await.unwrap();
    }
    let queries = ["", "jeans", "jens", "hood", "linen shirt", "gen00012", "navy", "no. 7", "cotton tee", "xyzzy"];
    let filters = [
        ListProductsRequest::default(),
        ListProductsRequest { size: Size::M as i32, color: "Navy".into(), ..Default::default() },
        ListProductsRequest { in_stock: true, ..Default::default() },
        ListProductsRequest { min_price_cents: Some(2_000), max_price_cents: Some(5_000), ..Default::default() },
        ListProductsRequest { category: "shirts".into(), in_stock: true, ..Default::default() },
    ];
    let sorts = [Sort::Unspecified, Sort::Name, Sort::PriceAsc, Sort::PriceDesc, Sort::Newest];
    let (mut asked, mut answered) = (0, 0);
    for query in queries {
        for filter in &filters {
            for sort in sorts {
                for page in [1, 3] {
                    let r = ListProductsRequest {
                        query: query.into(),
                        sort: sort as i32,
                        page,
                        per_page: 10,
                        ..filter.clone()
                    };
                    let answers: Vec<(u64, Vec<String>)> = futures::future::join_all(shops.iter().map(|shop| {
                        let r = r.clone();
                        async move {
                            let found = list(shop, r).await;
                            (found.total, found.products.into_iter().map(|p| p.id).collect())
                        }
                    }))
                    .await;
                    assert_eq!(answers[0], answers[1], "SQLite and PostgreSQL differ on {r:?}");
                    asked += 1;
                    answered += usize::from(!answers[0].1.is_empty());
                }
            }
        }
    }
    println!("{answered} of {asked} questions found something");
    assert!(answered * 3 > asked, "many questions find something ({answered} of {asked})");
}

/// Paging through a search shows every match once, in the order of the
/// whole answer, whatever the page size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_a_search_are_slices_of_the_whole_answer() {
    for shop in shops().await {
        generate(&shop.urls, Generated { products: 300, orders: 0 }).await.unwrap();
        for query in ["cotton", "jens", "shirt"] {
            for sort in [Sort::Unspecified, Sort::Name, Sort::PriceAsc, Sort::Newest] {
                let all_pages = |per_page: u32| {
                    let shop = &shop;
                    async move {
                        let (mut ids, mut page) = (vec![], 1);
                        loop {
                            let r = ListProductsRequest {
                                query: query.into(),
                                sort: sort as i32,
                                page,
                                per_page,
                                ..Default::default()
                            };
                            let found = list(shop, r).await;
                            ids.extend(found.products.into_iter().map(|p| p.id));
                            if found.total as usize <= ids.len() || page > 200 {
                                return (found.total, ids);
                            }
                            page += 1;
                        }
                    }
                };
                let (whole, small) = (all_pages(100).await, all_pages(7).await);
                assert!(whole.0 > 7, "{}: {query:?} finds more than a page", shop.backend);
                assert_eq!(whole.0 as usize, whole.1.len(), "{}: {query:?} {sort:?}", shop.backend);
                assert_eq!(small, whole, "{}: pages of 7 of {query:?} {sort:?}", shop.backend);
            }
        }
    }
}

/// A listing shows each product as its own page does: the same SKUs in the
/// same order, with the same stock, also right after the stock moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_shows_products_as_their_pages_do() {
    for shop in shops().await {
        generate(&shop.urls, Generated { products: 40, orders: 0 }).await.unwrap();
        let admin = shop.admin().await;
        let lower = UpdateVariantRequest {
            code: "JEANS-002".into(),
            size: Size::S as i32,
            color: "Blue".into(),
            price_cents: 4599,
            stock_delta: -7,
        };
        for moved in [false, true] {
            if moved {
                shop.product.clone().update_variant(as_user(&admin, lower.clone())).await.unwrap();
            }
            for (query, page) in [("", 1), ("", 3), ("jeans", 1), ("tee", 1)] {
                let r = ListProductsRequest { query: query.into(), page, per_page: 12, ..Default::default() };
                let listed = list(&shop, r).await.products;
                assert!(!listed.is_empty(), "{}: {query:?} page {page}", shop.backend);
                for product in listed {
                    let request = GetProductRequest { id: product.id.clone() };
                    let own = shop.product.clone().get_product(request).await.unwrap().into_inner().product.unwrap();
                    assert_eq!(product, own, "{}: {query:?} page {page}, after a stock move: {moved}", shop.backend);
                }
            }
        }
    }
}

/// Two product replicas on one database: what one changes, the other lists
/// (catalogue edits at once, stock within one refresh round).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_replica_follows_catalogue_and_stock_changes() {
    for shop in shops().await {
        let admin = shop.admin().await;
        let replica = atelier_product::ProductService::connect(&shop.urls.product, &shop.keys).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(atelier_runtime::grpc::serve(listener, replica.clone().into_server(), async {
            stopped.await.ok();
        }));
        let other = ProductServiceClient::new(atelier_runtime::grpc::channel(&addr.to_string()).unwrap());
        let on_other = |r: ListProductsRequest| {
            let mut other = other.clone();
            async move { other.list_products(r).await.unwrap().into_inner() }
        };

        let variant = Variant {
            code: "WAX-1".into(),
            size: Size::M as i32,
            color: "Olive".into(),
            price_cents: 18_900,
            stock: 1,
        };
        let create = CreateProductRequest {
            name: "Waxed Field Jacket".into(),
            description: "Rain-proof cotton.".into(),
            category: "Jackets".into(),
            image: "builtin:jacket".into(),
            variants: vec![variant],
        };
        shop.product.clone().create_product(as_user(&admin, create)).await.unwrap();
        assert_eq!(names(&on_other(search("waxed")).await), ["Waxed Field Jacket"], "{}: at once", shop.backend);

        // Sold out through the first replica.
        let service = shop.keys.signer().unwrap().service_token("order");
        let lines = vec![ReserveLine { code: "WAX-1".into(), quantity: 1, unit_price_cents: None }];
        let reserve = ReserveRequest { order_id: "replica-1".into(), lines };
        shop.product.clone().reserve(as_user(&service, reserve)).await.unwrap();
        let in_stock = ListProductsRequest { in_stock: true, ..search("waxed") };
        assert_eq!(list(&shop, in_stock.clone()).await.total, 0, "{}: the replica that sold it", shop.backend);
        replica.refresh_listings_once().await.unwrap();
        assert_eq!(on_other(in_stock).await.total, 0, "{}: the other, after one round", shop.backend);

        let deleted = DeleteProductRequest { id: "waxed-field-jacket".into() };
        shop.product.clone().delete_product(as_user(&admin, deleted)).await.unwrap();
        assert_eq!(on_other(search("waxed")).await.total, 0, "{}: a deletion at once", shop.backend);

        drop(other);
        stop.send(()).ok();
        serving.await.unwrap().unwrap();
    }
}

/// Every product this listing holds, page after page, by id.
async fn every_page(shop: &Shop, r: ListProductsRequest) -> (u64, Vec<String>) {
    let mut ids = vec![];
    for page in 1.. {
        let found = list(shop, ListProductsRequest { page, per_page: 100, ..r.clone() }).await;
        if found.products.is_empty() {
            return (found.total, ids);
        }
        ids.extend(found.products.into_iter().map(|p| p.id));
    }
    unreachable!()
}

/// Size, colour, price and stock filters list exactly the products with one
/// SKU meeting all of them, as each product's own SKUs say (colours are
/// matched whatever their case, an unknown colour matches nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_list_exactly_the_products_whose_skus_match() {
    for shop in shops().await {
        generate(&shop.urls, Generated { products: 300, orders: 0 }).await.unwrap();
        let (_, all) = every_page(&shop, ListProductsRequest { sort: Sort::Name as i32, ..Default::default() }).await;
        let mut products = vec![];
        for id in &all {
            let request = GetProductRequest { id: id.clone() };
            products.push(shop.product.clone().get_product(request).await.unwrap().into_inner().product.unwrap());
        }
        let filters = [
            ListProductsRequest { size: Size::Xs as i32, ..Default::default() },
            ListProductsRequest { color: "navy".into(), ..Default::default() },
            ListProductsRequest { size: Size::Xl as i32, color: "Black".into(), ..Default::default() },
            ListProductsRequest { size: Size::M as i32, in_stock: true, ..Default::default() },
            ListProductsRequest { color: "Red".into(), max_price_cents: Some(6_000), ..Default::default() },
            ListProductsRequest { color: "Mauve".into(), ..Default::default() },
            ListProductsRequest {
                query: "cotton".into(),
                size: Size::S as i32,
                color: "white".into(),
                ..Default::default()
            },
            ListProductsRequest { category: "shirts".into(), ..Default::default() },
            ListProductsRequest { category: "Jeans".into(), size: Size::M as i32, ..Default::default() },
        ];
        let mut matched_some = 0;
        for filter in filters {
            let (total, listed) =
                every_page(&shop, ListProductsRequest { sort: Sort::Name as i32, ..filter.clone() }).await;
            let text =
                every_page(&shop, ListProductsRequest { query: filter.query.clone(), ..Default::default() }).await.1;
            let expected: Vec<String> = products
                .iter()
                .filter(|p| filter.query.is_empty() || text.contains(&p.id))
                .filter(|p| filter.category.is_empty() || p.category.eq_ignore_ascii_case(&filter.category))
                .filter(|p| {
                    p.variants.iter().any(|v| {
                        (filter.size == 0 || v.size == filter.size)
                            && (filter.color.is_empty() || v.color.eq_ignore_ascii_case(&filter.color))
                            && filter.min_price_cents.is_none_or(|min| v.price_cents >= min)
                            && filter.max_price_cents.is_none_or(|max| v.price_cents <= max)
                            && (!filter.in_stock || v.stock > 0)
                    })
                })
                .map(|p| p.id.clone())
                .collect();
            assert_eq!(listed, expected, "{}: {filter:?}", shop.backend);
            assert_eq!(total as usize, expected.len(), "{}: {filter:?}", shop.backend);
            matched_some += usize::from(!expected.is_empty());
        }
        assert!(matched_some >= 7, "{}: most filters find something ({matched_some} of 9)", shop.backend);
    }
}

/// A grid's cards say what the page's products say: their colours in the
/// order the variants show them, the lowest and highest price, whether any
/// SKU is in stock (also right after a checkout took the last one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cards_sum_up_the_products_they_show() {
    for shop in shops().await {
        generate(&shop.urls, Generated { products: 60, orders: 0 }).await.unwrap();
        let order_service = shop.keys.signer().unwrap().service_token("order");
        let jeans = GetProductRequest { id: "classic-denim-jeans".into() };
        let skus = shop.product.clone().get_product(jeans).await.unwrap().into_inner().product.unwrap().variants;
        for (round, sold_out) in [false, true].into_iter().enumerate() {
            if sold_out {
                let lines = skus
                    .iter()
                    .map(|v| ReserveLine { code: v.code.clone(), quantity: v.stock, unit_price_cents: None })
                    .collect();
                let everything = ReserveRequest { order_id: "all-the-jeans".into(), lines };
                shop.product.clone().reserve(as_user(&order_service, everything)).await.unwrap();
            }
            let mut out_of_stock = 0;
            for (query, page) in [("", 1), ("", 4), ("jeans", 1), ("denim", 1), ("xyzzy", 1)] {
                let r = ListProductsRequest { query: query.into(), page, per_page: 12, ..Default::default() };
                let products = list(&shop, r.clone()).await;
                let cards = list(&shop, ListProductsRequest { cards: true, ..r }).await;
                assert!(cards.products.is_empty(), "{}: cards come alone", shop.backend);
                assert_eq!(cards.total, products.total, "{}: {query:?} page {page}", shop.backend);
                let expected: Vec<ProductCard> = products.products.iter().map(card_of).collect();
                assert_eq!(cards.cards, expected, "{}: {query:?} page {page}, round {round}", shop.backend);
                out_of_stock += cards.cards.iter().filter(|c| !c.in_stock).count();
            }
            assert_eq!(out_of_stock > 0, sold_out, "{}: the sold-out jeans show as such", shop.backend);
        }
    }
}

/// A card as a grid would work it out from the whole product.
fn card_of(p: &Product) -> ProductCard {
    let mut colors: Vec<String> = vec![];
    for v in &p.variants {
        if !colors.contains(&v.color) {
            colors.push(v.color.clone());
        }
    }
    ProductCard {
        id: p.id.clone(),
        name: p.name.clone(),
        category: p.category.clone(),
        image: p.image.clone(),
        colors,
        min_price_cents: p.variants.iter().map(|v| v.price_cents).min(),
        max_price_cents: p.variants.iter().map(|v| v.price_cents).max(),
        in_stock: p.variants.iter().any(|v| v.stock > 0),
    }
}
