//! The reconcile loop against the in-memory Kubernetes API of
//! kube-fake-client: children, idempotence, spec changes, status.

use atelier_operator::{
    crd::{Shop, ShopSpec},
    reconcile::{Context, reconcile},
};
use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    autoscaling::v2::HorizontalPodAutoscaler,
    batch::v1::Job,
    core::v1::{ConfigMap, Pod, Secret, Service},
    networking::v1::{Ingress, NetworkPolicy},
    policy::v1::PodDisruptionBudget,
};
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{ListParams, Patch, PatchParams, PostParams},
};
use serde_json::json;
use std::sync::Arc;

const NS: &str = "shops";

/// An in-memory API holding the Shop `boutique` at `generation`.
fn builder(generation: i64) -> kube_fake_client::ClientBuilder {
    let mut shop = Shop::new("boutique", ShopSpec::default());
    shop.metadata.namespace = Some(NS.into());
    shop.metadata.uid = Some("uid-boutique".into());
    shop.metadata.generation = Some(generation);
    kube_fake_client::ClientBuilder::new()
        .with_resource::<Shop>()
        .with_status_subresource::<Shop>()
        .with_status_subresource::<Deployment>()
        .with_status_subresource::<StatefulSet>()
        .with_status_subresource::<Job>()
        .with_object(shop)
}

async fn cluster() -> Client {
    builder(1).build().await.expect("fake cluster")
}

async fn shop(client: &Client) -> Shop {
    Api::<Shop>::namespaced(client.clone(), NS).get("boutique").await.unwrap()
}

async fn run(client: &Client) -> Shop {
    let current = shop(client).await;
    reconcile(Arc::new(current), Context::new(client.clone())).await.expect("reconcile");
    shop(client).await
}

async fn list<K>(client: &Client) -> Vec<K>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    Api::<K>::namespaced(client.clone(), NS).list(&ListParams::default()).await.unwrap().items
}

async fn edit(client: &Client, spec: serde_json::Value) {
    let api = Api::<Shop>::namespaced(client.clone(), NS);
    api.patch("boutique", &PatchParams::default(), &Patch::Merge(&json!({ "spec": spec }))).await.unwrap();
}

fn names<K: ResourceExt>(items: &[K]) -> Vec<String> {
    let mut n: Vec<String> = items.iter().map(ResourceExt::name_any).collect();
    n.sort();
    n
}

fn condition(shop: &Shop, type_: &str) -> (String, String, String) {
    let c = shop
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .unwrap_or_else(|| panic!("no {type_}"));
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

#[tokio::test]
async fn a_new_shop_gets_every_child_owned_labelled_and_hardened() {
    let client = cluster().await;
    let shop = run(&client).await;

    let deployments: Vec<Deployment> = list(&client).await;
    assert_eq!(
        names(&deployments),
        ["boutique-auth", "boutique-cart", "boutique-gateway", "boutique-order", "boutique-product"]
    );
    assert_eq!(
        names(&list::<Service>(&client).await),
        ["boutique-auth", "boutique-cart", "boutique-db", "boutique-gateway", "boutique-order", "boutique-product"]
    );
    assert_eq!(names(&list::<StatefulSet>(&client).await), ["boutique-db"]);
    assert_eq!(names(&list::<ConfigMap>(&client).await), ["boutique-db-init"]);
    assert_eq!(names(&list::<Secret>(&client).await), ["boutique-db-credentials", "boutique-identity"]);
    assert_eq!(list::<Job>(&client).await.len(), 1);
    assert_eq!(list::<NetworkPolicy>(&client).await.len(), 7, "one per component, the database and the seed job");
    assert!(list::<PodDisruptionBudget>(&client).await.is_empty(), "single replicas need no PDB");
    assert!(list::<HorizontalPodAutoscaler>(&client).await.is_empty());
    assert!(list::<Ingress>(&client).await.is_empty());

    for d in &deployments {
        let owner = &d.owner_references()[0];
        assert_eq!((owner.kind.as_str(), owner.name.as_str(), owner.controller), ("Shop", "boutique", Some(true)));
        for label in [
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/component",
            "app.kubernetes.io/managed-by",
        ] {
            assert!(d.labels().contains_key(label), "{} lacks {label}", d.name_any());
        }
        let pod = d.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        let c = &pod.containers[0];
        let sc = c.security_context.as_ref().unwrap();
        assert_eq!(sc.run_as_non_root, Some(true));
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.capabilities.as_ref().unwrap().drop.as_ref().unwrap(), &["ALL"]);
        assert_eq!(sc.seccomp_profile.as_ref().unwrap().type_, "RuntimeDefault");
        let component = d.labels()["app.kubernetes.io/component"].clone();
        assert_eq!(c.command.as_ref().unwrap(), &[format!("/atelier-{component}")]);
        assert!(c.args.is_none());
        let readiness = c.readiness_probe.as_ref().unwrap();
        if component == "gateway" {
            assert_eq!(readiness.http_get.as_ref().unwrap().path.as_deref(), Some("/readyz"));
        } else {
            assert!(readiness.grpc.is_some(), "{component} has a native gRPC probe");
        }
    }
    // Only auth holds the signing key; order holds the service token.
    let env_of = |name: &str| {
        let d = deployments.iter().find(|d| d.name_any() == name).unwrap();
        d.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0]
            .env
            .clone()
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect::<Vec<_>>()
    };
    assert!(env_of("boutique-auth").contains(&"ATELIER_IDENTITY_SIGNING_KEY".to_string()));
    for other in ["boutique-product", "boutique-cart", "boutique-order", "boutique-gateway"] {
        assert!(!env_of(other).contains(&"ATELIER_IDENTITY_SIGNING_KEY".to_string()), "{other}");
    }
    assert!(env_of("boutique-order").contains(&"ATELIER_SERVICE_TOKEN".to_string()));

    let status = shop.status.unwrap();
    assert_eq!(status.components.len(), 5);
    assert_eq!(condition(&shop_after(&client).await, "Ready").0, "False");
}

async fn shop_after(client: &Client) -> Shop {
    shop(client).await
}

#[tokio::test]
async fn a_second_reconcile_changes_nothing_and_secrets_are_kept() {
    let client = cluster().await;
    run(&client).await;
    let versions = |client: Client| async move {
        let mut v: Vec<(String, String)> = vec![];
        // The fake API bumps resourceVersion on every apply, even a no-op:
        // compare what the objects say instead.
        for d in list::<Deployment>(&client).await {
            v.push((d.name_any(), format!("{:?} {:?} {:?}", d.spec, d.metadata.labels, d.metadata.owner_references)));
        }
        for s in list::<Secret>(&client).await {
            v.push((s.name_any(), format!("{:?}", s.data)));
        }
        for s in list::<Service>(&client).await {
            v.push((s.name_any(), format!("{:?}", s.spec)));
        }
        for n in list::<NetworkPolicy>(&client).await {
            v.push((n.name_any(), format!("{:?}", n.spec)));
        }
        for j in list::<Job>(&client).await {
            v.push((j.name_any(), String::new()));
        }
        v.sort();
        v
    };
    let before = versions(client.clone()).await;
    let shop_version = shop(&client).await.resource_version();
    run(&client).await;
    assert_eq!(versions(client.clone()).await, before);
    assert_eq!(shop(&client).await.resource_version(), shop_version, "an unchanged status is not written");
}

#[tokio::test]
async fn spec_changes_update_exactly_what_they_should() {
    let client = cluster().await;
    run(&client).await;
    let checksum = |d: &Deployment| {
        d.spec.as_ref().unwrap().template.metadata.as_ref().unwrap().annotations.as_ref().unwrap()["atelier.dev/checksum"].clone()
    };
    let gateway = |client: Client| async move {
        Api::<Deployment>::namespaced(client, NS).get("boutique-gateway").await.unwrap()
    };
    let before = gateway(client.clone()).await;

    edit(
        &client,
        json!({"gateway": {"replicas": 3}, "ingress": {"host": "shop.example.com", "tlsSecretName": "shop-tls"}}),
    )
    .await;
    let shop = run(&client).await;
    let after = gateway(client.clone()).await;
    assert_eq!(after.spec.as_ref().unwrap().replicas, Some(3));
    assert_eq!(checksum(&after), checksum(&before), "replicas alone do not roll pods");
    assert_eq!(names(&list::<PodDisruptionBudget>(&client).await), ["boutique-gateway"]);
    let ingress = &list::<Ingress>(&client).await[0];
    assert_eq!(ingress.spec.as_ref().unwrap().rules.as_ref().unwrap()[0].host.as_deref(), Some("shop.example.com"));
    assert_eq!(shop.status.as_ref().unwrap().url.as_deref(), Some("https://shop.example.com"));

    edit(&client, json!({"image": "registry.example.com/atelier:2.0", "auth": {"autoscaling": {"minReplicas": 2, "maxReplicas": 5}}})).await;
    run(&client).await;
    let rolled = gateway(client.clone()).await;
    assert_eq!(
        rolled.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0].image.as_deref(),
        Some("registry.example.com/atelier:2.0")
    );
    assert_ne!(checksum(&rolled), checksum(&after), "a new image rolls the pods");
    assert_eq!(names(&list::<HorizontalPodAutoscaler>(&client).await), ["boutique-auth"]);
    assert_eq!(names(&list::<PodDisruptionBudget>(&client).await), ["boutique-auth", "boutique-gateway"]);
    let jobs = list::<Job>(&client).await;
    assert_eq!(jobs.len(), 1, "the old seed job is replaced by the new image's");

    // Back to one gateway, no ingress, an external database.
    Api::<Secret>::namespaced(client.clone(), NS)
        .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "shop-db", "namespace": NS}, "stringData": {"auth": "postgres://a", "product": "postgres://p", "cart": "postgres://c", "order": "postgres://o"}})).unwrap())
        .await
        .unwrap();
    edit(
        &client,
        json!({"gateway": {"replicas": 1}, "ingress": null, "database": {"kind": "external", "secretName": "shop-db"}}),
    )
    .await;
    let shop = run(&client).await;
    assert_eq!(shop.status.as_ref().unwrap().url, None, "the status no longer names a URL");
    assert_eq!(names(&list::<PodDisruptionBudget>(&client).await), ["boutique-auth"]);
    assert!(list::<Ingress>(&client).await.is_empty());
    assert!(list::<StatefulSet>(&client).await.is_empty(), "no managed database any more");
    assert!(list::<ConfigMap>(&client).await.is_empty());
    assert_eq!(names(&list::<Secret>(&client).await), ["boutique-identity", "shop-db"]);
    assert!(!names(&list::<Service>(&client).await).contains(&"boutique-db".to_string()));
    assert!(!names(&list::<NetworkPolicy>(&client).await).contains(&"boutique-database".to_string()));
    let order = Api::<Deployment>::namespaced(client.clone(), NS).get("boutique-order").await.unwrap();
    let env = order.spec.unwrap().template.spec.unwrap().containers[0].env.clone().unwrap();
    let db = env.iter().find(|e| e.name == "ATELIER_DATABASE_URL").unwrap();
    let key = db.value_from.as_ref().unwrap().secret_key_ref.as_ref().unwrap();
    assert_eq!((key.name.as_str(), key.key.as_str()), ("shop-db", "order"));
}

#[tokio::test]
async fn statuses_of_children_drive_the_conditions() {
    let client = cluster().await;
    let shop = run(&client).await;
    assert_eq!(condition(&shop, "Progressing").0, "True");
    assert_eq!(condition(&shop, "Seeded").0, "False");

    // Everything comes up.
    let status = |replicas: i32| json!({"status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas}});
    for d in list::<Deployment>(&client).await {
        Api::<Deployment>::namespaced(client.clone(), NS)
            .patch_status(&d.name_any(), &PatchParams::default(), &Patch::Merge(&status(1)))
            .await
            .unwrap();
    }
    Api::<StatefulSet>::namespaced(client.clone(), NS)
        .patch_status("boutique-db", &PatchParams::default(), &Patch::Merge(&status(1)))
        .await
        .unwrap();
    let job = list::<Job>(&client).await.remove(0);
    Api::<Job>::namespaced(client.clone(), NS)
        .patch_status(&job.name_any(), &PatchParams::default(), &Patch::Merge(&json!({"status": {"succeeded": 1}})))
        .await
        .unwrap();
    let shop = run(&client).await;
    assert_eq!(condition(&shop, "Ready").0, "True", "{:?}", shop.status);
    assert_eq!(condition(&shop, "Progressing").0, "False");
    assert_eq!(condition(&shop, "DatabaseReady").0, "True");
    assert_eq!(condition(&shop, "Seeded").0, "True");
    let ready_since = shop
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap()
        .last_transition_time
        .clone();

    // A cart pod crash-loops.
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "boutique-cart-7d9f-x2v", "namespace": NS, "labels": {
            "app.kubernetes.io/name": "atelier", "app.kubernetes.io/instance": "boutique",
            "app.kubernetes.io/component": "cart", "app.kubernetes.io/managed-by": "atelier-operator"}},
        "spec": {"containers": [{"name": "cart", "image": "x"}]},
        "status": {"containerStatuses": [{"name": "cart", "image": "x", "imageID": "", "ready": false, "restartCount": 7,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
    }))
    .unwrap();
    Api::<Pod>::namespaced(client.clone(), NS).create(&PostParams::default(), &pod).await.unwrap();
    Api::<Deployment>::namespaced(client.clone(), NS)
        .patch_status("boutique-cart", &PatchParams::default(), &Patch::Merge(&json!({"status": {"readyReplicas": 0}})))
        .await
        .unwrap();
    let shop = run(&client).await;
    let (degraded, reason, message) = condition(&shop, "Degraded");
    assert_eq!((degraded.as_str(), reason.as_str()), ("True", "PodFailing"));
    assert!(message.contains("boutique-cart-7d9f-x2v") && message.contains("CrashLoopBackOff"), "{message}");
    assert_eq!(condition(&shop, "Ready").0, "False");
    assert_eq!(shop.status.as_ref().unwrap().components["cart"].restarts, 7);
    assert_ne!(
        shop.status.as_ref().unwrap().conditions.iter().find(|c| c.type_ == "Ready").unwrap().last_transition_time,
        "",
        "{ready_since}"
    );
}

#[tokio::test]
async fn an_invalid_spec_is_reported_not_applied() {
    let client = cluster().await;
    edit(
        &client,
        json!({"ingress": {"host": "not a host!"}, "auth": {"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}}),
    )
    .await;
    let shop = run(&client).await;
    let (ready, reason, message) = condition(&shop, "Ready");
    assert_eq!((ready.as_str(), reason.as_str()), ("False", "InvalidSpec"));
    assert!(message.contains("spec.ingress.host"), "{message}");
    assert!(list::<Deployment>(&client).await.is_empty(), "nothing is created from an invalid spec");

    edit(&client, json!({"ingress": null, "auth": null, "database": {"kind": "external"}})).await;
    let shop = run(&client).await;
    assert!(condition(&shop, "Ready").2.contains("secretName"));
}

#[tokio::test]
async fn a_shop_without_demo_accounts_gets_a_generated_admin_password() {
    let client = cluster().await;
    let demo = run(&client).await;
    assert_eq!(condition(&demo, "DemoAccounts").0, "True", "the demo shop says its passwords are published");
    edit(&client, json!({"seed": {"demoAccounts": false}})).await;
    let shop = run(&client).await;
    let (status, reason, message) = condition(&shop, "DemoAccounts");
    assert_eq!((status.as_str(), reason.as_str()), ("False", "AdminPasswordGenerated"));
    assert!(message.contains("kubectl get secret boutique-admin"), "the status says how to read it: {message}");
    let events: Vec<k8s_openapi::api::events::v1::Event> = list(&client).await;
    assert!(events.iter().any(|e| e.reason.as_deref() == Some("AdminPasswordGenerated")), "and an Event");
    let secrets: Vec<Secret> = list(&client).await;
    let admin = secrets.iter().find(|s| s.name_any() == "boutique-admin").expect("an admin password Secret");
    let password = &admin.data.as_ref().unwrap()["password"].0;
    assert!(password.len() >= 24 && password != b"admin123", "a long random password");
    let jobs: Vec<Job> = list(&client).await;
    let env = jobs[0].spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0].env.clone().unwrap();
    let from = env.iter().find(|e| e.name == "ATELIER_ADMIN_PASSWORD").expect("the seed gets the admin password");
    let key = from.value_from.as_ref().unwrap().secret_key_ref.as_ref().unwrap();
    assert_eq!((key.name.as_str(), key.key.as_str()), ("boutique-admin", "password"));
    // Kept across reconciles.
    run(&client).await;
    let again: Vec<Secret> = list(&client).await;
    assert_eq!(again.iter().find(|s| s.name_any() == "boutique-admin").unwrap().data, admin.data);
}

/// The order service's token expires; well before it does, the operator
/// mints a new one with the same key (the old one stays valid meanwhile),
/// says so in an Event, and the order pods roll onto it.
#[tokio::test]
async fn the_service_token_is_renewed_before_it_expires_and_the_order_pods_roll() {
    use base64::Engine as _;
    let client = cluster().await;
    run(&client).await;
    let secrets = Api::<Secret>::namespaced(client.clone(), NS);
    let checksum = |d: &Deployment| {
        d.spec.as_ref().unwrap().template.metadata.as_ref().unwrap().annotations.as_ref().unwrap()
            ["atelier.dev/checksum"]
            .clone()
    };
    let order_checksum =
        |deployments: Vec<Deployment>| checksum(deployments.iter().find(|d| d.name_any() == "boutique-order").unwrap());
    let before = order_checksum(list(&client).await);
    let fresh = secrets.get("boutique-identity").await.unwrap();
    run(&client).await;
    assert_eq!(order_checksum(list(&client).await), before, "a fresh token is left alone");

    // A token with five days left, signed by the shop's own key.
    let data = fresh.data.clone().unwrap();
    let signing = String::from_utf8(data["signing-key"].0.clone()).unwrap();
    let keys = atelier_identity::IdentityKeys::from_signing_b64(&signing).unwrap();
    let five_days = atelier_identity::now_ms() + 5 * 24 * 3600 * 1000;
    let old = keys.signer().unwrap().sign(&atelier_identity::Identity {
        sub: "service:order".into(),
        name: "order".into(),
        role: atelier_identity::Role::Service,
        exp: five_days,
    });
    // ... in a Secret from before the gateway had a cookie key.
    let patch = json!({"data": {
        "service-token": base64::engine::general_purpose::STANDARD.encode(&old),
        "gateway-key": null,
        "gateway-token": null,
    }});
    secrets.patch("boutique-identity", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    let before = order_checksum(list(&client).await);
    run(&client).await;

    let renewed = secrets.get("boutique-identity").await.unwrap().data.unwrap();
    assert_eq!(renewed["signing-key"], data["signing-key"], "same key: the old token stays valid");
    let token = String::from_utf8(renewed["service-token"].0.clone()).unwrap();
    assert_ne!(token, old);
    assert!(renewed["gateway-key"].0.len() >= 40, "the gateway key is added");
    let gateway = keys.verifier().verify(&String::from_utf8(renewed["gateway-token"].0.clone()).unwrap());
    assert_eq!(gateway.expect("the gateway's token is added").name, "gateway");
    let id = keys.verifier().verify(&token).expect("the new token is valid");
    assert!(id.exp > five_days + 20 * 24 * 3600 * 1000, "valid for weeks again");
    assert!(keys.verifier().verify(&old).is_ok(), "the old token still works during the roll");
    assert_ne!(order_checksum(list(&client).await), before, "the order pods roll onto the new token");
    let events: Vec<k8s_openapi::api::events::v1::Event> = list(&client).await;
    assert!(events.iter().any(|e| e.reason.as_deref() == Some("ServiceTokenRotated")), "an Event says so");
}

/// The API refuses one child (as it refuses an edit of a StatefulSet's
/// volume claim templates): the Shop says which and why in
/// `Reconciled=False` and a Warning Event, in that same reconcile, and every
/// other child is still applied and the generation observed.
#[tokio::test]
async fn a_refused_child_speaks_and_the_others_are_still_applied() {
    let refusal = "StatefulSet.apps \"boutique-db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'template' and 'updateStrategy' are forbidden";
    let client = builder(3)
        .with_interceptor_funcs(kube_fake_client::interceptor::Funcs::new().patch(move |ctx| {
            if ctx.patch["kind"] == "StatefulSet" {
                return Err(kube_fake_client::Error::InvalidRequest(refusal.into()));
            }
            Ok(None)
        }))
        .build()
        .await
        .unwrap();
    let shop = run(&client).await;
    let (status, reason, message) = condition(&shop, "Reconciled");
    assert_eq!((status.as_str(), reason.as_str()), ("False", "ApplyRefused"));
    assert!(message.contains("StatefulSet boutique-db") && message.contains("Forbidden"), "{message}");
    assert_eq!(shop.status.as_ref().unwrap().observed_generation, Some(3));
    let events: Vec<k8s_openapi::api::events::v1::Event> = list(&client).await;
    assert!(events.iter().any(|e| e.reason.as_deref() == Some("ApplyRefused")), "a Warning Event says so");
    // Everything else is there.
    assert_eq!(list::<Deployment>(&client).await.len(), 5);
    assert!(list::<Service>(&client).await.len() >= 5);
    assert!(!list::<NetworkPolicy>(&client).await.is_empty());
    assert_eq!(list::<Job>(&client).await.len(), 1);
    assert!(list::<StatefulSet>(&client).await.is_empty(), "only the refused one is missing");
}

#[tokio::test]
async fn grpc_services_become_headless_even_where_an_older_shop_has_virtual_ips() {
    // Services as an older operator made them: each with a cluster IP, which
    // the API never lets change in place.
    let grpc = ["boutique-auth", "boutique-product", "boutique-cart", "boutique-order"];
    let with_vip = Arc::new(std::sync::Mutex::new(grpc.map(String::from).to_vec()));
    let (on_patch, on_delete) = (with_vip.clone(), with_vip.clone());
    let mut builder = builder(1).with_interceptor_funcs(
        kube_fake_client::interceptor::Funcs::new()
            .patch(move |ctx| {
                let headless = ctx.patch["spec"]["clusterIP"] == "None";
                if ctx.patch["kind"] == "Service" && headless && on_patch.lock().unwrap().iter().any(|n| n == ctx.name) {
                    return Err(kube_fake_client::Error::InvalidRequest(format!(
                        "Service \"{}\" is invalid: spec.clusterIPs[0]: Invalid value: [\"None\"]: may not change once set",
                        ctx.name
                    )));
                }
                Ok(None)
            })
            .delete(move |ctx| {
                on_delete.lock().unwrap().retain(|n| n != ctx.name);
                Ok(None)
            }),
    );
    for (i, name) in grpc.iter().enumerate() {
        builder = builder.with_object(Service {
            metadata: kube::api::ObjectMeta {
                name: Some((*name).into()),
                namespace: Some(NS.into()),
                labels: Some(
                    [("app.kubernetes.io/instance", "boutique"), ("app.kubernetes.io/managed-by", "atelier-operator")]
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .into(),
                ),
                ..Default::default()
            },
            spec: Some(k8s_openapi::api::core::v1::ServiceSpec {
                cluster_ip: Some(format!("10.96.0.{}", 10 + i)),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    let client = builder.build().await.unwrap();
    let shop = run(&client).await;

    assert_eq!(condition(&shop, "Reconciled").0, "True", "no apply was refused");
    let services: Vec<Service> = list(&client).await;
    for name in grpc {
        let svc = services.iter().find(|s| s.name_any() == name).unwrap_or_else(|| panic!("{name} exists"));
        assert_eq!(svc.spec.as_ref().unwrap().cluster_ip.as_deref(), Some("None"), "{name} is headless");
    }
    let gateway = services.iter().find(|s| s.name_any() == "boutique-gateway").unwrap();
    assert_ne!(gateway.spec.as_ref().unwrap().cluster_ip.as_deref(), Some("None"), "the Ingress needs a virtual IP");
}
