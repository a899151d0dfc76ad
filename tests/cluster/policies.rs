//! The Shop's NetworkPolicies, enforced by the cluster in a box as a CNI
//! plugin would: every arrow of the data-flow picture works, nothing else
//! gets through.

use crate::{cluster, shop, shopper::Shopper, until_condition};
use atelier_cluster::network::Reach;
use atelier_operator::{
    builders::FLOWS,
    crd::{MonitoringSpec, NamespaceSelector, TelemetrySpec},
};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_policies_allow_the_data_flow_and_nothing_else() {
    let Some(c) = cluster().await else { return };
    let node = c.node_ip().to_string();
    // A collector on the node, and another port there that nobody may reach.
    let collector = tokio::net::TcpListener::bind((c.node_ip(), 4317)).await.unwrap();
    let elsewhere = tokio::net::TcpListener::bind((c.node_ip(), 4999)).await.unwrap();
    let mut spec = shop("boutique");
    spec.spec.telemetry = Some(TelemetrySpec { otlp_endpoint: format!("http://{node}:4317"), sampling_ratio: None });
    spec.spec.monitoring = Some(MonitoringSpec {
        namespace_selector: NamespaceSelector {
            match_labels: [("kubernetes.io/metadata.name".to_string(), "monitoring".to_string())].into(),
        },
    });
    c.apply(spec).await.unwrap();
    until_condition(&c, "boutique", "Ready", "True", Duration::from_secs(180)).await;

    // Each component's running pod and address.
    let mut pods = std::collections::BTreeMap::new();
    for component in ["gateway", "auth", "product", "cart", "order", "database"] {
        let pod = c.pods(&format!("app.kubernetes.io/component={component}")).await.into_iter().next().unwrap();
        let ip = pod.status.clone().unwrap().pod_ip.unwrap();
        pods.insert(component, (pod.metadata.name.clone().unwrap(), ip));
    }
    let reach = |from: &str, to: &str, port: u16| c.reach(&pods[from].0, &pods[to].1, port);

    // Every arrow of the picture works (the seed's ran: the shop is Ready).
    for (to, froms, port) in FLOWS {
        for from in froms.iter().filter(|f| !matches!(**f, "*" | "seed")) {
            assert_eq!(reach(from, to, port), Reach::Connected, "{from} -> {to}:{port} is an arrow of the picture");
        }
    }
    // What is not an arrow is dropped, though something listens there.
    for (from, to, port) in [("gateway", "database", 5432), ("cart", "auth", 50051), ("product", "order", 50054)] {
        assert_eq!(reach(from, to, port), Reach::Dropped, "{from} -> {to}:{port} is not an arrow");
    }
    // A pod of another namespace reaches the site, and no service.
    let stranger = c.outsider("stranger", "elsewhere", &[]);
    assert_eq!(stranger.reach(&pods["gateway"].1, 3000), Reach::Connected, "the site is public");
    for (component, port) in
        [("auth", 50051), ("product", 50052), ("cart", 50053), ("order", 50054), ("database", 5432)]
    {
        assert_eq!(stranger.reach(&pods[component].1, port), Reach::Dropped, "a stranger -> {component}:{port}");
    }
    // Metrics: from the namespace the Shop names only.
    let prometheus = c.outsider("prometheus", "monitoring", &[]);
    for component in ["gateway", "product"] {
        assert_eq!(prometheus.reach(&pods[component].1, 9090), Reach::Connected, "prometheus scrapes {component}");
        assert_eq!(stranger.reach(&pods[component].1, 9090), Reach::Dropped, "a stranger scrapes {component}");
    }
    // Spans leave for the collector, and nothing else leaves.
    for component in ["gateway", "order"] {
        assert_eq!(c.reach(&pods[component].0, &node, 4317), Reach::Connected, "{component} -> the collector");
        assert_eq!(c.reach(&pods[component].0, &node, 4999), Reach::Dropped, "{component} -> elsewhere");
    }
    drop((collector, elsewhere));

    // And the shop works with all of this in force.
    let mut shopper = Shopper::at(&c.endpoints("boutique-gateway")[0]);
    let (_, sku) = shopper.browse().await.expect("the catalogue answers");
    assert!(shopper.log_in("demo-client", "demo123").await);
    shopper.buy(&sku).await.expect("a checkout through every service");

    // A pod that is stopping (its pre-stop delay, a gateway draining its
    // kept-alive connections) still finishes its requests: as in a real
    // cluster it stays selected by the policies until its processes end, so
    // those requests may open new connections to the services.
    let gateway = &pods["gateway"];
    kube::Api::<k8s_openapi::api::core::v1::Pod>::namespaced(c.client.clone(), &c.namespace)
        .delete(&gateway.0, &Default::default())
        .await
        .unwrap();
    c.settled().await;
    assert!(!c.endpoints("boutique-gateway").contains(&gateway.1), "the stopping gateway has left its Service");
    for (to, port) in [("auth", 50051), ("product", 50052), ("cart", 50053), ("order", 50054)] {
        assert_eq!(reach("gateway", to, port), Reach::Connected, "a stopping gateway -> {to}:{port}");
    }
}
