//! Several replicas of each component: the load is shared, a pod that goes
//! loses no request, and a rollout of every Deployment under load fails no
//! shopper's request.

use crate::{cluster, shop, shopper::Shopper, until_condition};
use serde_json::json;
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

/// Signed-in shoppers browsing, looking at their cart and orders, adding
/// and removing an item, until stopped: every request through the gateway's
/// Service, to the product, cart, order and auth services behind it.
struct Load {
    stop: Arc<AtomicBool>,
    served: Arc<AtomicU64>,
    failures: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    async fn start(base: &str, shoppers: usize, sku: &str) -> Self {
        let (stop, served, failures) = (Arc::new(AtomicBool::new(false)), Arc::default(), Arc::default());
        let (mut tasks, started) = (vec![], std::time::Instant::now());
        for n in 0..shoppers {
            let mut shopper = Shopper::at_url(base);
            let username = format!("load-{n}");
            let (s, b) = shopper
                .post(
                    "/api/v1/users",
                    json!({"username": username, "email": format!("{username}@example.com"), "phone": "+39 055 123456", "password": "a good password"}),
                    &[],
                )
                .await;
            assert!((200..300).contains(&s), "register {username}: {s} {b}");
            assert!(shopper.log_in(&username, "a good password").await, "{username} logs in");
            let (stop, served, failures): (Arc<AtomicBool>, Arc<AtomicU64>, Arc<Mutex<Vec<String>>>) =
                (stop.clone(), Arc::clone(&served), Arc::clone(&failures));
            let sku = sku.to_string();
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let item = json!({"sku": sku, "quantity": 1});
                    for (what, (status, body)) in [
                        ("browse", shopper.get("/api/v1/products").await),
                        ("add to cart", shopper.post("/api/v1/cart/items", item, &[]).await),
                        ("view cart", shopper.get("/api/v1/cart").await),
                        ("orders", shopper.get("/api/v1/orders").await),
                        ("empty cart", shopper.delete("/api/v1/cart").await),
                    ] {
                        if (200..300).contains(&status) {
                            served.fetch_add(1, Ordering::Relaxed);
                        } else {
                            let at = started.elapsed().as_secs_f32();
                            failures.lock().unwrap().push(format!("at {at:.1} s, {what}: {status} {body}"));
                        }
                    }
                }
            }));
        }
        Self { stop, served, failures, tasks }
    }

    fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    fn failures(&self) -> Vec<String> {
        self.failures.lock().unwrap().clone()
    }

    async fn finish(self) -> (u64, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = t.await;
        }
        (self.served.load(Ordering::Relaxed), self.failures.lock().unwrap().clone())
    }
}

/// Product RPCs a product pod has served, from its own metrics.
async fn product_rpcs(pod_ip: &str) -> u64 {
    let text = reqwest::get(format!("http://{pod_ip}:9090/metrics")).await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("atelier_grpc_requests_total") && l.contains("ProductService"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_the_load_and_rollouts_lose_no_request() {
    let Some(c) = cluster().await else { return };
    let mut spec = shop("boutique");
    spec.spec.product.replicas = Some(3);
    spec.spec.gateway.replicas = Some(2);
    for component in [&mut spec.spec.auth, &mut spec.spec.cart, &mut spec.spec.order] {
        component.replicas = Some(2);
    }
    c.apply(spec).await.unwrap();
    until_condition(&c, "boutique", "Ready", "True", Duration::from_secs(180)).await;
    let products = c
        .wait_for("three product endpoints", Duration::from_secs(30), || async {
            Some(c.endpoints("boutique-product")).filter(|e| e.len() == 3)
        })
        .await
        .unwrap();
    let ingress = c.expose("boutique-gateway", 3000).await.unwrap();
    let base = format!("http://{}", ingress.addr);
    let (_, sku) = Shopper::at_url(&base).browse().await.expect("the catalogue answers");

    // Shared: every product replica serves a fair part of the calls.
    let before: Vec<u64> = futures::future::join_all(products.iter().map(|ip| product_rpcs(ip))).await;
    let load = Load::start(&base, 4, &sku).await;
    c.wait_for("600 shopper requests", Duration::from_secs(120), || async { (load.served() >= 600).then_some(()) })
        .await
        .unwrap();
    let after: Vec<u64> = futures::future::join_all(products.iter().map(|ip| product_rpcs(ip))).await;
    let served: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    let total: u64 = served.iter().sum();
    println!("product RPCs per replica under load: {served:?}");
    for (ip, n) in products.iter().zip(&served) {
        assert!(*n * 6 >= total, "replica {ip} served {n} of {total} product calls (a fair share is a third)");
    }

    // A replica that goes (an eviction, a node drain) loses no request.
    let pods = c.pods("app.kubernetes.io/component=product").await;
    let leaving = pods[0].metadata.name.clone().unwrap();
    kube::Api::<k8s_openapi::api::core::v1::Pod>::namespaced(c.client.clone(), &c.namespace)
        .delete(&leaving, &Default::default())
        .await
        .unwrap();
    let mark = load.served();
    c.wait_for("a new third product replica, and load served meanwhile", Duration::from_secs(60), || async {
        let ready = c.endpoints("boutique-product");
        (ready.len() == 3 && !ready.contains(&products[0]) && load.served() > mark + 200).then_some(())
    })
    .await
    .unwrap();
    assert_eq!(
        load.failures(),
        Vec::<String>::new(),
        "no request failed while a product pod went away; warnings logged:\n{}",
        c.log_lines("WARN").join("\n")
    );

    // A rollout of every Deployment (new resources for every component), under load.
    let deployments = kube::Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(c.client.clone(), &c.namespace);
    let templates = |list: Vec<k8s_openapi::api::apps::v1::Deployment>| -> Vec<String> {
        list.iter().map(|d| serde_json::to_string(&d.spec.as_ref().unwrap().template).unwrap()).collect()
    };
    let old = templates(deployments.list(&Default::default()).await.unwrap().items);
    let resources = json!({"requests": {"cpu": "60m", "memory": "40Mi"}, "limits": {"memory": "160Mi"}});
    let patch = json!({"spec": {
        "gateway": {"resources": resources}, "auth": {"resources": resources}, "product": {"resources": resources},
        "cart": {"resources": resources}, "order": {"resources": resources},
    }});
    let shops = kube::Api::<atelier_operator::crd::Shop>::namespaced(c.client.clone(), &c.namespace);
    shops.patch("boutique", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&patch)).await.unwrap();
    c.wait_for("every Deployment rolled out", Duration::from_secs(240), || async {
        let list = deployments.list(&Default::default()).await.ok()?.items;
        let new = templates(list.clone());
        let rolled = |d: &k8s_openapi::api::apps::v1::Deployment| {
            let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            let status = d.status.clone().unwrap_or_default();
            status.updated_replicas == Some(want)
                && status.replicas == Some(want)
                && status.ready_replicas == Some(want)
        };
        let done = list.iter().all(rolled);
        (done && new.iter().all(|t| !old.contains(t))).then_some(())
    })
    .await
    .unwrap();
    let (served, failures) = load.finish().await;
    println!("{served} shopper requests served across the replica change and the rollout");
    assert_eq!(
        failures,
        Vec::<String>::new(),
        "no shopper request failed during the rollout; warnings logged:\n{}",
        c.log_lines("WARN").join("\n")
    );
}
