//! The production database recipe: Atelier on a CloudNativePG cluster
//! (charts/atelier-operator/examples/cloudnative-pg.yaml). Its objects are
//! validated against CloudNativePG's published CRD schemas and Kubernetes'
//! (e2e/chart/validate_cnpg.py); here, that the pieces fit together (every
//! login has its password Secret, every database its owner, every URL the
//! Shop reads names a real login, password, database and the cluster's
//! read-write Service) and that the operator accepts and renders the Shop.

use atelier_operator::crd::Shop;
use serde_yaml::Value;
use std::{collections::BTreeMap, path::PathBuf, process::Command};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("charts/atelier-operator/examples/cloudnative-pg.yaml")).unwrap();
    serde_yaml::Deserializer::from_str(&text).map(|d| serde::Deserialize::deserialize(d).unwrap()).collect()
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn name(doc: &Value) -> &str {
    doc["metadata"]["name"].as_str().unwrap()
}

#[test]
fn the_example_validates_against_the_published_schemas() {
    let have = Command::new("python3")
        .args(["-c", "import kubernetes_validate, jsonschema, yaml"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but kubernetes-validate / jsonschema are not installed");
        }
        eprintln!("NOTICE: kubernetes-validate / jsonschema not installed; skipping the CloudNativePG validation");
        return;
    }
    let out = Command::new("python3").arg(root().join("e2e/chart/validate_cnpg.py")).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    assert!(out.status.success(), "{report}\n{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn logins_databases_and_the_shops_urls_fit_together() {
    let docs = example();
    let cluster = of_kind(&docs, "Cluster")[0];
    let secrets: BTreeMap<&str, &Value> = of_kind(&docs, "Secret").into_iter().map(|s| (name(s), s)).collect();
    // Every managed role logs in with the password of its basic-auth Secret.
    let mut passwords = BTreeMap::new();
    for role in cluster["spec"]["managed"]["roles"].as_sequence().unwrap() {
        let login = role["name"].as_str().unwrap();
        let secret = secrets[role["passwordSecret"]["name"].as_str().unwrap()];
        assert_eq!(secret["type"], "kubernetes.io/basic-auth");
        assert_eq!(secret["stringData"]["username"].as_str(), Some(login), "the Secret's username is the role");
        assert_eq!(role["login"], true);
        passwords.insert(login.to_string(), secret["stringData"]["password"].as_str().unwrap().to_string());
    }
    // One database per service, owned by its login, on this cluster.
    let databases: Vec<(String, String)> = of_kind(&docs, "Database")
        .iter()
        .map(|d| {
            assert_eq!(d["spec"]["cluster"]["name"].as_str(), Some(name(cluster)));
            (d["spec"]["name"].as_str().unwrap().to_string(), d["spec"]["owner"].as_str().unwrap().to_string())
        })
        .collect();
    let services = ["auth", "product", "cart", "order"];
    for service in services {
        assert!(databases.contains(&(service.into(), service.into())), "database {service} owned by {service}");
    }
    // The Shop's Secret: a URL per service, to the read-write Service.
    let shop: Shop = serde_yaml::from_value(of_kind(&docs, "Shop")[0].clone()).unwrap();
    assert_eq!(shop.spec.database.kind, "external");
    let urls = secrets[shop.spec.database.secret_name.as_deref().unwrap()];
    for service in services {
        let url = url::Url::parse(urls["stringData"][service].as_str().unwrap()).unwrap();
        assert_eq!(url.scheme(), "postgres");
        assert_eq!(url.username(), service);
        assert_eq!(url.password(), Some(passwords[service].as_str()), "{service}'s URL has its role's password");
        assert_eq!(url.host_str(), Some(format!("{}-rw", name(cluster)).as_str()), "the primary, whichever it is");
        assert_eq!(url.path(), format!("/{service}"));
    }
    // The operator accepts the Shop and wires each service to its key.
    let mut shop = shop;
    shop.metadata.namespace = Some("shop".into());
    let rendered = atelier_operator::render::render(shop).expect("the operator accepts the Shop");
    for service in services {
        let wired = format!("key: {service}\n");
        assert!(rendered.contains(&wired), "{service} reads its URL from the Secret");
    }
    assert!(!rendered.contains("kind: StatefulSet"), "no managed database beside CloudNativePG");
}
