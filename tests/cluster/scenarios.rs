//! Each scenario starts a cluster, applies a Shop and watches what a
//! platform engineer and a shopper would.

use crate::{cluster, shop, shopper::Shopper, until_condition};
use std::time::Duration;

/// The chart's example Shop, as a platform engineer applies it: no
/// `spec.image` (the operator's own image), two gateways, an autoscaled
/// product service, the managed database.
fn example_shop() -> atelier_operator::crd::Shop {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/atelier-operator/examples/shop.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_shop_becomes_ready_and_sells_in_a_browser() {
    let Some(c) = cluster().await else { return };
    // What the Helm chart passes the operator.
    atelier_operator::crd::set_default_image(crate::IMAGE);
    let started = std::time::Instant::now();
    c.apply(example_shop()).await.unwrap();
    until_condition(&c, "atelier", "Ready", "True", Duration::from_secs(60)).await;
    println!("Ready after {:.1} s", started.elapsed().as_secs_f64());
    let gateways = c
        .wait_for("both gateway replicas as endpoints of the Service", Duration::from_secs(10), || async {
            Some(c.endpoints("atelier-gateway")).filter(|e| e.len() == 2)
        })
        .await
        .unwrap();

    // Every service connected to its own database with its own password:
    // the API walks through all four.
    let mut shopper = Shopper::at(&gateways[1]);
    let (count, sku) = shopper.browse().await.expect("the catalogue answers through the gateway's Service");
    assert!(count > 0 && !sku.is_empty(), "the seeded catalogue is there");
    assert!(shopper.log_in("demo-client", "demo123").await, "the seeded demo account logs in");
    shopper.buy(&sku).await.expect("a checkout through every service");

    // What the Ingress reaches (the public port) holds no operations
    // endpoints; the probes and Prometheus use the operations port.
    let http = reqwest::Client::new();
    let status = |url: String| {
        let http = http.clone();
        async move { http.get(url).send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
    };
    for path in ["/metrics", "/readyz"] {
        assert_eq!(status(format!("http://{}:3000{path}", gateways[0])).await, 404, "{path} on the public port");
    }
    assert_eq!(status(format!("http://{}:9090/metrics", gateways[0])).await, 200, "metrics on the operations port");

    // A shopper's journey in Chromium, at the gateway pod's address.
    let Some(b) = atelier_e2e::Browser::start().await else { return };
    let url = format!("http://{}:3000", gateways[0]);
    b.goto(&format!("{url}/register")).await;
    b.fill("#username", "cluster-shopper").await;
    b.fill("#email", "cluster@example.com").await;
    b.fill("#phone", "+39 055 654321").await;
    b.fill("#password", "a good password").await;
    b.fill("#confirm", "a good password").await;
    b.click_text("Create account").await;
    assert!(b.text().await.contains("Welcome to Atelier, cluster-shopper!"));
    b.goto(&format!("{url}/products?q=denim")).await;
    b.click("article.card h3 a[href='/products/classic-denim-jeans']").await;
    b.tap("label.size-choice:has(input[value='L']) span").await;
    b.fill("#quantity", "1").await;
    b.click_text("Add to cart").await;
    assert!(b.text().await.contains("Added to your cart: Classic Denim Jeans — L / Blue"));
    b.goto(&format!("{url}/cart")).await;
    b.click_text("Checkout").await;
    for (field, value) in [
        ("#name", "Cluster Shopper"),
        ("#line1", "Via Roma 1"),
        ("#postcode", "50100"),
        ("#city", "Florence"),
        ("#country", "Italy"),
    ] {
        b.fill(field, value).await;
    }
    b.click_text("Review order").await;
    b.click_text("Place order").await;
    let order = b.text().await;
    assert!(order.contains("Thank you! Your order has been placed: A-1"), "{order}");
    // The example's timeZone reached the gateway: dates are Rome's.
    assert!(order.contains(" CET") || order.contains(" CEST"), "the order's date in Europe/Rome: {order}");
    b.screenshot("cluster-order-placed").await;
}

/// Warning Events about Shop `shop`, as `kubectl describe shop` lists them.
async fn warnings(c: &atelier_cluster::Cluster, shop: &str) -> Vec<(String, String)> {
    use k8s_openapi::api::events::v1::Event;
    kube::Api::<Event>::namespaced(c.client.clone(), &c.namespace)
        .list(&Default::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| {
            e.type_.as_deref() == Some("Warning") && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(shop)
        })
        .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_looping_service_degrades_the_shop_not_the_site() {
    let Some(c) = cluster().await else { return };
    c.apply(shop("boutique")).await.unwrap();
    until_condition(&c, "boutique", "Ready", "True", Duration::from_secs(120)).await;
    let cart = c.pods("app.kubernetes.io/component=cart").await[0].metadata.name.clone().unwrap();
    // Killed as the OOM killer would, each time once it runs again: the
    // kubelet restarts it at once the first time, then backs off
    // (CrashLoopBackOff) each time it dies again.
    let kill_cart = |restarts: i32| {
        let (c, cart) = (&c, cart.clone());
        async move {
            c.wait_for(&format!("the cart running after {restarts} restarts"), Duration::from_secs(60), || async {
                let pods = c.pods("app.kubernetes.io/component=cart").await;
                let pod = pods.into_iter().find(|p| p.metadata.name.as_ref() == Some(&cart))?;
                let status = pod.status?.container_statuses?.into_iter().next()?;
                (status.restart_count == restarts && status.state?.running.is_some()).then_some(())
            })
            .await
            .unwrap();
            assert!(c.kill(&cart, "cart"), "the cart container runs");
        }
    };
    kill_cart(0).await;
    for round in 1..=2 {
        kill_cart(round).await;
        let (reason, message) = until_condition(&c, "boutique", "Degraded", "True", Duration::from_secs(30)).await;
        assert_eq!(reason, "PodFailing");
        assert!(message.contains(&cart) && message.contains("CrashLoopBackOff"), "Degraded names the pod: {message}");
        // Endpoints follow pod readiness within a sync of the cluster.
        c.wait_for("the cart out of its Service", Duration::from_secs(10), || async {
            c.endpoints("boutique-cart").is_empty().then_some(())
        })
        .await
        .unwrap_or_else(|e| panic!("round {round}: {e}"));
        // The site degrades instead of going down: the gateway stays in its Service and the catalogue browses.
        let gateway = c.endpoints("boutique-gateway");
        assert!(!gateway.is_empty(), "round {round}: the gateway stays ready while the cart is down");
        let (count, _) = Shopper::at(&gateway[0]).browse().await.expect("the catalogue browses with the cart down");
        assert!(count > 0);
    }
    assert!(
        warnings(&c, "boutique").await.iter().any(|(reason, note)| reason == "PodFailing" && note.contains(&cart)),
        "a Warning Event names the failing pod"
    );
    // It recovers by itself.
    until_condition(&c, "boutique", "Degraded", "False", Duration::from_secs(60)).await;
    until_condition(&c, "boutique", "Ready", "True", Duration::from_secs(60)).await;
    let shop = c.shop("boutique").await.unwrap();
    assert!(shop.status.unwrap().components["cart"].restarts >= 3, "the restarts are counted");
    let mut shopper = Shopper::at(&c.endpoints("boutique-gateway")[0]);
    assert!(shopper.log_in("demo-client", "demo123").await);
    let (_, sku) = shopper.browse().await.unwrap();
    shopper.buy(&sku).await.expect("checkout works again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_lost_shop_reapplied_and_database_switched_keep_the_shop_working() {
    use k8s_openapi::api::core::v1::Secret;
    let Some(c) = cluster().await else { return };
    c.apply(shop("boutique")).await.unwrap();
    until_condition(&c, "boutique", "Ready", "True", Duration::from_secs(120)).await;
    let mut shopper = Shopper::at(&c.endpoints("boutique-gateway")[0]);
    assert!(shopper.log_in("demo-client", "demo123").await);
    let (_, sku) = shopper.browse().await.unwrap();
    shopper.buy(&sku).await.unwrap();
    let secrets = kube::Api::<Secret>::namespaced(c.client.clone(), &c.namespace);
    let orders_of = |shopper: &Shopper| {
        let base = shopper.base.clone();
        async move { Shopper::orders_at(&base).await }
    };

    // 1. The generated database credentials deleted: new passwords, same volume.
    let before = secrets.get("boutique-db-credentials").await.unwrap();
    secrets.delete("boutique-db-credentials", &Default::default()).await.unwrap();
    c.wait_for("new database credentials", Duration::from_secs(30), || async {
        secrets
            .get_opt("boutique-db-credentials")
            .await
            .ok()
            .flatten()
            .filter(|s| s.metadata.uid != before.metadata.uid)
    })
    .await
    .unwrap();
    let works = |what: &'static str| {
        let c = &c;
        async move {
            let last_failure = std::sync::Mutex::new(String::from("no gateway endpoint"));
            let failed = |why: String| {
                *last_failure.lock().unwrap() = why;
                None
            };
            // Generous: after a database switch under a loaded CI machine the
            // database pod and a rollout of every Deployment take a while.
            c.wait_for(what, Duration::from_secs(240), || async {
                let endpoint = c.endpoints("boutique-gateway").first().cloned()?;
                let mut shopper = Shopper::at(&endpoint);
                if !shopper.log_in("demo-client", "demo123").await {
                    return failed("log in refused".into());
                }
                let Some((_, sku)) = shopper.browse().await else { return failed("catalogue unavailable".into()) };
                if let Err(e) = shopper.buy(&sku).await {
                    return failed(e);
                }
                orders_of(&shopper).await.or_else(|| failed("order list unavailable".into()))
            })
            .await
            .unwrap_or_else(|e| panic!("{e}\nlast attempt: {}", last_failure.lock().unwrap()))
        }
    };
    let orders = works("the shop to work with the new credentials").await;
    assert!(orders >= 2, "the order placed before is still there: {orders} orders");
    until_condition(&c, "boutique", "Ready", "True", Duration::from_secs(60)).await;

    // 2. The Shop deleted and applied again: the database volume is kept.
    kube::Api::<atelier_operator::crd::Shop>::namespaced(c.client.clone(), &c.namespace)
        .delete("boutique", &Default::default())
        .await
        .unwrap();
    c.wait_for("every pod gone", Duration::from_secs(90), || async {
        c.pods("app.kubernetes.io/instance=boutique").await.is_empty().then_some(())
    })
    .await
    .unwrap();
    c.apply(shop("boutique")).await.unwrap();
    let orders = works("the re-applied shop to work on the kept volume").await;
    assert!(orders >= 3, "orders survive the Shop's deletion: {orders}");

    // 3. Managed → external → managed.
    let api = kube::Api::<atelier_operator::crd::Shop>::namespaced(c.client.clone(), &c.namespace);
    let patch = |spec: serde_json::Value| {
        let api = api.clone();
        async move {
            api.patch(
                "boutique",
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(&serde_json::json!({"spec": spec})),
            )
            .await
            .unwrap();
        }
    };
    let external = Secret {
        metadata: kube::api::ObjectMeta { name: Some("elsewhere".into()), ..Default::default() },
        string_data: Some(
            ["auth", "product", "cart", "order"]
                .iter()
                .map(|s| (s.to_string(), format!("postgres://{s}:x@db.invalid:5432/{s}")))
                .collect(),
        ),
        ..Default::default()
    };
    secrets.create(&Default::default(), &external).await.unwrap();
    patch(serde_json::json!({"database": {"kind": "external", "secretName": "elsewhere"}})).await;
    c.wait_for("the managed database gone", Duration::from_secs(60), || async {
        c.pods("app.kubernetes.io/component=database").await.is_empty().then_some(())
    })
    .await
    .unwrap();
    patch(serde_json::json!({"database": {"kind": "managed", "secretName": null}})).await;
    let orders = works("the shop back on its managed database").await;
    assert!(orders >= 4, "orders survive the round trip: {orders}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_wait_for_a_database_that_is_slow_to_come_up() {
    let Some(c) = cluster().await else { return };
    let hold = Duration::from_secs(60);
    c.slow_pull("postgres:17-alpine", hold);
    let started = std::time::Instant::now();
    c.apply(shop("boutique")).await.unwrap();
    // Meanwhile every service runs, answers its health check NOT_SERVING and is not restarted.
    let product = c
        .wait_for("the product service running", Duration::from_secs(30), || async {
            let pod = c.pods("app.kubernetes.io/component=product").await.into_iter().next()?;
            let running = pod.status.as_ref()?.container_statuses.as_ref()?.first()?.state.as_ref()?.running.is_some();
            running.then(|| pod.status?.pod_ip).flatten()
        })
        .await
        .unwrap();
    let serving = c
        .wait_for("the product service's health answer", Duration::from_secs(20), || async {
            let channel = tonic::transport::Endpoint::from_shared(format!("http://{product}:50052"))
                .ok()?
                .connect()
                .await
                .ok()?;
            let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
            let answer = health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await.ok()?;
            Some(answer.into_inner().status())
        })
        .await
        .unwrap();
    assert!(started.elapsed() < hold, "checked while the database is held back");
    assert_eq!(serving, tonic_health::pb::health_check_response::ServingStatus::NotServing);
    assert!(c.endpoints("boutique-product").is_empty(), "not ready while its database is away");
    until_condition(&c, "boutique", "Ready", "True", hold + Duration::from_secs(90)).await;
    assert!(started.elapsed() >= hold, "Ready only once the database came");
    let shop = c.shop("boutique").await.unwrap();
    for (component, status) in shop.status.unwrap().components {
        assert_eq!(status.restarts, 0, "{component} was never restarted: no crash loop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_seed_is_reported_and_retried_once_fixed() {
    use k8s_openapi::api::core::v1::Secret;
    let Some(c) = cluster().await else { return };
    let secrets = kube::Api::<Secret>::namespaced(c.client.clone(), &c.namespace);
    let admin_password = |password: &str| Secret {
        metadata: kube::api::ObjectMeta { name: Some("admin-password".into()), ..Default::default() },
        string_data: Some([("password".to_string(), password.to_string())].into()),
        ..Default::default()
    };
    // Bad seed data: an admin password the seed refuses.
    secrets.create(&Default::default(), &admin_password("short")).await.unwrap();
    let mut s = shop("boutique");
    s.spec.seed.admin_password_secret_ref =
        Some(atelier_operator::crd::SecretKeyRef { name: "admin-password".into(), key: "password".into() });
    c.apply(s).await.unwrap();
    let (reason, message) = c
        .wait_for("Seeded=False SeedFailed", Duration::from_secs(120), || async {
            c.condition("boutique", "Seeded").await.filter(|(_, r, _)| r == "SeedFailed").map(|(_, r, m)| (r, m))
        })
        .await
        .unwrap();
    assert_eq!(reason, "SeedFailed");
    assert!(message.contains("admin password is too short"), "the reason is in the status: {message}");
    assert!(
        warnings(&c, "boutique").await.iter().any(|(reason, _)| reason == "SeedFailed" || reason == "SeedFailing"),
        "a Warning Event says the seed failed"
    );
    // Fixed: the next attempt succeeds.
    secrets.replace("admin-password", &Default::default(), &admin_password("a long admin passphrase")).await.unwrap();
    until_condition(&c, "boutique", "Seeded", "True", Duration::from_secs(180)).await;
    until_condition(&c, "boutique", "Ready", "True", Duration::from_secs(60)).await;
    let mut admin = Shopper::at(&c.endpoints("boutique-gateway")[0]);
    assert!(admin.log_in("admin", "a long admin passphrase").await, "the admin has the password from the Secret");
}
